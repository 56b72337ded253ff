"""``dvc plots diff`` as a user sees it: the HTML page DVC writes, opened in Chromium.

Two commits of a run with annotated, masked images; the page shows each revision's preview
with its boxes drawn in the class's colour (found in the screenshot Chromium takes of each
image on the page), never a raw image, a sidecar or a mask. Driven by
``tests/test_dvc_plots_browser.mjs`` (playwright-core from ``vscode-ext/node_modules``).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import browser_missing, run
from PIL import Image as PILImage
from test_dvc_plots import commit, write_run

from dvcstage.media.palette import class_rgb

SCRIPT = Path(__file__).with_suffix(".mjs")

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def _colour_share(png: Path, colour: tuple[int, int, int]) -> float:
    """The share of a screenshot's pixels within a few levels of ``colour``."""
    pixels = np.asarray(PILImage.open(png).convert("RGB")).astype(int)
    close = (np.abs(pixels - np.array(colour)) <= 20).all(axis=-1)  # a JPEG rounds
    return float(close.mean())


def test_dvc_plots_diff_html_shows_the_annotated_previews(repo: Path, tmp_path: Path) -> None:
    why = browser_missing()
    if why:
        pytest.skip(why)
    write_run(1, steps=2)
    commit("run 1")
    write_run(2, steps=2)
    commit("run 2")
    out = tmp_path / "html"
    run("dvc", "plots", "diff", "HEAD~1", "HEAD", "-o", str(out))
    shots = tmp_path / "shots"
    shots.mkdir()
    done = subprocess.run(
        ["node", str(SCRIPT), str(out / "index.html"), str(shots)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    images = json.loads(done.stdout.splitlines()[-1])
    sources = [image["src"] for image in images]
    assert sources and all("previews" in source for source in sources), sources
    assert not any("masks" in s or s.endswith(".json") for s in sources)
    cat = class_rgb("cat")
    for revision, grey in (("HEAD~1", 100), ("HEAD", 200)):
        (shot,) = [
            i for i in images if i["src"] == f"static/{revision}_dvclive_plots_previews_pred_0.jpg"
        ]
        png = Path(shot["png"])
        assert _colour_share(png, cat) > 0.002, f"{revision}: no box of the cat's colour"
        assert _colour_share(png, (grey, grey, grey)) > 0.2, f"{revision}: not its own pixels"
