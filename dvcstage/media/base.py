"""What every media kind shares: the slot it is written to and what it hands to the writer.

A kind is a class (the W&B door, e.g. ``dvcstage.Audio``) that validates and copies its
input in its constructor and turns it into bytes in :meth:`Media.encode` — a pure function
that the writer runs on a worker thread. The kinds do no I/O; the writer does it all.
"""

from __future__ import annotations

import abc
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, ClassVar

from .. import schemas

MEDIA_FOLDER = PurePosixPath("media")
IMAGES_FOLDER = PurePosixPath("plots/images")
#: What ``dvc plots`` shows of the images: each with its overlays drawn in.
PREVIEWS_FOLDER = PurePosixPath("plots/previews")
#: The folder suffix that holds the items of a list logged under one key
#: (``live.log({"k": [a, b]})`` -> ``k.items/0/<step>.png``, ``k.items/1/<step>.png``).
ITEMS_SUFFIX = ".items"


@dataclass(frozen=True)
class EncodedFile:
    """One file of an item, ready to be written atomically (path relative to the run dir).

    ``append`` files (a histogram series) are appended to instead of replaced; ``header`` is
    written first when such a file is new or empty. ``schema`` names the schema in
    ``schemas/`` a JSON file must match; ``dvcstage validate`` checks it. ``link_of`` makes
    the file a hard link to (or, where links fail, a copy of) another file of the item,
    written before it; ``data`` is then empty.
    """

    path: PurePosixPath
    data: bytes
    role: str
    name: str | None = None
    append: bool = False
    header: bytes | None = None
    schema: str | None = None
    link_of: PurePosixPath | None = None


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
        """The slot of ``key`` at ``step``: under ``media/<kind>/``, or ``plots/images/`` for
        images (DVCLive's folder).

        The items of a list go to ``<key>.items/<item>/``: no key can name that folder (keys
        may not have a segment ending in ``.items``), so ``k``'s list and a key ``k/0`` never
        share a file.
        """
        base = IMAGES_FOLDER if kind == "image" else MEDIA_FOLDER / kind
        folder = base / key if item is None else base / f"{key}{ITEMS_SUFFIX}" / str(item)
        return cls(folder / str(step), key, step, item)

    def file(self, suffix: str) -> PurePosixPath:
        """``stem`` with ``suffix`` appended (``.wav``, ``.json``, ``.pts.json``)."""
        return self.stem.with_name(self.stem.name + suffix)

    def facts(self) -> dict[str, Any]:
        """Index facts every kind records."""
        return {} if self.item is None else {"item": self.item}


def sidecar_file(
    path: PurePosixPath, document: dict[str, Any], schema: str, *, compact: bool = False
) -> EncodedFile:
    """A sidecar checked against ``schemas/<schema>.schema.json`` and rendered as JSON.

    Raises :class:`dvcstage.errors.SchemaValidationError` when the document does not match:
    a writer that produced it has a bug, and nothing of the item is written.
    """
    schemas.check_document(schema, document, str(path))
    if compact:
        text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    else:
        text = json.dumps(document, indent=2, ensure_ascii=False)
    return EncodedFile(path, (text + "\n").encode("utf-8"), "sidecar", schema=schema)


def file_entries(files: Sequence[EncodedFile], folder: PurePosixPath) -> list[dict[str, Any]]:
    """The sidecar's ``files`` list: each file relative to the sidecar's ``folder``."""
    return [
        {"path": str(f.path.relative_to(folder)), "role": f.role}
        | ({"name": f.name} if f.name is not None else {})
        for f in files
    ]


class Media(abc.ABC):
    """Base class of the loggable media kinds (``Image``, ``Audio``, ``Video``, ...)."""

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
        """Encode to files for ``slot`` (pure: no I/O; runs in the writer process)."""

    def item_with_sidecar(
        self,
        slot: MediaSlot,
        files: Sequence[EncodedFile],
        fields: dict[str, Any],
        *,
        facts: dict[str, Any] | None = None,
        owned: tuple[PurePosixPath, ...] = (),
        compact: bool = False,
    ) -> EncodedItem:
        """The item: ``files`` plus the sidecar ``<stem>.json`` that lists them.

        The sidecar holds what every kind shares (``schemas/media-common.schema.json``:
        kind, key, step, item, files) and the kind's ``fields``; it is checked against the
        kind's schema. ``facts`` go to the index line (default: ``fields``).
        """
        sidecar_path = slot.file(".json")
        document: dict[str, Any] = {"kind": self.kind, "key": slot.key, "step": slot.step}
        document.update(slot.facts())
        document["files"] = file_entries(files, sidecar_path.parent)
        document.update(fields)
        sidecar = sidecar_file(sidecar_path, document, self.kind, compact=compact)
        return EncodedItem(
            self.kind,
            key=slot.key,
            step=slot.step,
            files=(*files, sidecar),
            owned=owned,
            facts={
                **slot.facts(),
                "sidecar": str(sidecar_path),
                **(fields if facts is None else facts),
            },
        )
