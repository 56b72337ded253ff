"""``dvcstage view`` in Debian's Chromium: the printed URL opens the panel, the shared slider
moves two runs' columns, a class toggle hides boxes in both, the runs menu removes and brings
back a column, logged HTML is sandboxed, nothing is requested from elsewhere and the console
stays clean (no CSP violation). Driven by ``tests/test_view_browser.mjs`` (playwright-core
from ``vscode-ext/node_modules``); skipped without Node, Chromium or playwright-core."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_view_support import ViewServer, make_workspace, start_view

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(__file__).with_suffix(".mjs")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def _missing() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed"
    if not Path(CHROMIUM).exists():
        return f"no Chromium at {CHROMIUM}"
    if not (ROOT / "vscode-ext" / "node_modules" / "playwright-core").is_dir():
        return "vscode-ext/node_modules/playwright-core is missing (npm ci in vscode-ext)"
    return None


@pytest.fixture(scope="module")
def view(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ViewServer]:
    why = _missing()
    if why:
        pytest.skip(why)
    workspace = make_workspace(tmp_path_factory.mktemp("browser"))
    server = start_view(workspace, "--cache-dir", str(workspace.parent / "cache"))
    yield server
    assert server.stop() == 0


def test_the_panel_in_chromium(view: ViewServer, tmp_path: Path) -> None:
    shot = Path(os.environ.get("DVCSTAGE_VIEW_SCREENSHOT", tmp_path / "view.png"))
    done = subprocess.run(
        ["node", str(SCRIPT), view.url, str(shot)],
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, "CHROMIUM": CHROMIUM},
    )
    lines = done.stdout.strip().splitlines()
    assert lines, done.stderr
    facts = json.loads(lines[-1])
    assert done.returncode == 0 and "error" not in facts, json.dumps(facts, indent=1)
    assert facts["landed"] == f"{view.base}/"
    assert {"dvclive", "other"} <= set(facts["columns"])
    assert facts["classToggle"] and facts["runsMenu"]
    assert facts["sandbox"] == "allow-scripts"
    assert shot.stat().st_size > 10_000
