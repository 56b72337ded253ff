"""How the panel of ``dvcstage view`` loads a slider's images, in Debian's Chromium: a jump
asks for the new step's items alone and then loads only its nearest steps; moving one step at
a time loads further ahead at every move; the images travel inside the answers and are decoded
by ImageDecoder. Seen from the WebSocket frames the page sends and receives and the pixels it
draws (``tests/test_view_loading.mjs``); skipped without Node, Chromium or playwright-core."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import browser_missing
from test_view_support import ViewServer, run_page_script, start_logging, start_view

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
    facts = run_page_script(SCRIPT, view.url, json.dumps(spec))
    assert facts["reach"] == [12, 15, 18, 21, 24, 27]
    assert facts["decodes"]["decoder"] > 0 and facts["decodes"]["blob"] == 0
