"""The media panel at scale: first paint and slider moves in Chromium, on ``dvcstage view``.

A workspace of ``--runs`` runs (default 4) x 30 keys x ``--steps`` steps (default 1,000) is
synthesised in the writer's layout (``runs/r<i>/media.jsonl`` and every file): 12 image keys
(``eval/img00`` ..; 128x96 PNGs, copies of 16 distinct pictures so that every step shows
another, each with a sidecar of 5 boxes; copies, not hard links: ``dvcstage view`` refuses a
file with other hard links unless DVC's cache holds it), 4 histogram keys (``grads/h0`` ..;
32 bins a step) and 14 metrics (``train/m00`` ..; DVCLive's TSVs) -- 48,000 images for the
defaults. The real ``dvcstage view --no-browser --port 0`` serves it, and Debian's Chromium
(playwright-core, from ``vscode-ext/node_modules``; bench/bench_panel.mjs) at 1,400 x 900
measures:

* **first paint**: from the start of navigation to the sections and panels laid out, and to
  every panel on screen drawn (its images, chart and histograms);
* **slider move**, from the input event to every panel on screen showing the new step (each
  image cell's ``data-step``, each chart's cursor, each histogram's bars), checked every
  animation frame: ``--moves``/2 single steps forward, each once the panel has settled (what it
  loads ahead is in: **step**), ``--moves`` steps forward each as soon as the last was drawn
  (**scrub**), and ``--moves``/2 random jumps (**jump**: nothing loaded ahead).

The goals: first paint <= 1.5 s, slider move p95 <= 100 ms. The machine is shared and noisy:
this is a measurement, never a test. ``--before CHECKOUT`` also measures another version of
dvcstage (a git worktree of it: its package, language server and built panel) on the same
workspace in the same run, the two versions taking turns ``--rounds`` times.

    .venv/bin/python bench/bench_panel.py                      # 4 runs x 30 keys x 1,000 steps
    .venv/bin/python bench/bench_panel.py --steps 200 --json panel.json
    git worktree add /tmp/panel-before main
    .venv/bin/python bench/bench_panel.py --before /tmp/panel-before --rounds 2
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
IMAGE_KEYS = [f"eval/img{i:02d}" for i in range(12)]
HISTOGRAM_KEYS = [f"grads/h{i}" for i in range(4)]
METRIC_KEYS = [f"train/m{i:02d}" for i in range(14)]
PICTURES = 16
URL_LINE = re.compile(r"^(http://[^/]+)/\?token=([A-Za-z0-9_-]+)$")
GOAL_FIRST_PAINT_S = 1.5
GOAL_MOVE_P95_MS = 100.0


def _pictures() -> list[bytes]:
    """16 distinct 128x96 PNGs (gradients and a square: compressible, like real previews)."""
    import numpy as np
    from PIL import Image

    out = []
    for i in range(PICTURES):
        y, x = np.mgrid[0:96, 0:128]
        img = np.stack(
            [(x * 2 + i * 15) % 256, (y * 2 + i * 9) % 256, np.full_like(x, 40 + i * 12)], -1
        )
        img[20 + i : 50 + i, 30 + 2 * i : 70 + 2 * i] = [240, 220, 60]
        buffer = io.BytesIO()
        Image.fromarray(img.astype("uint8")).save(buffer, format="PNG")
        out.append(buffer.getvalue())
    return out


def synthesise(folder: Path, runs: int, steps: int) -> int:
    """The workspace under ``folder``; returns the number of index lines."""
    total = 0
    for r in range(runs):
        run = folder / "runs" / f"r{r}"
        run.mkdir(parents=True)
        pictures = _pictures()
        lines: list[str] = []
        for key_index, key in enumerate(IMAGE_KEYS):
            (run / "plots" / "images" / key).mkdir(parents=True)
            for step in range(steps):
                base = f"plots/images/{key}/{step}"
                picture = pictures[(step + key_index + r) % PICTURES]
                (run / f"{base}.png").write_bytes(picture)
                boxes = [
                    {
                        "position": {
                            "minX": 0.1 + 0.15 * b,
                            "maxX": 0.25 + 0.15 * b,
                            "minY": 0.2,
                            "maxY": 0.6,
                        },
                        "class_id": b % 3,
                        "scores": {"score": round(0.5 + 0.1 * b, 2)},
                    }
                    for b in range(5)
                ]
                sidecar = {
                    "boxes": {
                        "predictions": {
                            "box_data": boxes,
                            "class_labels": {"0": "a", "1": "b", "2": "c"},
                        }
                    },
                    "step": step,
                    "width": 128,
                    "height": 96,
                }
                text = json.dumps(sidecar, separators=(",", ":"))
                (run / f"{base}.json").write_text(text)
                files = [
                    {"path": f"{base}.png", "role": "image", "bytes": len(picture)},
                    {
                        "path": f"{base}.json",
                        "role": "sidecar",
                        "bytes": len(text),
                        "schema": "image-sidecar",
                    },
                ]
                line = {
                    "v": 1,
                    "step": step,
                    "key": key,
                    "kind": "image",
                    "files": files,
                    "sidecar": f"{base}.json",
                    "width": 128,
                    "height": 96,
                    "time": 1_718_000_000.0 + step,
                }
                lines.append(json.dumps(line, separators=(",", ":")) + "\n")
        for h, key in enumerate(HISTOGRAM_KEYS):
            path = run / "plots" / "histograms" / f"{key}.tsv"
            path.parent.mkdir(parents=True, exist_ok=True)
            rows = ["step\tbin\tlow\thigh\tcount\n"]
            for step in range(steps):
                spread = 1 + step / steps + h
                edges = [spread * (-3 + 6 * b / 32) for b in range(33)]
                for b in range(32):
                    centre = (edges[b] + edges[b + 1]) / 2
                    count = int(1000 * math.exp(-((centre / spread) ** 2)))
                    rows.append(f"{step}\t{b}\t{edges[b]}\t{edges[b + 1]}\t{count}\n")
                line = {
                    "v": 1,
                    "step": step,
                    "key": key,
                    "kind": "histogram",
                    "files": [
                        {"path": f"plots/histograms/{key}.tsv", "role": "series", "bytes": 0}
                    ],
                    "time": 1_718_000_000.0 + step,
                }
                lines.append(json.dumps(line, separators=(",", ":")) + "\n")
            path.write_text("".join(rows))
        for m, key in enumerate(METRIC_KEYS):
            path = run / "plots" / "metrics" / f"{key}.tsv"
            path.parent.mkdir(parents=True, exist_ok=True)
            name = key.rsplit("/", 1)[-1]
            values = (f"{step}\t{(m + 1) / (1 + 0.01 * step * (r + 1))}\n" for step in range(steps))
            path.write_text(f"step\t{name}\n" + "".join(values))
        (run / "media.jsonl").write_text("".join(lines))
        total += len(lines)
    return total


def start_view(folder: Path, cache: Path, source: Path = ROOT) -> tuple[subprocess.Popen[str], str]:
    """``dvcstage view`` (of the checkout ``source``) on ``folder``; the process and its URL
    (with the token)."""
    paths = [str(source), str(source / "lsp")] if source != ROOT else [str(ROOT / "lsp")]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [*paths, os.environ.get("PYTHONPATH")])),
    }
    view = shutil.which("dvcstage", path=str(Path(sys.executable).parent)) or "dvcstage"
    process = subprocess.Popen(
        [view, "view", "--no-browser", "--port", "0", "--cache-dir", str(cache), str(folder)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        match = URL_LINE.match(line.strip())
        if match:
            return process, line.strip()
    process.kill()
    raise SystemExit("dvcstage view printed no URL")


def measure(folder: Path, cache: Path, source: Path, moves: int, loads: int) -> dict[str, Any]:
    """One pass of bench_panel.mjs against the view of checkout ``source``."""
    process, url = start_view(folder, cache, source)
    try:
        script = ROOT / "bench" / "bench_panel.mjs"
        done = subprocess.run(
            ["node", str(script), url, str(moves), str(loads), str(process.pid)],
            capture_output=True,
            text=True,
            timeout=1800,
        )
    finally:
        process.terminate()
        process.wait(timeout=30)
    if done.returncode != 0:
        raise SystemExit(f"bench_panel.mjs failed:\n{done.stdout}\n{done.stderr}")
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    figures["load_average"] = os.getloadavg()
    return figures


def _stats(values: list[float]) -> dict[str, float]:
    """Median, p95 and max as bench_panel.mjs computes them (the value at floor(p * n))."""
    v = sorted(values)
    return {
        "n": len(v),
        "median": v[min(len(v) - 1, len(v) // 2)],
        "p95": v[min(len(v) - 1, int(0.95 * len(v)))],
        "max": v[-1],
    }


def merge(passes: list[dict[str, Any]]) -> dict[str, Any]:
    """The figures of several passes of one version: every move of every pass together."""
    moves = {
        kind: _stats([t for one in passes for t in one["moves"][kind]["all"]])
        for kind in ("step", "scrub", "jump")
    }
    layout = sorted(t for one in passes for t in one["firstPaint"]["all_layout_s"])
    drawn = sorted(t for one in passes for t in one["firstPaint"]["all_drawn_s"])
    return {
        "firstPaint": {
            "n": len(drawn),
            "layout_s": layout[len(layout) // 2],
            "drawn_s": drawn[len(drawn) // 2],
        },
        "moves": moves,
        "visible": passes[0]["visible"],
        "load_average": [one["load_average"] for one in passes],
        "cpu_ms_per_move": {
            kind: {
                group: sum(one["cpu_ms_per_move"][kind][group] for one in passes) / len(passes)
                for group in passes[0]["cpu_ms_per_move"][kind]
            }
            for kind in ("step", "scrub", "jump")
        },
    }


def report(name: str, figures: dict[str, Any]) -> None:
    paint, moves = figures["firstPaint"], figures["moves"]
    loads = ", ".join(f"{one[0]:.2f}" for one in figures["load_average"])
    print(f"== {name} (1-minute load average after each pass: {loads})")
    print(
        f"first paint (median of {paint['n']}): panels laid out {paint['layout_s']:.2f} s, "
        f"every visible panel drawn {paint['drawn_s']:.2f} s (goal <= {GOAL_FIRST_PAINT_S} s)"
    )
    for kind in ("step", "scrub", "jump"):
        m = moves[kind]
        print(
            f"slider move, {kind} ({m['n']} moves): median {m['median']:.1f} ms,",
            f"p95 {m['p95']:.1f} ms, max {m['max']:.1f} ms",
            f"(goal p95 <= {GOAL_MOVE_P95_MS:.0f} ms)",
        )
        cpu = figures["cpu_ms_per_move"][kind]
        print(
            f"    CPU per move ({sum(cpu.values()):.0f} ms, loads ahead included):",
            ", ".join(f"{group} {ms:.1f} ms" for group, ms in cpu.items()),
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=4)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--moves", type=int, default=100)
    parser.add_argument("--loads", type=int, default=5, help="page loads for the first paint")
    parser.add_argument("--keep", type=Path, help="synthesise into (or reuse) this folder")
    parser.add_argument(
        "--before", type=Path, help="also measure this checkout of dvcstage (a git worktree)"
    )
    parser.add_argument("--rounds", type=int, default=1, help="passes of each version, in turn")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    versions = {"this checkout": ROOT}
    if args.before is not None:
        before = args.before.resolve()
        if not (before / "dvcstage" / "view" / "static" / "panel.js").is_file():
            parser.error(f"--before {args.before}: not a dvcstage checkout (no built panel)")
        versions = {f"before ({before})": before, **versions}

    temp = Path(tempfile.mkdtemp(prefix="dvcstage-bench-panel-"))
    folder = args.keep or temp / "ws"
    try:
        if not (folder / "runs").is_dir():
            started = time.perf_counter()
            count = synthesise(folder, args.runs, args.steps)
            print(
                f"synthesised {count:,} index lines in {time.perf_counter() - started:.1f} s:",
                folder,
            )
        passes: dict[str, list[dict[str, Any]]] = {name: [] for name in versions}
        for round_ in range(args.rounds):
            for i, (name, source) in enumerate(versions.items()):
                cache = temp / f"cache-{round_}-{i}"
                passes[name].append(measure(folder, cache, source, args.moves, args.loads))
        print(
            f"workload: {args.runs} runs x 30 keys x {args.steps} steps; Chromium 1400x900;",
            next(iter(passes.values()))[0]["visible"],
        )
        results = {name: merge(one) for name, one in passes.items()}
        for name, figures in results.items():
            report(name, figures)
        if args.json:
            workload = {
                "runs": args.runs,
                "keys": len(IMAGE_KEYS) + len(HISTOGRAM_KEYS) + len(METRIC_KEYS),
                "steps": args.steps,
            }
            args.json.write_text(json.dumps({"workload": workload, **results}, indent=1))
    finally:
        shutil.rmtree(temp, ignore_errors=True)


if __name__ == "__main__":
    main()
