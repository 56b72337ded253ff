"""How the panel of ``dvcstage view`` loads a slider's images, in Debian's Chromium: a jump
asks for the new step's items alone and then loads only its nearest steps; moving one step at
a time loads further ahead at every move; the images travel inside the answers and are decoded
by ImageDecoder. Seen from the WebSocket frames the page sends and receives and the pixels it
draws (``tests/test_view_loading.mjs``); skipped without Node, Chromium or playwright-core."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import CHROMIUM, browser_missing
from test_view_support import ViewServer, start_logging, start_view

SCRIPT = Path(__file__).with_suffix(".mjs")
STEPS = 40
SHADES = {"dvclive": 0, "other": 120}

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def view(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ViewServer]:
    """Two workspace runs of 40 steps each (one after the other: both write dvc.yaml)."""
    why = browser_missing()
    if why:
        pytest.skip(why)
    root = tmp_path_factory.mktemp("loading") / "ws"
    root.mkdir()
    for run, shade in SHADES.items():
        assert start_logging(root, run, STEPS, shade=shade).wait(timeout=240) == 0
    server = start_view(root, "--cache-dir", str(root.parent / "cache"))
    yield server
    assert server.stop() == 0


def test_loads_ahead_follow_the_slider(view: ViewServer) -> None:
    spec = {"runs": {f"workspace:{run}": shade for run, shade in SHADES.items()}, "steps": STEPS}
    done = subprocess.run(
        ["node", str(SCRIPT), view.url, json.dumps(spec)],
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, "CHROMIUM": CHROMIUM},
    )
    lines = done.stdout.strip().splitlines()
    assert lines, done.stderr
    facts: dict[str, Any] = json.loads(lines[-1])
    assert done.returncode == 0 and "error" not in facts, json.dumps(facts, indent=1)
    assert facts["reach"] == [12, 15, 18, 21, 24, 27]
    assert facts["decodes"]["decoder"] > 0 and facts["decodes"]["blob"] == 0
