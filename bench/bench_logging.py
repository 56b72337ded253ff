"""Benchmark: dvcstage vs DVCLive (and W&B / TensorBoard when installed) on one workload.

Each step logs one 256x256 RGB image (gradients + shapes + Gaussian noise, different per
step and generated before timing) under the slider name ``img/{step}.png``, one metric, and
advances the step. Every tool runs in its own subprocess (this script re-invoked with
``--worker TOOL``), inside its own fresh temporary git + DVC repository.

Measured per tool:

* main-thread ms/step: time spent inside the logging calls + ``next_step()`` of each step.
  The mean (total / steps) is the time a training loop loses; p90 and p99 show the stalls
  (a full queue, a dvc.yaml rewrite); the median alone would hide them;
* wall time from creating the logger until ``end()`` (or its equivalent) returns;
* bytes on disk: apparent size of the files in the run directory (``dvc.yaml``, which
  lives beside it, is reported separately in the details).

This is a benchmark, not a test: it asserts nothing about the numbers. Run it with::

    .venv/bin/python bench/bench_logging.py --steps 500 --repeat 3 --json bench/results.json
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

SIZE = 256
SEED = 20240601
CLASS_LABELS = {0: "background", 1: "circle", 2: "rectangle"}
PLAIN_TOOLS = ("dvclive", "dvcstage")
OVERLAY_TOOLS = ("dvcstage-overlays", "wandb", "tensorboard")
TOOL_TITLES = {
    "dvclive": "DVCLive",
    "dvcstage": "dvcstage",
    "dvcstage-overlays": "dvcstage (boxes + annotations + mask)",
    "wandb": "wandb offline (boxes + mask)",
    "tensorboard": "TensorBoard (boxes drawn + mask as 2nd image)",
}
EXP_NOTE = (
    "Both Live classes use save_dvc_exp=False: DVC experiment saving (slow and identical "
    "for both) is not part of the measurement."
)
WALL_NOTE = (
    "Wall time runs from creating the logger (imports excluded) until end() returns. "
    "All numbers are medians across repeats, each taken separately."
)
WORKER_TIMEOUT_S = 900


# -- workload ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """Everything one step logs, built before timing starts."""

    image: np.ndarray
    loss: float
    mask: np.ndarray | None = None
    boxes: dict[str, Any] | None = None
    annotations: dict[str, Any] | None = None
    pixel_boxes: np.ndarray | None = None
    box_labels: list[str] | None = None


@dataclass(frozen=True)
class Shape:
    """One drawn shape: its class id and pixel bounds (right/bottom exclusive)."""

    class_id: int
    left: int
    top: int
    right: int
    bottom: int


def _background(step: int) -> np.ndarray:
    """A smooth RGB gradient whose phase depends on the step, as float32 in [0, 255]."""
    ramp = np.linspace(0.0, 1.0, SIZE, dtype=np.float32)
    x, y = np.meshgrid(ramp, ramp)
    phase = step * 0.05
    red = 0.5 + 0.5 * np.sin(2 * np.pi * (x + phase))
    green = y
    blue = 0.5 + 0.5 * np.cos(2 * np.pi * (x + y) / 2 + phase)
    return np.stack([red, green, blue], axis=-1) * 255.0


def _random_shapes(rng: np.random.Generator) -> list[Shape]:
    """Three circles and two rectangles at random places."""
    shapes = []
    for class_id in (1, 1, 1, 2, 2):
        width, height = rng.integers(24, 80, size=2)
        left = int(rng.integers(0, SIZE - width))
        top = int(rng.integers(0, SIZE - height))
        shapes.append(Shape(class_id, left, top, left + int(width), top + int(height)))
    return shapes


def _shape_mask(shape: Shape) -> np.ndarray:
    """Boolean pixels covered by ``shape`` (an ellipse for circles, else a rectangle)."""
    rows, cols = np.ogrid[:SIZE, :SIZE]
    inside_box = (
        (cols >= shape.left) & (cols < shape.right) & (rows >= shape.top) & (rows < shape.bottom)
    )
    if shape.class_id != 1:
        return inside_box
    cx, cy = (shape.left + shape.right - 1) / 2, (shape.top + shape.bottom - 1) / 2
    rx, ry = (shape.right - shape.left) / 2, (shape.bottom - shape.top) / 2
    return ((cols - cx) / rx) ** 2 + ((rows - cy) / ry) ** 2 <= 1.0


def draw_image(rng: np.random.Generator, step: int) -> tuple[np.ndarray, np.ndarray, list[Shape]]:
    """One noisy structured image, its class-id mask and the shapes drawn in it."""
    pixels = _background(step)
    mask = np.zeros((SIZE, SIZE), dtype=np.uint8)
    shapes = _random_shapes(rng)
    for shape in shapes:
        covered = _shape_mask(shape)
        pixels[covered] = rng.uniform(0, 255, size=3).astype(np.float32)
        mask[covered] = shape.class_id
    pixels += rng.normal(0.0, 12.0, size=pixels.shape).astype(np.float32)
    return np.clip(pixels, 0, 255).astype(np.uint8), mask, shapes


def _wandb_box(shape: Shape, score: float) -> dict[str, Any]:
    """A W&B box (fractional coordinates) for ``shape``."""
    return {
        "position": {
            "minX": shape.left / SIZE,
            "maxX": shape.right / SIZE,
            "minY": shape.top / SIZE,
            "maxY": shape.bottom / SIZE,
        },
        "class_id": shape.class_id,
        "box_caption": CLASS_LABELS[shape.class_id],
        "scores": {"confidence": score},
    }


def wandb_boxes(shapes: list[Shape], scores: list[float]) -> dict[str, Any]:
    """Two box groups: circles as predictions, rectangles as ground truth."""
    circles = [(s, sc) for s, sc in zip(shapes, scores, strict=True) if s.class_id == 1]
    rectangles = [(s, sc) for s, sc in zip(shapes, scores, strict=True) if s.class_id == 2]
    return {
        "predictions": {
            "box_data": [_wandb_box(s, sc) for s, sc in circles],
            "class_labels": dict(CLASS_LABELS),
        },
        "ground_truth": {
            "box_data": [_wandb_box(s, 1.0) for s, _ in rectangles],
            "class_labels": dict(CLASS_LABELS),
        },
    }


def dvclive_annotations(shapes: list[Shape], scores: list[float]) -> dict[str, Any]:
    """DVCLive-style ``annotations`` (tlbr pixel boxes) for all shapes."""
    return {
        "boxes": [[s.top, s.left, s.bottom, s.right] for s in shapes],
        "labels": [CLASS_LABELS[s.class_id] for s in shapes],
        "scores": scores,
        "box_format": "tlbr",
    }


def build_step(rng: np.random.Generator, step: int, overlays: bool) -> Step:
    """The data one step logs; with ``overlays`` also its mask, boxes and annotations."""
    image, mask, shapes = draw_image(rng, step)
    loss = float(1.0 / (1 + step) + rng.normal(0.0, 0.01))
    if not overlays:
        return Step(image=image, loss=loss)
    scores = [round(float(s), 3) for s in rng.uniform(0.5, 1.0, size=len(shapes))]
    return Step(
        image=image,
        loss=loss,
        mask=mask,
        boxes=wandb_boxes(shapes, scores),
        annotations=dvclive_annotations(shapes, scores),
        pixel_boxes=np.array([[s.left, s.top, s.right, s.bottom] for s in shapes], dtype=float),
        box_labels=[CLASS_LABELS[s.class_id] for s in shapes],
    )


def build_workload(steps: int, overlays: bool) -> list[Step]:
    """The same ``steps`` steps for every tool: images do not depend on ``overlays``."""
    return [
        build_step(np.random.default_rng([SEED, step]), step, overlays) for step in range(steps)
    ]


def masks_of(step: Step) -> dict[str, Any]:
    """The W&B ``masks`` argument for ``step``."""
    return {"predictions": {"mask_data": step.mask, "class_labels": dict(CLASS_LABELS)}}


# -- tools ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tool:
    """How to import, open a logger, log one step, finish it, and where its files are."""

    prepare: Callable[[], object]
    open: Callable[[Path], Any]
    log: Callable[[Any, Step], None]
    finish: Callable[[Any], None]
    run_dir: Callable[[Path], Path]


def _live_run_dir(repo: Path) -> Path:
    return repo / "dvclive"


def _open_dvclive(repo: Path) -> Any:
    from dvclive import Live

    return Live(str(repo / "dvclive"), save_dvc_exp=False)


def _open_dvcstage(repo: Path) -> Any:
    from dvcstage import Live

    return Live(str(repo / "dvclive"), save_dvc_exp=False)


def _log_plain(live: Any, step: Step) -> None:
    live.log_image(f"img/{live.step}.png", step.image)
    live.log_metric("loss", step.loss)
    live.next_step()


def _log_overlays(live: Any, step: Step) -> None:
    live.log_image(
        f"img/{live.step}.png",
        step.image,
        step.annotations,
        boxes=step.boxes,
        masks=masks_of(step),
    )
    live.log_metric("loss", step.loss)
    live.next_step()


def _end_live(live: Any) -> None:
    live.end()


def _open_wandb(repo: Path) -> Any:
    import wandb

    return wandb.init(dir=str(repo), project="bench", mode="offline")


def _log_wandb(run: Any, step: Step) -> None:
    import wandb

    image = wandb.Image(step.image, boxes=step.boxes, masks=masks_of(step))
    run.log({"img": image, "loss": step.loss})


def _finish_wandb(run: Any) -> None:
    run.finish()


def tensorboard_writer_class() -> tuple[type[Any], str] | None:
    """TensorBoard's ``SummaryWriter`` (tensorboardX first: it needs no torch), or None."""
    if importlib.util.find_spec("tensorboardX") is not None:
        from tensorboardX import SummaryWriter

        return SummaryWriter, "tensorboardX"
    if importlib.util.find_spec("torch") and importlib.util.find_spec("tensorboard"):
        from torch.utils.tensorboard import SummaryWriter

        return SummaryWriter, "torch.utils.tensorboard"
    return None


def _open_tensorboard(repo: Path) -> Any:
    found = tensorboard_writer_class()
    assert found is not None
    writer = found[0](logdir=str(repo / "tb"))
    writer.bench_step = 0
    return writer


def _log_tensorboard(writer: Any, step: Step) -> None:
    n = writer.bench_step
    writer.add_image_with_boxes(
        "img", step.image, step.pixel_boxes, n, dataformats="HWC", labels=step.box_labels
    )
    writer.add_image("mask", step.mask, n, dataformats="HW")
    writer.add_scalar("loss", step.loss, n)
    writer.bench_step = n + 1


def _close_tensorboard(writer: Any) -> None:
    writer.close()


def _importer(module: str) -> Callable[[], object]:
    return lambda: importlib.import_module(module)


TOOLS: dict[str, Tool] = {
    "dvclive": Tool(_importer("dvclive"), _open_dvclive, _log_plain, _end_live, _live_run_dir),
    "dvcstage": Tool(_importer("dvcstage"), _open_dvcstage, _log_plain, _end_live, _live_run_dir),
    "dvcstage-overlays": Tool(
        _importer("dvcstage"), _open_dvcstage, _log_overlays, _end_live, _live_run_dir
    ),
    "wandb": Tool(
        _importer("wandb"), _open_wandb, _log_wandb, _finish_wandb, lambda repo: repo / "wandb"
    ),
    "tensorboard": Tool(
        tensorboard_writer_class,
        _open_tensorboard,
        _log_tensorboard,
        _close_tensorboard,
        lambda repo: repo / "tb",
    ),
}


def missing_reason(tool: str) -> str | None:
    """Why ``tool`` cannot run in this environment, or None when it can."""
    if tool == "wandb" and importlib.util.find_spec("wandb") is None:
        return "wandb is not installed: skipped"
    if tool == "tensorboard" and tensorboard_writer_class() is None:
        return "TensorBoard (tensorboardX, or torch + tensorboard) is not installed: skipped"
    return None


# -- one measured run (worker side) -----------------------------------------------------------


def _run_quiet(command: list[str], cwd: Path) -> None:
    subprocess.run(command, cwd=cwd, check=True, capture_output=True, text=True)


def init_repo(repo: Path) -> None:
    """Make ``repo`` a git + DVC repository with one commit, as in real use."""
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.invalid"]
    _run_quiet(["git", "init", "-q"], repo)
    _run_quiet([sys.executable, "-m", "dvc", "init", "-q"], repo)
    _run_quiet([*git, "add", "-A"], repo)
    _run_quiet([*git, "commit", "-q", "--allow-empty", "-m", "init"], repo)


def disk_usage(run_dir: Path) -> dict[str, int]:
    """Apparent bytes, allocated bytes (st_blocks), files and PNG files under ``run_dir``."""
    usage = {"bytes": 0, "allocated_bytes": 0, "files": 0, "pngs": 0}
    for path in run_dir.rglob("*"):
        if path.is_file() and not path.is_symlink():
            info = path.stat()
            usage["bytes"] += info.st_size
            usage["allocated_bytes"] += info.st_blocks * 512
            usage["files"] += 1
            usage["pngs"] += path.suffix == ".png"
    return usage


def file_size(path: Path) -> int:
    """Size of ``path`` in bytes, 0 when it does not exist."""
    return path.stat().st_size if path.is_file() else 0


@contextmanager
def fresh_repo(tool: str, keep: bool) -> Iterator[Path]:
    """A new temporary git + DVC repository, made the working directory while in use."""
    repo = Path(tempfile.mkdtemp(prefix=f"bench-{tool}-"))
    previous = Path.cwd()
    try:
        init_repo(repo)
        os.chdir(repo)
        yield repo
    finally:
        os.chdir(previous)
        if not keep:
            shutil.rmtree(repo, ignore_errors=True)


def timed_loop(tool: Tool, logger: Any, workload: list[Step], train_s: float) -> list[float]:
    """Seconds spent in the logging calls of each step (``train_s`` sleeps are not counted)."""
    per_step = []
    for step in workload:
        start = time.perf_counter()
        tool.log(logger, step)
        per_step.append(time.perf_counter() - start)
        if train_s:
            time.sleep(train_s)
    return per_step


def measure(name: str, steps: int, train_ms: float, keep: bool) -> dict[str, Any]:
    """Run ``name`` on the workload in a fresh repository and return its measurements."""
    tool = TOOLS[name]
    workload = build_workload(steps, overlays=name in OVERLAY_TOOLS)
    tool.prepare()  # imports are not part of the wall time
    with fresh_repo(name, keep) as repo:
        wall_start = time.perf_counter()
        logger = tool.open(repo)
        per_step = timed_loop(tool, logger, workload, train_ms / 1000)
        end_start = time.perf_counter()
        tool.finish(logger)
        wall_end = time.perf_counter()
        usage = disk_usage(tool.run_dir(repo))
        dvcyaml_bytes = file_size(repo / "dvc.yaml")
    ms = [s * 1000 for s in per_step]
    return {
        "tool": name,
        "steps": steps,
        "median_ms": statistics.median(ms),
        "mean_ms": statistics.fmean(ms),
        "p90_ms": float(np.percentile(ms, 90)),
        "p99_ms": float(np.percentile(ms, 99)),
        "max_ms": max(ms),
        "loop_s": end_start - wall_start,
        "end_s": wall_end - end_start,
        "wall_s": wall_end - wall_start,
        **usage,
        "dvcyaml_bytes": dvcyaml_bytes,
        "repo": str(repo) if keep else None,
    }


def worker_main(name: str, steps: int, train_ms: float, keep: bool, result: Path) -> None:
    """Entry point of a ``--worker`` subprocess: measure one tool, write JSON to ``result``."""
    data = measure(name, steps, train_ms, keep)
    result.write_text(json.dumps(data, indent=2) + "\n")


# -- orchestration (parent side) --------------------------------------------------------------


def worker_env() -> dict[str, str]:
    """The environment of every worker: no analytics, W&B offline and quiet."""
    env = dict(os.environ)
    env.update(
        DVC_NO_ANALYTICS="1",
        WANDB_MODE="offline",
        WANDB_SILENT="true",
        GIT_AUTHOR_NAME="bench",
        GIT_AUTHOR_EMAIL="bench@example.invalid",
        GIT_COMMITTER_NAME="bench",
        GIT_COMMITTER_EMAIL="bench@example.invalid",
    )
    return env


def run_worker(name: str, args: argparse.Namespace) -> dict[str, Any]:
    """Run one tool in a fresh subprocess and return what it measured."""
    with tempfile.TemporaryDirectory(prefix="bench-result-") as tmp:
        result = Path(tmp) / "result.json"
        command = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--worker",
            name,
            "--steps",
            str(args.steps),
            "--train-ms",
            str(args.train_ms),
            "--result",
            str(result),
        ]
        if args.keep:
            command.append("--keep")
        done = subprocess.run(
            command, env=worker_env(), capture_output=True, text=True, timeout=WORKER_TIMEOUT_S
        )
        if done.returncode != 0 or not result.is_file():
            raise RuntimeError(f"worker {name} failed ({done.returncode}):\n{done.stderr[-4000:]}")
        return dict(json.loads(result.read_text()))


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians across repeats of each measured quantity."""
    keys = (
        "median_ms", "mean_ms", "p90_ms", "p99_ms", "max_ms", "loop_s", "end_s", "wall_s", "bytes"
    )  # fmt: skip
    summary: dict[str, Any] = {k: statistics.median(r[k] for r in runs) for k in keys}
    for key in ("allocated_bytes", "dvcyaml_bytes"):
        summary[key] = statistics.median(r[key] for r in runs)
    summary["files"] = runs[-1]["files"]
    summary["pngs"] = runs[-1]["pngs"]
    summary["repeats"] = len(runs)
    return summary


def ratios(tool: dict[str, Any], base: dict[str, Any]) -> dict[str, float]:
    """``tool`` / ``base`` for main-thread median ms, wall time and bytes."""
    return {
        "median_ms": tool["median_ms"] / base["median_ms"],
        "mean_ms": tool["mean_ms"] / base["mean_ms"],
        "wall_s": tool["wall_s"] / base["wall_s"],
        "bytes": tool["bytes"] / base["bytes"],
    }


TABLE_HEADER = (
    "| tool | main-thread ms/step: mean | median | p90 | p99 | wall to end() s | bytes on disk "
    "| ratio vs DVCLive (mean ms / wall / bytes) |\n"
    "|---|---:|---:|---:|---:|---:|---:|---|"
)


def table_row(name: str, summary: dict[str, Any], base: dict[str, Any] | None) -> str:
    """One Markdown row; the ratio cell compares with DVCLive's plain run."""
    if base is None:
        cell = "n/a"
    elif name == "dvclive":
        cell = "1 (baseline)"
    else:
        r = ratios(summary, base)
        cell = f"{r['mean_ms']:.3f} / {r['wall_s']:.3f} / {r['bytes']:.3f}"
    return (
        f"| {TOOL_TITLES[name]} | {summary['mean_ms']:.3f} | {summary['median_ms']:.3f} "
        f"| {summary['p90_ms']:.2f} | {summary['p99_ms']:.2f} "
        f"| {summary['wall_s']:.2f} | {int(summary['bytes']):,} | {cell} |"
    )


def markdown_table(names: list[str], summaries: dict[str, Any]) -> str:
    """A Markdown table of ``names`` (those that ran)."""
    base = summaries.get("dvclive")
    rows = [table_row(n, summaries[n], base) for n in names if n in summaries]
    return "\n".join([TABLE_HEADER, *rows])


def goal_lines(summaries: dict[str, Any]) -> list[str]:
    """dvcstage/DVCLive ratios against the issue's goals (reported, never asserted)."""
    if "dvclive" not in summaries or "dvcstage" not in summaries:
        return []
    r = ratios(summaries["dvcstage"], summaries["dvclive"])

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    speedup = 1 / r["mean_ms"] if r["mean_ms"] else float("inf")
    return [
        f"dvcstage/DVCLive main-thread ms/step: mean {r['mean_ms']:.4f} "
        f"({speedup:.1f}x less time lost per step), median {r['median_ms']:.4f}; "
        f"goal: mean >= 20x below: {verdict(speedup >= 20)}",
        f"dvcstage/DVCLive wall time to end(): {r['wall_s']:.3f}; goal <= 1: "
        f"{verdict(r['wall_s'] <= 1)}",
        f"dvcstage/DVCLive bytes on disk: {r['bytes']:.4f}; goal <= 1: {verdict(r['bytes'] <= 1)}",
    ]


def detail_lines(summaries: dict[str, Any]) -> list[str]:
    """Per-tool details that do not fit the table."""
    return [
        f"- {TOOL_TITLES[n]}: max {s['max_ms']:.1f} ms, "
        f"loop {s['loop_s']:.2f} s + end() {s['end_s']:.2f} s, "
        f"{s['files']} files ({s['pngs']} PNG), allocated {int(s['allocated_bytes']):,} B"
        + (f", dvc.yaml {int(s['dvcyaml_bytes']):,} B" if s["dvcyaml_bytes"] else "")
        for n, s in summaries.items()
    ]


def environment() -> dict[str, Any]:
    """Versions and machine facts, for the JSON output."""
    versions = {}
    for package in ("dvcstage", "dvclive", "dvc", "numpy", "pillow", "wandb", "tensorboardX"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "versions": versions,
    }


def run_all(names: list[str], args: argparse.Namespace) -> dict[str, list[dict[str, Any]]]:
    """Run every tool ``args.repeat`` times, interleaved so drift hits all tools alike."""
    runs: dict[str, list[dict[str, Any]]] = {n: [] for n in names}
    for repeat in range(args.repeat):
        for name in names:
            print(f"[{repeat + 1}/{args.repeat}] {name} ...", file=sys.stderr, flush=True)
            result = run_worker(name, args)
            print(
                f"    median {result['median_ms']:.2f} ms/step, wall {result['wall_s']:.2f} s",
                file=sys.stderr,
                flush=True,
            )
            if result["repo"]:
                print(f"    kept {result['repo']}", file=sys.stderr, flush=True)
            runs[name].append(result)
    return runs


def report(args: argparse.Namespace, names: list[str], skipped: list[str]) -> dict[str, Any]:
    """Run the benchmark and print its tables; return everything for ``--json``."""
    runs = run_all(names, args)
    summaries = {n: summarize(r) for n, r in runs.items()}
    print(f"# Logging benchmark: {args.steps} steps, {args.repeat} repeat(s), medians of repeats")
    print(f"\n{EXP_NOTE} {WALL_NOTE}")
    if args.train_ms:
        print(
            f"A {args.train_ms} ms sleep after each step simulates training: not counted in "
            "ms/step, included in the wall time."
        )
    if any(n in summaries for n in PLAIN_TOOLS):
        print("\n## 1. One 256x256 RGB image + one metric per step\n")
        print(markdown_table(list(PLAIN_TOOLS), summaries))
        print("\n" + "\n".join(goal_lines(summaries)))
    if any(n in summaries for n in OVERLAY_TOOLS):
        print("\n## 2. With overlays: W&B boxes (5 in 2 groups) + annotations + one mask\n")
        print("DVCLive cannot log boxes or masks: ratios compare with its plain run (table 1).\n")
        print(markdown_table(list(OVERLAY_TOOLS), summaries))
    for note in skipped:
        print(f"\nNote: {note}")
    print("\n## Details\n")
    print("\n".join(detail_lines(summaries)))
    return {
        "config": {"steps": args.steps, "repeat": args.repeat, "train_ms": args.train_ms},
        "environment": environment(),
        "skipped": skipped,
        "runs": runs,
        "summary": summaries,
    }


# -- command line -----------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--steps", type=int, default=500, help="steps per run (default 500)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per tool; medians reported")
    parser.add_argument("--json", type=Path, help="also write all results to this JSON file")
    parser.add_argument(
        "--train-ms",
        type=float,
        default=0.0,
        help="sleep this long after each step to mimic training (not counted; default 0)",
    )
    parser.add_argument(
        "--only", nargs="+", choices=sorted(TOOLS), help="run only these tools (for debugging)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary repositories")
    parser.add_argument("--worker", choices=sorted(TOOLS), help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.steps < 1 or args.repeat < 1:
        parser.error("--steps and --repeat must be at least 1")
    return args


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark (or, with ``--worker``, one measured run)."""
    args = parse_args(argv)
    if args.worker:
        worker_main(args.worker, args.steps, args.train_ms, args.keep, args.result)
        return
    wanted = args.only or [*PLAIN_TOOLS, *OVERLAY_TOOLS]
    skipped = [reason for n in wanted if (reason := missing_reason(n))]
    names = [n for n in wanted if missing_reason(n) is None]
    results = report(args, names, skipped)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
        print(f"\nResults written to {args.json}")


if __name__ == "__main__":
    main()
