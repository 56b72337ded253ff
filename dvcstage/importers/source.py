"""What an importer reads out of another tool's run, before anything is written.

A reader (``tensorboard.py``, ``wandb.py``) turns one run of the other tool into a
:class:`SourceRun`: its parameters, its summary and a list of :class:`SourceItem` in step
order. Items load their payload lazily (``load()``), so a dry run touches no pixels and an
import holds one item's pixels at a time. ``writing.py`` writes a ``SourceRun`` with
:class:`dvcstage.Live`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

METRIC = "metric"
"""The kind of an item that is a number (or a string) logged at a step."""


@dataclass(frozen=True)
class SourceItem:
    """One value of a run at one step.

    Attributes:
        step: the step it was logged at (the other tool's step, kept as is).
        key: the name to log it under (already made safe by :func:`safe_key`).
        kind: ``metric``, or the dvcstage media kind it becomes (``image``, ``histogram``,
            ``audio``, ``video``, ``table``, ``html``, ``object3d``, ``molecule``).
        load: returns what ``Live.log`` takes for this key: a number or string for a metric,
            a dvcstage media object, or a list of them.
        count: how many media objects ``load()`` returns (a list of 3 images counts 3).
    """

    step: int
    key: str
    kind: str
    load: Callable[[], Any]
    count: int = 1


@dataclass
class SourceRun:
    """One run of another tool, ready to be written as a dvcstage run.

    Attributes:
        name: the run's name in the other tool (a folder name, a W&B run id).
        source: ``tensorboard`` or ``wandb``.
        path: the folder (or file) it was read from.
        files: the files it was read from; their sizes and times make :attr:`fingerprint`.
        params: parameters (TensorBoard hparams, W&B config).
        summary: final values that go to ``metrics.json`` only (W&B's summary).
        items: values at steps, in the order they were logged.
        notes: what could not be imported, one line each (said to the user).
    """

    name: str
    source: str
    path: Path
    files: list[Path] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    items: list[SourceItem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def fingerprint(self) -> str:
        """A digest of the source files' names, sizes and modification times."""
        return files_fingerprint(self.files)

    def sorted_items(self) -> list[SourceItem]:
        """The items by step; items of one step keep the order they were read in."""
        return sorted(self.items, key=lambda item: item.step)

    def counts(self) -> dict[str, int]:
        """How many values of each kind the run holds (metric points, media objects)."""
        counts: dict[str, int] = {}
        for item in self.items:
            counts[item.kind] = counts.get(item.kind, 0) + item.count
        return counts

    def keys(self) -> dict[str, tuple[str, int, int, int]]:
        """Each key with its kind, number of steps, first and last step."""
        found: dict[str, tuple[str, int, int, int]] = {}
        for item in self.items:
            kind, steps, first, last = found.get(item.key, (item.kind, 0, item.step, item.step))
            found[item.key] = (kind, steps + 1, min(first, item.step), max(last, item.step))
        return found


@dataclass(frozen=True)
class SourceOrigin:
    """What ``dvcstage import`` was pointed at: the folder and every file its runs come from.

    Found without reading any run, so that importing an unchanged source again can stop
    before reading it.
    """

    kind: str
    path: Path
    files: list[Path]

    @property
    def fingerprint(self) -> str:
        """A digest of the files' names, sizes and modification times."""
        return files_fingerprint(self.files)


def files_fingerprint(files: Iterable[Path]) -> str:
    """A digest of files' names, sizes and modification times."""
    digest = hashlib.sha256()
    for file in sorted(files):
        stat = file.stat()
        digest.update(f"{file}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


_UNSAFE_SEGMENT = re.compile(r"^\.+$")


def safe_key(name: str) -> str:
    """A tag or key of another tool as a dvcstage name: relative, no ``.``/``..`` segments.

    Backslashes become ``/``, empty segments (leading, trailing, doubled ``/``) are dropped,
    dot-only segments become ``_``, and NUL bytes are removed. ``"/train//loss"`` becomes
    ``"train/loss"``.
    """
    name = name.replace("\x00", "").replace("\\", "/")
    parts = [("_" if _UNSAFE_SEGMENT.match(part) else part) for part in name.split("/") if part]
    return "/".join(parts) or "_"


def safe_run_name(name: str) -> str:
    """A run name usable as one folder name (``/`` and other separators become ``-``)."""
    cleaned = re.sub(r"[\\/\x00:]+", "-", name).strip("-. ")
    return cleaned or "run"


def flatten(values: dict[str, Any], prefix: str = "", separator: str = ".") -> dict[str, Any]:
    """Nested dicts as one level, keys joined with ``separator``."""
    flat: dict[str, Any] = {}
    for key, value in values.items():
        name = f"{prefix}{separator}{key}" if prefix else str(key)
        if isinstance(value, dict) and value:
            flat.update(flatten(value, name, separator))
        else:
            flat[name] = value
    return flat


def all_files(folders: Iterable[Path]) -> list[Path]:
    """Every file under the folders (for a fingerprint)."""
    return sorted(p for folder in folders for p in folder.rglob("*") if p.is_file())
