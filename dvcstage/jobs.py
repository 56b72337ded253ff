"""What the training process asks the writer process to do: one picklable job per record.

A job carries everything it needs (the validated media object with its copied pixels, where
it goes) and runs in the writer process with :meth:`run`. Jobs with the same ``shard`` run in
journal order on one thread; others run in parallel; a ``barrier`` job runs alone, after
every job before it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from .atomic import is_temporary, link_atomic
from .item_writer import ItemWriter
from .media.base import IMAGES_FOLDER, PREVIEWS_FOLDER, EncodedItem, Media, MediaSlot
from .media.image import Image
from .names import IMAGE_SUFFIXES


@dataclass(frozen=True)
class WriteMedia:
    """Encode ``media`` for ``slot`` and write its files and index line.

    ``preview``: an image also gets its ``plots/previews/`` file, with its overlays drawn in
    when ``draw``.
    """

    media: Media
    slot: MediaSlot
    shard: str
    preview: bool = False
    draw: bool = True
    barrier = False

    def run(self, out: ItemWriter) -> None:
        out.write(self.item())

    def item(self) -> EncodedItem:
        """The encoded item, its preview included."""
        item = self.media.encode(self.slot)
        if self.preview and isinstance(self.media, Image):
            image_path = self.slot.file(self.media.suffix)
            extra = self.media.preview_file(image_path, draw=self.draw)
            item = dataclasses.replace(item, files=(*item.files, extra))
        return item

    def describe(self) -> str:
        """What the job writes, for messages about it (``image 'pred' at step 3``)."""
        item = "" if self.slot.item is None else f" item {self.slot.item}"
        return f"{self.media.kind} {self.slot.key!r}{item} at step {self.slot.step}"


@dataclass(frozen=True)
class RecordLine:
    """Append the index line of an item the training process wrote itself (a small image,
    written before ``log_image`` returned, as DVCLive does)."""

    line: dict[str, Any]
    shard: str
    what: str
    barrier = False

    def run(self, out: ItemWriter) -> None:
        if out.index is not None:
            out.index.append(self.line)

    def describe(self) -> str:
        return self.what


@dataclass(frozen=True)
class LinkPreviews:
    """Give every image written so far its ``plots/previews/`` file (a link to it).

    Runs when a run that logged plain images logs its first image with overlays: from then
    on ``dvc.yaml`` lists ``plots/previews`` instead of ``plots/images``.
    """

    shard: str = "plots/previews"
    barrier = True

    def run(self, out: ItemWriter) -> None:
        images = out.root / IMAGES_FOLDER
        for path in sorted(images.rglob("*")) if images.is_dir() else ():
            rel = PurePosixPath(path.relative_to(out.root).as_posix())
            if (
                path.suffix not in IMAGE_SUFFIXES
                or is_temporary(path)
                or any(part.endswith(".masks") for part in rel.parts)
                or not path.is_file()
            ):
                continue
            target = out.root / PREVIEWS_FOLDER / rel.relative_to(IMAGES_FOLDER)
            if not target.exists():
                link_atomic(path, target)

    def describe(self) -> str:
        return "the previews of the images logged before"
