"""Benchmark: experiments a teammate pushed, as dvcstage-lsp lists and opens them, beside DVC.

A bare git repository holds one real experiment (a ``dvc exp run`` of a stage logging
images with ``dvcstage.Live``, ``dvc exp push``-ed with its DVC outputs to a folder remote),
``--opens`` more experiment commits (the same tree, each its own commit) and ``--refs``
experiment refs run from a commit the teammate does not have (default 10,000). A second
clone, the teammate, never runs ``dvc exp pull``. Measured, each in ``--repeat`` fresh
language servers (median, p95):

* **listed**: ``initialized`` -> the remote experiments announced (``dvcstage/changed``, new:
  one ``git ls-remote``, ranking, at most ``--max-revisions`` shown), beside ``dvc exp list
  origin --all-commits --name-only`` (DVC's own listing of the same remote);
* **runs while the remote hangs**: ``dvcstage/runs`` round trips while ``git ls-remote`` waits
  on a server that accepts and never answers, beside the same requests with no remote;
* **open**: ``dvcstage/media`` on a remote experiment (fetch of its ref, listing again,
  answer), then its first ``dvcstage/item`` (an image through DVC's remote); beside
  ``dvc exp pull origin <exp> --no-cache`` (the git side only) and ``dvc exp pull origin
  <exp>`` (with its DVC outputs).

It is a benchmark, not a test: it reports numbers and asserts nothing. Run it with::

    .venv/bin/python bench/bench_remote_exps.py --json remote.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_logging import worker_env  # the bench folder: sys.path
from bench_lsp import percentile, server_env

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TRAIN = textwrap.dedent(
    """
    import numpy as np
    from dvcstage import Live

    with Live("dvclive", save_dvc_exp=False) as live:
        for step in range(3):
            live.log_image(f"pred/{live.step}.png", np.full((64, 64, 3), 40 + step, np.uint8),
                           annotations={"boxes": [[1, 1, 30, 40]], "labels": ["cat"],
                                        "scores": [0.5], "box_format": "tlbr"})
            live.next_step()
    """
)
DVC_YAML = textwrap.dedent(
    """
    stages:
      train:
        cmd: python train.py
        deps: [train.py]
        outs:
          - dvclive/plots/images
    """
).lstrip()


def sh(*args: str, cwd: Path | None = None, stdin: str | None = None) -> str:
    """Run a command (``dvc`` from this interpreter's environment); its stdout."""
    command = list(args)
    if command[0] == "dvc":
        command[0] = str(BIN / "dvc")
    env = worker_env()
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"  # the stage's python: this venv's
    done = subprocess.run(command, cwd=cwd, input=stdin, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)}: {done.stdout}{done.stderr}")
    return done.stdout.strip()


@dataclass
class Team:
    base: Path
    remote: Path
    a: Path
    main: str
    opens: list[str]  # names of experiments to open, one per measurement


def make_team(base: Path, refs: int, opens: int) -> Team:
    """The remote, teammate A's clone with exp-a pushed, and the extra refs."""
    remote = base / "git-remote.git"
    sh("git", "init", "-q", "--bare", "-b", "main", str(remote))
    (base / "dvc-remote").mkdir()
    a = base / "a"
    a.mkdir()
    sh("git", "init", "-q", "-b", "main", cwd=a)
    for key, value in (("user.email", "a@example.com"), ("user.name", "a")):
        sh("git", "config", key, value, cwd=a)
    sh("dvc", "init", "-q", cwd=a)
    sh("git", "remote", "add", "origin", str(remote), cwd=a)
    (a / "train.py").write_text(TRAIN)
    (a / "dvc.yaml").write_text(DVC_YAML)
    sh("dvc", "remote", "add", "-d", "store", str(base / "dvc-remote"), cwd=a)
    sh("git", "add", "-A", cwd=a)
    sh("git", "commit", "-q", "-m", "the stage", cwd=a)
    sh("git", "push", "-q", "origin", "main", cwd=a)
    main = sh("git", "rev-parse", "HEAD", cwd=a)
    sh("dvc", "exp", "run", "-q", "-n", "exp-a", cwd=a)
    sh("dvc", "exp", "push", "origin", "exp-a", cwd=a)
    exp = sh("git", "rev-parse", f"refs/exps/{main[:2]}/{main[2:]}/exp-a", cwd=a)
    tree = sh("git", "rev-parse", f"{exp}^{{tree}}", cwd=a)
    updates = []
    names = []
    for i in range(opens):
        commit = sh("git", "commit-tree", tree, "-p", main, "-m", f"open-{i}", cwd=a)
        names.append(f"open-{i}")
        updates.append(f"create refs/exps/{main[:2]}/{main[2:]}/open-{i} {commit}\n")
    sh("git", "push", "-q", "origin", *(u.split()[2] + ":" + u.split()[1] for u in updates), cwd=a)
    fake = "ff" * 20
    bulk = "".join(f"create refs/exps/ff/{fake[2:]}/bulk-{i:05d} {exp}\n" for i in range(refs))
    sh("git", "-C", str(remote), "update-ref", "--stdin", stdin=bulk)
    return Team(base, remote, a, main, names)


def teammate(team: Team, name: str) -> Path:
    """A fresh clone through git's transport (nothing of the experiments)."""
    path = team.base / name
    sh("git", "clone", "-q", "--no-local", str(team.remote), str(path))
    return path


class SilentServer:
    """Accepts connections on 127.0.0.1 and never answers."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.accepted = threading.Event()
        self.connections: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            self.connections.append(connection)
            self.accepted.set()

    def close(self) -> None:
        self.socket.close()
        for connection in self.connections:
            connection.close()


class Client:
    """pygls' client running the real server; records ``dvcstage/changed``."""

    def __init__(self) -> None:
        from dvcstage_lsp.server import plain_converter
        from lsprotocol import types
        from pygls.lsp.client import LanguageClient

        self.client = LanguageClient("bench-remote", "0", converter_factory=plain_converter)
        self.changed: list[tuple[float, dict[str, Any]]] = []
        self.event = asyncio.Event()

        @self.client.feature("dvcstage/changed")  # type: ignore[untyped-decorator]
        def changed(params: dict[str, Any]) -> None:
            self.changed.append((time.perf_counter(), params))
            self.event.set()

        @self.client.feature(types.WINDOW_LOG_MESSAGE)  # type: ignore[untyped-decorator]
        def log(params: Any) -> None:
            pass

    async def start(self, repo: Path, options: dict[str, Any]) -> float:
        """Spawn, initialize; the time ``initialized`` was sent."""
        from lsprotocol import types

        await self.client.start_io(
            sys.executable, "-m", "dvcstage_lsp", env=server_env(repo), cwd=str(repo)
        )
        await self.client.initialize_async(
            types.InitializeParams(
                capabilities=types.ClientCapabilities(),
                root_uri=repo.as_uri(),
                workspace_folders=[types.WorkspaceFolder(uri=repo.as_uri(), name=repo.name)],
                initialization_options={"cacheDir": str(repo.parent / f"{repo.name}-cache")}
                | options,
            )
        )
        sent = time.perf_counter()
        self.client.initialized(types.InitializedParams())
        return sent

    async def until(self, count: int, remote_only: bool = True) -> float:
        """When ``count`` experiment runs had been announced as new."""
        while True:
            new = [t for t, n in self.changed if n.get("new") and n.get("kind") == "experiment"]
            if len(new) >= count:
                return new[count - 1]
            self.event.clear()
            await asyncio.wait_for(self.event.wait(), 120)

    async def request(self, method: str, params: Any) -> Any:
        return await self.client.protocol.send_request_async(method, params)

    async def stop(self) -> None:
        try:
            await asyncio.wait_for(self.client.shutdown_async(None), 10)
            self.client.exit(None)
        finally:
            await self.client.stop()  # type: ignore[no-untyped-call]


def summary(seconds: list[float]) -> dict[str, float]:
    return {
        "median_ms": statistics.median(seconds) * 1000,
        "p95_ms": percentile(seconds, 0.95) * 1000,
        "n": len(seconds),
    }


def timed(*args: str, cwd: Path) -> float:
    started = time.perf_counter()
    sh(*args, cwd=cwd)
    return time.perf_counter() - started


async def measure_listing(team: Team, repeat: int, shown: int) -> dict[str, Any]:
    lsp, dvc = [], []
    for i in range(repeat):
        repo = teammate(team, f"list-{i}")
        client = Client()
        sent = await client.start(repo, {"maxRevisions": shown})
        announced = await client.until(shown)
        lsp.append(announced - sent)
        runs = await client.request("dvcstage/runs", {})
        assert sum(1 for r in runs["runs"] if "remote" in r) == shown
        await client.stop()
        dvc.append(timed("dvc", "exp", "list", "origin", "--all-commits", "--name-only", cwd=repo))
    return {"lsp": summary(lsp), "dvc_exp_list": summary(dvc)}


async def measure_runs(team: Team, requests: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for case in ("no remote", "remote never answers"):
        silent = SilentServer()
        repo = teammate(team, f"runs-{case.replace(' ', '-')}")
        options: dict[str, Any] = {"remoteExperiments": "none"}
        if case != "no remote":
            options = {"remoteExperiments": f"http://127.0.0.1:{silent.port}/r.git"}
            options["remoteTimeout"] = 3600
        client = Client()
        await client.start(repo, options)
        if case != "no remote":
            await asyncio.to_thread(silent.accepted.wait)
        times = []
        for _ in range(requests):
            started = time.perf_counter()
            await client.request("dvcstage/runs", {})
            times.append(time.perf_counter() - started)
        results[case] = summary(times)
        await client.stop()
        silent.close()
    return results


async def measure_open(team: Team) -> dict[str, Any]:
    repo = teammate(team, "open")
    client = Client()
    await client.start(repo, {"maxRevisions": len(team.opens) + 2})
    await client.until(len(team.opens) + 1)
    media, item = [], []
    for name in team.opens:
        run = f"experiment:{name}:dvclive"
        started = time.perf_counter()
        await client.request("dvcstage/media", {"run": run})
        media.append(time.perf_counter() - started)
        started = time.perf_counter()
        answer = await client.request("dvcstage/item", {"run": run, "key": "pred", "step": 2})
        item.append(time.perf_counter() - started)
        assert answer["problems"] == [] and all(f["exists"] for f in answer["files"])
    await client.stop()
    pull_git, pull_all = [], []
    for i, name in enumerate(team.opens):
        other = teammate(team, f"pull-{i}")
        pull_git.append(timed("dvc", "exp", "pull", "origin", name, "--no-cache", cwd=other))
        pull_all.append(timed("dvc", "exp", "pull", "origin", "exp-a", cwd=other))
    return {
        "lsp_media_with_fetch": summary(media),
        "lsp_first_item": summary(item),
        "dvc_exp_pull_no_cache": summary(pull_git),
        "dvc_exp_pull": summary(pull_all),
    }


def report(results: dict[str, Any]) -> str:
    def row(label: str, s: dict[str, float]) -> str:
        return f"| {label} | {s['median_ms']:.1f} ms | {s['p95_ms']:.1f} ms | {s['n']} |"

    lines = [
        f"Remote: {results['refs'] + 1 + results['opens']} experiment refs; "
        f"{results['shown']} shown.",
        "",
        "| | median | p95 | n |",
        "|---|---|---|---|",
        row("dvcstage-lsp: initialized -> remote experiments announced", results["listing"]["lsp"]),
        row("`dvc exp list origin --all-commits --name-only`", results["listing"]["dvc_exp_list"]),
        row("`dvcstage/runs`, no remote", results["runs"]["no remote"]),
        row(
            "`dvcstage/runs` while the remote never answers",
            results["runs"]["remote never answers"],
        ),
        row(
            "`dvcstage/media` on a remote experiment (fetch + list + answer)",
            results["open"]["lsp_media_with_fetch"],
        ),
        row(
            "then its first `dvcstage/item` (image via DVC remote)",
            results["open"]["lsp_first_item"],
        ),
        row("`dvc exp pull origin <exp> --no-cache`", results["open"]["dvc_exp_pull_no_cache"]),
        row("`dvc exp pull origin <exp>`", results["open"]["dvc_exp_pull"]),
    ]
    return "\n".join(lines)


@contextmanager
def temporary(keep: bool) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="bench-remote-"))
    try:
        yield path
    finally:
        if not keep:
            import shutil

            shutil.rmtree(path, ignore_errors=True)


async def run_all(args: argparse.Namespace, base: Path) -> dict[str, Any]:
    os.environ["GIT_CEILING_DIRECTORIES"] = str(base)
    team = make_team(base, args.refs, args.opens)
    return {
        "refs": args.refs,
        "opens": args.opens,
        "shown": args.max_revisions,
        "listing": await measure_listing(team, args.repeat, args.max_revisions),
        "runs": await measure_runs(team, args.requests),
        "open": await measure_open(team),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--refs", type=int, default=10_000)
    parser.add_argument("--opens", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--max-revisions", type=int, default=20)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    with temporary(args.keep) as base:
        results = asyncio.run(run_all(args, base))
    print(report(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
