"""A wheel built from the repository installs in a fresh virtualenv and logs an annotated image."""

from __future__ import annotations

import signal
import subprocess
import sys
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


@pytest.mark.slow
def test_wheel_installs_in_a_fresh_venv_and_logs(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = dist.glob("dvcstage-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "dvcstage/schemas/image-sidecar.schema.json" in names
    assert "dvcstage/schemas/media-index-line.schema.json" in names
    assert "dvcstage/view/static/panel.js" in names  # `dvcstage view` needs no npm
    assert "dvcstage/view/static/panel.css" in names
    env = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env)
    python = env / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", str(wheel)], check=True)
    work = tmp_path / "work"
    work.mkdir()
    result = subprocess.run(
        [str(python), "-c", SCRIPT],
        cwd=work,
        check=True,
        capture_output=True,
        text=True,
        env={
            "PATH": f"{env / 'bin'}:/usr/bin:/bin",
            "GIT_CEILING_DIRECTORIES": str(tmp_path),
            "DVC_NO_ANALYTICS": "1",
            "HOME": str(tmp_path),
        },
    )
    assert result.stdout.strip() == "{'top': 1, 'left': 2, 'bottom': 10, 'right': 20}"
    check = subprocess.run(
        [str(env / "bin" / "dvcstage"), "validate", str(work)], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr
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
