"""What every media kind hands to the writer: encoded bytes and the facts for the index."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any


@dataclass(frozen=True)
class EncodedFile:
    """One file of an item, ready to be written atomically (path relative to the run dir)."""

    path: PurePosixPath
    data: bytes
    role: str
    name: str | None = None


@dataclass(frozen=True)
class EncodedItem:
    """A logged item after encoding: its files in write order and its index facts.

    ``owned`` lists files and folders that belong to this item: anything under them that is
    not among ``files`` is stale (from an earlier step that used the same name) and removed.
    """

    kind: str
    key: str
    step: int
    files: tuple[EncodedFile, ...]
    owned: tuple[PurePosixPath, ...] = ()
    facts: dict[str, Any] = field(default_factory=dict)
