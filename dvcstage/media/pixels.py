"""Pixel arrays: recognising array-likes, checking shapes and W&B's value rules.

Checks run on the calling thread; :func:`to_uint8` (the costly part) runs on a writer thread.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InvalidMediaValueError

ARRAY_HELP = (
    "an array HxW, HxWx1 (gray), HxWx3 (RGB), HxWx4 (RGBA) or CxHxW with C in 1, 3, 4; "
    "dtype bool, integer or float"
)


def array_from_arraylike(value: Any) -> np.ndarray | None:
    """A NumPy array from NumPy, torch, JAX, CuPy, ... values, without importing those libraries.

    Returns ``None`` when ``value`` is not array-like. A torch tensor is detached and moved to
    the CPU first.
    """
    if isinstance(value, np.ndarray):
        return value
    if all(hasattr(value, attr) for attr in ("detach", "cpu", "numpy")):
        array: np.ndarray = np.asarray(value.detach().cpu().numpy())
        return array
    if hasattr(value, "__array__") or hasattr(value, "__array_interface__"):
        converted: np.ndarray = np.asarray(value)
        return converted
    return None


def check_image_array(array: np.ndarray, argument: str, copy: bool = True) -> np.ndarray:
    """Validate an image array and return it as HxW or HxWxC, C-contiguous: a copy the caller
    may keep, or (``copy=False``) a view where the layout allows, for a caller that is done
    with it before returning."""
    if array.dtype == np.bool_:
        pass
    elif not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
        raise InvalidMediaValueError(argument, f"dtype {array.dtype} is not supported", ARRAY_HELP)
    if array.ndim == 3 and array.shape[-1] not in (1, 3, 4) and array.shape[0] in (1, 3, 4):
        array = np.moveaxis(array, 0, -1)  # CxHxW, as torch and torchvision lay images out
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[-1] not in (3, 4)):
        raise InvalidMediaValueError(
            argument, f"shape {tuple(array.shape)} is not an image", ARRAY_HELP
        )
    if array.shape[0] < 1 or array.shape[1] < 1:
        raise InvalidMediaValueError(argument, f"shape {tuple(array.shape)} is empty", ARRAY_HELP)
    if np.issubdtype(array.dtype, np.floating) and not np.isfinite(array).all():
        raise InvalidMediaValueError(argument, "contains NaN or infinity", "finite values")
    if not copy:
        return np.ascontiguousarray(array)
    return np.array(array, copy=True, order="C")


def to_uint8(array: np.ndarray) -> np.ndarray:
    """Map pixel values to 0..255 with W&B's rule.

    bool: False 0, True 255. Integers: clipped to 0..255. Floats: values in [0, 1] are scaled
    by 255; values in [-1, 1] are mapped linearly onto 0..255; anything else is clipped.
    """
    if array.dtype == np.uint8:
        return array
    if array.dtype == np.bool_:
        flags: np.ndarray = np.where(array, np.uint8(255), np.uint8(0))
        return flags
    if np.issubdtype(array.dtype, np.integer):
        clipped: np.ndarray = np.clip(array, 0, 255).astype(np.uint8)
        return clipped
    low, high = float(array.min()), float(array.max())
    if low >= 0.0 and high <= 1.0:
        scaled = array * 255.0
    elif low >= -1.0 and high <= 1.0:
        scaled = (array + 1.0) * 127.5
    else:
        scaled = array
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)
