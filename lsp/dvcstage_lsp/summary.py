"""``dvcstage/summary``: the parameters and final metrics of runs, for the panel's runs table.

For each run it reads, of the run's own revision (the working tree, a commit or an
experiment; revisions from git objects, without a checkout):

- ``params``: the nearest ``params.yaml`` above the run folder, up to the workspace folder
  (DVC's default parameters file, what ``dvc exp run -S train.lr=0.1`` changes), then the run
  folder's own ``params.yaml`` (DVCLive's ``log_param``), whose values win. Nested mappings
  are flattened with ``.`` (``train.lr``), as DVC names parameters.
- ``metrics``: the run folder's ``metrics.json`` (DVCLive's summary), nested objects
  flattened with ``/`` (``train/loss``), as DVCLive names metrics; summary histograms
  (``{"_type": "histogram"}``) are left out.

Values are numbers, strings, booleans or ``null``; a list becomes its JSON text. A file that
is missing is simply not used; one that cannot be parsed is reported in ``problems``. Answers
are cached: a revision's never change, a workspace file's until its size or time changes.
"""

from __future__ import annotations

import json
import math
import subprocess
from collections import OrderedDict
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, TypedDict

from . import protocol as p
from .revisions import RevisionRun, git
from .runs import Run, RunRegistry

if TYPE_CHECKING:
    from .server import DvcstageLanguageServer

METHOD = "dvcstage/summary"

PARAMS_FILE = "params.yaml"
METRICS_FILE = "metrics.json"
MAX_FILE_BYTES = 1024 * 1024
MAX_VALUES = 500
MAX_TEXT = 200
_CACHE_SIZE = 256

Scalar = str | int | float | bool | None


class RunSummary(TypedDict):
    """One run's parameters and final metrics (``schemas/protocol-summary-result``)."""

    run: str
    params: dict[str, Scalar]
    metrics: dict[str, Scalar]
    problems: list[str]


class SummaryResult(TypedDict):
    """Result of ``dvcstage/summary``."""

    runs: list[RunSummary]


_cache: OrderedDict[tuple[Any, ...], tuple[dict[str, Scalar], list[str]]] = OrderedDict()
_revision_cache: OrderedDict[
    tuple[str, str, str, str], tuple[dict[str, Scalar], dict[str, Scalar], list[str]]
] = OrderedDict()


def _remember(key: tuple[Any, ...], value: tuple[dict[str, Scalar], list[str]]) -> None:
    _cache[key] = value
    _cache.move_to_end(key)
    while len(_cache) > _CACHE_SIZE:
        _cache.popitem(last=False)


def _scalar(value: Any) -> Scalar:
    """A JSON scalar for ``value``: lists and other objects as (short) JSON text."""
    if value is None or isinstance(value, (bool, int, str)):
        return value[:MAX_TEXT] if isinstance(value, str) else value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    try:
        text = json.dumps(value, default=str, separators=(",", ":"))
    except (TypeError, ValueError, RecursionError):
        text = str(value)
    return text[:MAX_TEXT]


def flatten(value: Any, separator: str, prefix: str = "") -> dict[str, Scalar]:
    """Nested mappings as ``{"a.b": leaf}`` (at most ``MAX_VALUES`` leaves)."""
    out: dict[str, Scalar] = {}

    def walk(node: Any, path: str, depth: int) -> None:
        if len(out) >= MAX_VALUES:
            return
        if isinstance(node, dict) and depth < 16:
            if node.get("_type") == "histogram":
                return  # a summary histogram: not a number to sort by
            for key, child in node.items():
                walk(child, f"{path}{separator}{key}" if path else str(key), depth + 1)
        elif path:
            out[path] = _scalar(node)

    walk(value, prefix, 0)
    return out


def _parse_yaml(data: bytes) -> Any:
    from ruamel.yaml import YAML  # a dependency of DVC; imported only when asked

    return YAML(typ="safe").load(data)


def parse_params(data: bytes, name: str, problems: list[str]) -> dict[str, Scalar]:
    """The flattened parameters of a ``params.yaml``; a problem if it does not parse."""
    try:
        document = _parse_yaml(data)
    except Exception as exc:  # ruamel raises many kinds
        problems.append(f"{name}: not valid YAML: {str(exc).splitlines()[0] if str(exc) else exc}")
        return {}
    if document is None:
        return {}
    if not isinstance(document, dict):
        problems.append(f"{name}: not a mapping of parameters")
        return {}
    return flatten(document, ".")


def parse_metrics(data: bytes, name: str, problems: list[str]) -> dict[str, Scalar]:
    """The flattened metrics of a ``metrics.json``; a problem if it does not parse."""
    try:
        document = json.loads(data)
    except (ValueError, RecursionError) as exc:
        problems.append(f"{name}: not JSON: {exc}")
        return {}
    if not isinstance(document, dict):
        problems.append(f"{name}: not a JSON object")
        return {}
    return flatten(document, "/")


def _read_file(path: Path, name: str, problems: list[str]) -> bytes | None:
    """A workspace file's bytes; ``None`` if it is not there."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        return None
    except OSError as exc:
        problems.append(f"{name}: cannot read: {exc.strerror or exc}")
        return None
    if len(data) > MAX_FILE_BYTES:
        problems.append(f"{name}: larger than {MAX_FILE_BYTES} bytes, not read")
        return None
    return data


def _workspace_values(path: Path, name: str, metrics: bool) -> tuple[dict[str, Scalar], list[str]]:
    """A workspace file's values and problems, cached by its identity, size and time."""
    try:
        stat = path.stat()
    except OSError:
        return {}, []
    key = (str(path), stat.st_ino, stat.st_size, stat.st_mtime_ns)
    if key in _cache:
        _cache.move_to_end(key)
        return _cache[key]
    problems: list[str] = []
    data = _read_file(path, name, problems)
    values: dict[str, Scalar] = {}
    if data is not None:
        values = (parse_metrics if metrics else parse_params)(data, name, problems)
    _remember(key, (values, problems))
    return values, problems


def _params_folders(run_dir: PurePosixPath) -> list[PurePosixPath]:
    """The folders from the workspace folder down to the run folder's parent."""
    parents = list(run_dir.parents)[::-1]  # "." first
    return [PurePosixPath(".")] + [f for f in parents if str(f) != "."]


def _workspace_summary(run: Run) -> RunSummary:
    problems: list[str] = []
    params: dict[str, Scalar] = {}
    relative = PurePosixPath(run.relative_dir)
    nearest: Path | None = None
    for folder in _params_folders(relative):
        candidate = run.folder.joinpath(*folder.parts, PARAMS_FILE)
        if candidate.is_file() and candidate.parent != run.dir:
            nearest = candidate
    sources = [nearest] if nearest is not None else []
    sources.append(run.dir / PARAMS_FILE)
    for path in sources:
        name = path.relative_to(run.folder).as_posix()
        values, more = _workspace_values(path, name, metrics=False)
        problems += more
        params.update(values)
    metrics_path = run.dir / METRICS_FILE
    metrics, more = _workspace_values(
        metrics_path, metrics_path.relative_to(run.folder).as_posix(), metrics=True
    )
    problems += more
    return {"run": run.id, "params": params, "metrics": metrics, "problems": problems}


def _revision_blobs(root: Path, sha: str, paths: list[str]) -> dict[str, bytes]:
    """``{path: bytes}`` for the paths that exist in revision ``sha`` (one git call)."""
    if not paths:
        return {}
    stdin = "".join(f"{sha}:{path}\n" for path in paths).encode()
    try:
        out = git(root, "cat-file", "--batch", stdin=stdin)
    except (subprocess.CalledProcessError, OSError):
        return {}
    found: dict[str, bytes] = {}
    at = 0
    for path in paths:
        end = out.index(b"\n", at)
        header = out[at:end].split()
        at = end + 1
        if len(header) == 3 and header[1] == b"blob":
            size = int(header[2])
            if size <= MAX_FILE_BYTES:
                found[path] = out[at : at + size]
            at += size + 1
    return found


def _revision_summary(run: RevisionRun) -> RunSummary:
    key = (str(run.repo_root), run.revision.sha, run.repo_dir, run.folder_dir)
    cached = _revision_cache.get(key)
    if cached is None:
        cached = _read_revision(run)
        _revision_cache[key] = cached
        while len(_revision_cache) > _CACHE_SIZE:
            _revision_cache.popitem(last=False)
    _revision_cache.move_to_end(key)
    params, metrics, problems = cached
    return {"run": run.id, "params": params, "metrics": metrics, "problems": list(problems)}


def _read_revision(run: RevisionRun) -> tuple[dict[str, Scalar], dict[str, Scalar], list[str]]:
    repo_dir = PurePosixPath(run.repo_dir)
    local = PurePosixPath(run.folder_dir)
    # The workspace folder's path in the repository: the run's repo dir minus its local dir.
    depth = 0 if str(local) == "." else len(local.parts)
    prefix = PurePosixPath(*repo_dir.parts[: len(repo_dir.parts) - depth]) if depth else repo_dir

    def repo_path(path: PurePosixPath) -> str:
        return path.as_posix().removeprefix("./")

    own_params = repo_path(repo_dir / PARAMS_FILE)
    metrics_file = repo_path(repo_dir / METRICS_FILE)
    candidates = [repo_path(prefix / folder / PARAMS_FILE) for folder in _params_folders(local)]
    candidates = [c for c in candidates if c != own_params]
    blobs = _revision_blobs(
        run.repo_root, run.revision.sha, [*candidates, own_params, metrics_file]
    )
    short = run.revision.short
    problems: list[str] = []
    params: dict[str, Scalar] = {}
    nearest = [c for c in candidates if c in blobs][-1:]
    for path in [*nearest, own_params]:
        if path in blobs:
            params.update(parse_params(blobs[path], f"{path} at {short}", problems))
    metrics: dict[str, Scalar] = {}
    if metrics_file in blobs:
        metrics = parse_metrics(blobs[metrics_file], f"{metrics_file} at {short}", problems)
    return params, metrics, problems


def run_summary(run: Run) -> RunSummary:
    """The parameters and final metrics of one run."""
    if isinstance(run, RevisionRun):
        return _revision_summary(run)
    return _workspace_summary(run)


def select_runs(registry: RunRegistry, params: dict[str, Any]) -> list[Run]:
    """The runs ``params`` ask for (every run when ``runs`` is absent), in that order."""
    wanted = params.get("runs")
    if wanted is None:
        return [*registry.runs.values(), *registry.revision_runs.values()]
    runs: list[Run] = []
    for run_id in dict.fromkeys(wanted):
        run = registry.get(run_id)
        if run is None:
            raise p.QueryError(p.UNKNOWN_RUN, f"unknown run {run_id!r}")
        runs.append(run)
    return runs


def summary(runs: list[Run]) -> SummaryResult:
    """``dvcstage/summary`` of ``runs``.

    Blocking for revisions (one ``git cat-file`` per revision not yet cached): call it from a
    worker thread.
    """
    return {"runs": [run_summary(run) for run in runs]}


def check_params(params: Any) -> dict[str, Any]:
    """``params`` if they match ``protocol-summary-params``; else a QueryError."""
    if params is None:
        return {}
    if isinstance(params, dict) and params.keys() <= {"runs"}:
        runs = params.get("runs")
        if runs is None and "runs" not in params:
            return params
        if isinstance(runs, list) and all(isinstance(r, str) and r for r in runs):
            return params
    from dvcstage import schemas

    problems = schemas.schema_errors("protocol-summary-params", params)
    if problems or not isinstance(params, dict):
        raise p.QueryError(p.INVALID_PARAMS, f"{METHOD}: invalid params: {'; '.join(problems)}")
    return params


def register(server: DvcstageLanguageServer) -> None:
    """Answer ``dvcstage/summary`` on ``server`` (git is read on a worker thread)."""
    import asyncio

    from pygls.exceptions import JsonRpcException

    from .server import PlainJson

    @server.feature(METHOD)
    async def answer(ls: DvcstageLanguageServer, params: Any) -> Any:
        try:
            query = check_params(params)
            runs = select_runs(ls.runs(), query)
            return PlainJson(await asyncio.to_thread(summary, runs))
        except p.QueryError as exc:
            raise JsonRpcException(message=exc.message, code=exc.code) from exc
