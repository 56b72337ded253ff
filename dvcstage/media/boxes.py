"""Bounding boxes: DVCLive's ``annotations`` (four box formats) and W&B's box groups.

Both are validated completely on the calling thread and turned into the sidecar's JSON shape.
No I/O happens here.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import InvalidAnnotationError
from ..names import check_segment

BOX_FORMATS = ("tlbr", "ltrb", "tlhw", "xywh")
ANNOTATION_KEYS = ("boxes", "labels", "scores", "box_format")

_FORMAT_HELP = (
    "box_format 'tlbr' [top, left, bottom, right], 'ltrb' [left, top, right, bottom], "
    "'tlhw' [top, left, height, width] or 'xywh' [center_x, center_y, width, height]"
)
_ANNOTATIONS_HELP = (
    "a dict with exactly the keys 'boxes' (list of [4 numbers]), 'labels' (list of str), "
    "'scores' (list of numbers), all of one length, and " + _FORMAT_HELP
)
_POSITION_HELP = (
    "'position' as {'minX', 'maxX', 'minY', 'maxY'} or {'middle': [x, y], 'width', 'height'}; "
    'fractions in [0, 1] unless the box sets "domain": "pixel"'
)
_BOX_KEYS = {"position", "class_id", "box_caption", "scores", "domain"}


def _as_list(value: Any) -> Any:
    """NumPy arrays and tensors become lists; everything else is returned unchanged."""
    tolist = getattr(value, "tolist", None)
    if callable(tolist) and not isinstance(value, (str, bytes)):
        return tolist()
    return value


def _is_number(value: Any) -> bool:
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(float(value))
    except (OverflowError, ValueError):  # ints beyond float range
        return False


def _number(value: Any, argument: str, accepted: str) -> int | float:
    """A finite int or float (NumPy scalars included), integral floats written as ints."""
    if not _is_number(value):
        raise InvalidAnnotationError(argument, f"{value!r} is not a finite number", accepted)
    number = float(value)
    return int(number) if number.is_integer() else number


def _integer(value: Any, argument: str, accepted: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InvalidAnnotationError(argument, f"{value!r} is not an integer", accepted)
    return int(value)


def _sequence(value: Any, argument: str, accepted: str) -> list[Any]:
    value = _as_list(value)
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise InvalidAnnotationError(argument, f"{value!r} is not a list", accepted)
    return list(value)


def _to_tlbr(box: list[int | float], box_format: str) -> tuple[float, float, float, float]:
    """Convert one box to (top, left, bottom, right) in pixels."""
    a, b, c, d = box
    if box_format == "tlbr":
        return a, b, c, d
    if box_format == "ltrb":
        return b, a, d, c
    if box_format == "tlhw":
        return a, b, a + c, b + d
    # xywh: [center_x, center_y, width, height], as the specification says (x is horizontal).
    return b - d / 2, a - c / 2, b + d / 2, a + c / 2


def _clean(value: float) -> int | float:
    return int(value) if float(value).is_integer() else float(value)


def check_annotations(annotations: Any) -> dict[str, list[dict[str, Any]]] | None:
    """Validate DVCLive's ``annotations`` dict and return the sidecar's ``annotations`` block.

    >>> check_annotations({"boxes": [[10, 20, 100, 200]], "labels": ["cat"], "scores": [0.9],
    ...                    "box_format": "tlbr"})
    {'cat': [{'box': {'top': 10, 'left': 20, 'bottom': 100, 'right': 200}, 'score': 0.9}]}
    """
    if annotations is None:
        return None
    arg = "annotations"
    if not isinstance(annotations, Mapping):
        raise InvalidAnnotationError(arg, f"{annotations!r} is not a dict", _ANNOTATIONS_HELP)
    keys = set(annotations)
    if keys != set(ANNOTATION_KEYS):
        missing = sorted(set(ANNOTATION_KEYS) - keys)
        extra = sorted(str(k) for k in keys - set(ANNOTATION_KEYS))
        raise InvalidAnnotationError(
            arg, f"missing keys {missing}, unknown keys {extra}", _ANNOTATIONS_HELP
        )
    box_format = annotations["box_format"]
    if box_format not in BOX_FORMATS:
        raise InvalidAnnotationError(
            "annotations['box_format']", f"{box_format!r} is not a box format", _FORMAT_HELP
        )
    boxes = _sequence(annotations["boxes"], "annotations['boxes']", _ANNOTATIONS_HELP)
    labels = _sequence(annotations["labels"], "annotations['labels']", _ANNOTATIONS_HELP)
    scores = _sequence(annotations["scores"], "annotations['scores']", _ANNOTATIONS_HELP)
    if not len(boxes) == len(labels) == len(scores):
        raise InvalidAnnotationError(
            arg,
            f"{len(boxes)} boxes, {len(labels)} labels and {len(scores)} scores differ in length",
            _ANNOTATIONS_HELP,
        )
    result: dict[str, list[dict[str, Any]]] = {}
    for i, (box, label, score) in enumerate(zip(boxes, labels, scores, strict=True)):
        where = f"annotations['boxes'][{i}]"
        coords = _sequence(box, where, "a list of 4 numbers")
        if len(coords) != 4:
            raise InvalidAnnotationError(where, f"has {len(coords)} numbers", "4 numbers")
        numbers_ = [_number(c, where, "4 finite numbers") for c in coords]
        if not isinstance(label, str) or not label:
            raise InvalidAnnotationError(
                f"annotations['labels'][{i}]", f"{label!r} is not a label", "a non-empty str"
            )
        top, left, bottom, right = _to_tlbr(numbers_, box_format)
        if bottom < top or right < left:
            raise InvalidAnnotationError(
                where,
                f"{numbers_} in {box_format!r} gives bottom < top or right < left",
                _FORMAT_HELP + " with non-negative height and width",
            )
        result.setdefault(label, []).append(
            {
                "box": {
                    "top": _clean(top),
                    "left": _clean(left),
                    "bottom": _clean(bottom),
                    "right": _clean(right),
                },
                "score": _number(score, f"annotations['scores'][{i}]", "a finite number"),
            }
        )
    return result


def _check_class_labels(labels: Any, argument: str) -> dict[int, str]:
    accepted = "a dict mapping integer class ids to str names, e.g. {1: 'car'}"
    if labels is None:
        return {}
    if not isinstance(labels, Mapping):
        raise InvalidAnnotationError(argument, f"{labels!r} is not a dict", accepted)
    result: dict[int, str] = {}
    for key, name in labels.items():
        if isinstance(key, str) and re.fullmatch(r"-?[0-9]+", key):
            class_id = int(key)
        else:
            class_id = _integer(key, f"{argument} key", accepted)
        if not isinstance(name, str):
            raise InvalidAnnotationError(f"{argument}[{key!r}]", f"{name!r} is not a str", accepted)
        result[class_id] = name
    return result


def _check_position(position: Any, pixel: bool, where: str) -> dict[str, Any]:
    if not isinstance(position, Mapping):
        raise InvalidAnnotationError(where, f"{position!r} is not a dict", _POSITION_HELP)
    keys = set(position)
    fractions = "" if pixel else ' (fractions: use "domain": "pixel" for pixel values)'
    if keys == {"minX", "maxX", "minY", "maxY"}:
        out: dict[str, Any] = {
            k: _number(position[k], f"{where}['{k}']", "a finite number") for k in position
        }
        for axis in "XY":
            if out[f"min{axis}"] > out[f"max{axis}"]:
                raise InvalidAnnotationError(
                    where,
                    f"min{axis}={out[f'min{axis}']} is greater than max{axis}={out[f'max{axis}']}",
                    f"min{axis} <= max{axis}",
                )
        values = list(out.values())
    elif keys == {"middle", "width", "height"}:
        middle = _sequence(position["middle"], f"{where}['middle']", "[x, y]")
        if len(middle) != 2:
            raise InvalidAnnotationError(
                f"{where}['middle']", f"{middle!r} is not [x, y]", "[x, y]"
            )
        centre = [_number(m, f"{where}['middle']", "[x, y] numbers") for m in middle]
        width = _number(position["width"], f"{where}['width']", "a number >= 0")
        height = _number(position["height"], f"{where}['height']", "a number >= 0")
        if width < 0 or height < 0:
            raise InvalidAnnotationError(
                where, f"width={width}, height={height}", "width and height >= 0"
            )
        out = {"middle": centre, "width": width, "height": height}
        values = [*centre, width, height]
    else:
        raise InvalidAnnotationError(
            where, f"has keys {sorted(map(str, keys))}", _POSITION_HELP + fractions
        )
    if not pixel and any(v < 0 or v > 1 for v in values):
        raise InvalidAnnotationError(
            where, f"{dict(position)!r} lies outside [0, 1]", _POSITION_HELP + fractions
        )
    return out


def _check_box(box: Any, where: str) -> dict[str, Any]:
    if not isinstance(box, Mapping):
        raise InvalidAnnotationError(where, f"{box!r} is not a dict", "a box dict")
    unknown = set(box) - _BOX_KEYS
    if unknown:
        raise InvalidAnnotationError(
            where, f"unknown keys {sorted(map(str, unknown))}", f"keys {sorted(_BOX_KEYS)}"
        )
    if "position" not in box:
        raise InvalidAnnotationError(where, "has no 'position'", _POSITION_HELP)
    domain = box.get("domain")
    if domain not in (None, "pixel"):
        raise InvalidAnnotationError(
            f"{where}['domain']", f"{domain!r} is not a domain", "'pixel' or no domain (fractions)"
        )
    if "class_id" not in box:
        raise InvalidAnnotationError(where, "has no 'class_id'", "an integer 'class_id'")
    out: dict[str, Any] = {
        "position": _check_position(box["position"], domain == "pixel", f"{where}['position']"),
        "class_id": _integer(box["class_id"], f"{where}['class_id']", "an integer class id"),
    }
    if "box_caption" in box and box["box_caption"] is not None:
        if not isinstance(box["box_caption"], str):
            raise InvalidAnnotationError(
                f"{where}['box_caption']", f"{box['box_caption']!r} is not a str", "a str"
            )
        out["box_caption"] = box["box_caption"]
    if "scores" in box and box["scores"] is not None:
        scores = box["scores"]
        if not isinstance(scores, Mapping):
            raise InvalidAnnotationError(
                f"{where}['scores']", f"{scores!r} is not a dict", "a dict of str -> number"
            )
        checked = {}
        for name, value in scores.items():
            if not isinstance(name, str):
                raise InvalidAnnotationError(
                    f"{where}['scores']", f"key {name!r} is not a str", "str keys"
                )
            checked[name] = _number(value, f"{where}['scores'][{name!r}]", "a finite number")
        out["scores"] = checked
    if domain == "pixel":
        out["domain"] = "pixel"
    return out


def check_wandb_boxes(boxes: Any) -> dict[str, dict[str, Any]] | None:
    """Validate W&B's ``boxes`` argument and return the sidecar's ``boxes`` block.

    Missing class labels default to ``class_<id>``, as in W&B. Class-label keys are written
    as strings, because JSON object keys are strings.
    """
    if boxes is None:
        return None
    accepted = "a dict {group: {'box_data': [box, ...], 'class_labels': {id: name}}}"
    if not isinstance(boxes, Mapping):
        raise InvalidAnnotationError("boxes", f"{boxes!r} is not a dict", accepted)
    result: dict[str, dict[str, Any]] = {}
    for group, content in boxes.items():
        check_segment(group, "boxes group name")
        where = f"boxes[{group!r}]"
        if not isinstance(content, Mapping):
            raise InvalidAnnotationError(where, f"{content!r} is not a dict", accepted)
        unknown = set(content) - {"box_data", "class_labels"}
        if unknown:
            raise InvalidAnnotationError(
                where, f"unknown keys {sorted(map(str, unknown))}", accepted
            )
        if "box_data" not in content:
            raise InvalidAnnotationError(where, "has no 'box_data'", accepted)
        data = _sequence(content["box_data"], f"{where}['box_data']", "a list of box dicts")
        checked = [_check_box(box, f"{where}['box_data'][{i}]") for i, box in enumerate(data)]
        labels = _check_class_labels(content.get("class_labels"), f"{where}['class_labels']")
        for box in checked:
            labels.setdefault(box["class_id"], f"class_{box['class_id']}")
        result[group] = {
            "box_data": checked,
            "class_labels": {str(k): v for k, v in sorted(labels.items())},
        }
    return result


def check_class_labels(labels: Any, argument: str) -> dict[str, str]:
    """Validated class labels with string keys, as stored in a sidecar."""
    return {str(k): v for k, v in sorted(_check_class_labels(labels, argument).items())}
