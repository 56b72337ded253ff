"""A wheel built from the repository installs in a fresh virtualenv and logs an annotated image."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import urllib.request
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = """
import json, numpy as np
from dvcstage import Live
import dvcstage.schemas as s
assert "site-packages" in str(s.schemas_dir()), s.schemas_dir()
with Live(save_dvc_exp=False) as live:
    live.log_image("cat.png", np.zeros((32, 32, 3), np.uint8), annotations={
        "boxes": [[1, 2, 10, 20]], "labels": ["cat"], "scores": [0.9], "box_format": "tlbr"})
print(json.load(open("dvclive/plots/images/cat.json"))["annotations"]["cat"][0]["box"])
"""


def _installed(python: Path) -> set[str]:
    done = subprocess.run(
        [str(python), "-m", "pip", "list", "--format=freeze"],
        capture_output=True,
        text=True,
        check=True,
    )
    return {line.split("==")[0].lower() for line in done.stdout.splitlines()}


def _extension_install_command() -> str:
    """The wheel the VS Code extension's install hint names (vscode-ext's server-check.ts)."""
    source = (ROOT / "vscode-ext/src/extension/server-check.ts").read_text()
    match = re.search(r'export const WHEEL = "([^"]+)";', source)
    assert match is not None
    return f"{match.group(1)}[lsp]"


@pytest.mark.slow
def test_wheel_installs_lean_and_its_extras_add_the_servers(tmp_path: Path) -> None:
    """``scripts/build-wheel`` makes a wheel; installed alone it gives Live and the writer and
    nothing of the servers (whose commands say how to add them); the extension's hint, run in
    the wheel's folder, adds the language server; ``dvcstage[view] @ file://...`` the view."""
    dist = tmp_path / "dist"
    built = subprocess.run(
        [str(ROOT / "scripts" / "build-wheel")],
        capture_output=True,
        text=True,
        env={**os.environ, "DIST": str(dist)},
    )
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = dist.glob("dvcstage-*.whl")
    assert f"install it: python -m pip install '{wheel}'" in built.stdout
    names = zipfile.ZipFile(wheel).namelist()
    assert "dvcstage/schemas/image-sidecar.schema.json" in names
    assert "dvcstage/schemas/media-index-line.schema.json" in names
    assert "dvcstage/view/static/panel.js" in names  # `dvcstage view` needs no npm
    assert "dvcstage/view/static/panel.css" in names
    env = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env)
    python = env / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", str(wheel)], check=True)
    lean = _installed(python)
    assert {"dvcstage", "dvclive", "dvc", "numpy", "pillow", "jsonschema"} <= lean
    assert not lean & {"pygls", "lsprotocol", "cattrs", "websockets"}, lean  # (DVC brings aiohttp)
    work = tmp_path / "work"
    work.mkdir()
    run_env = {
        "PATH": f"{env / 'bin'}:/usr/bin:/bin",
        "GIT_CEILING_DIRECTORIES": str(tmp_path),
        "DVC_NO_ANALYTICS": "1",
        "HOME": str(tmp_path),
    }
    result = subprocess.run(
        [str(python), "-c", SCRIPT], cwd=work, check=True, capture_output=True, text=True,
        env=run_env,
    )  # fmt: skip
    assert result.stdout.strip() == "{'top': 1, 'left': 2, 'bottom': 10, 'right': 20}"
    check = subprocess.run(
        [str(env / "bin" / "dvcstage"), "validate", str(work)], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr
    commands = {"view": ["dvcstage", "view", "--no-browser"], "lsp": ["dvcstage-lsp"]}
    for extra, (name, *args) in commands.items():
        done = subprocess.run(
            [str(env / "bin" / name), *args], capture_output=True, text=True, env=run_env,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
        assert done.returncode == 1, done.stderr
        assert f"needs the '{extra}' extra" in done.stderr
        assert f"python -m pip install '{wheel.name}[{extra}]'" in done.stderr
        assert "Traceback" not in done.stderr
    # the extension's hint, in the folder of the wheel
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", _extension_install_command()],
        cwd=dist, check=True,
    )  # fmt: skip
    with_lsp = _installed(python)
    assert {"pygls", "lsprotocol"} <= with_lsp
    helped = subprocess.run(
        [str(python), "-m", "dvcstage_lsp", "--help"], capture_output=True, text=True, check=True
    )
    assert "--cache-dir" in helped.stdout
    # a direct reference with an extra: what the README gives for a wheel anywhere
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", f"dvcstage[view] @ {wheel.as_uri()}"],
        check=True,
    )
    _view_serves_the_bundle(env / "bin" / "dvcstage", work, tmp_path)


def _view_serves_the_bundle(dvcstage: Path, work: Path, tmp_path: Path) -> None:
    """``dvcstage view`` from the installed wheel serves the panel bundle it carries."""
    view = subprocess.Popen(
        [str(dvcstage), "view", "--no-browser", "--port", "0", str(work)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "DVC_NO_ANALYTICS": "1"},
    )
    try:
        assert view.stdout is not None
        url = ""
        for line in view.stdout:
            if line.startswith("http://"):
                url = line.strip()
                break
        assert url, view.stderr.read() if view.stderr else ""
        base, token = url.split("/?token=")
        with urllib.request.urlopen(f"{base}/panel.js?token={token}", timeout=30) as response:
            assert response.read() == (ROOT / "dvcstage/view/static/panel.js").read_bytes()
    finally:
        view.send_signal(signal.SIGTERM)
        assert view.wait(timeout=30) == 0
