"""Images with boxes, masks and captions: ``dvcstage.Image`` and the image encoder.

Construction validates everything and keeps a private copy of the pixels (cheap); turning
them into PNG/JPEG/GIF bytes (costly) happens in :func:`encode_image`, on a writer thread.
"""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
from PIL import Image as PILImage
from PIL import UnidentifiedImageError

from .. import schemas
from ..errors import InvalidAnnotationError, InvalidMediaTypeError, InvalidMediaValueError
from ..names import masks_folder, sidecar_name
from .base import EncodedFile, EncodedItem
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
    drop_opaque_alpha: bool = False


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


def image_source(value: Any, argument: str) -> ImageSource:
    """Validate ``value`` as an image and take what the writer needs from it."""
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
        return ImageSource(
            width=rgba.shape[1], height=rgba.shape[0], array=rgba, drop_opaque_alpha=True
        )
    array = array_from_arraylike(value)
    if array is None or isinstance(value, (bytes, bytearray, list, tuple, dict)):
        raise InvalidMediaTypeError(argument, value, IMAGE_TYPES_HELP)
    array = check_image_array(array, argument)
    return ImageSource(width=array.shape[1], height=array.shape[0], array=array)


class Image:
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
    def from_value(
        cls,
        value: Any,
        *,
        caption: str | None = None,
        boxes: dict[str, Any] | None = None,
        masks: dict[str, Any] | None = None,
        argument: str = "val",
    ) -> Image:
        """Build an image from ``log_image``'s ``val``; errors name ``argument``."""
        image = cls.__new__(cls)
        image._build(value, None, caption, boxes, masks, argument=argument)
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
    ) -> None:
        if isinstance(value, Image):
            raise InvalidMediaTypeError(argument, value, IMAGE_TYPES_HELP + " (not an Image)")
        if mode is not None and mode not in MODES:
            raise InvalidMediaValueError("mode", f"{mode!r} is not supported", ", ".join(MODES))
        if caption is not None and not isinstance(caption, str):
            raise InvalidAnnotationError("caption", f"{caption!r} is not a str", "a str or None")
        source = image_source(value, argument)
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

    def __repr__(self) -> str:
        return f"<dvcstage.Image {self.width}x{self.height} caption={self.caption!r}>"


def _pil_image(source: ImageSource, mode: str | None) -> PILImage.Image:
    if source.array is not None:
        pixels = to_uint8(source.array)
        opaque_rgba = pixels.ndim == 3 and pixels.shape[-1] == 4 and (pixels[..., 3] == 255).all()
        if source.drop_opaque_alpha and opaque_rgba:
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
        image.save(buffer, format="PNG")
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


def build_sidecar(
    image: Image,
    annotations: dict[str, list[dict[str, Any]]] | None,
    mask_folder_name: str,
    step: int,
) -> dict[str, Any] | None:
    """The sidecar document, or ``None`` when the image has nothing beside its pixels."""
    sidecar: dict[str, Any] = {}
    if annotations:
        sidecar["annotations"] = annotations
    if image.boxes:
        sidecar["boxes"] = image.boxes
    if image.masks:
        sidecar["masks"] = {
            mask.name: {
                "path": f"{mask_folder_name}/{mask.name}.png",
                "class_labels": mask.class_labels,
                "bit_depth": mask.bit_depth,
            }
            for mask in image.masks
        }
    if image.caption is not None:
        sidecar["caption"] = image.caption
    if not sidecar:
        return None
    sidecar.update(step=step, width=image.width, height=image.height)
    return sidecar


def encode_image(
    image: Image,
    *,
    run_relpath: PurePosixPath,
    key: str,
    step: int,
    item: int | None = None,
    annotations: dict[str, list[dict[str, Any]]] | None = None,
) -> EncodedItem:
    """Encode an image, its masks and its sidecar (pure: no I/O).

    ``run_relpath`` is the image file relative to the run directory, e.g.
    ``plots/images/pred/3.png``.
    """
    mask_dir = masks_folder(run_relpath)
    sidecar_path = sidecar_name(run_relpath)
    files = [
        EncodedFile(mask_dir / f"{mask.name}.png", encode_mask_png(mask), "mask", mask.name)
        for mask in image.masks
    ]
    files.append(EncodedFile(run_relpath, encode_image_bytes(image, run_relpath.suffix), "image"))
    sidecar = build_sidecar(image, annotations, mask_dir.name, step)
    if sidecar is not None:
        schemas.check_document(schemas.IMAGE_SIDECAR, sidecar, str(sidecar_path))
        text = json.dumps(sidecar, indent=2, ensure_ascii=False) + "\n"
        files.append(
            EncodedFile(sidecar_path, text.encode("utf-8"), "sidecar", schema=schemas.IMAGE_SIDECAR)
        )
    facts: dict[str, Any] = {
        "width": image.width,
        "height": image.height,
        "sidecar": str(sidecar_path) if sidecar is not None else None,
    }
    if item is not None:
        facts["item"] = item
    return EncodedItem(
        kind="image",
        key=key,
        step=step,
        files=tuple(files),
        owned=(sidecar_path, mask_dir),
        facts=facts,
    )
