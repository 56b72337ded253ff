"""Histogram and metric series read from a run's TSV files, for charts.

- Histograms: ``plots/histograms/<key>.tsv`` (``<key>/<item>.tsv`` for list items) with
  columns ``step, bin, low, high, count``. If a step was written twice, its last block wins.
- Metrics: DVCLive's ``plots/metrics/<name>.tsv`` with columns ``timestamp, step, <name>``
  (``timestamp`` may be absent).

Rows that do not parse are skipped; a torn last row (no newline) is ignored. Parsed series
are cached by file identity, size and modification time.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from pathlib import Path, PurePosixPath
from typing import Any

HISTOGRAMS_FOLDER = PurePosixPath("plots/histograms")
METRICS_FOLDER = PurePosixPath("plots/metrics")
MAX_SERIES_BYTES = 256 * 1024 * 1024
_CACHE_SIZE = 32
_cache: OrderedDict[tuple[str, str, int, int, int], Any] = OrderedDict()


def histogram_path(key: str, item: int | None = None) -> str:
    """The run-relative TSV of a histogram key."""
    if item is None:
        return str(HISTOGRAMS_FOLDER / f"{key}.tsv")
    return str(HISTOGRAMS_FOLDER / key / f"{item}.tsv")


def metric_path(name: str) -> str:
    """The run-relative TSV of a metric."""
    return str(METRICS_FOLDER / f"{name}.tsv")


def _number(text: str) -> float | int | None:
    """A TSV field as an int or a finite float; ``None`` if it is not a finite number."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _rows(path: Path) -> tuple[list[str], list[list[str]]]:
    """The header and the complete rows of a TSV file (a torn last row is dropped)."""
    with open(path, "rb") as handle:
        data = handle.read(MAX_SERIES_BYTES)
    text = data.decode("utf-8", errors="replace")
    lines = text.split("\n")
    lines.pop()  # after the last newline: empty, or a torn row
    if not lines:
        return [], []
    header = lines[0].rstrip("\r").split("\t")
    return header, [line.rstrip("\r").split("\t") for line in lines[1:] if line]


def _cached(kind: str, path: Path, parse: Any) -> Any:
    stat = path.stat()
    key = (kind, str(path), stat.st_ino, stat.st_size, stat.st_mtime_ns)
    if key in _cache:
        _cache.move_to_end(key)
        return _cache[key]
    value = parse(path)
    _cache[key] = value
    while len(_cache) > _CACHE_SIZE:
        _cache.popitem(last=False)
    return value


def _parse_histogram(path: Path) -> list[dict[str, Any]]:
    header, rows = _rows(path)
    columns = {name: i for i, name in enumerate(header)}
    needed = ("step", "low", "high", "count")
    if any(name not in columns for name in needed):
        return []
    at = [columns[name] for name in needed]
    bin_at = columns.get("bin")
    width = max(at) + 1
    steps: dict[int, list[dict[str, Any]]] = {}
    current: int | None = None
    last_bin = -1
    for row in rows:
        if len(row) < width:
            continue
        step, low, high, count = (_number(row[i]) for i in at)
        if not isinstance(step, int) or step < 0 or None in (low, high, count):
            continue
        position = _number(row[bin_at]) if bin_at is not None and bin_at < len(row) else None
        restart = isinstance(position, int) and position <= last_bin
        if step != current or restart:  # a new block: a step written again replaces the last
            steps[step] = []
            current = step
        last_bin = position if isinstance(position, int) else last_bin + 1
        steps[step].append({"low": low, "high": high, "count": count})
    return [{"step": step, "bins": steps[step]} for step in sorted(steps)]


def _parse_metric(path: Path) -> list[dict[str, Any]]:
    header, rows = _rows(path)
    if "step" not in header:
        return []
    step_at = header.index("step")
    value_columns = [i for i, name in enumerate(header) if name not in ("step", "timestamp")]
    if not value_columns:
        return []
    value_at = value_columns[-1]
    points: dict[int, Any] = {}
    for row in rows:
        if len(row) <= max(step_at, value_at):
            continue
        step = _number(row[step_at])
        if not isinstance(step, int) or step < 0:
            continue
        points[step] = _number(row[value_at])  # a later row for a step replaces (a resume)
    return [{"step": step, "value": points[step]} for step in sorted(points)]


def histogram_series(path: Path) -> list[dict[str, Any]]:
    """``[{step, bins: [{low, high, count}]}]`` from a histogram TSV, in step order."""
    result: list[dict[str, Any]] = _cached("histogram", path, _parse_histogram)
    return result


def metric_series(path: Path) -> list[dict[str, Any]]:
    """``[{step, value}]`` from a DVCLive metric TSV (``value`` null when not finite)."""
    result: list[dict[str, Any]] = _cached("metric", path, _parse_metric)
    return result


def metric_names(run_dir: Path) -> list[str]:
    """The metrics of a run: ``plots/metrics/**/*.tsv`` without the suffix."""
    folder = run_dir / METRICS_FOLDER
    if not folder.is_dir():
        return []
    names = []
    for path in folder.rglob("*.tsv"):
        if path.is_file() and not path.is_symlink():
            names.append(path.relative_to(folder).with_suffix("").as_posix())
    return sorted(names)
