"""``dvcstage view`` in Debian's Chromium: the printed URL opens the panel, the shared slider
moves two runs' columns, a class toggle hides boxes in both, the runs menu removes and brings
back a column, logged HTML is sandboxed, nothing is requested from elsewhere and the console
stays clean (no CSP violation). Once with two workspace runs, once with two DVC experiments of
a real repository, chosen in the runs menu (their files come from the server's cache).
Driven by ``tests/test_view_browser.mjs`` (playwright-core from ``vscode-ext/node_modules``);
skipped without Node, Chromium or playwright-core."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import browser_missing
from test_view_support import (
    ViewServer,
    make_experiments,
    make_workspace,
    run_page_script,
    start_view,
)

SCRIPT = Path(__file__).with_suffix(".mjs")

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def _serve(folder: Path) -> Iterator[ViewServer]:
    server = start_view(folder, "--cache-dir", str(folder.parent / "cache"))
    yield server
    assert server.stop() == 0


@pytest.fixture(scope="module")
def view(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ViewServer]:
    """Two workspace runs: ``dvclive`` (shade 0, steps 0-3), ``other`` (shade 120, 0-2)."""
    why = browser_missing()
    if why:
        pytest.skip(why)
    yield from _serve(make_workspace(tmp_path_factory.mktemp("browser")))


# name -> params of the stage (tests/test_view_support.py's logger): at every step the two
# experiments' pixels differ from each other's and from the workspace's (shade 20).
EXPERIMENTS = {"exp-a": {"steps": 3, "shade": 0}, "exp-b": {"steps": 4, "shade": 120}}


@pytest.fixture(scope="module")
def experiments_view(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ViewServer]:
    """A git + DVC repository with the experiments above, its workspace reproduced."""
    why = browser_missing()
    if why:
        pytest.skip(why)
    yield from _serve(make_experiments(tmp_path_factory.mktemp("exps"), EXPERIMENTS))


def _drive(view: ViewServer, shot: Path, spec: dict[str, Any]) -> dict[str, Any]:
    """Run the script on the view; its facts, once it passed."""
    facts = run_page_script(SCRIPT, view.url, str(shot), json.dumps(spec))
    assert facts["landed"] == f"{view.base}/"
    assert facts["classToggle"] and facts["runsMenu"]
    assert facts["sandbox"] == "allow-scripts"
    assert shot.stat().st_size > 10_000
    return facts


def _screenshot(tmp_path: Path, name: str) -> Path:
    folder = os.environ.get("DVCSTAGE_VIEW_SCREENSHOTS")
    return Path(folder) / name if folder else tmp_path / name


def test_the_panel_in_chromium(view: ViewServer, tmp_path: Path) -> None:
    runs = {
        "workspace:dvclive": {"shade": 0, "last": 3},
        "workspace:other": {"shade": 120, "last": 2},
    }
    spec = {"runs": runs, "steps": [0, 2, 1], "choose": False}
    facts = _drive(view, _screenshot(tmp_path, "view.png"), spec)
    assert {"dvclive", "other"} <= set(facts["labels"])


def test_two_experiments_in_chromium(experiments_view: ViewServer, tmp_path: Path) -> None:
    runs = {
        f"experiment:{name}:dvclive": {"shade": p["shade"], "last": p["steps"] - 1}
        for name, p in EXPERIMENTS.items()
    }
    spec = {"runs": runs, "steps": [0, 2, 1, 3], "choose": True}
    facts = _drive(experiments_view, _screenshot(tmp_path, "experiments.png"), spec)
    assert {"workspace:dvclive", *runs} <= set(facts["menu"])
    # Exactly the two experiments, in the order of the runs list (not of the clicks).
    menu = [r for r in facts["menu"] if r in runs]
    assert facts["cells"] == menu and set(menu) == set(runs)
    # Their images came from the server's cache, a folder per experiment commit: named so by
    # the answers (small ones travel inside them), fetched from there otherwise.
    names = "|".join(EXPERIMENTS)
    assert facts["labels"] == [r.split(":")[1] for r in menu]  # short labels: the names
    for title in facts["columns"]:
        match = re.fullmatch(rf"({names}): dvclive \(experiment ([0-9a-f]{{7}})\)", title)
        assert match, title
        params = EXPERIMENTS[match[1]]
        pred = re.compile(
            rf"/files/cache/{match[2]}[0-9a-f]{{33}}/dvclive/plots/images/pred/(\d+)\.png"
        )
        named = [image["uri"] for image in facts["images"]] + facts["files"]
        loaded = {int(m[1]) for m in map(pred.fullmatch, named) if m}
        shown = {min(step, params["steps"] - 1) for step in spec["steps"]}
        assert shown <= loaded <= set(range(params["steps"])), named
    assert facts["images"] and all(image["inline"] for image in facts["images"])
    assert set(facts["seen"]) == {f"{r}@{s}" for r in runs for s in spec["steps"]}
