"""Benchmark: resuming a run and validating it, with a 300,000-line media index.

Builds a run the way a long training leaves it — 10,000 steps x 30 keys: 3 image keys
(30,000 small PNGs, one in ten with a sidecar) and 27 histogram series (270,000 index lines
in 27 TSV files) — directly on disk, with index lines in the writer's exact layout. Then
times, in fresh subprocesses (median of ``--repeat``):

* ``Live(resume=True)`` (constructing it, in a folder outside git: no DVC repository
  lookups), against constructing a fresh ``Live`` on an empty folder, and
* ``dvcstage validate`` of the run (every index line checked against the schema's rules,
  every file it names looked up, every image decoded, every sidecar checked).

    .venv/bin/python bench/bench_index.py --repeat 3
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STEPS = 10_000
IMAGE_KEYS = ("pred", "inputs", "masks")
HISTOGRAM_KEYS = tuple(f"layers/{i}" for i in range(27))
BINS = 4


def build_run(run: Path, steps: int) -> int:
    """Write the run's files and its index; returns the number of index lines."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 20, 30)).save(buffer, format="PNG")
    png = buffer.getvalue()
    lines = []
    for key in IMAGE_KEYS:
        folder = run / "plots/images" / key
        folder.mkdir(parents=True)
        for step in range(steps):
            (folder / f"{step}.png").write_bytes(png)
            files = [{"path": f"plots/images/{key}/{step}.png", "role": "image", "bytes": len(png)}]
            sidecar = None
            if step % 10 == 0:
                sidecar = f"plots/images/{key}/{step}.json"
                text = json.dumps(
                    {"caption": f"step {step}", "step": step, "width": 8, "height": 8}
                )
                (run / sidecar).write_text(text)
                files.append(
                    {
                        "path": sidecar,
                        "role": "sidecar",
                        "bytes": len(text),
                        "schema": "image-sidecar",
                    }
                )
            lines.append(
                {"v": 1, "step": step, "key": key, "kind": "image", "files": files,
                 "width": 8, "height": 8, "sidecar": sidecar, "time": 1.0}
            )  # fmt: skip
    for key in HISTOGRAM_KEYS:
        series = run / "plots/histograms" / f"{key}.tsv"
        series.parent.mkdir(parents=True, exist_ok=True)
        rows = ["step\tbin\tlow\thigh\tcount\n"]
        for step in range(steps):
            block = "".join(f"{step}\t{b}\t{b}\t{b + 1}\t{step % 7}\n" for b in range(BINS))
            rows.append(block)
            lines.append(
                {"v": 1, "step": step, "key": key, "kind": "histogram",
                 "files": [{"path": f"plots/histograms/{key}.tsv", "role": "series",
                            "bytes": len(block)}],
                 "facts": {"bins": BINS, "low": 0.0, "high": float(BINS), "total": BINS},
                 "time": 1.0}
            )  # fmt: skip
        series.write_text("".join(rows))
    lines.sort(key=lambda line: line["step"])
    text = "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines)
    (run / "media.jsonl").write_text(text)
    (run / "metrics.json").write_text(json.dumps({"step": steps - 1}))
    return len(lines)


TIME_LIVE = """
import sys, time
start = time.perf_counter()
from dvcstage import Live
imported = time.perf_counter()
live = Live(dir=sys.argv[1], resume=sys.argv[2] == "resume", save_dvc_exp=False)
made = time.perf_counter()
assert live.step == int(sys.argv[3]), live.step
print(made - imported)
"""


def time_live(folder: Path, run: str, resume: bool, step: int) -> float:
    done = subprocess.run(
        [sys.executable, "-c", TIME_LIVE, run, "resume" if resume else "fresh", str(step)],
        cwd=folder,
        capture_output=True,
        text=True,
        check=True,
        env={"DVC_NO_ANALYTICS": "1", "GIT_CEILING_DIRECTORIES": str(folder.parent),
             "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    return float(done.stdout.strip().splitlines()[-1])


def time_validate(folder: Path, run: str) -> float:
    dvcstage = Path(sys.executable).parent / "dvcstage"
    start = time.perf_counter()
    done = subprocess.run([str(dvcstage), "validate", run], cwd=folder, capture_output=True,
                          text=True, check=False)  # fmt: skip
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(done.stdout[-2000:] + done.stderr[-2000:])
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=STEPS)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-index-") as tmp:
        folder = Path(tmp) / "work"
        folder.mkdir()
        started = time.perf_counter()
        lines = build_run(folder / "run", args.steps)
        print(
            f"built {lines:,} index lines in {time.perf_counter() - started:.1f} s", file=sys.stderr
        )
        resume, fresh, validate = [], [], []
        for index in range(args.repeat):
            resume.append(time_live(folder, "run", True, args.steps))
            fresh.append(time_live(folder, f"empty{index}", False, 0))
            validate.append(time_validate(folder, "run"))
            print(f"  {index + 1}: resume {resume[-1]:.2f} s, fresh {fresh[-1]:.2f} s, "
                  f"validate {validate[-1]:.2f} s", file=sys.stderr)  # fmt: skip
    print(f"| {lines:,}-line index | median of {args.repeat} | runs |")
    print("|---|---:|---|")
    print(f"| `Live(resume=True)` | {statistics.median(resume):.2f} s | {resume} |")
    print(f"| `Live()` on an empty folder | {statistics.median(fresh):.2f} s | {fresh} |")
    print(f"| `dvcstage validate` (process) | {statistics.median(validate):.2f} s | {validate} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
