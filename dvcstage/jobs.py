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

import numpy as np

from .atomic import is_temporary, link_atomic
from .item_writer import ItemWriter
from .journal import FieldsJob
from .media.base import IMAGES_FOLDER, PREVIEWS_FOLDER, EncodedFile, Media, MediaSlot
from .media.image import Image
from .media.preview import preview_paths
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
        item = self.media.encode(self.slot)
        preview = self.preview_file()
        if preview is not None:  # and the other place a preview of this name may be
            image_path = self.slot.file(self.media.suffix)  # type: ignore[attr-defined]
            files, owned = (*item.files, preview), (*item.owned, *preview_paths(image_path))
            item = dataclasses.replace(item, files=files, owned=owned)
        out.write(item)

    def preview_file(self) -> EncodedFile | None:
        """The image's ``plots/previews/`` file, if it gets one."""
        if not (self.preview and isinstance(self.media, Image)):
            return None
        image_path = self.slot.file(self.media.suffix)
        return self.media.preview_file(image_path, draw=self.draw)

    def describe(self) -> str:
        """What the job writes, for messages about it (``image 'pred' at step 3``)."""
        item = "" if self.slot.item is None else f" item {self.slot.item}"
        return f"{self.media.kind} {self.slot.key!r}{item} at step {self.slot.step}"


class PlainImage(FieldsJob):
    """A plain image's :class:`WriteMedia` as the logging thread journals it: text fields and
    the pixels (pickling the job's objects -- image, source, slot, path -- costs the logging
    thread more than writing the pixels). The writer process rebuilds the job with
    :func:`job_from_fields`.

    ``pixels``: C-contiguous uint8, HxW, HxWx3 or HxWx4, kept until journaled.
    """

    __slots__ = ()

    def __init__(
        self,
        stem: str,
        key: str,
        step: int,
        suffix: str,
        pixels: np.ndarray,
        preview: bool,
        draw: bool,
    ) -> None:
        shape = ",".join(map(str, pixels.shape))
        fields = (PLAIN_IMAGE, stem, key, str(step), suffix, shape, str(+preview), str(+draw))
        super().__init__(fields, pixels.data)


PLAIN_IMAGE = "plain-image"


def job_from_fields(fields: list[str], buffers: list[memoryview]) -> WriteMedia:
    """The job of a ``FIELDS`` record (:class:`PlainImage`), in the writer process."""
    if fields[0] != PLAIN_IMAGE or len(fields) != 8:
        raise ValueError(f"unknown journal fields record {fields[0]!r} of {len(fields)} fields")
    _, stem, key, step, suffix, shape, preview, draw = fields
    dimensions = tuple(int(size) for size in shape.split(","))
    array = np.frombuffer(buffers[0], dtype=np.uint8).reshape(dimensions)
    slot = MediaSlot(PurePosixPath(stem), key, int(step))
    image = Image.of_pixels(array, suffix)
    return WriteMedia(image, slot, stem, preview=preview == "1", draw=draw == "1")


@dataclass(frozen=True)
class FinishInline:
    """Finish an image the training process wrote itself (a small one, written before
    ``log_image`` returned, as DVCLive does): its preview, then its index line."""

    job: WriteMedia
    line: dict[str, Any]

    barrier = False

    @property
    def shard(self) -> str:
        return self.job.shard

    def run(self, out: ItemWriter) -> None:
        line = self.line
        preview = self.job.preview_file()
        if preview is not None:
            sizes = out.write_files((preview,))
            image_path = self.job.slot.file(self.job.media.suffix)  # type: ignore[attr-defined]
            for other in preview_paths(image_path):  # an earlier preview of the other kind
                if other != preview.path:
                    (out.root / other).unlink(missing_ok=True)
            entry = {"path": str(preview.path), "role": "preview", "bytes": sizes[preview.path]}
            line = {**line, "files": [*line["files"], entry]}
        if out.index is not None:
            out.index.append(line)

    def describe(self) -> str:
        return self.job.describe()


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
