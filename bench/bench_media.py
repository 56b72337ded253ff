"""Benchmark: dvcstage's Histogram, Audio and Video vs W&B and TensorBoard (when installed).

Three workloads, each ``--steps`` steps (default 200), data generated before timing:

* histogram: 100,000 float32 values per step (different every step), logged as
  ``live.log({"weights": dvcstage.Histogram(x)})`` + ``next_step()``, ``wandb.log({"weights":
  wandb.Histogram(x)})`` and ``SummaryWriter.add_histogram``. DVCLive has no histogram: it
  runs as a metric-only baseline (one ``log_metric`` + ``next_step()``), next to the same
  metric-only run of dvcstage;
* audio: one 1 s, 16 kHz mono float32 clip per step (``dvcstage.Audio``, ``wandb.Audio``,
  ``add_audio``);
* video: one (16, 3, 64, 64) uint8 clip per step at 4 fps as a GIF (``dvcstage.Video``,
  ``wandb.Video``, ``add_video``).

Every tool runs in its own subprocess (this script re-invoked with ``--worker TOOL``) in a
fresh temporary git + DVC repository (the helpers of ``bench_logging.py``), with
``DVC_NO_ANALYTICS=1`` and ``WANDB_MODE=offline``; both ``Live`` classes get
``save_dvc_exp=False``. Measured per tool: main-thread ms/step (time inside the constructor
of the media object, the logging call and ``next_step()``; median and mean), wall time from
creating the logger until ``end()`` / ``finish()`` / ``close()`` returns, and bytes on disk in
the run directory. This is a benchmark, not a test: it asserts nothing about the numbers::

    .venv/bin/python bench/bench_media.py --steps 200 --repeat 1 --json bench/media.json
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_logging import (  # the bench folder is not a package: found through sys.path
    disk_usage,
    file_size,
    fresh_repo,
    tensorboard_writer_class,
    worker_env,
)

SEED = 20240602
HISTOGRAM_VALUES = 100_000
SAMPLE_RATE = 16_000
CLIP_SECONDS = 1.0
VIDEO_SHAPE = (16, 3, 64, 64)  # time, channels, height, width
FPS = 4
WORKER_TIMEOUT_S = 900

KINDS = ("histogram", "audio", "video")
KIND_TITLES = {
    "histogram": "Histogram: 100,000 float32 values per step (64 bins)",
    "audio": "Audio: one 1 s 16 kHz mono float32 clip per step",
    "video": "Video: one (16, 3, 64, 64) uint8 clip per step, 4 fps, GIF",
}
IMPL_TITLES = {
    "dvcstage": "dvcstage",
    "dvcstage-metric": "dvcstage, metric only (baseline)",
    "dvclive-metric": "DVCLive 3.x, metric only (no histogram)",
    "wandb": "wandb offline",
    "tensorboard": "TensorBoard",
}
KIND_IMPLS = {
    "histogram": ("dvcstage", "dvcstage-metric", "dvclive-metric", "wandb", "tensorboard"),
    "audio": ("dvcstage", "wandb", "tensorboard"),
    "video": ("dvcstage", "wandb", "tensorboard"),
}
ALL_TOOLS = [f"{kind}/{impl}" for kind in KINDS for impl in KIND_IMPLS[kind]]
MEDIA_SUFFIXES = (".tsv", ".wav", ".gif", ".json")
STATIC_NOTES = (
    "DVCLive 3.x has no histogram, audio or video logging: in the histogram table it logs "
    "one metric per step (the standard deviation of the values, computed before timing) as "
    "a metric-only baseline, beside dvcstage doing the same; it is left out of the audio "
    "and video tables.",
    "Both Live classes use save_dvc_exp=False: DVC experiment saving (slow and identical "
    "for both) is not part of the measurement.",
    "Wall time runs from creating the logger (imports excluded) until end() / finish() / "
    "close() returns, so it includes dvcstage's off-thread encoding and final flush. "
    "All numbers are medians across repeats, each taken separately.",
)


# -- workloads --------------------------------------------------------------------------------


def histogram_values(step: int, steps: int) -> np.ndarray:
    """100,000 "weights": a normal that drifts and narrows over training, plus 50 outliers."""
    rng = np.random.default_rng([SEED, 0, step])
    progress = step / max(1, steps - 1)
    values = rng.normal(0.3 * progress, 1.0 - 0.6 * progress, size=HISTOGRAM_VALUES)
    values[:50] = rng.normal(0.0, 3.0, size=50)  # a few outliers move the outer bins
    return values.astype(np.float32)


def audio_clip(step: int) -> np.ndarray:
    """A 1 s mono clip in [-1, 1]: a chirp whose pitch depends on the step, plus noise."""
    rng = np.random.default_rng([SEED, 1, step])
    t = np.arange(int(SAMPLE_RATE * CLIP_SECONDS)) / SAMPLE_RATE
    base = 200.0 + 10.0 * (step % 80)
    tone = 0.6 * np.sin(2 * np.pi * (base * t + 150.0 * t**2))
    noise = rng.normal(0.0, 0.05, size=t.shape)
    return np.clip(tone + noise, -1.0, 1.0).astype(np.float32)


def video_clip(step: int) -> np.ndarray:
    """(16, 3, 64, 64) uint8 frames: a moving gradient and a moving square, light noise."""
    rng = np.random.default_rng([SEED, 2, step])
    time_steps, _, height, width = VIDEO_SHAPE
    rows, cols = np.mgrid[:height, :width].astype(np.float32)
    frames = np.empty(VIDEO_SHAPE, dtype=np.float32)
    color = rng.uniform(0, 255, size=3).astype(np.float32)
    for frame in range(time_steps):
        phase = (step + frame) / time_steps
        frames[frame, 0] = 127.5 + 127.5 * np.sin(2 * np.pi * (cols / width + phase))
        frames[frame, 1] = 255.0 * rows / height
        frames[frame, 2] = 127.5 + 127.5 * np.cos(2 * np.pi * (rows + cols) / (2 * width) + phase)
        top, left = (3 * frame + step) % (height - 16), (5 * frame + 2 * step) % (width - 16)
        frames[frame, :, top : top + 16, left : left + 16] = color[:, None, None]
    frames += rng.normal(0.0, 4.0, size=frames.shape).astype(np.float32)
    return np.clip(frames, 0, 255).astype(np.uint8)


def build_workload(kind: str, impl: str, steps: int) -> list[Any]:
    """The payload of each step: the same for every tool of ``kind``."""
    if kind == "histogram":
        values = [histogram_values(step, steps) for step in range(steps)]
        if impl.endswith("-metric"):
            return [float(v.std()) for v in values]
        return values
    if kind == "audio":
        return [audio_clip(step) for step in range(steps)]
    return [video_clip(step) for step in range(steps)]


# -- tools ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tool:
    """How to import, open a logger, log one step, finish it, and where its files are."""

    prepare: Callable[[], object]
    open: Callable[[Path], Any]
    log: Callable[[Any, Any, int], None]
    finish: Callable[[Any], None]
    run_dir: Callable[[Path], Path]


def _prepare_dvcstage() -> object:
    import dvcstage

    return dvcstage


def _prepare_dvclive() -> object:
    import dvclive

    return dvclive


def _prepare_wandb() -> object:
    import wandb

    return wandb


def _prepare_tensorboard() -> object:
    found = tensorboard_writer_class()
    if found is None:
        raise RuntimeError("TensorBoard is not importable")
    return found


def _open_dvcstage(repo: Path) -> Any:
    from dvcstage import Live

    return Live(str(repo / "dvclive"), save_dvc_exp=False)


def _open_dvclive(repo: Path) -> Any:
    from dvclive.live import Live

    return Live(str(repo / "dvclive"), save_dvc_exp=False)


def _open_wandb(repo: Path) -> Any:
    import wandb

    return wandb.init(dir=str(repo), project="bench-media", mode="offline")


def _open_tensorboard(repo: Path) -> Any:
    found = tensorboard_writer_class()
    assert found is not None
    return found[0](logdir=str(repo / "tb"))


def _log_dvcstage_histogram(live: Any, values: np.ndarray, _: int) -> None:
    import dvcstage

    live.log({"weights": dvcstage.Histogram(values)})
    live.next_step()


def _log_dvcstage_audio(live: Any, clip: np.ndarray, _: int) -> None:
    import dvcstage

    live.log({"clip": dvcstage.Audio(clip, sample_rate=SAMPLE_RATE)})
    live.next_step()


def _log_dvcstage_video(live: Any, frames: np.ndarray, _: int) -> None:
    import dvcstage

    live.log({"video": dvcstage.Video(frames, fps=FPS, format="gif")})
    live.next_step()


def _log_live_metric(live: Any, value: float, _: int) -> None:
    live.log_metric("weights_std", value)
    live.next_step()


def _log_wandb_histogram(run: Any, values: np.ndarray, _: int) -> None:
    import wandb

    run.log({"weights": wandb.Histogram(values)})


def _log_wandb_audio(run: Any, clip: np.ndarray, _: int) -> None:
    import wandb

    run.log({"clip": wandb.Audio(clip, sample_rate=SAMPLE_RATE)})


def _log_wandb_video(run: Any, frames: np.ndarray, _: int) -> None:
    import wandb

    run.log({"video": wandb.Video(frames, fps=FPS, format="gif")})


def _log_tb_histogram(writer: Any, values: np.ndarray, step: int) -> None:
    writer.add_histogram("weights", values, step)


def _log_tb_audio(writer: Any, clip: np.ndarray, step: int) -> None:
    writer.add_audio("clip", clip, step, sample_rate=SAMPLE_RATE)


def _log_tb_video(writer: Any, frames: np.ndarray, step: int) -> None:
    writer.add_video("video", frames[np.newaxis], step, fps=FPS)  # (N, T, C, H, W)


def _end(logger: Any) -> None:
    logger.end()


def _finish(run: Any) -> None:
    run.finish()


def _close(writer: Any) -> None:
    writer.close()


def _live_dir(repo: Path) -> Path:
    return repo / "dvclive"


def _wandb_dir(repo: Path) -> Path:
    return repo / "wandb"


def _tb_dir(repo: Path) -> Path:
    return repo / "tb"


def _tools() -> dict[str, Tool]:
    """Every ``kind/impl`` tool this benchmark can run."""
    dvcstage_log = {
        "histogram": _log_dvcstage_histogram,
        "audio": _log_dvcstage_audio,
        "video": _log_dvcstage_video,
    }
    wandb_log = {
        "histogram": _log_wandb_histogram,
        "audio": _log_wandb_audio,
        "video": _log_wandb_video,
    }
    tb_log = {"histogram": _log_tb_histogram, "audio": _log_tb_audio, "video": _log_tb_video}
    tools: dict[str, Tool] = {}
    for kind in KINDS:
        tools[f"{kind}/dvcstage"] = Tool(
            _prepare_dvcstage, _open_dvcstage, dvcstage_log[kind], _end, _live_dir
        )
        tools[f"{kind}/wandb"] = Tool(
            _prepare_wandb, _open_wandb, wandb_log[kind], _finish, _wandb_dir
        )
        tools[f"{kind}/tensorboard"] = Tool(
            _prepare_tensorboard, _open_tensorboard, tb_log[kind], _close, _tb_dir
        )
    tools["histogram/dvcstage-metric"] = Tool(
        _prepare_dvcstage, _open_dvcstage, _log_live_metric, _end, _live_dir
    )
    tools["histogram/dvclive-metric"] = Tool(
        _prepare_dvclive, _open_dvclive, _log_live_metric, _end, _live_dir
    )
    return tools


TOOLS = _tools()


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def missing_reason(tool: str) -> str | None:
    """Why ``tool`` cannot run in this environment (found before running it), or None."""
    kind, impl = tool.split("/")
    if impl == "dvclive-metric" and not _installed("dvclive"):
        return f"{tool}: dvclive is not installed: skipped"
    if impl == "wandb":
        if not _installed("wandb"):
            return f"{tool}: wandb is not installed: skipped"
        if kind == "audio" and not _installed("soundfile"):
            return f"{tool}: wandb.Audio needs soundfile, which is not installed: skipped"
        if kind == "video" and not (_installed("moviepy") and _installed("imageio")):
            return f"{tool}: wandb.Video needs moviepy and imageio, not installed: skipped"
    if impl == "tensorboard":
        if tensorboard_writer_class() is None:
            return (
                f"{tool}: TensorBoard (tensorboardX, or torch + tensorboard) is not "
                "installed: skipped"
            )
        if kind == "video" and not _installed("moviepy"):
            # add_video prints a warning and writes nothing without moviepy.
            return f"{tool}: add_video needs moviepy, which is not installed: skipped"
    return None


# -- one measured run (worker side) -----------------------------------------------------------


def count_suffixes(run_dir: Path) -> dict[str, int]:
    """How many files of each of :data:`MEDIA_SUFFIXES` lie under ``run_dir``."""
    counts = dict.fromkeys(MEDIA_SUFFIXES, 0)
    for path in run_dir.rglob("*"):
        if path.suffix in counts and path.is_file():
            counts[path.suffix] += 1
    return counts


def measure(name: str, steps: int, keep: bool) -> dict[str, Any]:
    """Run tool ``name`` (``kind/impl``) in a fresh repository and return its measurements."""
    kind, impl = name.split("/")
    tool = TOOLS[name]
    workload = build_workload(kind, impl, steps)
    tool.prepare()  # imports are not part of the wall time
    with fresh_repo(name.replace("/", "-"), keep) as repo:
        wall_start = time.perf_counter()
        logger = tool.open(repo)
        per_step = []
        for index, payload in enumerate(workload):
            start = time.perf_counter()
            tool.log(logger, payload, index)
            per_step.append(time.perf_counter() - start)
        end_start = time.perf_counter()
        tool.finish(logger)
        wall_end = time.perf_counter()
        run_dir = tool.run_dir(repo)
        usage = disk_usage(run_dir)
        suffixes = count_suffixes(run_dir)
        dvcyaml_bytes = file_size(repo / "dvc.yaml")
    ms = [s * 1000 for s in per_step]
    return {
        "tool": name,
        "steps": steps,
        "median_ms": statistics.median(ms),
        "mean_ms": statistics.fmean(ms),
        "p90_ms": float(np.percentile(ms, 90)),
        "max_ms": max(ms),
        "loop_s": end_start - wall_start,
        "end_s": wall_end - end_start,
        "wall_s": wall_end - wall_start,
        **usage,
        "suffixes": suffixes,
        "dvcyaml_bytes": dvcyaml_bytes,
        "repo": str(repo) if keep else None,
    }


# -- orchestration (parent side) --------------------------------------------------------------


def run_worker(name: str, args: argparse.Namespace) -> dict[str, Any]:
    """Run one tool in a fresh subprocess; raise RuntimeError with its stderr if it fails."""
    with tempfile.TemporaryDirectory(prefix="bench-media-result-") as tmp:
        result = Path(tmp) / "result.json"
        command = [
            sys.executable,
            str(Path(__file__).resolve()),
            *("--worker", name, "--steps", str(args.steps), "--result", str(result)),
        ]
        if args.keep:
            command.append("--keep")
        done = subprocess.run(
            command, env=worker_env(), capture_output=True, text=True, timeout=WORKER_TIMEOUT_S
        )
        if done.returncode != 0 or not result.is_file():
            raise RuntimeError(f"worker {name} failed ({done.returncode}):\n{done.stderr[-4000:]}")
        return dict(json.loads(result.read_text()))


def last_error_line(error: Exception) -> str:
    """The last non-empty line of a failed worker's message (usually the exception)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[-1] if lines else repr(error)


def run_all(
    names: list[str], args: argparse.Namespace
) -> tuple[dict[str, list[dict[str, Any]]], list[str]]:
    """Run every tool ``args.repeat`` times, interleaved; a tool that fails once is dropped."""
    runs: dict[str, list[dict[str, Any]]] = {n: [] for n in names}
    failed: list[str] = []
    for repeat in range(args.repeat):
        for name in names:
            if name in failed:
                continue
            print(f"[{repeat + 1}/{args.repeat}] {name} ...", file=sys.stderr, flush=True)
            try:
                result = run_worker(name, args)
            except (RuntimeError, subprocess.TimeoutExpired) as exc:
                print(f"    FAILED: {exc}", file=sys.stderr, flush=True)
                failed.append(name)
                runs[name] = [{"failed": last_error_line(exc)}]
                continue
            print(
                f"    median {result['median_ms']:.2f} ms/step, wall {result['wall_s']:.2f} s",
                file=sys.stderr,
                flush=True,
            )
            if result["repo"]:
                print(f"    kept {result['repo']}", file=sys.stderr, flush=True)
            runs[name].append(result)
    return runs, failed


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians across repeats of each measured quantity."""
    keys = (
        "median_ms",
        "mean_ms",
        "p90_ms",
        "max_ms",
        "loop_s",
        "end_s",
        "wall_s",
        "bytes",
        "allocated_bytes",
        "dvcyaml_bytes",
    )
    summary: dict[str, Any] = {k: statistics.median(r[k] for r in runs) for k in keys}
    summary["files"] = runs[-1]["files"]
    summary["suffixes"] = runs[-1]["suffixes"]
    summary["repeats"] = len(runs)
    return summary


def _ratio(value: float, base: float) -> str:
    if base == 0:
        return "inf" if value else "1"
    ratio = value / base
    return f"{ratio:.3g}" if ratio < 100 else f"{ratio:,.0f}"


TABLE_HEADER = (
    "| tool | main-thread ms/step (median) | mean | wall to end() s | bytes on disk "
    "| ratio vs dvcstage (ms median / mean / wall / bytes) |\n"
    "|---|---:|---:|---:|---:|---|"
)


def table_row(name: str, summary: dict[str, Any], base: dict[str, Any] | None) -> str:
    """One Markdown row; the ratio cell is this tool / dvcstage on the same kind."""
    impl = name.split("/")[1]
    if base is None:
        cell = "n/a"
    elif impl == "dvcstage":
        cell = "1 (baseline)"
    else:
        cell = " / ".join(
            _ratio(summary[k], base[k]) for k in ("median_ms", "mean_ms", "wall_s", "bytes")
        )
    return (
        f"| {IMPL_TITLES[impl]} | {summary['median_ms']:.3f} | {summary['mean_ms']:.3f} "
        f"| {summary['wall_s']:.2f} | {int(summary['bytes']):,} | {cell} |"
    )


def markdown_table(kind: str, summaries: dict[str, Any]) -> str:
    """The Markdown table of ``kind`` (rows of the tools that ran)."""
    base = summaries.get(f"{kind}/dvcstage")
    names = [f"{kind}/{impl}" for impl in KIND_IMPLS[kind]]
    rows = [table_row(n, summaries[n], base) for n in names if n in summaries]
    return "\n".join([TABLE_HEADER, *rows])


def detail_lines(summaries: dict[str, Any]) -> list[str]:
    """Per-tool details that do not fit the tables."""
    lines = []
    for name, s in summaries.items():
        files = ", ".join(f"{n} {suffix}" for suffix, n in s["suffixes"].items() if n)
        lines.append(
            f"- {name}: p90 {s['p90_ms']:.2f} ms, max {s['max_ms']:.1f} ms, "
            f"loop {s['loop_s']:.2f} s + end {s['end_s']:.2f} s, {s['files']} files"
            + (f" ({files})" if files else "")
            + f", allocated {int(s['allocated_bytes']):,} B"
            + (f", dvc.yaml {int(s['dvcyaml_bytes']):,} B" if s["dvcyaml_bytes"] else "")
        )
    return lines


def environment() -> dict[str, Any]:
    """Versions and machine facts, for the JSON output and the report's last line."""
    versions: dict[str, str | None] = {}
    packages = (
        "dvcstage",
        "dvclive",
        "dvc",
        "numpy",
        "pillow",
        "wandb",
        "tensorboardX",
        "torch",
        "moviepy",
        "imageio",
        "soundfile",
    )
    for package in packages:
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


def report(args: argparse.Namespace, names: list[str], skipped: list[str]) -> dict[str, Any]:
    """Run the benchmark and print its tables; return everything for ``--json``."""
    runs, failed = run_all(names, args)
    summaries = {n: summarize(r) for n, r in runs.items() if n not in failed and r}
    failures = [f"{n}: the worker failed ({runs[n][0]['failed']}): skipped" for n in failed]
    notes = [*skipped, *failures]
    print(f"# Media benchmark: {args.steps} steps, {args.repeat} repeat(s), medians of repeats")
    print("\n" + " ".join(STATIC_NOTES))
    for number, kind in enumerate(KINDS, start=1):
        if any(name.startswith(f"{kind}/") for name in summaries):
            print(f"\n## {number}. {KIND_TITLES[kind]}\n")
            print(markdown_table(kind, summaries))
    for note in notes:
        print(f"\nNote: {note}")
    print("\n## Details\n")
    print("\n".join(detail_lines(summaries)))
    env = environment()
    installed = ", ".join(f"{p} {v}" for p, v in env["versions"].items() if v)
    print(f"\nPython {env['python']}, {env['cpus']} CPUs; {installed}")
    return {
        "config": {"steps": args.steps, "repeat": args.repeat},
        "environment": env,
        "skipped": notes,
        "runs": runs,
        "summary": summaries,
    }


# -- command line -----------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--steps", type=int, default=200, help="steps per run (default 200)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per tool; medians reported")
    parser.add_argument("--json", type=Path, help="also write all results to this JSON file")
    parser.add_argument(
        "--kinds", nargs="+", choices=KINDS, default=list(KINDS), help="workloads to run"
    )
    parser.add_argument(
        "--only", nargs="+", choices=ALL_TOOLS, help="run only these kind/tool pairs"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary repositories")
    parser.add_argument("--worker", choices=ALL_TOOLS, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.steps < 1 or args.repeat < 1:
        parser.error("--steps and --repeat must be at least 1")
    return args


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark (or, with ``--worker``, one measured run)."""
    args = parse_args(argv)
    if args.worker:
        data = measure(args.worker, args.steps, args.keep)
        args.result.write_text(json.dumps(data, indent=2) + "\n")
        return
    wanted = args.only or [t for t in ALL_TOOLS if t.split("/")[0] in args.kinds]
    skipped = [reason for n in wanted if (reason := missing_reason(n))]
    names = [n for n in wanted if missing_reason(n) is None]
    results = report(args, names, skipped)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
        print(f"\nResults written to {args.json}")


if __name__ == "__main__":
    main()
