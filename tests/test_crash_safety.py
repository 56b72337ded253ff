"""Crash safety: a training loop SIGKILLed at random moments, resumed each time, loses nothing.

``bench/crash_loop.py`` runs a 1,000-step loop (an image, a histogram, a metric per step and a
table every 100 steps) and kills it 22 times: during training, during ``end()`` and during
``Live(resume=True)``; every child resumes the run. Afterwards every step below the last has
its image (pixels and caption), histogram block and metric row exactly once, no file is
corrupt at any point, ``dvcstage validate`` is clean and no journal or temporary is left.
``bench/bench_crash.py`` runs the same loop with DVCLive for comparison.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from dvcstage import Live
from dvcstage.atomic import TEMP_MARK
from dvcstage.index import read_index
from dvcstage.validate import validate_tree

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from crash_loop import crash_loop

pytestmark = pytest.mark.slow


def test_sigkill_at_random_moments_loses_nothing(plain_dir: Path) -> None:
    outcome = crash_loop(plain_dir, "dvcstage", steps=1_000, kills=22, log=sys.stdout)
    print(outcome.as_dict())
    assert sum(outcome.kills.values()) == 22
    assert outcome.kills["end"] >= 3 and outcome.kills["resume"] >= 3
    assert outcome.lost_images == outcome.wrong_images == 0
    assert outcome.lost_histogram_steps == outcome.duplicate_histogram_steps == 0
    assert outcome.lost_tables == 0
    assert outcome.lost_rows == outcome.duplicate_rows == 0
    assert outcome.corrupt_files == []
    assert outcome.validate_problems == []
    assert outcome.leftovers == []


def test_resume_after_a_torn_index_line_and_stale_temporaries(plain_dir: Path) -> None:
    """What a kill mid-append and mid-write leaves is repaired by the next ``resume=True``."""
    pixels = np.zeros((8, 8, 3), np.uint8)
    live = Live(dir="run", save_dvc_exp=False)
    for _ in range(2):
        live.log_image(f"pred/{live.step}.png", pixels, caption="x")
        live.log_metric("loss", 1.0)
        live.next_step()
    live.end()
    run = plain_dir / "run"
    with open(run / "media.jsonl", "a", encoding="utf-8") as index:
        index.write('{"v":1,"step":2,"key":"pr')  # a kill in the middle of an append
    stale = run / "plots" / "images" / "pred" / f".2.png.0badc0de{TEMP_MARK}"
    stale.write_bytes(b"\x89PNG\r\n")  # a kill in the middle of an image write
    assert read_index(run / "media.jsonl").torn_tail
    assert validate_tree(run) == []

    resumed = Live(dir="run", resume=True, save_dvc_exp=False)
    assert resumed.step == 2
    assert not stale.exists()
    resumed.log_image(f"pred/{resumed.step}.png", pixels, caption="y")
    resumed.next_step()
    resumed.end()
    contents = read_index(run / "media.jsonl")
    assert contents.problems == []
    assert not contents.torn_tail
    assert [line["step"] for line in contents.lines] == [0, 1, 2]
    assert validate_tree(run) == []


def test_resumed_run_relogging_an_image_with_fewer_overlays_validates(plain_dir: Path) -> None:
    """A resumed run may log an image again without the masks it had before the crash.

    Old index lines then name files that the rewrite removed; ``latest_items`` already
    treats later lines as replacing earlier ones, so the validator must too.
    """
    pixels = np.zeros((8, 8), np.uint8)
    live = Live(dir="run", save_dvc_exp=False)
    live.log_image("latest.png", pixels, masks={"seg": {"mask_data": pixels}}, caption="a")
    live.log_metric("loss", 1.0)
    live.next_step()
    live.end()
    resumed = Live(dir="run", resume=True, save_dvc_exp=False)
    resumed.log_image("latest.png", pixels)
    resumed.log_metric("loss", 0.5)
    resumed.end()
    run = plain_dir / "run"
    assert not (run / "plots" / "images" / "latest.json").exists()
    assert not (run / "plots" / "images" / "latest.masks").exists()
    problems = validate_tree(run)
    assert problems == [], "\n".join(map(str, problems))


def test_resumed_images_only_run_ends_cleanly(plain_dir: Path) -> None:
    """A run that logs images but no metric resumes, logs more and ends like any other."""
    pixels = np.zeros((8, 8), np.uint8)
    live = Live(dir="run", save_dvc_exp=False)
    live.log_image(f"pred/{live.step}.png", pixels)
    live.next_step()
    live.end()
    resumed = Live(dir="run", resume=True, save_dvc_exp=False)
    for _ in range(2):
        resumed.log_image(f"pred/{resumed.step}.png", pixels)
        resumed.next_step()
    resumed.end()
    text = (plain_dir / "dvc.yaml").read_text(encoding="utf-8")
    assert "- run/plots/images\n" in text
    assert len(list((plain_dir / "run/plots/images/pred").iterdir())) == resumed.step + 1
    assert validate_tree(plain_dir / "run") == []
