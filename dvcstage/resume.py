"""Resuming a run: drop the rows a step cut short left in metric and histogram series.

A run resumes after the last step whose ``next_step()`` returned. Rows of later steps came
from a step that never finished; the resumed run logs that step again, so keeping them would
show it twice.
"""

from __future__ import annotations

from pathlib import Path

from .atomic import write_bytes_atomic


def _step_column(header: bytes) -> int | None:
    names = header.rstrip(b"\n").split(b"\t")
    return names.index(b"step") if b"step" in names else None


def prune_series(path: Path, from_step: int) -> bool:
    """Remove rows with ``step >= from_step`` (and a torn last row) from one TSV series.

    Returns whether the file changed. Rows are kept in order; a file whose header has no
    ``step`` column is left alone.
    """
    data = path.read_bytes()
    rows = data.splitlines(keepends=True)
    if not rows:
        return False
    column = _step_column(rows[0])
    if column is None:
        return False
    kept = [rows[0]]
    for row in rows[1:]:
        if not row.endswith(b"\n"):
            continue  # torn by a crash
        fields = row.split(b"\t")
        value = fields[column].strip() if column < len(fields) else b""
        if value.isdigit() and len(value) < 19 and int(value) >= from_step:
            continue
        kept.append(row)
    text = b"".join(kept)
    if text == data:
        return False
    write_bytes_atomic(path, text)
    return True


def prune_rows_from(plots_dir: Path, from_step: int) -> list[Path]:
    """:func:`prune_series` for every TSV under ``plots_dir``; returns the files changed."""
    changed = []
    for path in sorted(plots_dir.rglob("*.tsv")) if plots_dir.is_dir() else ():
        if "histogram-views" in path.relative_to(plots_dir).parts:
            continue  # derived from the series: rebuilt from them
        if prune_series(path, from_step):
            changed.append(path)
    return changed
