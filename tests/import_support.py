"""Helpers of the importer tests: run the command, snapshot a tree, ask the language server."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

from conftest import run

LSP_DIR = Path(__file__).resolve().parents[1] / "lsp"


def dvcstage_import(*args: str, cwd: Path, check: bool = True) -> Any:
    """``dvcstage import ARGS`` in ``cwd``, without a progress bar; returns the process."""
    done = run("dvcstage", "import", *args, "--no-progress", cwd=cwd, check=False)
    if check:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


def tree_state(root: Path) -> dict[str, tuple[str, int]]:
    """Every file under ``root``: its digest and modification time."""
    return {
        path.relative_to(root).as_posix(): (
            hashlib.sha256(path.read_bytes()).hexdigest(),
            path.stat().st_mtime_ns,
        )
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def metric_series(run_dir: Path, name: str) -> dict[int, str]:
    """A DVCLive metric TSV as {step: value as written}."""
    with open(run_dir / "plots" / "metrics" / f"{name}.tsv", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    leaf = name.rsplit("/", 1)[-1]
    return {int(row["step"]): row[leaf] for row in rows}


def histogram_series(run_dir: Path, key: str) -> dict[int, tuple[list[float], list[float]]]:
    """A histogram series TSV as {step: (edges, counts)}."""
    with open(run_dir / "plots" / "histograms" / f"{key}.tsv", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    series: dict[int, tuple[list[float], list[float]]] = {}
    for row in rows:
        edges, counts = series.setdefault(int(row["step"]), ([], []))
        if not edges:
            edges.append(float(row["low"]))
        edges.append(float(row["high"]))
        counts.append(float(row["count"]))
    return series


def sidecar(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


async def _panel_view(workspace: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    from pytest_lsp import ClientServerConfig
    from test_lsp_server import child_env, init_params, make_client, request

    config = ClientServerConfig(
        server_command=[sys.executable, "-m", "dvcstage_lsp", "--revisions", "none"],
        client_factory=make_client,
        server_env=child_env(workspace.parent),
    )
    client = await config.start()
    try:
        await client.initialize_session(init_params(workspace))
        runs = (await request(client, "dvcstage/runs", {}))["runs"]
        media = {r["id"]: await request(client, "dvcstage/media", {"run": r["id"]}) for r in runs}
        await client.shutdown_session()
    finally:
        await client.stop()
    return runs, media


def panel_view(workspace: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """What the media panel's language server lists for ``workspace``: runs, and each one's
    keys and metrics (``dvcstage/runs`` and ``dvcstage/media``, from the real server)."""
    os.environ.setdefault("PYTHONPATH", str(LSP_DIR))
    return asyncio.run(_panel_view(workspace))
