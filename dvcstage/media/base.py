"""What every media kind shares: the slot it is written to and what it hands to the writer.

A kind is a class (the W&B door, e.g. ``dvcstage.Audio``) that validates and copies its
input in its constructor and turns it into bytes in :meth:`Media.encode` — a pure function
that the writer runs on a worker thread. The kinds do no I/O; the writer does it all.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, ClassVar

MEDIA_FOLDER = PurePosixPath("media")


@dataclass(frozen=True)
class EncodedFile:
    """One file of an item, ready to be written atomically (path relative to the run dir).

    ``append`` files (a histogram series) are appended to instead of replaced; ``header`` is
    written first when such a file is new or empty. ``schema`` names the schema in
    ``schemas/`` a JSON file must match; ``dvcstage validate`` checks it.
    """

    path: PurePosixPath
    data: bytes
    role: str
    name: str | None = None
    append: bool = False
    header: bytes | None = None
    schema: str | None = None


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


@dataclass(frozen=True)
class MediaSlot:
    """Where one logged item goes.

    ``stem`` is the run-relative path without suffix, e.g. ``media/audio/whale/3`` for key
    ``whale`` at step 3 (``media/audio/whale/0/3`` for the first of a list); the kind adds
    its suffixes (``3.wav``, ``3.json``).
    """

    stem: PurePosixPath
    key: str
    step: int
    item: int | None = None

    @classmethod
    def for_key(cls, kind: str, key: str, step: int, item: int | None = None) -> MediaSlot:
        """The slot of ``key`` at ``step`` under ``media/<kind>/``."""
        stem = MEDIA_FOLDER / kind / key
        if item is not None:
            stem = stem / str(item)
        return cls(stem / str(step), key, step, item)

    def file(self, suffix: str) -> PurePosixPath:
        """``stem`` with ``suffix`` appended (``.wav``, ``.json``, ``.pts.json``)."""
        return self.stem.with_name(self.stem.name + suffix)

    def facts(self) -> dict[str, Any]:
        """Index facts every kind records."""
        return {} if self.item is None else {"item": self.item}


class Media(abc.ABC):
    """Base class of the loggable media kinds (``Audio``, ``Video``, ``Html``, ...)."""

    #: The kind's name: the index's ``kind``, the folder ``media/<kind>/``, the schema name.
    kind: ClassVar[str]

    @property
    def held_bytes(self) -> int:
        """Memory this object holds until written (lets the writer bound its queue)."""
        return 0

    def snapshot(self) -> Media:
        """What to encode, taken when logged: mutable kinds (tables) return a copy."""
        return self

    def shard(self, slot: MediaSlot) -> str:
        """The writer queue key: writes with the same key happen in logging order."""
        return str(slot.stem)

    @abc.abstractmethod
    def encode(self, slot: MediaSlot) -> EncodedItem:
        """Encode to files for ``slot`` (pure: no I/O; runs on a writer thread)."""
