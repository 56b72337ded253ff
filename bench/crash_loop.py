"""Kill a training loop at random moments, resume it each time, and count what was lost.

A child process logs, per step, an image (96 x 96, its pixels a function of the step), a
metric and, with dvcstage, a histogram and (every 100 steps) a table with an image cell; it
resumes with ``Live(resume=True)`` each time it starts. The parent SIGKILLs it:

* during training, a few milliseconds after it reached a chosen step;
* during ``end()``: the child ends the run at a chosen step and is killed while it does;
* during resume: killed in ``Live(resume=True)`` itself, before it logged anything.

After the last kill a final child finishes the run. Then every step below the final one is
checked: its image (pixels and caption), histogram block and metric row, exactly once. Used by
``tests/test_crash_safety.py`` (dvcstage, with assertions) and ``bench/bench_crash.py``
(dvcstage and DVCLive side by side, numbers for bench/README.md).
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
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

SIZE = 96

CHILD = r"""
import os, sys, time
import numpy as np

tool, run_dir, steps, target, mode, train_ms = sys.argv[1:7]
steps, target, train_ms = int(steps), int(target), float(train_ms)
print("INIT", flush=True)
if tool == "dvcstage":
    import dvcstage
    from dvcstage import Live
else:
    from dvclive import Live
live = Live(dir=run_dir, resume=True, save_dvc_exp=False)
print("START", live.step, flush=True)
target = max(target, live.step)  # a kill landed a few steps after the previous target
while live.step < steps:
    step = live.step
    if step == target:
        if mode == "end":
            print("ENDING", flush=True)
            live.end()
            print("ENDED", flush=True)
            sys.exit(0)
        print("AT", step, flush=True)
    if mode == "train" and step >= target + 25:  # the kill is late (a loaded machine):
        time.sleep(3600)  # wait for it here rather than run on past the next targets
    pixels = np.random.default_rng(step).integers(0, 256, (96, 96, 3), dtype=np.uint8)
    if tool == "dvcstage":
        live.log_image(f"pred/{step}.png", pixels, caption=f"step {step}")
        live.log({"weights": dvcstage.Histogram(np.random.default_rng(step).normal(size=500))})
        if step % 100 == 0:
            table = dvcstage.Table(columns=["step", "image"])
            table.add_data(step, dvcstage.Image(pixels[:40, :40]))
            live.log({"examples": table})
    else:
        live.log_image(f"pred/{step}.png", pixels)
    live.log_metric("loss", 1.0 / (step + 1))
    time.sleep(train_ms / 1000)  # the training between two steps
    live.next_step()
live.end()
print("DONE", live.step, flush=True)
"""


@dataclass
class Outcome:
    """What a crash loop found; ``lost_*`` and ``duplicate_rows`` should all be 0."""

    tool: str
    steps: int
    kills: Counter[str] = field(default_factory=Counter)
    lost_images: int = 0
    wrong_images: int = 0
    lost_histogram_steps: int = 0
    duplicate_histogram_steps: int = 0
    lost_tables: int = 0
    lost_rows: int = 0
    duplicate_rows: int = 0
    corrupt_files: list[str] = field(default_factory=list)
    #: A resume that failed (the run could not go on), with the child's last error line.
    failed_resume: str | None = None
    validate_problems: list[str] = field(default_factory=list)
    leftovers: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["kills"] = dict(self.kills)
        return data


def expected_pixels(step: int) -> np.ndarray:
    return np.random.default_rng(step).integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8)


def _read_line(proc: subprocess.Popen[bytes], timeout: float = 180.0) -> str:
    assert proc.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            raise TimeoutError("the child printed nothing")
    # The pipe is unbuffered: a buffered reader could hold the next line already, and the
    # select above would then wait for a line that has come.
    return proc.stdout.readline().decode().strip()


def _wait_for(proc: subprocess.Popen[bytes], prefix: str) -> str:
    """Read the child's lines until one starts with ``prefix`` (registered before it acts)."""
    while True:
        line = _read_line(proc)
        if line.startswith(prefix):
            return line
        if not line and proc.poll() is not None:
            raise RuntimeError(f"the child ended (code {proc.returncode}) before {prefix!r}")


def _kill(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()


def corrupt_files(run: Path) -> list[str]:
    """Files a reader cannot read whole: PNGs that do not decode, JSON that does not parse."""
    from PIL import Image as PILImage

    bad = []
    for path in sorted(run.rglob("*")):
        if not path.is_file() or ".dvcstage" in path.parts or "dvcstage-tmp" in path.name:
            continue
        try:
            if path.suffix == ".png":
                with PILImage.open(path) as opened:
                    opened.load()
            elif path.suffix == ".json":
                json.loads(path.read_text(encoding="utf-8"))
        except Exception as exc:
            bad.append(f"{path.relative_to(run)}: {exc}")
    return bad


def _metric_steps(run: Path, outcome: Outcome) -> Counter[int]:
    """How often each step has a row in ``loss.tsv`` (a torn row counts as corrupt)."""
    counted: Counter[int] = Counter()
    path = run / "plots" / "metrics" / "loss.tsv"
    rows = path.read_text().splitlines()[1:] if path.is_file() else []
    for row in rows:
        try:
            counted[int(row.split("\t")[-2])] += 1
        except (ValueError, IndexError):
            outcome.corrupt_files.append(f"plots/metrics/loss.tsv: a torn row {row!r}")
    return counted


def _check_final(run: Path, tool: str, steps: int, outcome: Outcome) -> None:
    from PIL import Image as PILImage

    counted = _metric_steps(run, outcome)
    if outcome.failed_resume is not None:  # only what the run reached can be lost
        steps = max(counted, default=-1) + 1
    outcome.steps = steps
    images = run / "plots" / "images" / "pred"
    for step in range(steps):
        path = images / f"{step}.png"
        if not path.is_file():
            outcome.lost_images += 1
            continue
        with PILImage.open(path) as opened:
            if not np.array_equal(np.asarray(opened), expected_pixels(step)):
                outcome.wrong_images += 1
        if tool == "dvcstage":
            sidecar = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
            if sidecar.get("caption") != f"step {step}":
                outcome.wrong_images += 1
    outcome.lost_rows = sum(1 for s in range(steps) if counted[s] == 0)
    outcome.duplicate_rows = sum(n - 1 for n in counted.values() if n > 1)
    if tool == "dvcstage":
        series = (run / "plots" / "histograms" / "weights.tsv").read_text().splitlines()[1:]
        blocks = Counter(int(row.split("\t")[0]) for row in series)
        bins = 64
        outcome.lost_histogram_steps = sum(1 for s in range(steps) if blocks[s] == 0)
        outcome.duplicate_histogram_steps = sum(1 for n in blocks.values() if n > bins)
        outcome.lost_tables = sum(
            1
            for s in range(0, steps, 100)
            if not (run / "media" / "table" / "examples" / f"{s}.json").is_file()
        )
        from dvcstage.validate import validate_tree

        outcome.validate_problems = [str(p) for p in validate_tree(run)]
        outcome.leftovers = [
            str(p.relative_to(run))
            for p in run.rglob("*")
            if "dvcstage-tmp" in p.name or p.name == ".dvcstage"
        ]
    outcome.corrupt_files += corrupt_files(run)


def crash_loop(
    folder: Path,
    tool: str = "dvcstage",
    *,
    steps: int = 1_000,
    kills: int = 22,
    seed: int = 20_261_128,
    train_ms: float = 2.0,
    python: str = sys.executable,
    log: Any = None,
) -> Outcome:
    """Run the loop in ``folder`` (a fresh working folder) and return what it found.

    Of ``kills``, about one in seven lands during ``end()`` and one in seven during resume;
    the rest during training. Kill moments are drawn from ``seed``.
    """
    rng = random.Random(seed)
    started = time.monotonic()
    outcome = Outcome(tool, steps)
    script = folder / "child.py"
    script.write_text(CHILD, encoding="utf-8")
    env = dict(os.environ, DVC_NO_ANALYTICS="1", DVCLIVE_LOGLEVEL="ERROR", PYTHONUNBUFFERED="1")
    modes = ["end"] * (kills // 7) + ["resume"] * (kills // 7)
    modes += ["train"] * (kills - len(modes))
    rng.shuffle(modes)
    targets = sorted(rng.sample(range(1, steps - 10), len(modes)))
    run = folder / "run"
    stderr_path = folder / "child.stderr"
    for mode, target in zip(modes, targets, strict=True):
        with open(stderr_path, "w") as stderr:
            proc = subprocess.Popen(
                [python, str(script), tool, "run", str(steps), str(target), mode, str(train_ms)],
                cwd=folder,
                env=env,
                stdout=subprocess.PIPE,
                stderr=stderr,
                bufsize=0,
            )
        try:
            if mode == "resume":
                _wait_for(proc, "INIT")
                time.sleep(rng.uniform(0.0, 0.4))  # inside imports and Live(resume=True)
            elif mode == "end":
                _wait_for(proc, "ENDING")
                time.sleep(rng.uniform(0.0, 0.02))
            else:
                _wait_for(proc, "AT")
                time.sleep(rng.uniform(0.0, 0.01))
        except RuntimeError as exc:  # the child failed: it could not resume the run
            lines = stderr_path.read_text().strip().splitlines() or [str(exc)]
            outcome.failed_resume = f"after {sum(outcome.kills.values())} kills: {lines[-1]}"
            break
        finally:
            _kill(proc)
        outcome.kills[mode] += 1
        if log is not None:
            print(f"{tool}: killed during {mode} (step {target})", file=log, flush=True)
        outcome.corrupt_files += [f"after kill {sum(outcome.kills.values())}: {c}"
                                  for c in corrupt_files(run)]  # fmt: skip
    if outcome.failed_resume is None:
        done = subprocess.run(
            [python, str(script), tool, "run", str(steps), str(steps + 1), "train", str(train_ms)],
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        if done.returncode != 0 or f"DONE {steps - 1}" not in done.stdout:  # end(): last step
            lines = done.stderr.strip().splitlines() or [done.stdout[-200:]]
            outcome.failed_resume = f"the final run: {lines[-1]}"
    _check_final(run, tool, steps, outcome)
    outcome.seconds = round(time.monotonic() - started, 1)
    return outcome
