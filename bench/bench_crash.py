"""Benchmark: a training loop SIGKILLed at random moments, dvcstage against DVCLive.

Runs ``bench/crash_loop.py``'s loop (1,000 steps; 22 kills during training, ``end()`` and
resume; a final run that finishes) once per tool in a fresh folder, and prints what each lost:
images, histogram steps, metric rows (and rows logged twice), files a reader could not read
at any point, ``dvcstage validate`` problems. DVCLive logs the image and the metric only (it
has no histograms or tables).

    .venv/bin/python bench/bench_crash.py --json bench/crash.json
    .venv/bin/python bench/bench_crash.py --tool dvcstage --pythonpath /path/to/other/checkout
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from crash_loop import crash_loop

COLUMNS = (
    ("kills", lambda o: sum(o.kills.values())),
    ("lost images", lambda o: o.lost_images + o.wrong_images),
    ("lost hist. steps", lambda o: o.lost_histogram_steps),
    ("dup. hist. steps", lambda o: o.duplicate_histogram_steps),
    ("lost rows", lambda o: o.lost_rows),
    ("dup. rows", lambda o: o.duplicate_rows),
    ("corrupt files", lambda o: len(o.corrupt_files)),
    ("validate problems", lambda o: len(o.validate_problems)),
    ("resume failed", lambda o: o.failed_resume or "no"),
    ("seconds", lambda o: o.seconds),
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tool", action="append", choices=["dvcstage", "dvclive"])
    parser.add_argument("--steps", type=int, default=1_000)
    parser.add_argument("--kills", type=int, default=22)
    parser.add_argument("--seed", type=int, default=20_261_128)
    parser.add_argument("--pythonpath", help="import dvcstage from here (an older checkout)")
    parser.add_argument("--json", type=Path, help="write the outcomes here")
    args = parser.parse_args()
    if args.pythonpath:
        os.environ["PYTHONPATH"] = args.pythonpath
    outcomes = []
    for tool in args.tool or ["dvcstage", "dvclive"]:
        with tempfile.TemporaryDirectory(prefix=f"crash-{tool}-") as folder:
            outcome = crash_loop(
                Path(folder), tool, steps=args.steps, kills=args.kills, seed=args.seed
            )
        outcomes.append(outcome)
        print(f"{tool}: {json.dumps(outcome.as_dict())[:600]}", file=sys.stderr)
    print("| tool | " + " | ".join(name for name, _ in COLUMNS) + " |")
    print("|---|" + "---:|" * len(COLUMNS))
    for outcome in outcomes:
        cells = " | ".join(str(value(outcome)) for _, value in COLUMNS)
        print(f"| {outcome.tool} | {cells} |")
    if args.json:
        args.json.write_text(json.dumps([o.as_dict() for o in outcomes], indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
