"""Answers to the custom requests, computed from the runs in memory and the run folders.

Each function takes the already checked params and returns a result matching its schema in
``schemas/protocol-*.schema.json``, or raises :class:`~dvcstage_lsp.protocol.QueryError`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from . import protocol as p
from .paths import PathRefusedError, file_uri, resolve_inside
from .revisions import RevisionRun
from .runs import IndexLine, Run, RunRegistry
from .series import histogram_path, histogram_series, metric_path, metric_series

MAX_SIDECAR_BYTES = 16 * 1024 * 1024


def _name(value: Any) -> bool:
    return isinstance(value, str) and value != ""


def _count(value: Any) -> bool:
    return type(value) is int and value >= 0


# What each method's params schema certainly accepts, checked by hand (a subset of what the
# schema accepts: anything else goes to the schema, which decides and says why). It saves
# importing jsonschema before the first answers; tests check it against the schemas.
_REQUIRED: dict[str, frozenset[str]] = {
    p.RUNS: frozenset(),
    p.MEDIA: frozenset({"run"}),
    p.ITEM: frozenset({"run", "key", "step"}),
    p.SERIES: frozenset({"run", "key", "kind"}),
}
_ALLOWED: dict[str, frozenset[str]] = {
    p.RUNS: frozenset(),
    p.MEDIA: frozenset({"run"}),
    p.ITEM: frozenset({"run", "key", "step", "item"}),
    p.SERIES: frozenset({"run", "key", "kind", "item"}),
}


def surely_valid(method: str, params: dict[str, Any]) -> bool:
    """Whether ``params`` certainly match ``method``'s params schema (``False``: ask it)."""
    if method == p.ITEMS:
        items = params.get("items")
        return (
            params.keys() == {"items"}
            and type(items) is list
            and 1 <= len(items) <= p.MAX_ITEMS
            and all(type(one) is dict and surely_valid(p.ITEM, one) for one in items)
        )
    required, allowed = _REQUIRED.get(method), _ALLOWED.get(method)
    if required is None or allowed is None or not required <= params.keys() <= allowed:
        return False
    return (
        all(_name(params[name]) for name in ("run", "key") if name in params)
        and all(_count(params[name]) for name in ("step", "item") if name in params)
        and params.get("kind", "histogram") in ("histogram", "metric")
    )


def check_params(method: str, params: Any) -> dict[str, Any]:
    """``params`` as a dict if it matches the method's params schema; else a QueryError."""
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise p.QueryError(p.INVALID_PARAMS, f"{method}: params must be an object")
    if surely_valid(method, params):
        return params
    from dvcstage import schemas  # here: jsonschema takes a tenth of a second to import

    problems = schemas.schema_errors(p.SCHEMAS[method][0], params)
    if problems:
        raise p.QueryError(p.INVALID_PARAMS, f"{method}: invalid params: {'; '.join(problems)}")
    return params


def find_run(registry: RunRegistry, run_id: str) -> Run:
    """The run with id ``run_id``; a QueryError (unknown run) if there is none."""
    run = registry.get(run_id)
    if run is None:
        known = ", ".join(sorted(registry.all_ids())[:10]) or "none"
        raise p.QueryError(p.UNKNOWN_RUN, f"unknown run {run_id!r} (known: {known})")
    return run


def run_info(run: Run) -> p.RunInfo:
    """One entry of ``dvcstage/runs``."""
    info: p.RunInfo = {
        "id": run.id,
        "label": run.id.removeprefix("workspace:"),
        "revision": "workspace",
        "kind": "workspace",
        "lastStep": run.index.last_step,
        "dir": run.relative_dir,
        "folder": file_uri(run.folder),
        "items": len(run.index.latest),
    }
    if isinstance(run, RevisionRun):
        info["label"] = run.label
        info["revision"] = run.revision.sha
        info["kind"] = run.kind
        info["refs"] = list(run.revision.names)
        if run.revision.time:
            info["time"] = run.revision.time
        if run.revision.baseline:
            info["baseline"] = run.revision.baseline
        if run.revision.remote:
            info["remote"] = run.revision.remote
    return info


def runs(registry: RunRegistry) -> p.RunsResult:
    """``dvcstage/runs``: the workspace's runs, then those of revisions and experiments."""
    result = [run_info(run) for run in sorted(registry.runs.values(), key=lambda r: r.id)]
    revision_runs = sorted(
        registry.revision_runs.values(),
        key=lambda r: (
            r.kind if isinstance(r, RevisionRun) else "",
            -(r.revision.time if isinstance(r, RevisionRun) else 0),
            r.id,
        ),
    )
    result += [run_info(run) for run in revision_runs]
    return {"runs": result}


def media(registry: RunRegistry, run_id: str) -> p.MediaResult:
    """``dvcstage/media``: each key of a run with its kind and steps, and its metrics."""
    run = find_run(registry, run_id)
    keys: list[p.KeyEntry] = []
    for key in sorted(run.index.keys):
        info = run.index.keys[key]
        entry: p.KeyEntry = {"key": key, "kind": info.kind, "steps": info.sorted_steps()}
        if info.items:
            entry["items"] = sorted(info.items)
        keys.append(entry)
    metrics: list[p.MetricEntry] = [
        {"name": name, "uri": file_uri(run.dir / metric_path(name))} for name in run.metrics()
    ]
    return {"run": run.id, "keys": keys, "metrics": metrics}


def _pointer(parts: tuple[str | int, ...]) -> str:
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def _links(
    sidecar: dict[str, Any], folder: Path, roots: list[Path], problems: list[str]
) -> list[p.Link]:
    """The paths a sidecar holds (mask files, a kind's files), resolved from its folder."""
    found: list[tuple[tuple[str | int, ...], Any]] = []
    masks = sidecar.get("masks")
    if isinstance(masks, dict):
        for name, mask in masks.items():
            if isinstance(mask, dict):
                found.append((("masks", name, "path"), mask.get("path")))
    files = sidecar.get("files")
    if isinstance(files, list):
        for i, file in enumerate(files):
            if isinstance(file, dict):
                found.append((("files", i, "path"), file.get("path")))
    links: list[p.Link] = []
    for parts, relative in found:
        if not isinstance(relative, str):
            continue
        try:
            target = resolve_inside(folder, relative, roots)
        except PathRefusedError as exc:
            problems.append(f"sidecar {_pointer(parts)}: {exc}")
            continue
        links.append(
            {"pointer": _pointer(parts), "uri": file_uri(target), "exists": target.is_file()}
        )
    return links


def _read_sidecar(path: Path, problems: list[str]) -> dict[str, Any] | None:
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_SIDECAR_BYTES + 1)
    except OSError as exc:
        problems.append(f"sidecar: cannot read: {exc.strerror or exc}")
        return None
    if len(data) > MAX_SIDECAR_BYTES:
        problems.append(f"sidecar: larger than {MAX_SIDECAR_BYTES} bytes, not read")
        return None
    try:
        document = json.loads(data)
    except (ValueError, RecursionError) as exc:
        problems.append(f"sidecar: not JSON: {exc}")
        return None
    if not isinstance(document, dict):
        problems.append("sidecar: not a JSON object")
        return None
    return document


def index_line(run: Run, params: dict[str, Any]) -> IndexLine:
    """The latest index line of the (key, step, item) ``params`` name; else a QueryError."""
    key, step, position = params["key"], params["step"], params.get("item", 0)
    if key not in run.index.keys:
        raise p.QueryError(p.UNKNOWN_KEY, f"run {run.id!r} has no key {key!r}")
    entry = run.index.latest.get((key, step, position))
    if entry is None:
        where = f"step {step}" + (f" item {position}" if "item" in params else "")
        raise p.QueryError(p.UNKNOWN_STEP, f"key {key!r} of run {run.id!r} has no {where}")
    return entry


def item(registry: RunRegistry, params: dict[str, Any]) -> p.ItemResult:
    """``dvcstage/item``: the files of one item with their roles, and its parsed sidecar."""
    run = find_run(registry, params["run"])
    key, step, position = params["key"], params["step"], params.get("item", 0)
    entry = index_line(run, params)
    line = entry.parsed()
    roots = registry.roots_for(run)
    problems: list[str] = []
    files: list[p.FileEntry] = []
    sidecar_path: Path | None = None
    for file in line["files"]:
        try:
            target = resolve_inside(run.dir, file["path"], roots)
        except PathRefusedError as exc:
            problems.append(f"files: {exc}")
            continue
        bytes_ = file.get("bytes")
        entry_out: p.FileEntry = {
            "role": file["role"],
            "path": file["path"],
            "uri": file_uri(target),
            "bytes": bytes_ if isinstance(bytes_, int) and not isinstance(bytes_, bool) else 0,
            "exists": target.is_file(),
        }
        if isinstance(file.get("name"), str):
            entry_out["name"] = file["name"]
        if isinstance(file.get("schema"), str):
            entry_out["schema"] = file["schema"]
        files.append(entry_out)
        if file["role"] == "sidecar":
            sidecar_path = target
    if sidecar_path is None and isinstance(line.get("sidecar"), str):
        try:
            sidecar_path = resolve_inside(run.dir, line["sidecar"], roots)
        except PathRefusedError as exc:
            problems.append(f"sidecar: {exc}")
    sidecar = _read_sidecar(sidecar_path, problems) if sidecar_path is not None else None
    links = (
        _links(sidecar, sidecar_path.parent, roots, problems) if sidecar and sidecar_path else []
    )
    result: p.ItemResult = {
        "run": run.id,
        "key": key,
        "step": step,
        "kind": line["kind"],
        "files": files,
        "sidecar": sidecar,
        "links": links,
        "problems": problems,
    }
    if entry.has_item:
        result["item"] = position
    for name in ("width", "height"):
        value = line.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
            result[name] = value
    if isinstance(line.get("facts"), dict):
        result["facts"] = line["facts"]
    if isinstance(line.get("time"), (int, float)) and not isinstance(line.get("time"), bool):
        result["time"] = float(line["time"])
    return result


def series(registry: RunRegistry, params: dict[str, Any]) -> p.SeriesResult:
    """``dvcstage/series``: a histogram's bins per step, or a metric's points."""
    run = find_run(registry, params["run"])
    key, kind = params["key"], params["kind"]
    position = params.get("item")
    if kind == "histogram":
        info = run.index.keys.get(key)
        if info is None or info.kind != "histogram":
            raise p.QueryError(p.UNKNOWN_KEY, f"run {run.id!r} has no histogram {key!r}")
        relative = histogram_path(key, position)
    else:
        relative = metric_path(key)
    try:
        target = resolve_inside(run.dir, relative, registry.roots_for(run))
    except PathRefusedError as exc:
        raise p.QueryError(p.FILE_REFUSED, f"{kind} {key!r}: {exc}") from exc
    if not target.is_file():
        raise p.QueryError(p.UNKNOWN_KEY, f"run {run.id!r} has no {kind} series {key!r}")
    result: p.SeriesResult = {"run": run.id, "key": key, "kind": kind, "uri": file_uri(target)}
    try:
        if kind == "histogram":
            result["steps"] = histogram_series(target)  # type: ignore[typeddict-item]
        else:
            result["points"] = metric_series(target)  # type: ignore[typeddict-item]
    except OSError as exc:
        raise p.QueryError(p.FILE_REFUSED, f"{kind} {key!r}: cannot read: {exc}") from exc
    return result
