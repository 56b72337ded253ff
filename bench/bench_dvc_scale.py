"""Benchmark: DVC itself on dvcstage's output, against DVCLive's, at scale.

Two measurements, each in fresh temporary git + DVC repositories:

1. ``dvc plots show`` on a long run. A run of ``--steps`` steps (default 10,000, or fewer,
   see ``DEFAULT_STEPS``) logs, per step, three 32x32 RGB images (``img`` with an
   ``annotations`` box, so a JSON sidecar sits beside it and DVC draws its annotated
   preview; ``val`` and ``inputs`` plain), one histogram (1,000 values, 32 bins) and one
   metric, with ``dvcstage.Live(save_dvc_exp=False)``. ``dvc plots show --json -o DIR``
   (median of ``--repeat`` runs) and one HTML ``dvc plots show -o DIR`` are then timed

   (a) with the ``dvc.yaml`` dvcstage wrote (the ``plots/previews`` folder entry, two
       template entries per histogram series);
   (b) on the same files with the ``dvc.yaml`` DVCLive writes (metrics and the
       ``plots/images`` folder entry, no histogram entries), taken verbatim from run (c);
   (c) on the same run written by plain ``dvclive.Live`` (the same three images + metric:
       DVCLive has no annotations and no histograms), for reference;
   (a') as (a) without its two histogram entries, to tell the images' cost from the
       histograms' (the heatmap inlines every step's bins).

   The plots each output holds are counted, and (b)'s stray vega plots (sidecars under the
   images folder rendered as data) are reported.

2. ``dvc exp run`` overhead. The same small stage (a generated ``train.py`` that logs one
   32x32 RGB image and one metric per step for ``--exp-steps`` steps, default 200; the
   images folder is the stage's ``outs``, as in the demo pipeline) is run with
   ``from dvclive import Live`` and with ``from dvcstage import Live``: identical workload.
   A third row, dvcstage with an ``annotations`` box and a histogram per step, shows what the
   extras cost; it is not the same workload. Each run gets its own fresh repository.

Every logging run happens in a subprocess (this script re-invoked with ``--worker``), and
every DVC command is a subprocess with ``DVC_NO_ANALYTICS=1``, timed from the outside (DVC's
own start-up, about a second here, is included). It is a benchmark, not a test: it reports
numbers and asserts nothing. Run it with::

    .venv/bin/python bench/bench_dvc_scale.py --steps 10000 --repeat 3 --json scale.json
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_logging import (  # the bench folder is not a package: found through sys.path
    disk_usage,
    environment,
    file_size,
    init_repo,
    worker_env,
)

SEED = 20240603
IMAGE_KEYS = ("img", "val", "inputs")
IMAGE_SHAPE = (32, 32, 3)
HISTOGRAM_VALUES = 1_000
HISTOGRAM_BINS = 32
ANNOTATIONS = {
    "boxes": [[4, 6, 20, 26]],
    "labels": ["object"],
    "scores": [0.9],
    "box_format": "tlbr",
}
# A 10,000-step run took 8.2-8.8 minutes in all on the shared 2-core machine this was
# written on (DVCLive alone logs for 3 of them, each `dvc plots show` 5-25 s), so the
# default is smaller; pass --steps 10000 for the full size.
FULL_STEPS = 10_000
DEFAULT_STEPS = 2_000
DEFAULT_EXP_STEPS = 200
LOG_WORKERS = ("dvcstage", "dvclive")
CONFIGS = ("a", "a'", "b", "c")
CONFIG_TITLES = {
    "a": "(a) dvcstage run, dvcstage's dvc.yaml",
    "a'": "(a') as (a), without its 2 histogram entries",
    "b": "(b) dvcstage run, DVCLive's dvc.yaml",
    "c": "(c) DVCLive run (3 images + metric only)",
}
EXP_VARIANTS = ("dvclive", "dvcstage", "dvcstage-extras")
EXP_TITLES = {
    "dvclive": "`from dvclive import Live`",
    "dvcstage": "`from dvcstage import Live`",
    "dvcstage-extras": "dvcstage + annotations box + histogram (not the same workload)",
}
WORKER_TIMEOUT_S = 3600
DVC_TIMEOUT_S = 1800


# -- part 1: the long run (worker side) ---------------------------------------------------


def build_images(steps: int) -> np.ndarray:
    """``steps`` random 32x32 RGB images (uint8), the same for every tool."""
    rng = np.random.default_rng([SEED, 1])
    return rng.integers(0, 256, size=(steps, *IMAGE_SHAPE), dtype=np.uint8)


def build_values(steps: int) -> np.ndarray:
    """The histogram's ``HISTOGRAM_VALUES`` float32 values of every step (a drifting normal)."""
    rng = np.random.default_rng([SEED, 2])
    drift = np.linspace(0.0, 2.0, steps, dtype=np.float32)[:, None]
    return rng.normal(size=(steps, HISTOGRAM_VALUES)).astype(np.float32) + drift


def loss_of(step: int) -> float:
    """The metric logged at ``step``."""
    return 1.0 / (1 + step)


def log_run(tool: str, repo: Path, steps: int) -> dict[str, Any]:
    """Log the long run with ``tool`` into ``repo`` (made a git + DVC repository here)."""
    repo.mkdir(parents=True)
    init_repo(repo)
    os.chdir(repo)
    images = build_images(steps)
    values = build_values(steps) if tool == "dvcstage" else None
    if tool == "dvcstage":
        from dvcstage import Live
    else:
        from dvclive.live import Live  # type: ignore[assignment]
    start = time.perf_counter()
    live = Live("dvclive", save_dvc_exp=False)
    dvcyaml_texts = set()
    for step in range(steps):
        name = f"img/{live.step}.png"
        if values is not None:
            live.log_image(name, images[step], annotations=ANNOTATIONS)
            live.log_histogram("values", values[step], num_bins=HISTOGRAM_BINS)
        else:
            live.log_image(name, images[step])
        for key in IMAGE_KEYS[1:]:
            live.log_image(f"{key}/{live.step}.png", images[(step + 7) % steps])
        live.log_metric("loss", loss_of(step))
        live.next_step()
        if step in (0, steps // 2, steps - 1):  # does dvc.yaml grow with steps?
            dvcyaml_texts.add((repo / "dvc.yaml").read_text(encoding="utf-8"))
    loop_end = time.perf_counter()
    live.end()
    end = time.perf_counter()
    dvcyaml = repo / "dvc.yaml"
    return {
        "tool": tool,
        "steps": steps,
        "repo": str(repo),
        "loop_s": loop_end - start,
        "end_s": end - loop_end,
        "wall_s": end - start,
        "ms_per_step": (end - start) * 1000 / steps,
        **disk_usage(repo / "dvclive"),
        "dvcyaml_bytes": file_size(dvcyaml),
        "dvcyaml_lines": len(dvcyaml.read_text(encoding="utf-8").splitlines()),
        "dvcyaml_versions_seen": len(dvcyaml_texts),
    }


# -- subprocesses (parent side) -------------------------------------------------------------


def run_log_worker(tool: str, repo: Path, steps: int) -> dict[str, Any]:
    """Log the long run with ``tool`` in a fresh subprocess; return what it measured."""
    with tempfile.TemporaryDirectory(prefix="bench-scale-result-") as tmp:
        result = Path(tmp) / "result.json"
        command = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--worker",
            tool,
            "--steps",
            str(steps),
            "--repo",
            str(repo),
            "--result",
            str(result),
        ]
        done = subprocess.run(
            command, env=worker_env(), capture_output=True, text=True, timeout=WORKER_TIMEOUT_S
        )
        if done.returncode != 0 or not result.is_file():
            raise RuntimeError(f"worker {tool} failed ({done.returncode}):\n{done.stderr[-4000:]}")
        return dict(json.loads(result.read_text()))


def run_dvc(args: list[str], cwd: Path, stdout: Path | None = None, **env: str) -> float:
    """Run ``dvc ARGS`` in ``cwd``; return its wall time (stdout to a file when given)."""
    command = [sys.executable, "-m", "dvc", *args]
    environ = {**worker_env(), **env}
    start = time.perf_counter()
    if stdout is None:
        done = subprocess.run(
            command, cwd=cwd, env=environ, capture_output=True, text=True, timeout=DVC_TIMEOUT_S
        )
        error = done.stderr
    else:
        with stdout.open("w", encoding="utf-8") as sink:
            done = subprocess.run(
                command,
                cwd=cwd,
                env=environ,
                stdout=sink,
                stderr=subprocess.PIPE,
                text=True,
                timeout=DVC_TIMEOUT_S,
            )
        error = done.stderr
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"dvc {' '.join(args)} failed ({done.returncode}) in {cwd}:\n{error}")
    return elapsed


# -- part 1: dvc plots show (parent side) ---------------------------------------------------


def count_json_plots(output: Path, images_dir: str) -> dict[str, Any]:
    """What ``dvc plots show --json`` printed: plots by type, stray vega plots, errors."""
    data = json.loads(output.read_text(encoding="utf-8"))
    plots = data.get("data", {})
    kinds: Counter[str] = Counter()
    stray = 0
    for plot_id, items in plots.items():
        kind = items[0].get("type", "?") if items else "empty"
        kinds[kind] += 1
        if kind == "vega" and plot_id.startswith(images_dir + "/"):
            stray += 1
    errors = data.get("errors") or {}
    return {
        "plots": len(plots),
        "images": kinds.get("image", 0),
        "vega": kinds.get("vega", 0),
        "stray_vega": stray,
        "other_types": {k: v for k, v in kinds.items() if k not in ("image", "vega")},
        "errors": len(errors) if isinstance(errors, (dict, list)) else 1,
        "json_bytes": output.stat().st_size,
    }


def count_html(out_dir: Path) -> dict[str, Any]:
    """What ``dvc plots show -o DIR`` wrote: index.html size, image and vega elements."""
    index = out_dir / "index.html"
    text = index.read_text(encoding="utf-8", errors="replace")
    static = out_dir / "static"
    return {
        "index_bytes": index.stat().st_size,
        "img_tags": text.count("<img"),
        "vega_embeds": text.count("vegaEmbed("),
        "static_files": sum(1 for _ in static.iterdir()) if static.is_dir() else 0,
    }


def without_histogram_entries(dvcyaml: str) -> str:
    """``dvcyaml`` without its top-level plot entries under ``dvclive/plots/histograms/``
    (each a ``- key:`` line and its indented lines), to separate their cost from the
    images'."""
    kept: list[str] = []
    skipping = False
    for line in dvcyaml.splitlines(keepends=True):
        if line.startswith("- "):
            skipping = line[2:].lstrip("\"'").startswith("dvclive/plots/histograms/")
        elif not line.startswith(" "):
            skipping = False
        if not skipping:
            kept.append(line)
    return "".join(kept)


@dataclass(frozen=True)
class Setup:
    """Where each configuration runs and which ``dvc.yaml`` text it needs."""

    repo: Path
    dvcyaml: str


def use(setup: Setup) -> None:
    """Put ``setup``'s ``dvc.yaml`` in place (a and b share one repository)."""
    path = setup.repo / "dvc.yaml"
    if path.read_text(encoding="utf-8") != setup.dvcyaml:
        path.write_text(setup.dvcyaml, encoding="utf-8")


def slug(config: str) -> str:
    """``config`` as a file-name part (``a'`` becomes ``a-prime``)."""
    return config.replace("'", "-prime")


def time_plots_show(
    setups: dict[str, Setup], repeat: int, scratch: Path, images_dir: str
) -> dict[str, Any]:
    """Median ``--json -o`` time of each configuration (interleaved), then one HTML run."""
    runs: dict[str, list[float]] = {c: [] for c in setups}
    counts: dict[str, dict[str, Any]] = {}
    for index in range(repeat):
        for config, setup in setups.items():
            use(setup)
            out_dir = scratch / f"json-{slug(config)}-{index}"
            output = scratch / f"json-{slug(config)}-{index}.json"
            elapsed = run_dvc(["plots", "show", "--json", "-o", str(out_dir)], setup.repo, output)
            runs[config].append(elapsed)
            counts[config] = count_json_plots(output, images_dir)
            print(
                f"    plots show --json ({config}) {index + 1}/{repeat}: {elapsed:.2f} s, "
                f"{counts[config]['plots']} plots",
                file=sys.stderr,
                flush=True,
            )
            output.unlink()
            shutil.rmtree(out_dir, ignore_errors=True)
    html: dict[str, dict[str, Any]] = {}
    for config, setup in setups.items():
        use(setup)
        out_dir = scratch / f"html-{slug(config)}"
        elapsed = run_dvc(["plots", "show", "-o", str(out_dir)], setup.repo)
        html[config] = {"seconds": elapsed, **count_html(out_dir)}
        print(f"    plots show HTML ({config}): {elapsed:.2f} s", file=sys.stderr, flush=True)
        shutil.rmtree(out_dir, ignore_errors=True)
    use(setups["a"])
    return {
        config: {
            "json_runs_s": runs[config],
            "json_median_s": statistics.median(runs[config]),
            "html_s": html[config]["seconds"],
            "html": html[config],
            **counts[config],
        }
        for config in setups
    }


def part_plots(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Log the long run with both tools, then time ``dvc plots show`` on a, b and c."""
    logs: dict[str, dict[str, Any]] = {}
    for tool in LOG_WORKERS:
        print(f"[plots] logging {args.steps} steps with {tool} ...", file=sys.stderr, flush=True)
        logs[tool] = run_log_worker(tool, workdir / f"run-{tool}", args.steps)
        print(
            f"    {logs[tool]['wall_s']:.1f} s ({logs[tool]['ms_per_step']:.2f} ms/step)",
            file=sys.stderr,
            flush=True,
        )
    stage_repo = Path(logs["dvcstage"]["repo"])
    live_repo = Path(logs["dvclive"]["repo"])
    stage_yaml = (stage_repo / "dvc.yaml").read_text(encoding="utf-8")
    live_yaml = (live_repo / "dvc.yaml").read_text(encoding="utf-8")
    setups = {
        "a": Setup(stage_repo, stage_yaml),
        "a'": Setup(stage_repo, without_histogram_entries(stage_yaml)),
        "b": Setup(stage_repo, live_yaml),
        "c": Setup(live_repo, live_yaml),
    }
    scratch = workdir / "plots-out"
    scratch.mkdir()
    print(f"[plots] timing dvc plots show, {args.repeat} repeat(s) ...", file=sys.stderr)
    shows = time_plots_show(setups, args.repeat, scratch, "dvclive/plots/images")
    return {
        "logging": logs,
        "dvcyaml": {"a": stage_yaml.count("\n"), "b": live_yaml.count("\n")},
        "dvclive_dvcyaml": live_yaml,
        "dvcstage_dvcyaml_head": "".join(stage_yaml.splitlines(keepends=True)[:20]),
        "shows": shows,
        "ratio_b_over_a": shows["b"]["json_median_s"] / shows["a"]["json_median_s"],
        "ratio_c_over_a": shows["c"]["json_median_s"] / shows["a"]["json_median_s"],
        "ratio_b_over_a_without_histograms": (
            shows["b"]["json_median_s"] / shows["a'"]["json_median_s"]
        ),
        "html_ratio_b_over_a": shows["b"]["html_s"] / shows["a"]["html_s"],
    }


# -- part 2: dvc exp run (parent side) ------------------------------------------------------

STAGE_SCRIPT = '''\
"""Benchmark stage: each step logs one 32x32 RGB image and one metric{extras_doc}."""

import json
import os
import time

START = time.perf_counter()

import numpy as np  # noqa: E402
from ruamel.yaml import YAML  # noqa: E402

from {module} import Live  # noqa: E402

IMPORTED = time.perf_counter()
with open("params.yaml", encoding="utf-8") as handle:
    params = YAML(typ="safe").load(handle)["bench"]
rng = np.random.default_rng(params["seed"])
with Live() as live:
    for step in range(params["steps"]):
        image = rng.integers(0, 256, size={shape}, dtype=np.uint8)
        live.log_image(f"img/{{live.step}}.png", image{annotations})
{histogram}        live.log_metric("loss", 1.0 / (1 + step))
        live.next_step()
END = time.perf_counter()
with open(os.environ["BENCH_TIMING_FILE"], "w", encoding="utf-8") as handle:
    json.dump({{"import_s": IMPORTED - START, "script_s": END - START}}, handle)
'''

STAGE_DVCYAML = """\
stages:
  train:
    cmd: python train.py
    deps:
      - train.py
    params:
      - bench
    outs:
      - dvclive/plots/images
"""


def stage_script(variant: str) -> str:
    """The ``train.py`` of ``variant`` (see ``EXP_TITLES``)."""
    extras = variant == "dvcstage-extras"
    return STAGE_SCRIPT.format(
        module="dvclive" if variant == "dvclive" else "dvcstage",
        shape=IMAGE_SHAPE,
        extras_doc=", plus an annotations box and a 1,000-value histogram" if extras else "",
        annotations=f", annotations={ANNOTATIONS!r}" if extras else "",
        histogram=(
            f'        live.log_histogram("values", rng.normal(size={HISTOGRAM_VALUES}), '
            f"num_bins={HISTOGRAM_BINS})\n"
            if extras
            else ""
        ),
    )


def exp_repo(variant: str, steps: int, parent: Path) -> Path:
    """A fresh git + DVC repository holding the stage of ``variant``, all committed."""
    repo = Path(tempfile.mkdtemp(prefix=f"exp-{variant}-", dir=parent))
    init_repo(repo)
    (repo / "train.py").write_text(stage_script(variant), encoding="utf-8")
    (repo / "params.yaml").write_text(f"bench:\n  steps: {steps}\n  seed: 0\n", encoding="utf-8")
    stage = STAGE_DVCYAML
    if variant == "dvcstage-extras":  # annotated images: DVC draws their previews
        stage += "      - dvclive/plots/previews\n"
    (repo / "dvc.yaml").write_text(stage, encoding="utf-8")
    env = worker_env()
    subprocess.run(["git", "add", "-A"], cwd=repo, env=env, check=True, capture_output=True)
    subprocess.run(
        ["git", "commit", "-q", "-m", "stage"], cwd=repo, env=env, check=True, capture_output=True
    )
    return repo


def exp_refs(repo: Path) -> int:
    """How many experiment refs the repository holds."""
    done = subprocess.run(
        ["git", "for-each-ref", "refs/exps"], cwd=repo, capture_output=True, text=True, check=True
    )
    return len(done.stdout.splitlines())


def one_exp_run(variant: str, steps: int, parent: Path, keep: bool) -> dict[str, Any]:
    """Time ``dvc exp run`` of ``variant`` in a fresh repository (removed unless ``keep``)."""
    repo = exp_repo(variant, steps, parent)
    timing = parent / f"timing-{repo.name}.json"
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    wall = run_dvc(["exp", "run"], repo, PATH=path, BENCH_TIMING_FILE=str(timing))
    inside = json.loads(timing.read_text(encoding="utf-8"))
    dvcyaml = repo / "dvc.yaml"
    result = {
        "variant": variant,
        "exp_run_s": wall,
        "script_s": inside["script_s"],
        "import_s": inside["import_s"],
        "outside_script_s": wall - inside["script_s"],
        "exp_refs": exp_refs(repo),
        "dvcyaml_lines": len(dvcyaml.read_text(encoding="utf-8").splitlines()),
        **disk_usage(repo / "dvclive"),
    }
    if not keep:
        shutil.rmtree(repo, ignore_errors=True)
    timing.unlink()
    return result


def part_exp(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """``dvc exp run`` of each variant, ``args.repeat`` times, interleaved."""
    parent = workdir / "exp"
    parent.mkdir()
    runs: dict[str, list[dict[str, Any]]] = {v: [] for v in EXP_VARIANTS}
    for index in range(args.repeat):
        for variant in EXP_VARIANTS:
            result = one_exp_run(variant, args.exp_steps, parent, args.keep)
            runs[variant].append(result)
            print(
                f"[exp] {variant} {index + 1}/{args.repeat}: dvc exp run "
                f"{result['exp_run_s']:.2f} s (script {result['script_s']:.2f} s)",
                file=sys.stderr,
                flush=True,
            )
    summary = {}
    for variant, results in runs.items():
        summary[variant] = {
            key: statistics.median(r[key] for r in results)
            for key in ("exp_run_s", "script_s", "import_s", "outside_script_s")
        }
        summary[variant]["min_s"] = min(r["exp_run_s"] for r in results)
        summary[variant]["max_s"] = max(r["exp_run_s"] for r in results)
        summary[variant]["files"] = results[-1]["files"]
        summary[variant]["exp_refs"] = results[-1]["exp_refs"]
    return {"runs": runs, "summary": summary, "script": stage_script("dvcstage")}


# -- report ---------------------------------------------------------------------------------


def plots_tables(part: dict[str, Any], steps: int, repeat: int) -> list[str]:
    """The Markdown of part 1."""
    logs, shows = part["logging"], part["shows"]
    lines = [
        f"## 1. `dvc plots show` on a {steps:,}-step run\n",
        f"Per step: {len(IMAGE_KEYS)} {IMAGE_SHAPE[0]}x{IMAGE_SHAPE[1]} RGB images "
        f"({', '.join(IMAGE_KEYS)}), one metric; dvcstage also an `annotations` box on "
        f"`{IMAGE_KEYS[0]}` (a JSON sidecar per image, and an annotated preview DVC draws) "
        f"and a {HISTOGRAM_VALUES:,}-value histogram ({HISTOGRAM_BINS} bins). "
        "`save_dvc_exp=False`.\n",
        "| logging run | wall to end() s | ms/step | files | bytes | dvc.yaml lines "
        "| dvc.yaml bytes | dvc.yaml versions at steps 0, n/2, n-1 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for tool, title in (("dvcstage", "dvcstage.Live"), ("dvclive", "dvclive.Live")):
        log = logs[tool]
        lines.append(
            f"| {title} | {log['wall_s']:.1f} | {log['ms_per_step']:.2f} | {log['files']:,} "
            f"| {log['bytes']:,} | {log['dvcyaml_lines']:,} | {log['dvcyaml_bytes']:,} "
            f"| {log.get('dvcyaml_versions_seen', '?')} |"
        )
    lines += [
        "",
        f"`dvc plots show --json -o DIR`: median of {repeat} run(s), configurations "
        "interleaved; HTML `dvc plots show -o DIR`: one run each.\n",
        "| dvc.yaml | `--json` s | vs (a) | HTML s | plots (images / vega) "
        "| stray vega from sidecars | errors | JSON MB | index.html MB |",
        "|---|---:|---:|---:|---|---:|---:|---:|---:|",
    ]
    base = shows["a"]
    for config in CONFIGS:
        show = shows[config]
        lines.append(
            f"| {CONFIG_TITLES[config]} | {show['json_median_s']:.2f} "
            f"| {show['json_median_s'] / base['json_median_s']:.2f} | {show['html_s']:.2f} "
            f"| {show['plots']:,} ({show['images']:,} / {show['vega']:,}) "
            f"| {show['stray_vega']:,} | {show['errors']} | {show['json_bytes'] / 1e6:.1f} "
            f"| {show['html']['index_bytes'] / 1e6:.1f} |"
        )
    a, b = shows["a"], shows["b"]
    lines += [
        "",
        f"(b)/(a): {part['ratio_b_over_a']:.2f}x the `--json` time "
        f"({b['json_median_s']:.2f} s vs {a['json_median_s']:.2f} s), "
        f"{part['html_ratio_b_over_a']:.2f}x the HTML time; (b) holds {b['plots']:,} plots "
        f"against (a)'s {a['plots']:,}, of which {b['stray_vega']:,} are sidecars rendered "
        f"as vega plots, and no histogram plots. Against (a'), which leaves the histograms "
        f"out as (b) does: {part['ratio_b_over_a_without_histograms']:.2f}x.",
    ]
    return lines


def exp_tables(part: dict[str, Any], exp_steps: int, repeat: int) -> list[str]:
    """The Markdown of part 2."""
    summary = part["summary"]
    base = summary["dvclive"]
    lines = [
        f"## 2. `dvc exp run` of a {exp_steps}-step stage\n",
        f"`train.py` logs one {IMAGE_SHAPE[0]}x{IMAGE_SHAPE[1]} RGB image (`img/{{step}}.png`) "
        "and one metric per step with `Live()` (defaults); `outs: [dvclive/plots/images]`. "
        f"Fresh repository per run; median of {repeat} run(s), variants interleaved. "
        "*script* is the stage's own time (imports included, from its first line to the "
        "end of `with Live()`); *outside* is the rest of `dvc exp run` (DVC start-up, "
        "checks, caching the outs, saving the experiment).\n",
        "| stage imports | `dvc exp run` s | min-max | script s | of which imports | "
        "outside s | vs DVCLive |",
        "|---|---:|---|---:|---:|---:|---:|",
    ]
    for variant in EXP_VARIANTS:
        s = summary[variant]
        lines.append(
            f"| {EXP_TITLES[variant]} | {s['exp_run_s']:.2f} | {s['min_s']:.2f}-{s['max_s']:.2f} "
            f"| {s['script_s']:.2f} | {s['import_s']:.2f} | {s['outside_script_s']:.2f} "
            f"| {s['exp_run_s'] / base['exp_run_s']:.2f} |"
        )
    stage = summary["dvcstage"]
    diff = stage["exp_run_s"] - base["exp_run_s"]
    lines += [
        "",
        f"dvcstage minus DVCLive, same workload: {diff:+.2f} s of `dvc exp run` "
        f"({diff / base['exp_run_s']:+.1%}); script {stage['script_s'] - base['script_s']:+.2f}"
        f" s, outside the script {stage['outside_script_s'] - base['outside_script_s']:+.2f} s.",
    ]
    return lines


# -- command line ---------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--steps",
        type=int,
        default=DEFAULT_STEPS,
        help=f"steps of the long run (default {DEFAULT_STEPS:,}; {FULL_STEPS:,} for full size)",
    )
    parser.add_argument(
        "--exp-steps",
        type=int,
        default=DEFAULT_EXP_STEPS,
        help=f"steps of the dvc exp run stage (default {DEFAULT_EXP_STEPS})",
    )
    parser.add_argument("--repeat", type=int, default=3, help="timed runs each (default 3)")
    parser.add_argument("--json", type=Path, help="also write all results to this JSON file")
    parser.add_argument(
        "--parts", nargs="+", choices=("plots", "exp"), default=["plots", "exp"], help="what to run"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary repositories")
    parser.add_argument("--worker", choices=LOG_WORKERS, help=argparse.SUPPRESS)
    parser.add_argument("--repo", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.steps < 1 or args.exp_steps < 1 or args.repeat < 1:
        parser.error("--steps, --exp-steps and --repeat must be at least 1")
    return args


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark (or, with ``--worker``, one logging run)."""
    args = parse_args(argv)
    if args.worker:
        data = log_run(args.worker, args.repo, args.steps)
        args.result.write_text(json.dumps(data, indent=2) + "\n")
        return
    started = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="bench-dvc-scale-"))
    results: dict[str, Any] = {
        "config": {
            "steps": args.steps,
            "exp_steps": args.exp_steps,
            "repeat": args.repeat,
            "parts": args.parts,
        },
        "environment": environment(),
    }
    try:
        if "plots" in args.parts:
            results["plots"] = part_plots(args, workdir)
        if "exp" in args.parts:
            results["exp"] = part_exp(args, workdir)
    finally:
        if args.keep:
            print(f"kept {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    results["total_s"] = time.perf_counter() - started
    versions = results["environment"]["versions"]
    print(
        f"# DVC at scale: dvcstage {versions['dvcstage']}, DVCLive {versions['dvclive']}, "
        f"DVC {versions['dvc']}\n"
    )
    if args.steps == DEFAULT_STEPS and DEFAULT_STEPS < FULL_STEPS:
        print(
            f"Note: {args.steps:,} steps is this script's default: a {FULL_STEPS:,}-step run "
            f"takes over 8 minutes on a small machine. `--steps {FULL_STEPS}` runs it.\n"
        )
    if "plots" in results:
        print("\n".join(plots_tables(results["plots"], args.steps, args.repeat)) + "\n")
    if "exp" in results:
        print("\n".join(exp_tables(results["exp"], args.exp_steps, args.repeat)) + "\n")
    print(f"Total time: {results['total_s'] / 60:.1f} min.")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
        print(f"Results written to {args.json}")


if __name__ == "__main__":
    main()
