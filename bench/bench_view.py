"""Load test: ``dvcstage view`` under 20 browsers scrubbing their step sliders at once.

A run of ``--steps`` steps x 3 image keys (default 1,000 x 3) is synthesised in a temporary
folder: ``dvclive/media.jsonl`` in the writer's layout, and every file of every item (images
and masks as copies of two small PNGs, a sidecar JSON per item of the first two keys).
The real ``dvcstage view --no-browser --port 0`` is started on it (a process, with its real
language server child), and ``--clients`` clients (default 20) each open the page with the
token, one WebSocket and an HTTP session, as the panel does, and scrub:

* every ``--interval`` seconds (default 0.1: ten slider moves a second) a client moves its
  step by a random -20..20 and, for each key, sends ``dvcstage/item`` over the WebSocket
  (**item**) and then GETs the item's image (**file**) and, for the first key, its mask
  (**file**) from the URLs the answer holds; every 50th move it asks ``dvcstage/media``
  again (**media**); each client asks for the run list and the media once, untimed, when
  it opens (as a page does);
* a client waits for the answers of one move before the next (closed loop: a slow server
  gets less load, not a growing queue).

After ``--seconds`` (default 30) everything stops by itself (a hard limit of
``--seconds`` + 60 s covers a hung server) and p50/p95/max latency per request type, the
request counts and the errors (error answers, HTTP statuses other than 200, time-outs of
``--timeout`` s, dropped sockets) are reported. The goal: no errors and p95 < 100 ms for the
data requests (item and media). ``--no-cache`` measures the view without its answer cache
(``dvcstage view --no-answer-cache``). The clients run in this process: on a small machine they
take CPU from the server too.

    .venv/bin/python bench/bench_view.py                    # 30 s, 20 clients
    .venv/bin/python bench/bench_view.py --seconds 5 --json view.json
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

KEYS = ("img0", "img1", "img2")
RUN = "workspace:dvclive"
GOAL_P95_MS = 100.0
URL_LINE = re.compile(r"^(http://[^/]+)/\?token=([A-Za-z0-9_-]+)$")


def _png(colour: tuple[int, int, int], mode: str = "RGB", size: int = 64) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new(mode, (size, size), colour if mode == "RGB" else 1).save(buffer, format="PNG")
    return buffer.getvalue()


def synthesise(folder: Path, steps: int) -> int:
    """A run of ``steps`` x 3 image keys under ``folder/dvclive``; returns the item count."""
    run = folder / "dvclive"
    image, mask = run / "_image.png", run / "_mask.png"
    run.mkdir(parents=True)
    image.write_bytes(_png((200, 80, 40)))
    mask.write_bytes(_png((0, 0, 0), mode="L"))
    lines = []
    for step in range(steps):
        for k, key in enumerate(KEYS):
            base = f"plots/images/{key}/{step}"
            (run / base).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(image, run / f"{base}.png")
            files: list[dict[str, Any]] = []
            sidecar: dict[str, Any] = {"caption": f"{key} {step}", "width": 64, "height": 64}
            if k == 0:
                (run / f"{base}.masks").mkdir()
                shutil.copyfile(mask, run / f"{base}.masks/truth.png")
                files.append(
                    {
                        "path": f"{base}.masks/truth.png",
                        "role": "mask",
                        "name": "truth",
                        "bytes": mask.stat().st_size,
                    }
                )
                sidecar["masks"] = {
                    "truth": {"path": f"{step}.masks/truth.png", "class_labels": {"1": "cat"}}
                }
            files.append({"path": f"{base}.png", "role": "image", "bytes": image.stat().st_size})
            if k < 2:
                sidecar["annotations"] = {
                    "cat": [{"box": {"top": 1, "left": 2, "bottom": 30, "right": 40}, "score": 0.9}]
                }
                text = json.dumps(sidecar)
                (run / f"{base}.json").write_text(text)
                files.append(
                    {
                        "path": f"{base}.json",
                        "role": "sidecar",
                        "bytes": len(text),
                        "schema": "image-sidecar",
                    }
                )
            line = {
                "v": 1,
                "step": step,
                "key": key,
                "kind": "image",
                "files": files,
                "width": 64,
                "height": 64,
                "time": 1_718_000_000.0 + step,
            }
            if k < 2:
                line["sidecar"] = f"{base}.json"
            lines.append(json.dumps(line, separators=(",", ":")) + "\n")
    (run / "media.jsonl").write_text("".join(lines))
    return len(lines)


@dataclass
class Tally:
    """Latencies (seconds) per request type, request counts and errors."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    error_samples: list[str] = field(default_factory=list)

    def add(self, kind: str, seconds: float) -> None:
        self.latencies.setdefault(kind, []).append(seconds)

    def error(self, kind: str, detail: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1
        if len(self.error_samples) < 10:
            self.error_samples.append(f"{kind}: {detail}")


class Client:
    """One browser: a cookie, a WebSocket and an HTTP session."""

    def __init__(self, base: str, token: str, tally: Tally, timeout: float) -> None:
        self.base, self.token, self.tally, self.timeout = base, token, tally, timeout
        self.next_id = 1
        self.waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.session: aiohttp.ClientSession | None = None
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.reader: asyncio.Task[None] | None = None

    async def open(self) -> None:
        self.session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.timeout),
            cookie_jar=aiohttp.CookieJar(unsafe=True),  # a jar for an IP address host
        )
        async with self.session.get(f"{self.base}/?token={self.token}") as page:
            await page.read()
            if page.status != 200:
                raise RuntimeError(f"page: HTTP {page.status}")
        self.ws = await self.session.ws_connect(f"{self.base}/api/ws", origin=self.base)
        self.reader = asyncio.create_task(self._read())
        # What a page does when it opens (not timed: this measures scrubbing).
        await self.request("open", "dvcstage/runs", {})
        await self.request("open", "dvcstage/media", {"run": RUN})

    async def _read(self) -> None:
        assert self.ws is not None
        async for msg in self.ws:
            data = json.loads(msg.data)
            waiter = self.waiting.pop(data.get("id"), None)
            if waiter is not None and not waiter.done():
                waiter.set_result(data)
        for waiter in self.waiting.values():
            if not waiter.done():
                waiter.set_exception(ConnectionError("socket closed"))

    async def request(self, kind: str, method: str, params: Any) -> dict[str, Any] | None:
        assert self.ws is not None
        msg_id, self.next_id = self.next_id, self.next_id + 1
        waiter: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.waiting[msg_id] = waiter
        start = time.perf_counter()
        try:
            await self.ws.send_str(
                json.dumps({"kind": "request", "id": msg_id, "method": method, "params": params})
            )
            answer = await asyncio.wait_for(waiter, self.timeout)
        except (asyncio.TimeoutError, ConnectionError, RuntimeError) as exc:
            self.waiting.pop(msg_id, None)
            self.tally.error(kind, repr(exc))
            return None
        self.tally.add(kind, time.perf_counter() - start)
        if "error" in answer:
            self.tally.error(kind, json.dumps(answer["error"]))
            return None
        result: dict[str, Any] = answer["result"]
        return result

    async def fetch(self, url: str) -> None:
        assert self.session is not None
        start = time.perf_counter()
        try:
            async with self.session.get(f"{self.base}{url}") as response:
                await response.read()
                status = response.status
        except (asyncio.TimeoutError, aiohttp.ClientError) as exc:
            self.tally.error("file", repr(exc))
            return
        self.tally.add("file", time.perf_counter() - start)
        if status != 200:
            self.tally.error("file", f"HTTP {status} {url}")

    async def scrub(self, steps: int, until: float, interval: float, seed: int) -> int:
        rng = random.Random(seed)
        step, moves = rng.randrange(steps), 0
        while time.monotonic() < until:
            began = time.monotonic()
            step = min(steps - 1, max(0, step + rng.randint(-20, 20)))
            if moves and moves % 50 == 0:
                await self.request("media", "dvcstage/media", {"run": RUN})
            await asyncio.gather(*(self._show(key, step) for key in KEYS))
            moves += 1
            await asyncio.sleep(max(0.0, interval - (time.monotonic() - began)))
        return moves

    async def _show(self, key: str, step: int) -> None:
        item = await self.request("item", "dvcstage/item", {"run": RUN, "key": key, "step": step})
        if item is None:
            return
        for file in item["files"]:
            if file["role"] in ("image", "mask"):
                await self.fetch(file["uri"])

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self.session is not None:
            await self.session.close()


def start_view(
    folder: Path, profile: Path | None, extra: tuple[str, ...] = ()
) -> tuple[subprocess.Popen[str], str, str]:
    """``dvcstage view`` on ``folder`` (under cProfile with ``profile``); its process, base
    URL and token."""
    python = [sys.executable, *(["-m", "cProfile", "-o", str(profile)] if profile else [])]
    env = {**os.environ, "DVC_NO_ANALYTICS": "1", "GIT_CEILING_DIRECTORIES": str(folder.parent)}
    process = subprocess.Popen(
        [
            *python,
            "-m",
            "dvcstage.cli",
            "view",
            "--no-browser",
            "--port",
            "0",
            "--cache-dir",
            str(folder.parent / "cache"),
            *extra,
            str(folder),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    for line in process.stdout:
        match = URL_LINE.match(line.strip())
        if match:
            return process, match.group(1), match.group(2)
    raise RuntimeError(f"dvcstage view exited with code {process.wait()} before printing a URL")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


async def load(base: str, token: str, args: argparse.Namespace) -> dict[str, Any]:
    tally = Tally()
    clients = [Client(base, token, tally, args.timeout) for _ in range(args.clients)]
    await asyncio.gather(*(c.open() for c in clients))
    began = time.monotonic()
    until = began + args.seconds
    moves = await asyncio.gather(
        *(c.scrub(args.steps, until, args.interval, i) for i, c in enumerate(clients))
    )
    elapsed = time.monotonic() - began
    await asyncio.gather(*(c.close() for c in clients))
    kinds = {}
    tally.latencies.pop("open", None)
    for kind, values in sorted(tally.latencies.items()):
        kinds[kind] = {
            "count": len(values),
            "per_s": round(len(values) / elapsed, 1),
            "p50_ms": round(1000 * statistics.median(values), 2),
            "p95_ms": round(1000 * percentile(values, 0.95), 2),
            "max_ms": round(1000 * max(values), 2),
            "errors": tally.errors.get(kind, 0),
        }
    return {
        "clients": args.clients,
        "seconds": round(elapsed, 1),
        "slider_moves": sum(moves),
        "requests": kinds,
        "errors": sum(tally.errors.values()),
        "error_samples": tally.error_samples,
    }


def report(results: dict[str, Any]) -> str:
    rows = [
        f"{results['clients']} clients scrubbing for {results['seconds']} s over "
        f"{results['steps']} steps x {len(KEYS)} keys ({results['slider_moves']} slider moves), "
        f"answer cache {'on' if results['answer_cache'] else 'off'}",
        "",
        "| request | count | per s | p50 ms | p95 ms | max ms | errors |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for kind, r in results["requests"].items():
        rows.append(
            f"| {kind} | {r['count']} | {r['per_s']} | {r['p50_ms']} | {r['p95_ms']} | "
            f"{r['max_ms']} | {r['errors']} |"
        )
    data = [r["p95_ms"] for k, r in results["requests"].items() if k in ("item", "media")]
    verdict = "met" if results["errors"] == 0 and data and max(data) < GOAL_P95_MS else "MISSED"
    rows += ["", f"errors: {results['errors']}; goal (no errors, data p95 < 100 ms): {verdict}"]
    rows += [f"  {sample}" for sample in results["error_samples"]]
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--interval", type=float, default=0.1, help="seconds between moves")
    parser.add_argument("--timeout", type=float, default=5.0, help="per request")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--no-cache", action="store_true", help="dvcstage view --no-answer-cache")
    parser.add_argument("--profile", type=Path, help="run the view under cProfile, write here")
    args = parser.parse_args()
    base_dir = Path(tempfile.mkdtemp(prefix="bench-view-"))
    process: subprocess.Popen[str] | None = None
    try:
        folder = base_dir / "ws"
        made = time.monotonic()
        items = synthesise(folder, args.steps)
        print(f"synthesised {items} items in {time.monotonic() - made:.1f} s", file=sys.stderr)
        extra = ("--no-answer-cache",) if args.no_cache else ()
        process, base, token = start_view(folder, args.profile, extra)
        results = asyncio.run(asyncio.wait_for(load(base, token, args), args.seconds + 60))
        results["steps"] = args.steps
        results["answer_cache"] = not args.no_cache
        print(report(results))
        if args.json:
            args.json.write_text(json.dumps(results, indent=2) + "\n")
        return 0 if results["errors"] == 0 else 1
    finally:
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(base_dir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
