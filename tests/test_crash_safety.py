"""Crash safety: a training process SIGKILLed at random moments leaves a run that reads back.

A child process logs 1,000 steps (an annotated image with DVCLive ``annotations``, W&B
``boxes`` and a mask, plus an image overwritten in place every step, a metric and
``next_step()``) and is killed with SIGKILL after a seeded random delay. After each kill:

* every PNG under ``plots/images`` decodes completely, and every logged image reads back
  with its sidecar and masks (:func:`dvcstage.read_image`);
* every sidecar and index line validates (:func:`dvcstage.validate.validate_tree`);
* the media index has no bad line (a torn last line is allowed: it is what a kill leaves);
* ``metrics.json`` and ``dvc.yaml`` parse;
* a new process with ``Live(resume=True)`` starts at the step DVCLive promises (the step in
  ``metrics.json`` plus one, or 0 when that step is 0 or absent), logs more steps, ends
  cleanly and leaves a run that validates, with no temporary file left behind.

Trials come in pairs sharing a run folder, so every second child is killed while it
continues a run that was already killed and resumed once.
"""

from __future__ import annotations

import json
import os
import random
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image as PILImage
from ruamel.yaml import YAML

import dvcstage
from dvcstage import Live
from dvcstage.atomic import TEMP_MARK
from dvcstage.index import read_index
from dvcstage.validate import validate_tree

pytestmark = pytest.mark.slow

PYTHON = sys.executable
DVCSTAGE = str(Path(sys.executable).parent / "dvcstage")
TRIALS = 12
STEPS = 1_000
SEED = 20_240_611
KILL_DELAY = (0.05, 1.5)  # seconds after the child reported that it started
SIZE = 64

CHILD = r"""
import sys

import numpy as np

from dvcstage import Live

run_dir, steps = sys.argv[1], int(sys.argv[2])
live = Live(dir=run_dir, resume=True, save_dvc_exp=False)
print(f"START {live.step}", flush=True)
rng = np.random.default_rng(live.step)
size = 64
for _ in range(steps):
    step = live.step
    pixels = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
    mask = np.zeros((size, size), np.uint8)
    mask[8 + step % 8 : 40, 8:48] = 1 + step % 3
    annotations = {
        "boxes": [[8, 8, 40, 48], [0, 0, 10 + step % 20, 12]],
        "labels": ["cat", "dog"],
        "scores": [0.9, 0.25],
        "box_format": "tlbr",
    }
    boxes = {
        "predictions": {
            "box_data": [
                {
                    "position": {"minX": 0.1, "maxX": 0.7, "minY": 0.2, "maxY": 0.6},
                    "class_id": 1,
                    "box_caption": f"cat {step}",
                    "scores": {"acc": 0.9},
                },
                {
                    "position": {"middle": [20, 30], "width": 8, "height": 6},
                    "class_id": 2,
                    "domain": "pixel",
                },
            ],
            "class_labels": {1: "cat", 2: "dog"},
        }
    }
    masks = {"seg": {"mask_data": mask, "class_labels": {0: "bg", 1: "cat", 2: "dog", 3: "x"}}}
    live.log_image(
        f"pred/{step}.png", pixels, annotations, boxes=boxes, masks=masks, caption=f"step {step}"
    )
    # The same files rewritten every step: a kill may land in the middle of a replacement.
    live.log_image("latest.png", pixels[::-1], annotations, boxes=boxes, masks=masks)
    live.log_metric("loss", 1.0 / (step + 1))
    live.next_step()
live.end()
print(f"DONE {live.step}", flush=True)
"""


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(DVC_NO_ANALYTICS="1", DVCLIVE_LOGLEVEL="WARNING", PYTHONUNBUFFERED="1")
    return env


def read_start_line(proc: subprocess.Popen[str], timeout: float = 60.0) -> int:
    """Wait for the child's ``START <step>`` line and return the step."""
    assert proc.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            proc.kill()
            pytest.fail(f"the child did not start within {timeout} s")
    line = proc.stdout.readline()
    assert line.startswith("START "), f"unexpected first line {line!r}"
    return int(line.split()[1])


def expected_resume_step(run: Path) -> int:
    """DVCLive's ``_init_resume``: the step in metrics.json plus one; 0 stays 0."""
    metrics = run / "metrics.json"
    if not metrics.exists():
        return 0
    step = json.loads(metrics.read_text(encoding="utf-8")).get("step", 0)
    return step + 1 if step != 0 else 0


def check_run(run: Path, *, after_kill: bool) -> dict[str, Any]:
    """Everything a reader relies on; returns a few facts for the caller's checks."""
    images = run / "plots" / "images"
    pngs = sorted(images.rglob("*.png")) if images.is_dir() else []
    for png in pngs:
        with PILImage.open(png) as opened:
            opened.load()  # decodes every row: a torn file fails here
    for png in pngs:
        if png.parent.suffix != ".masks":
            record = dvcstage.read_image(png)
            assert record.pixels.shape == (SIZE, SIZE, 3), png
            if record.masks:
                assert record.masks["seg"]["mask_data"].shape == (SIZE, SIZE), png
    problems = validate_tree(run)
    assert problems == [], "\n".join(map(str, problems))
    contents = read_index(run / "media.jsonl")
    assert contents.problems == [], contents.problems
    if not after_kill:
        assert not contents.torn_tail
    metrics_file = run / "metrics.json"
    metrics = json.loads(metrics_file.read_text(encoding="utf-8")) if metrics_file.exists() else {}
    assert isinstance(metrics.get("step", 0), int)
    dvc_yaml = run.parent / "dvc.yaml"  # DVCLive's default: dvc.yaml in the working folder
    if dvc_yaml.exists():
        assert isinstance(YAML(typ="safe").load(dvc_yaml.read_text(encoding="utf-8")), dict)
    temporaries = [p for p in run.rglob("*") if TEMP_MARK in p.name]
    return {
        "pngs": len(pngs),
        "lines": contents.lines,
        "torn": contents.torn_tail,
        "temporaries": temporaries,
        "metrics": metrics,
    }


def test_sigkill_at_random_moments_leaves_a_readable_resumable_run(
    plain_dir: Path, tmp_path: Path
) -> None:
    script = tmp_path / "child.py"
    script.write_text(CHILD, encoding="utf-8")
    rng = random.Random(SEED)
    env = child_env()
    stats = []
    started = time.monotonic()
    for trial in range(TRIALS):
        run = plain_dir / f"run{trial // 2}"
        start_step = expected_resume_step(run)
        stderr_file = tmp_path / f"child{trial}.stderr"
        with open(stderr_file, "w") as stderr:
            proc = subprocess.Popen(
                [PYTHON, str(script), str(run), str(STEPS)],
                cwd=plain_dir,
                env=env,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
            )
            try:
                assert read_start_line(proc) == start_step
                delay = rng.uniform(*KILL_DELAY)
                time.sleep(delay)
                assert proc.poll() is None, (
                    f"trial {trial}: the child ended before the kill: "
                    f"{stderr_file.read_text()[-2000:]}"
                )
                proc.send_signal(signal.SIGKILL)
            finally:
                proc.kill()
                proc.wait()
                assert proc.stdout is not None
                proc.stdout.close()
        assert proc.returncode == -signal.SIGKILL

        killed = check_run(run, after_kill=True)
        expected = expected_resume_step(run)
        stats.append(
            (
                trial,
                round(delay, 2),
                start_step,
                expected,
                killed["pngs"],
                killed["torn"],
                len(killed["temporaries"]),
            )
        )

        # A new process resumes at the next step and logs three more.
        resumed = subprocess.run(
            [PYTHON, str(script), str(run), "3"],
            cwd=plain_dir,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert resumed.returncode == 0, resumed.stderr[-3000:]
        lines = resumed.stdout.split()
        assert lines[:2] == ["START", str(expected)], resumed.stdout
        assert lines[2:] == ["DONE", str(expected + 2)], resumed.stdout

        after = check_run(run, after_kill=False)
        assert after["temporaries"] == [], after["temporaries"]
        assert after["metrics"]["step"] == expected + 2
        logged = {(line["key"], line["step"]) for line in after["lines"]}
        for step in range(expected, expected + 3):
            assert ("pred", step) in logged
            record = dvcstage.read_image(run / "plots" / "images" / "pred" / f"{step}.png")
            assert record.step == step
            assert record.caption == f"step {step}"
            assert set(record.annotations or {}) == {"cat", "dog"}
            assert record.boxes is not None
            assert record.boxes["predictions"]["class_labels"] == {1: "cat", 2: "dog"}
            assert record.masks["seg"]["mask_data"].max() == 1 + step % 3
        # end() always writes dvc.yaml: the last image is listed.
        assert f"{run.name}/plots/images/pred/{expected + 2}.png" in (
            plain_dir / "dvc.yaml"
        ).read_text(encoding="utf-8")

    # The command line agrees, for every run at once.
    result = subprocess.run(
        [DVCSTAGE, "validate", str(plain_dir)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"ok: {(TRIALS + 1) // 2} run(s)" in result.stderr
    print(f"\n{TRIALS} kills in {time.monotonic() - started:.1f} s")
    print("trial delay start resumed_at pngs torn_index temporaries")
    for row in stats:
        print(*row)


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
    for step in range(resumed.step + 1):
        assert f"run/plots/images/pred/{step}.png" in text
    assert validate_tree(plain_dir / "run") == []
