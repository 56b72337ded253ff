"""Benchmark: dvcstage-lsp on a long run, and ``dvc plots diff --json`` on the same run.

A run of ``--steps`` steps x 10 keys (default 10,000 x 10 = 100,000 items) is synthesised
in a fresh temporary git + DVC repository: ``dvclive/media.jsonl`` with one line per item in
the writer's exact layout (8 image keys, the first with a mask and a sidecar, the second with
a sidecar, one histogram, one audio key with facts), the histogram and metric TSVs, and the
``dvc.yaml`` dvcstage writes (one ``{path: {y: {path: image}}}`` entry per image, two
template entries for the histogram, DVCLive's metrics entry). The files of the items the
benchmark asks for are real; with ``--dvc`` (the default) every image and mask exists too
(hard links to one small PNG), so that DVC has something to render.

The real server (``python -m dvcstage_lsp``) is driven over stdio by pygls' client:

* **cold start**: process spawn -> ``initialize`` answered -> ``dvcstage/runs`` and
  ``dvcstage/media`` answered (median of ``--repeat`` fresh processes; the first answer
  needs the whole index loaded). The time to ``initialize`` (imports) is reported apart;
* **item**: ``dvcstage/item`` round trips for ``--items`` random (key, step) pairs;
* **changed**: a line appended to the index -> ``dvcstage/changed`` received, over
  ``--appends`` appends, with polling (no dynamic registration, ``--poll-interval`` 0.1 s)
  and with a client that registers the file watcher (the benchmark sends
  ``workspace/didChangeWatchedFiles`` right after each append, as an editor's watcher
  would: the watcher's own delay is not included);
* **revisions** (with ``--commit-run``, the run committed at HEAD as well): spawn ->
  ``dvcstage/changed`` announcing the commit's run, listed in the background with git
  (``git ls-tree``, ``git cat-file``) and parsed; the workspace's answers must not wait for it;
* **DVC**: ``dvc plots diff --json`` (what the VS Code DVC extension calls) on the same
  repository, with a timeout (``--dvc-timeout``).

It is a benchmark, not a test: it reports numbers and asserts nothing. Run it with::

    .venv/bin/python bench/bench_lsp.py --json lsp.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_logging import environment, init_repo, worker_env  # the bench folder: sys.path

ROOT = Path(__file__).resolve().parents[1]
LSP_DIR = ROOT / "lsp"
RUN_DIR = "dvclive"
RUN_ID = f"workspace:{RUN_DIR}"
IMAGE_KEYS = 8
KEYS = 10
SEED = 20240612
# cold start: < 0.6 s on a quiet machine (< 1 s with the machine loaded, e.g. two CPU hogs)
GOALS = {"cold_s": 0.6, "item_p95_ms": 20.0, "changed_p95_ms": 250.0}
START_TIME = 1_718_000_000.0
CHANGED_TIMEOUT_S = 10.0


# -- the synthetic run ------------------------------------------------------------------------


def key_names() -> list[str]:
    """The 10 keys: 8 image keys, a histogram and an audio key."""
    return [f"img{k}" for k in range(IMAGE_KEYS)] + ["weights", "voice"]


def index_line(step: int, k: int, rng: random.Random) -> dict[str, Any]:
    """The index line dvcstage's writer emits for key number ``k`` at ``step``."""
    time_ = round(START_TIME + step + k / 100, 3)
    if k < IMAGE_KEYS:
        key = f"img{k}"
        folder = f"plots/images/{key}"
        files: list[dict[str, Any]] = []
        if k == 0:
            files.append(
                {
                    "path": f"{folder}/{step}.masks/truth.png",
                    "role": "mask",
                    "bytes": 86,
                    "name": "truth",
                }
            )
        files.append({"path": f"{folder}/{step}.png", "role": "image", "bytes": 1820})
        sidecar = f"{folder}/{step}.json" if k < 2 else None
        if sidecar is not None:
            files.append(
                {"path": sidecar, "role": "sidecar", "bytes": 412, "schema": "image-sidecar"}
            )
        return {
            "v": 1,
            "step": step,
            "key": key,
            "kind": "image",
            "files": files,
            "width": 32,
            "height": 32,
            "sidecar": sidecar,
            "time": time_,
        }
    if k == IMAGE_KEYS:
        return {
            "v": 1,
            "step": step,
            "key": "weights",
            "kind": "histogram",
            "files": [
                {"path": "plots/histograms/weights.tsv", "role": "series", "bytes": 360 * step}
            ],
            "facts": {
                "bins": 8,
                "low": rng.gauss(-3, 0.1),
                "high": rng.gauss(3, 0.1),
                "total": 200,
            },
            "time": time_,
        }
    folder = "media/audio/voice"
    return {
        "v": 1,
        "step": step,
        "key": "voice",
        "kind": "audio",
        "files": [
            {"path": f"{folder}/{step}.wav", "role": "audio", "bytes": 844},
            {"path": f"{folder}/{step}.json", "role": "sidecar", "bytes": 226, "schema": "audio"},
        ],
        "sidecar": f"{folder}/{step}.json",
        "facts": {"sample_rate": 8000, "channels": 1, "frames": 400, "duration_s": 0.05},
        "time": time_,
    }


def encode(line: dict[str, Any]) -> str:
    """A line as the writer writes it: compact JSON and a newline."""
    return json.dumps(line, separators=(",", ":"), ensure_ascii=False) + "\n"


def tiny_png() -> bytes:
    """A valid 32x32 RGB PNG."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 80, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


SIDECAR = {
    "annotations": {
        "cat": [{"box": {"top": 1, "left": 2, "bottom": 10, "right": 12}, "score": 0.9}]
    },
    "caption": "bench",
    "width": 32,
    "height": 32,
}


def write_item_files(run: Path, line: dict[str, Any], png: bytes) -> None:
    """The files of one index line (images as ``png``, sidecars as small JSON)."""
    for file in line["files"]:
        target = run / file["path"]
        if target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if file["role"] == "sidecar":
            sidecar = dict(SIDECAR, step=line["step"])
            if file["schema"] == "audio":
                sidecar = {"files": [{"path": f"{line['step']}.wav"}], "sample_rate": 8000}
            elif line["key"] == "img0":
                sidecar["masks"] = {
                    "truth": {
                        "path": f"{line['step']}.masks/truth.png",
                        "class_labels": {"1": "cat"},
                        "bit_depth": 8,
                    }
                }
            target.write_text(json.dumps(sidecar))
        elif file["role"] in ("image", "mask"):
            target.write_bytes(png)
        elif file["role"] == "audio":
            target.write_bytes(b"RIFF" + bytes(840))


def link_images(run: Path, steps: int, png: bytes) -> None:
    """Every image and mask of the run, as hard links to small PNGs (for DVC).

    One source file per folder: a file takes at most some 65,000 links.
    """
    images = run / "plots" / "images"
    for k in range(IMAGE_KEYS):
        folder = images / f"img{k}"
        folder.mkdir(parents=True, exist_ok=True)
        sources = {"image": folder / ".bench-image.png", "mask": folder / ".bench-mask.png"}
        for source in sources.values():
            source.write_bytes(png)
        for step in range(steps):
            targets = [(sources["image"], folder / f"{step}.png")]
            if k == 0:
                (folder / f"{step}.masks").mkdir(exist_ok=True)
                targets.append((sources["mask"], folder / f"{step}.masks" / "truth.png"))
            for source, target in targets:
                if not target.exists():
                    os.link(source, target)
        for source in sources.values():
            source.unlink()


def write_series(run: Path, steps: int, rng: random.Random) -> None:
    """The histogram TSV (8 bins a step), the loss metric TSV and ``metrics.json``."""
    histograms = run / "plots" / "histograms"
    histograms.mkdir(parents=True, exist_ok=True)
    rows = ["step\tbin\tlow\thigh\tcount"]
    for step in range(steps):
        edges = [-3 + 0.75 * i for i in range(9)]
        counts = [rng.randrange(0, 50) for _ in range(8)]
        rows += [f"{step}\t{b}\t{edges[b]}\t{edges[b + 1]}\t{counts[b]}" for b in range(8)]
    (histograms / "weights.tsv").write_text("\n".join(rows) + "\n")
    metrics = run / "plots" / "metrics"
    metrics.mkdir(parents=True, exist_ok=True)
    lines = ["timestamp\tstep\tloss"]
    lines += [f"{START_TIME + step}\t{step}\t{1 / (step + 1)}" for step in range(steps)]
    (metrics / "loss.tsv").write_text("\n".join(lines) + "\n")
    (run / "metrics.json").write_text(json.dumps({"loss": 1 / steps, "step": steps - 1}))


def write_dvcyaml(repo: Path, steps: int) -> None:
    """The ``dvc.yaml`` dvcstage writes for this run (and its plot templates)."""
    from dvclive.serialize import dump_yaml

    from dvcstage.dvcyaml import render_image_entry
    from dvcstage.plot_templates import histogram_plot_entries, install_templates

    install_templates(repo / ".dvc")
    content = {
        "metrics": [f"{RUN_DIR}/metrics.json"],
        "plots": [
            {f"{RUN_DIR}/plots/metrics": {"x": "step"}},
            *histogram_plot_entries(f"{RUN_DIR}/plots/histograms/weights.tsv", "weights"),
        ],
    }
    head = repo / ".dvc.yaml.head"
    dump_yaml(content, str(head))  # type: ignore[no-untyped-call]
    text = head.read_text()
    head.unlink()
    images = (
        render_image_entry(f"{RUN_DIR}/plots/images/img{k}/{step}.png")
        for step in range(steps)
        for k in range(IMAGE_KEYS)
    )
    (repo / "dvc.yaml").write_text(text + "".join(images))


@dataclass
class Workspace:
    """The synthesised repository and what the benchmark asks for."""

    repo: Path
    run: Path
    steps: int
    lines: int
    sample: list[tuple[str, int]] = field(default_factory=list)
    committed: bool = False


def make_workspace(base: Path, steps: int, sample: int, with_dvc: bool) -> Workspace:
    """A git + DVC repository holding the synthetic run."""
    repo = base / "repo"
    repo.mkdir(parents=True)
    init_repo(repo)
    run = repo / RUN_DIR
    run.mkdir()
    rng = random.Random(SEED)
    png = tiny_png()
    with open(run / "media.jsonl", "w", encoding="utf-8") as handle:
        chunk: list[str] = []
        for step in range(steps):
            chunk.extend(encode(index_line(step, k, rng)) for k in range(KEYS))
            if len(chunk) >= 10_000:
                handle.write("".join(chunk))
                chunk.clear()
        handle.write("".join(chunk))
    names = key_names()
    chosen = [(rng.choice(names), rng.randrange(steps)) for _ in range(sample)]
    for key, step in chosen:
        write_item_files(run, index_line(step, names.index(key), rng), png)
    write_series(run, steps, rng)
    if with_dvc:
        link_images(run, steps, png)
    write_dvcyaml(repo, steps)
    return Workspace(repo, run, steps, steps * KEYS, chosen)


def commit_run(ws: Workspace) -> None:
    """Commit the run's index and series at HEAD (the images stay out of git)."""
    paths = [str(ws.run / "media.jsonl"), str(ws.run / "plots" / "metrics")]
    subprocess.run(["git", "add", "-f", *paths], cwd=ws.repo, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "run"], cwd=ws.repo, check=True)
    ws.committed = True


# -- the LSP client ---------------------------------------------------------------------------


def server_env(repo: Path) -> dict[str, str]:
    """The server's environment: the lsp package importable, no git discovery above."""
    env = worker_env()
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(LSP_DIR), env.get("PYTHONPATH")]))
    env["GIT_CEILING_DIRECTORIES"] = str(repo.parent)
    return env


class Client:
    """pygls' language client running the real server, with plain-JSON custom messages."""

    def __init__(self) -> None:
        from dvcstage_lsp.server import plain_converter
        from lsprotocol import types
        from pygls.lsp.client import LanguageClient

        self.client = LanguageClient("bench-lsp", "0", converter_factory=plain_converter)
        self.changed: asyncio.Queue[tuple[float, dict[str, Any]]] = asyncio.Queue()
        self.registered = asyncio.Event()

        @self.client.feature("dvcstage/changed")  # type: ignore[untyped-decorator]
        def changed(params: dict[str, Any]) -> None:
            self.changed.put_nowait((time.perf_counter(), params))

        @self.client.feature(types.CLIENT_REGISTER_CAPABILITY)  # type: ignore[untyped-decorator]
        def register(params: Any) -> None:
            self.registered.set()

        @self.client.feature(types.WINDOW_LOG_MESSAGE)  # type: ignore[untyped-decorator]
        def log(params: Any) -> None:
            pass

    async def start(self, repo: Path, dynamic_watch: bool) -> float:
        """Spawn the server and initialize; returns when ``initialize`` was answered."""
        from lsprotocol import types

        await self.client.start_io(
            sys.executable,
            "-m",
            "dvcstage_lsp",
            "--cache-dir",
            str(repo.parent / "lsp-cache"),
            env=server_env(repo),
            cwd=str(repo),
        )
        watched = types.DidChangeWatchedFilesClientCapabilities(dynamic_registration=dynamic_watch)
        await self.client.initialize_async(
            types.InitializeParams(
                capabilities=types.ClientCapabilities(
                    workspace=types.WorkspaceClientCapabilities(did_change_watched_files=watched)
                ),
                root_uri=repo.as_uri(),
                workspace_folders=[types.WorkspaceFolder(uri=repo.as_uri(), name=repo.name)],
            )
        )
        initialized = time.perf_counter()
        self.client.initialized(types.InitializedParams())
        return initialized

    async def request(self, method: str, params: Any) -> Any:
        """A custom request's result."""
        return await self.client.protocol.send_request_async(method, params)

    def file_changed(self, path: Path) -> None:
        """Tell the server a watched file changed (what an editor's watcher does)."""
        from lsprotocol import types

        self.client.workspace_did_change_watched_files(
            types.DidChangeWatchedFilesParams(
                changes=[types.FileEvent(uri=path.as_uri(), type=types.FileChangeType.Changed)]
            )
        )

    async def stop(self) -> None:
        """Shut the server down and wait for it."""
        try:
            await asyncio.wait_for(self.client.shutdown_async(None), 10)
            self.client.exit(None)
        finally:
            await self.client.stop()  # type: ignore[no-untyped-call]


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values``, by linear interpolation."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    at = q * (len(ordered) - 1)
    low = int(at)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (at - low)


def summary_ms(seconds: list[float]) -> dict[str, float]:
    """Median, p95 and max of ``seconds``, in milliseconds."""
    return {
        "median_ms": statistics.median(seconds) * 1000,
        "p95_ms": percentile(seconds, 0.95) * 1000,
        "max_ms": max(seconds) * 1000,
        "n": len(seconds),
    }


async def cold_start(ws: Workspace) -> dict[str, Any]:
    """Spawn -> initialize -> runs + media answered, on a fresh server."""
    client = Client()
    spawned = time.perf_counter()
    initialized = await client.start(ws.repo, dynamic_watch=False)
    runs = await client.request("dvcstage/runs", {})
    answered_runs = time.perf_counter()
    media = await client.request("dvcstage/media", {"run": RUN_ID})
    done = time.perf_counter()
    revisions: dict[str, float] = {}
    while ws.committed:
        at, params = await asyncio.wait_for(client.changed.get(), 60)
        if params.get("kind") == "commit" and params.get("new"):
            revisions["revisions_s"] = at - spawned
            break
    await client.stop()
    (run,) = [r for r in runs["runs"] if r["kind"] == "workspace"]
    steps = sum(len(k["steps"]) for k in media["keys"])
    if run["items"] != ws.lines or steps != ws.lines:
        raise RuntimeError(f"the server saw {run['items']} items, {steps} steps")
    return {
        "initialize_s": initialized - spawned,
        "runs_s": answered_runs - spawned,
        "total_s": done - spawned,
        "load_s": done - initialized,
    } | revisions


async def items(ws: Workspace) -> dict[str, Any]:
    """``dvcstage/item`` round trips over the sampled (key, step) pairs."""
    client = Client()
    await client.start(ws.repo, dynamic_watch=False)
    await client.request("dvcstage/runs", {})
    times: list[float] = []
    problems = 0
    for key, step in ws.sample:
        started = time.perf_counter()
        result = await client.request("dvcstage/item", {"run": RUN_ID, "key": key, "step": step})
        times.append(time.perf_counter() - started)
        problems += bool(result["problems"]) or not all(f["exists"] for f in result["files"])
    await client.stop()
    return summary_ms(times) | {"answers_with_problems": problems}


async def changed(ws: Workspace, appends: int, dynamic: bool, first_step: int) -> dict[str, Any]:
    """Appended index line -> ``dvcstage/changed`` received, ``appends`` times."""
    client = Client()
    await client.start(ws.repo, dynamic_watch=dynamic)
    await client.request("dvcstage/runs", {})
    if dynamic:
        await asyncio.wait_for(client.registered.wait(), 10)
    rng = random.Random(SEED + dynamic)
    index = ws.run / "media.jsonl"
    delays: list[float] = []
    for n in range(appends):
        await asyncio.sleep(rng.uniform(0.05, 0.25))  # not in step with the polling
        step = first_step + n
        text = encode(index_line(step, 1, rng))
        with open(index, "a", encoding="utf-8") as handle:
            handle.write(text)
        written = time.perf_counter()
        if dynamic:
            client.file_changed(index)
        while True:
            received, params = await asyncio.wait_for(client.changed.get(), CHANGED_TIMEOUT_S)
            if any(item["step"] == step for item in params["items"]):
                break
        delays.append(received - written)
    await client.stop()
    return summary_ms(delays)


# -- DVC --------------------------------------------------------------------------------------


def dvc_plots_diff(repo: Path, timeout: float) -> dict[str, Any]:
    """Time ``dvc plots diff --json`` in ``repo`` (``timed_out`` after ``timeout`` s)."""
    command = [sys.executable, "-m", "dvc", "plots", "diff", "--json"]
    started = time.perf_counter()
    try:
        done = subprocess.run(
            command,
            cwd=repo,
            env=server_env(repo),
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"seconds": None, "timed_out": True, "timeout_s": timeout}
    seconds = time.perf_counter() - started
    result: dict[str, Any] = {"seconds": seconds, "timed_out": False, "returncode": done.returncode}
    try:
        output = json.loads(done.stdout)
        data = output.get("data", {}) if isinstance(output, dict) else {}
        result["plots"] = sum(len(v) for v in data.values() if isinstance(v, list))
    except ValueError:
        result["stderr"] = done.stderr.decode(errors="replace")[-2000:]
    return result


# -- report -----------------------------------------------------------------------------------


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    return f"{value:.2f} {unit}" if unit == "s" else f"{value:.1f} {unit}"


def report(results: dict[str, Any]) -> str:
    """The Markdown table of goals and measured values."""
    cold = results["cold"]
    item = results["item"]
    poll = results["changed_polling"]
    dyn = results.get("changed_dynamic")
    dvc = results.get("dvc")
    ws = results["workspace"]
    rows = [
        "| measure | goal | measured |",
        "|---|---:|---:|",
        f"| cold start: spawn → `runs` + `media` answered (median of {len(cold['runs'])}) "
        f"| < {GOALS['cold_s']:g} s (quiet) | {_fmt(cold['total_s'], 's')} |",
        f"| … of which spawn → `initialize` answered (imports) | | "
        f"{_fmt(cold['initialize_s'], 's')} |",
        f"| … of which `initialized` → `runs` + `media` answered (index load) | | "
        f"{_fmt(cold['load_s'], 's')} |",
        f"| `dvcstage/item` p95 (median) over {item['n']} random items "
        f"| < {GOALS['item_p95_ms']:.0f} ms | {_fmt(item['p95_ms'], 'ms')} "
        f"({_fmt(item['median_ms'], 'ms')}) |",
        f"| appended line → `dvcstage/changed`, polling 0.1 s: p95 (median) over {poll['n']} "
        f"| < {GOALS['changed_p95_ms']:.0f} ms | {_fmt(poll['p95_ms'], 'ms')} "
        f"({_fmt(poll['median_ms'], 'ms')}) |",
    ]
    if dyn is not None:
        rows.append(
            f"| appended line → `dvcstage/changed`, client file watcher: p95 (median) over "
            f"{dyn['n']} | < {GOALS['changed_p95_ms']:.0f} ms | {_fmt(dyn['p95_ms'], 'ms')} "
            f"({_fmt(dyn['median_ms'], 'ms')}) |"
        )
    if dvc is not None:
        if dvc["timed_out"]:
            measured = f"> {dvc['timeout_s']:.0f} s (timed out)"
            ratio = "—"
        else:
            measured = _fmt(dvc["seconds"], "s")
            ratio = f"{dvc['seconds'] / cold['total_s']:.0f}x"
        rows.append(f"| `dvc plots diff --json`, same run | | {measured} |")
        rows.append(f"| … ratio to the LSP cold start | | {ratio} |")
    head = (
        f"Run: {ws['steps']:,} steps x {KEYS} keys = {ws['lines']:,} index lines "
        f"({ws['index_bytes'] / 1e6:.1f} MB)."
    )
    return head + "\n\n" + "\n".join(rows)


@contextmanager
def temporary(keep: bool) -> Iterator[Path]:
    """A temporary folder, kept (and printed) with ``--keep``."""
    base = Path(tempfile.mkdtemp(prefix="bench-lsp-"))
    try:
        yield base
    finally:
        if keep:
            print(f"kept {base}", file=sys.stderr)
        else:
            shutil.rmtree(base, ignore_errors=True)


async def measure(ws: Workspace, args: argparse.Namespace) -> dict[str, Any]:
    """Every LSP measurement on ``ws``."""
    colds = []
    for n in range(args.repeat):
        print(f"cold start {n + 1}/{args.repeat} ...", file=sys.stderr, flush=True)
        colds.append(await cold_start(ws))
    cold = {k: statistics.median(c[k] for c in colds) for k in colds[0]} | {"runs": colds}
    print("item ...", file=sys.stderr, flush=True)
    item = await items(ws)
    print("changed (polling) ...", file=sys.stderr, flush=True)
    poll = await changed(ws, args.appends, dynamic=False, first_step=ws.steps)
    results = {"cold": cold, "item": item, "changed_polling": poll}
    if not args.no_dynamic:
        print("changed (client watcher) ...", file=sys.stderr, flush=True)
        results["changed_dynamic"] = await changed(
            ws, args.appends, dynamic=True, first_step=ws.steps + args.appends
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=10_000, help="steps (x 10 keys)")
    parser.add_argument("--items", type=int, default=200, help="dvcstage/item requests")
    parser.add_argument("--appends", type=int, default=20, help="appended lines timed")
    parser.add_argument("--repeat", type=int, default=3, help="cold starts (median)")
    parser.add_argument("--no-dynamic", action="store_true", help="skip the watcher variant")
    parser.add_argument("--no-dvc", action="store_true", help="skip dvc plots diff")
    parser.add_argument("--dvc-timeout", type=float, default=600.0, help="seconds")
    parser.add_argument("--json", type=Path, help="write every figure to this file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary repository")
    parser.add_argument(
        "--commit-run", action="store_true", help="commit the run too: time the revision listing"
    )
    args = parser.parse_args()

    with temporary(args.keep) as base:
        print(f"synthesising {args.steps:,} steps x {KEYS} keys ...", file=sys.stderr)
        started = time.perf_counter()
        ws = make_workspace(base, args.steps, args.items, with_dvc=not args.no_dvc)
        if args.commit_run:
            commit_run(ws)
        print(f"  {time.perf_counter() - started:.1f} s", file=sys.stderr)
        results: dict[str, Any] = {
            "workspace": {
                "steps": ws.steps,
                "keys": KEYS,
                "lines": ws.lines,
                "index_bytes": (ws.run / "media.jsonl").stat().st_size,
            },
            "goals": GOALS,
            "environment": environment(),
        }
        results |= asyncio.run(measure(ws, args))
        if not args.no_dvc:
            print("dvc plots diff --json ...", file=sys.stderr, flush=True)
            results["dvc"] = dvc_plots_diff(ws.repo, args.dvc_timeout)
    table = report(results)
    print(table)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
