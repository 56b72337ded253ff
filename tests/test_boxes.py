"""Box formats and W&B box groups: conversion and validation (no I/O)."""

from __future__ import annotations

import numpy as np
import pytest

from dvcstage.errors import InvalidAnnotationError
from dvcstage.media.boxes import check_annotations, check_wandb_boxes

# The same two boxes, (top, left, bottom, right) = (10, 20, 100, 200) and (50, 40, 230, 401).
FORMATS = {
    "tlbr": [[10, 20, 100, 200], [50, 40, 230, 401]],
    "ltrb": [[20, 10, 200, 100], [40, 50, 401, 230]],
    "tlhw": [[10, 20, 90, 180], [50, 40, 180, 361]],
    "xywh": [[110, 55, 180, 90], [220.5, 140, 361, 180]],
}


def _annotations(box_format: str) -> dict[str, object]:
    return {
        "boxes": FORMATS[box_format],
        "labels": ["cat", "dog"],
        "scores": [0.9, 0.8],
        "box_format": box_format,
    }


def test_four_box_formats_give_identical_annotations() -> None:
    results = {fmt: check_annotations(_annotations(fmt)) for fmt in FORMATS}
    expected = {
        "cat": [{"box": {"top": 10, "left": 20, "bottom": 100, "right": 200}, "score": 0.9}],
        "dog": [{"box": {"top": 50, "left": 40, "bottom": 230, "right": 401}, "score": 0.8}],
    }
    for fmt, result in results.items():
        assert result == expected, fmt


def test_xywh_is_center_x_center_y_width_height() -> None:
    # x is horizontal: a wide, short box centred at x=100, y=20 spans left 50..150, top 10..30.
    result = check_annotations(
        {"boxes": [[100, 20, 100, 20]], "labels": ["a"], "scores": [1], "box_format": "xywh"}
    )
    assert result == {
        "a": [{"box": {"top": 10, "left": 50, "bottom": 30, "right": 150}, "score": 1}]
    }


def test_numpy_inputs_are_accepted() -> None:
    result = check_annotations(
        {
            "boxes": np.array([[1, 2, 3, 4]], dtype=np.int64),
            "labels": ["a"],
            "scores": np.array([0.5], dtype=np.float32),
            "box_format": "tlbr",
        }
    )
    assert result == {"a": [{"box": {"top": 1, "left": 2, "bottom": 3, "right": 4}, "score": 0.5}]}


@pytest.mark.parametrize(
    ("annotations", "needle"),
    [
        ({"boxes": [], "labels": [], "scores": []}, "missing keys ['box_format']"),
        ({"boxes": [], "labels": [], "scores": [], "box_format": "yolo"}, "tlbr"),
        ({"boxes": [[1, 2, 3]], "labels": ["a"], "scores": [1], "box_format": "tlbr"}, "4 numbers"),
        ({"boxes": [[3, 2, 1, 4]], "labels": ["a"], "scores": [1], "box_format": "tlbr"}, "bottom"),
        ({"boxes": [[1, 2, 3, 4]], "labels": [], "scores": [1], "box_format": "tlbr"}, "length"),
        (
            {"boxes": [[1, "x", 3, 4]], "labels": ["a"], "scores": [1], "box_format": "tlbr"},
            "finite",
        ),
        ({"boxes": [[1, 2, 3, 4]], "labels": [7], "scores": [1], "box_format": "tlbr"}, "label"),
        (
            {"boxes": [[1, 2, 3, 4]], "labels": ["a"], "scores": [None], "box_format": "tlbr"},
            "finite",
        ),
    ],
)
def test_bad_annotations_name_the_argument(annotations: dict[str, object], needle: str) -> None:
    with pytest.raises(InvalidAnnotationError) as info:
        check_annotations(annotations)
    assert "annotations" in str(info.value)
    assert needle in str(info.value)


def test_wandb_boxes_default_labels_and_both_position_forms() -> None:
    boxes = {
        "predictions": {
            "box_data": [
                {"position": {"minX": 0.1, "maxX": 0.2, "minY": 0.3, "maxY": 0.4}, "class_id": 2},
                {
                    "position": {"middle": [150, 20], "width": 68, "height": 112},
                    "domain": "pixel",
                    "class_id": np.int64(3),
                    "box_caption": "a building",
                    "scores": {"acc": np.float32(0.5), "loss": 0.7},
                },
            ],
            "class_labels": {2: "road"},
        }
    }
    result = check_wandb_boxes(boxes)
    assert result is not None
    assert result["predictions"]["class_labels"] == {"2": "road", "3": "class_3"}
    second = result["predictions"]["box_data"][1]
    assert second == {
        "position": {"middle": [150, 20], "width": 68, "height": 112},
        "class_id": 3,
        "box_caption": "a building",
        "scores": {"acc": 0.5, "loss": 0.7},
        "domain": "pixel",
    }


@pytest.mark.parametrize(
    ("box", "needle"),
    [
        ({"position": {"minX": 0.1, "maxX": 0.2, "minY": 0.3}, "class_id": 1}, "minX"),
        (
            {"position": {"minX": 0.3, "maxX": 0.2, "minY": 0.3, "maxY": 0.4}, "class_id": 1},
            "greater",
        ),
        ({"position": {"minX": 0.1, "maxX": 2, "minY": 0.3, "maxY": 0.4}, "class_id": 1}, "[0, 1]"),
        (
            {"position": {"minX": 0.1, "maxX": 0.2, "minY": 0.3, "maxY": 0.4}, "class_id": 1.5},
            "integer",
        ),
        ({"position": {"minX": 0.1, "maxX": 0.2, "minY": 0.3, "maxY": 0.4}}, "class_id"),
        (
            {
                "position": {"minX": 0, "maxX": 1, "minY": 0, "maxY": 1},
                "class_id": 1,
                "scores": {"a": "x"},
            },
            "finite",
        ),
        (
            {
                "position": {"middle": [1, 2], "width": -1, "height": 2},
                "class_id": 1,
                "domain": "pixel",
            },
            ">= 0",
        ),
        (
            {
                "position": {"minX": 0, "maxX": 1, "minY": 0, "maxY": 1},
                "class_id": 1,
                "domain": "px",
            },
            "pixel",
        ),
        (
            {"position": {"minX": 0, "maxX": 1, "minY": 0, "maxY": 1}, "class_id": 1, "colour": 1},
            "unknown",
        ),
    ],
)
def test_bad_wandb_boxes_are_refused(box: dict[str, object], needle: str) -> None:
    with pytest.raises(InvalidAnnotationError) as info:
        check_wandb_boxes({"predictions": {"box_data": [box]}})
    assert "boxes['predictions']" in str(info.value)
    assert needle in str(info.value)
