"""Segmentation masks (W&B's ``masks`` argument): validated class-id arrays, stored as PNG.

A mask is stored losslessly as a PNG of class ids: 8-bit when every id fits in 0..255,
16-bit otherwise (ids up to 65535).
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image as PILImage

from ..errors import InvalidAnnotationError
from ..names import check_segment
from .boxes import check_class_labels
from .pixels import array_from_arraylike

MAX_CLASS_ID = 65535
_MASK_HELP = (
    "a dict {name: {'mask_data': 2-D integer array of class ids | 'path': mask image file, "
    "'class_labels': {id: name}}}"
)


@dataclass(frozen=True)
class PreparedMask:
    """One validated mask: its name, a private copy of its class ids, and its labels."""

    name: str
    class_ids: np.ndarray
    class_labels: dict[str, str]

    @property
    def bit_depth(self) -> int:
        return 8 if self.class_ids.dtype == np.uint8 else 16


def _read_mask_file(path: Any, where: str) -> np.ndarray:
    if not isinstance(path, (str, os.PathLike)):
        raise InvalidAnnotationError(where, f"{path!r} is not a path", "a path to a mask image")
    file = Path(path)
    if not file.is_file():
        raise InvalidAnnotationError(where, f"{str(file)!r} is not a file", "an existing file")
    try:
        with PILImage.open(file) as image:
            if image.mode not in ("1", "L", "P", "I", "I;16", "I;16B", "I;16L"):
                raise InvalidAnnotationError(
                    where, f"image mode {image.mode!r} has several channels", "a one-channel image"
                )
            ids: np.ndarray = np.asarray(image.convert("I") if image.mode == "1" else image).copy()
            return ids
    except (OSError, SyntaxError) as exc:
        raise InvalidAnnotationError(
            where, f"{str(file)!r} cannot be read as an image ({exc})", "a PNG or other mask image"
        ) from exc


def _class_id_array(data: Any, where: str) -> np.ndarray:
    array = array_from_arraylike(data)
    if array is None:
        if isinstance(data, list):
            try:
                array = np.asarray(data)
            except ValueError as exc:  # ragged nested lists
                raise InvalidAnnotationError(
                    where, f"is not a rectangular array ({exc})", _MASK_HELP
                ) from exc
        else:
            raise InvalidAnnotationError(
                where, f"{type(data).__name__} is not an array", _MASK_HELP
            )
    if array.dtype == np.bool_:
        array = array.astype(np.uint8)
    if not np.issubdtype(array.dtype, np.integer):
        raise InvalidAnnotationError(
            where, f"dtype {array.dtype} is not an integer type", "integer class ids"
        )
    if array.ndim != 2:
        raise InvalidAnnotationError(where, f"shape {array.shape} is not 2-D", "an HxW array")
    if array.size:
        low, high = int(array.min()), int(array.max())
        if low < 0 or high > MAX_CLASS_ID:
            raise InvalidAnnotationError(
                where, f"class ids range over {low}..{high}", f"ids in 0..{MAX_CLASS_ID}"
            )
        dtype = np.uint8 if high <= 255 else np.uint16
    else:
        dtype = np.uint8
    return np.array(array, dtype=dtype, copy=True, order="C")


def check_masks(masks: Any, height: int, width: int) -> list[PreparedMask]:
    """Validate W&B's ``masks`` for an image of ``height`` x ``width`` pixels."""
    if masks is None:
        return []
    if not isinstance(masks, Mapping):
        raise InvalidAnnotationError("masks", f"{masks!r} is not a dict", _MASK_HELP)
    prepared = []
    for name, content in masks.items():
        check_segment(name, "masks name")
        where = f"masks[{name!r}]"
        if not isinstance(content, Mapping):
            raise InvalidAnnotationError(where, f"{content!r} is not a dict", _MASK_HELP)
        unknown = set(content) - {"mask_data", "path", "class_labels"}
        if unknown:
            raise InvalidAnnotationError(
                where, f"unknown keys {sorted(map(str, unknown))}", _MASK_HELP
            )
        if ("mask_data" in content) == ("path" in content):
            raise InvalidAnnotationError(
                where, "needs exactly one of 'mask_data' and 'path'", _MASK_HELP
            )
        if "path" in content:
            ids = _class_id_array(_read_mask_file(content["path"], f"{where}['path']"), where)
        else:
            ids = _class_id_array(content["mask_data"], f"{where}['mask_data']")
        if ids.shape != (height, width):
            raise InvalidAnnotationError(
                where,
                f"mask shape {ids.shape} differs from the image's {(height, width)}",
                "a mask of the image's height x width",
            )
        labels = check_class_labels(content.get("class_labels"), f"{where}['class_labels']")
        prepared.append(PreparedMask(name, ids, labels))
    return prepared


def encode_mask_png(mask: PreparedMask) -> bytes:
    """The mask as a lossless 8- or 16-bit grayscale PNG of class ids."""
    buffer = io.BytesIO()
    PILImage.fromarray(mask.class_ids).save(buffer, format="PNG")
    return buffer.getvalue()


def decode_mask_png(data: bytes | str | os.PathLike[str]) -> np.ndarray:
    """Read a stored mask back as an array of class ids (uint8 or uint16)."""
    source = io.BytesIO(data) if isinstance(data, bytes) else data
    with PILImage.open(source) as image:
        ids: np.ndarray = np.asarray(image).copy()
    return ids
