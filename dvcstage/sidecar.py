"""Reading a logged image back: pixels, boxes, masks and caption from its files."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image as PILImage

from .media.masks import decode_mask_png


@dataclass
class ImageRecord:
    """A logged image as read from disk. Class-label keys are ints again."""

    pixels: np.ndarray
    annotations: dict[str, list[dict[str, Any]]] | None = None
    boxes: dict[str, dict[str, Any]] | None = None
    masks: dict[str, dict[str, Any]] = field(default_factory=dict)
    caption: str | None = None
    step: int | None = None


def _int_keys(labels: dict[str, str]) -> dict[int, str]:
    return {int(k): v for k, v in labels.items()}


def read_image(path: str | os.PathLike[str]) -> ImageRecord:
    """Read the image at ``path`` with its sidecar and masks, if any.

    ``masks`` maps each mask name to ``{"mask_data": array, "class_labels": {id: name}}``,
    the structure it was logged with.
    """
    image_path = Path(path)
    with PILImage.open(image_path) as image:
        record = ImageRecord(pixels=np.asarray(image).copy())
    side = image_path.with_suffix(".json")
    if not side.is_file():
        return record
    document = json.loads(side.read_text(encoding="utf-8"))
    record.annotations = document.get("annotations")
    if "boxes" in document:
        record.boxes = {
            group: {
                "box_data": content["box_data"],
                "class_labels": _int_keys(content["class_labels"]),
            }
            for group, content in document["boxes"].items()
        }
    for name, mask in (document.get("masks") or {}).items():
        record.masks[name] = {
            "mask_data": decode_mask_png(side.parent / mask["path"]),
            "class_labels": _int_keys(mask["class_labels"]),
        }
    record.caption = document.get("caption")
    record.step = document.get("step")
    return record
