"""Images with boxes, masks and captions: ``dvcstage.Image`` and the image encoder.

Construction validates everything and keeps a private copy of the pixels (cheap); turning
them into PNG/JPEG/GIF bytes (costly) happens in :meth:`Image.encode`, in the writer process.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, ClassVar

import numpy as np
from PIL import Image as PILImage
from PIL import UnidentifiedImageError

from .. import schemas
from ..errors import InvalidAnnotationError, InvalidMediaTypeError, InvalidMediaValueError
from ..names import masks_folder, sidecar_name
from .base import EncodedFile, EncodedItem, Media, MediaSlot, file_entries, sidecar_file
from .boxes import check_wandb_boxes
from .masks import PreparedMask, check_masks, encode_mask_png
from .pixels import array_from_arraylike, check_image_array, to_uint8

IMAGE_TYPES_HELP = (
    "a NumPy array or array-like (e.g. a torch tensor, CxHxW), a PIL.Image.Image, "
    "a matplotlib.figure.Figure, or a path (str or pathlib.Path) to an image Pillow can open"
)
MODES = ("1", "L", "LA", "P", "RGB", "RGBA")
_SAME_FORMAT = {".jpg": ".jpeg"}


def _is_figure(value: Any) -> bool:
    return any(
        cls.__name__ == "Figure" and cls.__module__.startswith("matplotlib")
        for cls in type(value).__mro__
    )


@dataclass(frozen=True)
class ImageSource:
    """Validated pixels, in one of three forms, plus their size."""

    width: int
    height: int
    array: np.ndarray | None = None
    pil: PILImage.Image | None = None
    file_bytes: bytes | None = None
    file_suffix: str | None = None
    #: A rendered matplotlib figure: an opaque alpha channel is dropped.
    figure: bool = False


def _source_from_file(value: str | os.PathLike[str], argument: str) -> ImageSource:
    path = Path(value)
    if not path.is_file():
        raise InvalidMediaValueError(argument, f"{str(path)!r} is not a file", IMAGE_TYPES_HELP)
    data = path.read_bytes()  # read now: the caller may overwrite the file right after logging
    try:
        with PILImage.open(io.BytesIO(data)) as probe:
            width, height = probe.size
            fmt = (probe.format or "").lower()
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise InvalidMediaValueError(
            argument, f"{str(path)!r} is not an image Pillow can open ({exc})", IMAGE_TYPES_HELP
        ) from exc
    suffix = path.suffix.lower()
    if fmt and suffix.lstrip(".") not in (fmt, "jpg" if fmt == "jpeg" else fmt):
        suffix = f".{fmt}"
    return ImageSource(width=width, height=height, file_bytes=data, file_suffix=suffix)


def image_source(value: Any, argument: str, copy: bool = True) -> ImageSource:
    """Validate ``value`` as an image and take what the writer needs from it (``copy``: of
    an array, else a view of it for a caller that journals it before returning)."""
    if isinstance(value, PILImage.Image):
        if value.width < 1 or value.height < 1:
            raise InvalidMediaValueError(
                argument, f"PIL image of size {value.size} is empty", "an image at least 1x1"
            )
        image = value.copy()  # loads lazy images; the caller may change the original afterwards
        return ImageSource(width=image.width, height=image.height, pil=image)
    if isinstance(value, (str, os.PathLike)):
        return _source_from_file(value, argument)
    if _is_figure(value):
        # Figures are not thread-safe: render here, encode on the writer thread.
        value.canvas.draw()
        rgba = np.asarray(value.canvas.buffer_rgba()).copy()
        import matplotlib.pyplot as plt

        plt.close(value)  # as DVCLive does after saving a figure
        return ImageSource(width=rgba.shape[1], height=rgba.shape[0], array=rgba, figure=True)
    array = array_from_arraylike(value)
    if array is None or isinstance(value, (bytes, bytearray, list, tuple, dict)):
        raise InvalidMediaTypeError(argument, value, IMAGE_TYPES_HELP)
    array = check_image_array(array, argument, copy)
    return ImageSource(width=array.shape[1], height=array.shape[0], array=array)


class Image(Media):
    """An image with optional box groups, segmentation masks and a caption (W&B's signature).

    >>> import numpy as np, dvcstage
    >>> img = dvcstage.Image(np.zeros((4, 6, 3)), caption="empty",
    ...     boxes={"predictions": {"box_data": [{"position": {"minX": 0.1, "maxX": 0.5,
    ...     "minY": 0.2, "maxY": 0.6}, "class_id": 1}], "class_labels": {1: "cat"}}})
    >>> (img.width, img.height)
    (6, 4)

    Log it with ``live.log({"examples": img})`` or ``live.log_image("examples.png", img)``.
    Everything is validated here; a bad argument raises a typed error naming it.
    """

    kind: ClassVar[str] = "image"
    #: DVCLive's ``annotations`` (checked, in the sidecar's layout), given to ``log_image``.
    annotations: dict[str, list[dict[str, Any]]] | None = None
    #: The file format: the logged name's suffix (``.png`` for ``live.log``).
    suffix: str = ".png"

    def __init__(
        self,
        data_or_path: Any,
        mode: str | None = None,
        caption: str | None = None,
        boxes: dict[str, Any] | None = None,
        masks: dict[str, Any] | None = None,
    ) -> None:
        self._build(data_or_path, mode, caption, boxes, masks, argument="data_or_path")

    @classmethod
    def of_pixels(cls, array: np.ndarray, suffix: str) -> Image:
        """An image without overlays of checked uint8 pixels (HxW, HxWx3 or HxWx4), to be
        written as ``suffix``: what the writer process rebuilds from a plain image's record."""
        image = cls.__new__(cls)
        image.source = ImageSource(width=array.shape[1], height=array.shape[0], array=array)
        image.mode = None
        image.caption = None
        image.boxes = None
        image.masks = []
        image.suffix = suffix
        return image

    @classmethod
    def from_value(
        cls,
        value: Any,
        *,
        caption: str | None = None,
        boxes: dict[str, Any] | None = None,
        masks: dict[str, Any] | None = None,
        argument: str = "val",
        copy: bool = True,
    ) -> Image:
        """Build an image from ``log_image``'s ``val``; errors name ``argument``.

        ``copy=False`` keeps a view of an array value: for a caller that journals the image
        (which copies it) before returning.
        """
        image = cls.__new__(cls)
        image._build(value, None, caption, boxes, masks, argument=argument, copy=copy)
        return image

    def _build(
        self,
        value: Any,
        mode: str | None,
        caption: str | None,
        boxes: dict[str, Any] | None,
        masks: dict[str, Any] | None,
        *,
        argument: str,
        copy: bool = True,
    ) -> None:
        if isinstance(value, Image):
            raise InvalidMediaTypeError(argument, value, IMAGE_TYPES_HELP + " (not an Image)")
        if mode is not None and mode not in MODES:
            raise InvalidMediaValueError("mode", f"{mode!r} is not supported", ", ".join(MODES))
        if caption is not None and not isinstance(caption, str):
            raise InvalidAnnotationError("caption", f"{caption!r} is not a str", "a str or None")
        source = image_source(value, argument, copy)
        self.source: ImageSource = source
        self.mode = mode
        self.caption = caption
        self.boxes: dict[str, dict[str, Any]] | None = check_wandb_boxes(boxes)
        self.masks: list[PreparedMask] = check_masks(masks, source.height, source.width)

    @property
    def held_bytes(self) -> int:
        """Memory this image holds until it is written (pixels, file bytes, masks)."""
        source = self.source
        held = sum(mask.class_ids.nbytes for mask in self.masks)
        if source.array is not None:
            held += source.array.nbytes
        elif source.file_bytes is not None:
            held += len(source.file_bytes)
        else:
            held += source.width * source.height * 4
        return held

    @property
    def width(self) -> int:
        """Width in pixels."""
        return self.source.width

    @property
    def height(self) -> int:
        """Height in pixels."""
        return self.source.height

    def writes_inline(self, max_pixels: int) -> bool:
        """Whether logging writes this image before returning, as DVCLive does.

        True for small images (encoding costs about 0.1 ms) and for figures, which were
        rendered on the calling thread anyway (Matplotlib is not thread-safe).
        """
        return self.source.figure or self.width * self.height <= max_pixels

    @property
    def has_overlays(self) -> bool:
        """Whether the image has anything beside its pixels (then it gets a sidecar)."""
        return bool(self.annotations or self.boxes or self.masks or self.caption is not None)

    def with_overlays(
        self,
        *,
        caption: str | None = None,
        boxes: dict[str, Any] | None = None,
        masks: dict[str, Any] | None = None,
    ) -> Image:
        """A copy whose given overlays replace this image's (``None`` keeps this image's)."""
        copy = Image.__new__(Image)
        copy.__dict__.update(self.__dict__)
        if caption is not None:
            if not isinstance(caption, str):
                raise InvalidAnnotationError("caption", f"{caption!r} is not a str", "a str")
            copy.caption = caption
        if boxes is not None:
            copy.boxes = check_wandb_boxes(boxes)
        if masks is not None:
            copy.masks = check_masks(masks, self.height, self.width)
        return copy

    def logged_as(
        self, suffix: str, annotations: dict[str, list[dict[str, Any]]] | None = None
    ) -> Image:
        """A copy to be written as ``suffix`` with DVCLive's ``annotations`` (checked)."""
        copy = Image.__new__(Image)
        copy.__dict__.update(self.__dict__)
        copy.suffix = suffix
        if annotations is not None:
            copy.annotations = annotations
        return copy

    def encode(self, slot: MediaSlot) -> EncodedItem:
        """The image, its masks and its sidecar for ``slot`` (pure: no I/O).

        The file is ``<stem><suffix>`` (``plots/images/pred/3.png``); masks go to
        ``<stem>.masks/<name>.png``; the sidecar ``<stem>.json`` exists only when the image
        has annotations, boxes, masks or a caption.
        """
        return encode_image(self, slot)

    def preview_file(self, image_path: PurePosixPath, *, draw: bool = True) -> EncodedFile:
        """What ``dvc plots`` shows for this image: the overlays drawn in (``draw``), else
        the image itself (a link to its file)."""
        from .preview import preview_path, render_preview

        drawn = draw and self.has_overlays
        target = preview_path(image_path, drawn)
        if not drawn:
            return EncodedFile(target, b"", "preview", link_of=image_path)
        data = render_preview(
            _pil_image(self.source, self.mode),
            annotations=self.annotations,
            boxes=self.boxes,
            masks=[(mask.class_ids, mask.class_labels) for mask in self.masks],
            caption=self.caption,
        )
        return EncodedFile(target, data, "preview")

    def __repr__(self) -> str:
        return f"<dvcstage.Image {self.width}x{self.height} caption={self.caption!r}>"


#: The largest side each format can store (JPEG and GIF keep sizes in 16 bits).
FORMAT_MAX_SIDE = {".jpg": 65_535, ".jpeg": 65_535, ".gif": 65_535, ".png": 2**31 - 1}


def check_format_limits(image: Image, suffix: str) -> None:
    """Refuse an image its format cannot store (a 2 x 70,000 JPEG), before anything is written."""
    limit = FORMAT_MAX_SIDE.get(suffix.lower())
    if limit is not None and max(image.width, image.height) > limit:
        raise InvalidMediaValueError(
            "val",
            f"an image of {image.width}x{image.height} pixels is too large for {suffix}",
            f"{suffix} images of at most {limit:,} pixels per side (or another format)",
        )


def _pil_image(source: ImageSource, mode: str | None) -> PILImage.Image:
    if source.array is not None:
        pixels = to_uint8(source.array)
        opaque_rgba = pixels.ndim == 3 and pixels.shape[-1] == 4 and (pixels[..., 3] == 255).all()
        if source.figure and opaque_rgba:
            pixels = pixels[..., :3]
        image = PILImage.fromarray(pixels)
    elif source.pil is not None:
        image = source.pil
    else:
        assert source.file_bytes is not None
        image = PILImage.open(io.BytesIO(source.file_bytes))
        image.load()
    if mode is not None and image.mode != mode:
        image = image.convert(mode)
    return image


def _encode_pixels(image: PILImage.Image, suffix: str) -> bytes:
    buffer = io.BytesIO()
    if suffix in (".jpg", ".jpeg"):
        if image.mode not in ("L", "RGB", "CMYK"):
            image = image.convert("RGB")
        image.save(buffer, format="JPEG")
    elif suffix == ".gif":
        image.save(buffer, format="GIF")
    else:
        if image.mode not in ("1", "L", "LA", "P", "RGB", "RGBA", "I;16"):
            image = image.convert("RGBA" if "A" in image.mode else "RGB")
        image.save(buffer, format="PNG", optimize=True)  # 2 % smaller, off the training thread
    return buffer.getvalue()


def encode_image_bytes(image: Image, suffix: str) -> bytes:
    """The image's pixels encoded for ``suffix`` (.png, .jpg, .jpeg or .gif)."""
    source = image.source
    same = _SAME_FORMAT.get(suffix, suffix) == _SAME_FORMAT.get(
        source.file_suffix or "", source.file_suffix
    )
    if source.file_bytes is not None and same and image.mode is None:
        return source.file_bytes  # an image file in the requested format is stored as is
    return _encode_pixels(_pil_image(source, image.mode), suffix)


def _overlay_fields(image: Image, mask_folder_name: str) -> dict[str, Any]:
    """The sidecar's overlay members: DVCLive's annotations, W&B's boxes and masks, caption."""
    fields: dict[str, Any] = {}
    if image.annotations:
        fields["annotations"] = image.annotations
    if image.boxes:
        fields["boxes"] = image.boxes
    if image.masks:
        fields["masks"] = {
            mask.name: {
                "path": f"{mask_folder_name}/{mask.name}.png",
                "class_labels": mask.class_labels,
                "bit_depth": mask.bit_depth,
            }
            for mask in image.masks
        }
    if image.caption is not None:
        fields["caption"] = image.caption
    return fields


def encode_image(image: Image, slot: MediaSlot) -> EncodedItem:
    """Encode an image, its masks and its sidecar for ``slot`` (pure: no I/O)."""
    path = slot.file(image.suffix)
    mask_dir = masks_folder(path)
    sidecar_path = sidecar_name(path)
    files = [
        EncodedFile(mask_dir / f"{mask.name}.png", encode_mask_png(mask), "mask", mask.name)
        for mask in image.masks
    ]
    files.append(EncodedFile(path, encode_image_bytes(image, image.suffix), "image"))
    facts: dict[str, Any] = {**slot.facts(), "width": image.width, "height": image.height}
    facts["sidecar"] = None
    if image.has_overlays:
        document: dict[str, Any] = {"kind": "image", "key": slot.key, "step": slot.step}
        document.update(slot.facts())
        document["files"] = file_entries(files, sidecar_path.parent)
        document.update(_overlay_fields(image, mask_dir.name))
        document.update(width=image.width, height=image.height)
        files.append(sidecar_file(sidecar_path, document, schemas.IMAGE_SIDECAR))
        facts["sidecar"] = str(sidecar_path)
    return EncodedItem(
        kind="image",
        key=slot.key,
        step=slot.step,
        files=tuple(files),
        owned=(sidecar_path, mask_dir),
        facts=facts,
    )
