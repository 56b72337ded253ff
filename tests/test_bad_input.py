"""Bad input of every kind: a typed error that names the argument and what is accepted.

Every rejected call must leave the run exactly as it was: no image, sidecar, mask folder,
metric or index line appears (or changes), not even once the background writers have
drained (``live.flush()``, which would also raise if a bad value slipped through
validation and failed on a writer thread).

The property tests generate several hundred bad inputs (see ``EXAMPLES``); the
deterministic tests check complete messages and a few known edge cases.
"""

from __future__ import annotations

import contextlib
import math
import string
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path, PurePosixPath
from typing import Any

import dvclive.error
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image as PILImage

import dvcstage
from dvcstage import Image, Live
from dvcstage.errors import (
    DvcStageError,
    InvalidAnnotationError,
    InvalidMediaNameError,
    InvalidMediaTypeError,
    InvalidMediaValueError,
    MediaWriteError,
    SchemaValidationError,
)

H, W = 6, 8  # every valid test image is 6 rows x 8 columns
IMG = np.zeros((H, W, 3), np.uint8)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif")
BOX_FORMATS = ("tlbr", "ltrb", "tlhw", "xywh")
ANNOTATION_KEYS = ("boxes", "labels", "scores", "box_format")

# Examples per property test; their sum is what the file throws at dvcstage.
EXAMPLES = {
    "val_types": 30,
    "arrays": 45,
    "names": 45,
    "annotations": 60,
    "boxes": 60,
    "masks": 45,
    "caption": 15,
    "log": 45,
}
assert sum(EXAMPLES.values()) >= 200


def _settings(name: str) -> settings:
    return settings(
        max_examples=EXAMPLES[name],
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


# -- the run under test ---------------------------------------------------------------------


def snapshot(run: Path) -> dict[str, Any]:
    """Everything a media or metric call may touch: the plots tree and the media index."""
    state: dict[str, Any] = {}
    plots = run / "plots"
    if plots.is_dir():
        for path in sorted(plots.rglob("*")):
            rel = path.relative_to(run).as_posix()
            if path.is_dir():
                state[rel] = "dir"
            else:
                stat = path.stat()
                state[rel] = (stat.st_size, stat.st_mtime_ns)
    index = run / "media.jsonl"
    state["media.jsonl"] = index.read_bytes() if index.exists() else None
    return state


@pytest.fixture
def live(plain_dir: Path) -> Iterator[Live]:
    """A run that already holds an image with a sidecar and masks, and a metric."""
    run = Live(dir=str(plain_dir / "run"), save_dvc_exp=False)
    run.log_image(
        "seed.png",
        IMG,
        {"boxes": [[0, 0, 2, 2]], "labels": ["cat"], "scores": [0.5], "box_format": "tlbr"},
        masks={"seg": {"mask_data": np.ones((H, W), np.uint8)}},
        caption="seed",
    )
    run.log_metric("seed_metric", 1.0)
    run.flush()
    yield run
    # A test that failed because bad input slipped through to a writer thread has already
    # reported it; don't report it a second time from the teardown.
    with contextlib.suppress(MediaWriteError):
        run.end()


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    """Files a ``val`` or a mask ``path`` may point at."""
    folder = tmp_path / "inputs"
    folder.mkdir()
    text = folder / "not-an-image.png"
    text.write_text("this is not a PNG\n")
    rgb = folder / "rgb-mask.png"
    PILImage.new("RGB", (W, H)).save(rgb)
    small = folder / "small-mask.png"
    PILImage.new("L", (W - 1, H)).save(small)
    return {"text": text, "rgb": rgb, "small": small, "missing": folder / "missing.png"}


def assert_rejected(
    live: Live,
    call: Callable[[], object],
    error: type[Exception],
    argument: str,
    *fragments: str,
) -> str:
    """``call`` raises ``error`` naming ``argument`` and the accepted values; nothing changes."""
    run = Path(live.dir)
    before = snapshot(run)
    step, summary = live.step, dict(live.summary)
    with pytest.raises(error) as info:
        call()
    live.flush()  # a value that slipped through validation fails here, on a writer thread
    assert snapshot(run) == before, f"a rejected call left files behind: {info.value}"
    assert (live.step, live.summary) == (step, summary)
    exc = info.value
    message = str(exc)
    assert isinstance(exc, dvclive.error.DvcLiveError), type(exc).__mro__
    assert isinstance(exc, DvcStageError), type(exc).__mro__
    assert argument in message, message
    assert "; accepted: " in message, message
    assert message.split("; accepted: ")[-1].strip(), message
    for fragment in fragments:
        assert fragment in message, message
    return message


# -- strategies -------------------------------------------------------------------------------

WINDOWS_DEVICES = {"CON", "PRN", "AUX", "NUL"} | {
    f"{d}{n}" for d in ("COM", "LPT") for n in "123456789"
}
segments = st.text(string.ascii_letters + string.digits + "_-", min_size=1, max_size=8).filter(
    lambda s: s.upper() not in WINDOWS_DEVICES  # refused as names: runs move to Windows too
)
not_finite = st.sampled_from([math.nan, math.inf, -math.inf])
not_a_number = st.one_of(
    st.text(max_size=4),
    st.none(),
    st.booleans(),
    not_finite,
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=1),
    st.complex_numbers(allow_nan=False),
)
not_a_str = st.one_of(
    st.integers(),
    st.floats(),
    st.booleans(),
    st.binary(max_size=4),
    st.lists(st.text(), max_size=2),
)
not_a_dict = st.one_of(
    st.text(max_size=4),
    st.integers(),
    st.floats(allow_nan=False),
    st.lists(st.integers(), max_size=2),
    st.tuples(st.integers()),
)
not_a_list = st.one_of(
    st.text(max_size=4), st.integers(), st.dictionaries(st.text(max_size=2), st.integers())
)
bad_segment = st.one_of(
    st.sampled_from(["", ".", "..", "a/b", "a\\b", "a\x00b", "/"]),
    st.integers(),
    st.none(),
)


def is_image_shape(shape: tuple[int, ...]) -> bool:
    """The documented rule: HxW, HxWx{1,3,4} or {1,3,4}xHxW, every size at least 1."""
    if len(shape) == 2:
        return min(shape) > 0
    if len(shape) == 3:
        a, b, c = shape
        return (c in (1, 3, 4) and a > 0 and b > 0) or (a in (1, 3, 4) and b > 0 and c > 0)
    return False


VALID_SHAPES = [(H, W), (H, W, 1), (H, W, 3), (H, W, 4), (3, H, W), (1, H, W)]


@st.composite
def bad_arrays(draw: st.DrawFn) -> tuple[np.ndarray, str]:
    """An array with a bad shape, an unsupported dtype, or a NaN / infinity; and the reason."""
    kind = draw(st.sampled_from(["shape", "dtype", "nonfinite"]))
    if kind == "shape":
        shape = tuple(draw(st.lists(st.integers(0, 6), max_size=5)))
        assume(not is_image_shape(shape))
        dtype = draw(st.sampled_from([np.uint8, np.float32, np.bool_, np.int16]))
        return np.zeros(shape, dtype), "shape"
    shape = draw(st.sampled_from(VALID_SHAPES))
    if kind == "dtype":
        dtype = draw(
            st.sampled_from(
                [np.complex64, np.complex128, "U2", "S2", object, "M8[s]", "V4", [("a", "u1")]]
            )
        )
        return np.zeros(shape, dtype) if dtype is not object else np.empty(shape, object), "dtype"
    dtype = draw(st.sampled_from([np.float16, np.float32, np.float64, np.longdouble]))
    array = draw(hnp.arrays(dtype, shape, elements=st.floats(-2, 2, width=16)))
    for _ in range(draw(st.integers(1, 3))):
        at = tuple(draw(st.integers(0, size - 1)) for size in shape)
        array[at] = draw(not_finite)
    return array, "NaN or infinity"


@st.composite
def bad_names(draw: st.DrawFn) -> tuple[Any, str]:
    """A name log_image must refuse, and a fragment of the reason."""
    folders = draw(st.lists(segments, max_size=2))
    good = "/".join([*folders, draw(segments) + draw(st.sampled_from(IMAGE_SUFFIXES))])
    kind = draw(
        st.sampled_from(
            [
                "absolute",
                "dots",
                "nul",
                "backslash",
                "no_suffix",
                "bad_suffix",
                "empty",
                "empty_segment",
                "drive",
                "not_str",
            ]
        )
    )
    if kind == "absolute":
        return "/" + good, "absolute"
    if kind == "dots":
        parts = good.split("/")
        parts.insert(draw(st.integers(0, len(parts) - 1)), draw(st.sampled_from(["..", "."])))
        return "/".join(parts), "segment"
    if kind in ("nul", "backslash"):
        at = draw(st.integers(0, len(good)))
        char = "\x00" if kind == "nul" else "\\"
        return good[:at] + char + good[at:], "NUL" if kind == "nul" else "backslash"
    if kind == "no_suffix":
        stem = draw(st.sampled_from(["", "."])) + draw(segments)
        return "/".join([*folders, stem]), "suffix"
    if kind == "bad_suffix":
        upper = [".PNG", ".Jpg", ".JPEG", ".GIF"]
        suffix = draw(
            st.sampled_from(
                [".bmp", ".tif", ".tiff", ".webp", ".json", ".txt", ".svg", ".gz", ".png_", *upper]
            )
        )
        return "/".join([*folders, draw(segments) + suffix]), "suffix"
    if kind == "empty":
        return "", "empty"
    if kind == "empty_segment":
        return draw(st.sampled_from([good + "/", "a//" + good, "/", "//" + good])), ""
    if kind == "drive":
        return draw(st.sampled_from(["C:", "c:/", "Z:"])) + good, "absolute"
    name = draw(
        st.one_of(
            st.integers(),
            st.none(),
            st.floats(),
            st.binary(max_size=8).map(lambda b: b + b".png"),
            st.lists(segments, max_size=2),
            st.tuples(segments),
        )
    )
    return name, "not a string"


@st.composite
def valid_annotations(draw: st.DrawFn, min_size: int = 0) -> dict[str, Any]:
    n = draw(st.integers(min_size, 3))
    boxes = []
    for _ in range(n):
        top, left = draw(st.integers(0, H)), draw(st.integers(0, W))
        boxes.append([top, left, top + draw(st.integers(0, 5)), left + draw(st.integers(0, 5))])
    return {
        "boxes": boxes,
        "labels": draw(st.lists(segments, min_size=n, max_size=n)),
        "scores": draw(st.lists(st.floats(0, 1), min_size=n, max_size=n)),
        "box_format": "tlbr",
    }


def inverted_box(box_format: str, a: int, b: int, d: int, flip_vertical: bool) -> list[int]:
    """A box of ``box_format`` whose height (flip_vertical) or width is negative."""
    if box_format == "tlbr":  # [top, left, bottom, right]
        return [a, b, a - d, b + 1] if flip_vertical else [a, b, a + 1, b - d]
    if box_format == "ltrb":  # [left, top, right, bottom]
        return [a, b, a + 1, b - d] if flip_vertical else [a, b, a - d, b + 1]
    if box_format == "tlhw":  # [top, left, height, width]
        return [a, b, -d, 1] if flip_vertical else [a, b, 1, -d]
    return [a, b, 1, -d] if flip_vertical else [a, b, -d, 1]  # xywh: [cx, cy, width, height]


ANNOTATION_MUTATIONS = [
    "not_dict",
    "missing_key",
    "extra_key",
    "box_format",
    "length",
    "coord",
    "inverted",
    "box_length",
    "box_not_list",
    "list_not_list",
    "label",
    "score",
]


@st.composite
def bad_annotations(draw: st.DrawFn) -> tuple[Any, str]:
    kind = draw(st.sampled_from(ANNOTATION_MUTATIONS))
    ann = draw(valid_annotations(min_size=1))
    i = draw(st.integers(0, len(ann["boxes"]) - 1))
    if kind == "not_dict":
        return draw(not_a_dict), "not a dict"
    if kind == "missing_key":
        del ann[draw(st.sampled_from(ANNOTATION_KEYS))]
        return ann, "missing keys"
    if kind == "extra_key":
        ann[draw(st.text(max_size=6).filter(lambda k: k not in ANNOTATION_KEYS))] = 1
        return ann, "unknown keys"
    if kind == "box_format":
        ann["box_format"] = draw(
            st.one_of(
                st.text(max_size=6).filter(lambda f: f not in BOX_FORMATS),
                st.sampled_from(["TLBR", "xyxy", "xywhn", "tlbr ", None, 0, ("tlbr",)]),
            )
        )
        return ann, "box_format"
    if kind == "length":
        key = draw(st.sampled_from(["boxes", "labels", "scores"]))
        if draw(st.booleans()):
            ann[key] = ann[key][1:]
        else:
            ann[key] = [*ann[key], ann[key][0]]
        return ann, "differ in length"
    if kind == "coord":
        ann["boxes"][i][draw(st.integers(0, 3))] = draw(not_a_number)
        return ann, "not a finite number"
    if kind == "inverted":
        ann["box_format"] = draw(st.sampled_from(BOX_FORMATS))
        ann["boxes"][i] = inverted_box(
            ann["box_format"],
            draw(st.integers(0, 100)),
            draw(st.integers(0, 100)),
            draw(st.integers(2, 50)),
            draw(st.booleans()),
        )
        return ann, "bottom < top or right < left"
    if kind == "box_length":
        size = draw(st.sampled_from([0, 1, 2, 3, 5, 6]))
        ann["boxes"][i] = [1] * size
        return ann, f"has {size} numbers"
    if kind == "box_not_list":
        ann["boxes"][i] = draw(not_a_list)
        return ann, "not a list"
    if kind == "list_not_list":
        ann[draw(st.sampled_from(["boxes", "labels", "scores"]))] = draw(not_a_list)
        return ann, "not a list"
    if kind == "label":
        ann["labels"][i] = draw(st.one_of(st.just(""), st.integers(), st.none(), st.binary()))
        return ann, "not a label"
    ann["scores"][i] = draw(not_a_number)
    return ann, "not a finite number"


def fraction_pair(draw: st.DrawFn) -> tuple[float, float]:
    low, high = sorted(draw(st.lists(st.floats(0, 1), min_size=2, max_size=2)))
    return low, high


@st.composite
def valid_box(draw: st.DrawFn) -> dict[str, Any]:
    min_x, max_x = fraction_pair(draw)
    min_y, max_y = fraction_pair(draw)
    return {
        "position": {"minX": min_x, "maxX": max_x, "minY": min_y, "maxY": max_y},
        "class_id": draw(st.integers(0, 10)),
        "scores": {"acc": draw(st.floats(0, 1))},
    }


BOX_MUTATIONS = [
    "not_dict",
    "group_name",
    "group_not_dict",
    "group_unknown_key",
    "no_box_data",
    "box_data_not_list",
    "box_not_dict",
    "unknown_box_key",
    "no_position",
    "no_class_id",
    "missing_coordinate",
    "min_gt_max",
    "outside_fraction",
    "bad_domain",
    "class_id",
    "score",
    "scores_not_dict",
    "coordinate",
    "caption",
    "class_labels",
    "middle",
    "negative_size",
]


@st.composite
def bad_boxes(draw: st.DrawFn) -> tuple[Any, type[Exception]]:
    kind = draw(st.sampled_from(BOX_MUTATIONS))
    boxes_ = draw(st.lists(valid_box(), min_size=1, max_size=3))
    box = boxes_[draw(st.integers(0, len(boxes_) - 1))]
    group: dict[str, Any] = {"box_data": boxes_, "class_labels": {1: "cat"}}
    error: type[Exception] = InvalidAnnotationError
    value: Any = {"predictions": group}
    position = box["position"]
    if kind == "not_dict":
        value = draw(not_a_dict)
    elif kind == "group_name":
        value = {draw(bad_segment): group}
        error = InvalidMediaNameError
    elif kind == "group_not_dict":
        value = {"predictions": draw(st.one_of(not_a_dict, st.just(boxes_)))}
    elif kind == "group_unknown_key":
        group[draw(st.sampled_from(["boxes", "labels", "box_caption", "data"]))] = []
    elif kind == "no_box_data":
        del group["box_data"]
    elif kind == "box_data_not_list":
        group["box_data"] = draw(not_a_list)
    elif kind == "box_not_dict":
        boxes_.append(draw(st.one_of(st.lists(st.floats(0, 1), max_size=4), st.text())))
    elif kind == "unknown_box_key":
        box[draw(st.sampled_from(["label", "score", "caption", "minX", "id"]))] = 1
    elif kind == "no_position":
        del box["position"]
    elif kind == "no_class_id":
        del box["class_id"]
    elif kind == "missing_coordinate":
        del position[draw(st.sampled_from(sorted(position)))]
    elif kind == "min_gt_max":
        axis = draw(st.sampled_from("XY"))
        low, high = draw(st.floats(0, 0.5)), draw(st.floats(0.51, 1))
        position[f"min{axis}"], position[f"max{axis}"] = high, low
    elif kind == "outside_fraction":
        key = draw(st.sampled_from(sorted(position)))
        over = draw(st.floats(1e-3, 1e6))
        position[key] = -over if key.startswith("min") else 1 + over
    elif kind == "bad_domain":
        box["domain"] = draw(st.sampled_from(["pixels", "fraction", "Pixel", 1, True]))
    elif kind == "class_id":
        box["class_id"] = draw(
            st.one_of(
                st.floats(),
                st.text(max_size=3),
                st.none(),
                st.booleans(),
                st.lists(st.integers(), max_size=1),
            )
        )
    elif kind == "score":
        box["scores"] = {"acc": draw(not_a_number)}
    elif kind == "scores_not_dict":
        box["scores"] = draw(st.one_of(st.floats(0, 1), st.lists(st.floats(0, 1), min_size=1)))
    elif kind == "coordinate":
        position[draw(st.sampled_from(sorted(position)))] = draw(not_a_number)
    elif kind == "caption":
        box["box_caption"] = draw(not_a_str)
    elif kind == "class_labels":
        group["class_labels"] = draw(
            st.one_of(
                not_a_dict,
                st.just({1: 2}),
                st.just({"cat": "cat"}),
                st.just({1.5: "cat"}),
                st.just({None: "cat"}),
            )
        )
    elif kind == "middle":
        box["position"] = {
            "middle": draw(st.lists(st.floats(0, 1), max_size=4).filter(lambda m: len(m) != 2)),
            "width": 0.1,
            "height": 0.1,
        }
    else:  # negative_size, even with pixel coordinates
        box["domain"] = "pixel"
        box["position"] = {
            "middle": [3, 3],
            "width": draw(st.integers(-50, -1)),
            "height": draw(st.integers(0, 5)),
        }
        if draw(st.booleans()):
            box["position"]["width"], box["position"]["height"] = 2, box["position"]["width"]
    return value, error


MASK_MUTATIONS = [
    "not_dict",
    "name",
    "content_not_dict",
    "unknown_key",
    "both",
    "neither",
    "shape",
    "ndim",
    "float",
    "other_dtype",
    "negative",
    "too_large",
    "missing_path",
    "path_type",
    "not_image",
    "rgb_file",
    "small_file",
    "data_type",
    "class_labels",
]


@st.composite
def bad_masks(draw: st.DrawFn, files: dict[str, Path]) -> tuple[Any, type[Exception], str]:
    kind = draw(st.sampled_from(MASK_MUTATIONS))
    ids = np.zeros((H, W), draw(st.sampled_from([np.uint8, np.uint16, np.int32, np.int64])))
    content: dict[str, Any] = {"mask_data": ids, "class_labels": {0: "bg"}}
    value: Any = {"seg": content}
    error: type[Exception] = InvalidAnnotationError
    fragment = ""
    if kind == "not_dict":
        value, fragment = draw(not_a_dict), "not a dict"
    elif kind == "name":
        value, error = {draw(bad_segment): content}, InvalidMediaNameError
    elif kind == "content_not_dict":
        value = {"seg": draw(st.one_of(not_a_dict, st.just(ids)))}
    elif kind == "unknown_key":
        content[draw(st.sampled_from(["data", "mask", "labels", "paths"]))] = 1
        fragment = "unknown keys"
    elif kind == "both":
        content["path"] = str(files["small"])
        fragment = "exactly one of"
    elif kind == "neither":
        del content["mask_data"]
        fragment = "exactly one of"
    elif kind == "shape":
        shape = (draw(st.integers(1, 10)), draw(st.integers(1, 10)))
        assume(shape != (H, W))
        content["mask_data"], fragment = np.zeros(shape, np.uint8), "differs"
    elif kind == "ndim":
        shape = draw(st.sampled_from([(), (W,), (H * W,), (H, W, 1), (1, H, W), (H, W, 3)]))
        content["mask_data"], fragment = np.zeros(shape, np.uint8), "2-D"
    elif kind == "float":
        dtype = draw(st.sampled_from([np.float16, np.float32, np.float64]))
        content["mask_data"] = draw(hnp.arrays(dtype, (H, W), elements=st.integers(0, 5)))
        fragment = "not an integer type"
    elif kind == "other_dtype":
        dtype = draw(st.sampled_from([np.complex64, "U1", object]))
        content["mask_data"], fragment = np.zeros((H, W), dtype), "not an integer type"
    elif kind in ("negative", "too_large"):
        dtype = draw(st.sampled_from([np.int32, np.int64]))
        bad = (
            draw(st.integers(-(2**31), -1))
            if kind == "negative"
            else draw(st.integers(65536, 2**31 - 1))
        )
        array = np.zeros((H, W), dtype)
        array[draw(st.integers(0, H - 1)), draw(st.integers(0, W - 1))] = bad
        content["mask_data"], fragment = array, "0..65535"
        if kind == "negative" and draw(st.booleans()):
            content["mask_data"] = array.tolist()  # a plain list of lists is accepted too
    elif kind == "missing_path":
        del content["mask_data"]
        content["path"] = draw(st.sampled_from([str(files["missing"]), files["missing"]]))
        fragment = "is not a file"
    elif kind == "path_type":
        del content["mask_data"]
        content["path"] = draw(st.one_of(st.integers(), st.none(), st.binary(min_size=1)))
        fragment = "is not a path"
    elif kind in ("not_image", "rgb_file", "small_file"):
        del content["mask_data"]
        content["path"] = str(files[{"not_image": "text", "rgb_file": "rgb"}.get(kind, "small")])
    elif kind == "data_type":
        content["mask_data"] = draw(
            st.one_of(st.none(), st.text(), st.integers(), st.dictionaries(st.text(), st.none()))
        )
    else:
        content["class_labels"] = draw(
            st.one_of(
                not_a_dict,
                st.just({0: 0}),
                st.just({"bg": "bg"}),
                st.just({0.5: "bg"}),
            )
        )
    return value, error, fragment


# -- property tests -------------------------------------------------------------------------

bad_val_types = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.complex_numbers(),
    st.binary(max_size=8),
    st.binary(max_size=8).map(bytearray),
    st.lists(st.integers(0, 255), max_size=4),
    st.lists(st.lists(st.integers(0, 255), min_size=W, max_size=W), min_size=H, max_size=H),
    st.tuples(st.integers(0, 255), st.integers(0, 255)),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.frozensets(st.integers(), max_size=3),
    st.fractions(),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.just(object()),
    st.just(range(3)),
    st.just(len),
)


@_settings("val_types")
@given(val=bad_val_types, wrap=st.booleans())
def test_bad_val_type(live: Live, val: Any, wrap: bool) -> None:
    if wrap:  # dvcstage.Image(...) checks its first argument the same way
        call, argument = (lambda: Image(val)), "data_or_path"
    else:
        call, argument = (lambda: live.log_image("bad.png", val)), "val"
    assert_rejected(live, call, InvalidMediaTypeError, argument, "unsupported type")
    with pytest.raises(dvclive.error.InvalidDataTypeError):  # DVCLive's documented error
        live.log_image("bad.png", val)


@_settings("arrays")
@given(case=bad_arrays())
def test_bad_array(live: Live, case: tuple[np.ndarray, str]) -> None:
    array, reason = case
    assert_rejected(
        live, lambda: live.log_image("bad.png", array), InvalidMediaValueError, "val", reason
    )


@_settings("names")
@given(case=bad_names(), image=st.sampled_from([IMG, Image(IMG)]))
def test_bad_name(live: Live, case: tuple[Any, str], image: Any) -> None:
    name, reason = case
    message = assert_rejected(
        live, lambda: live.log_image(name, image), InvalidMediaNameError, "name", reason
    )
    assert message.startswith("Cannot log image with name ")
    with pytest.raises(dvclive.error.InvalidImageNameError):  # DVCLive's documented error
        live.log_image(name, image)


@_settings("annotations")
@given(case=bad_annotations())
def test_bad_annotations(live: Live, case: tuple[Any, str]) -> None:
    annotations, reason = case
    assert_rejected(
        live,
        lambda: live.log_image("bad.png", IMG, annotations),
        InvalidAnnotationError,
        "annotations",
        reason,
    )


@_settings("boxes")
@given(case=bad_boxes(), wrap=st.booleans())
def test_bad_boxes(live: Live, case: tuple[Any, type[Exception]], wrap: bool) -> None:
    boxes, error = case
    if wrap:
        call = lambda: live.log({"bad": Image(IMG, boxes=boxes)})  # noqa: E731
    else:
        call = lambda: live.log_image("bad.png", IMG, boxes=boxes)  # noqa: E731
    assert_rejected(live, call, error, "boxes")


@_settings("masks")
@given(data=st.data())
def test_bad_masks(live: Live, files: dict[str, Path], data: st.DataObject) -> None:
    masks, error, fragment = data.draw(bad_masks(files))
    how = data.draw(st.sampled_from(["log_image", "image", "overlay"]))
    if how == "log_image":
        call = lambda: live.log_image("bad.png", IMG, masks=masks)  # noqa: E731
    elif how == "image":
        call = lambda: live.log({"bad": Image(IMG, masks=masks)})  # noqa: E731
    else:  # masks given to log_image replace those of an Image
        call = lambda: live.log_image("bad.png", Image(IMG), masks=masks)  # noqa: E731
    assert_rejected(live, call, error, "masks", fragment)


@_settings("caption")
@given(caption=not_a_str, how=st.sampled_from(["log_image", "image", "overlay"]))
def test_bad_caption(live: Live, caption: Any, how: str) -> None:
    if how == "log_image":
        call = lambda: live.log_image("bad.png", IMG, caption=caption)  # noqa: E731
    elif how == "image":
        call = lambda: live.log({"bad": Image(IMG, caption=caption)})  # noqa: E731
    else:
        call = lambda: live.log_image("bad.png", Image(IMG), caption=caption)  # noqa: E731
    assert_rejected(live, call, InvalidAnnotationError, "caption", "not a str")


# str and bool are metrics for DVCLive's log_metric, so live.log accepts them too.
bad_log_values = st.one_of(
    st.none(),
    st.complex_numbers(),
    st.binary(max_size=4),
    st.just([]),
    st.lists(st.floats(allow_nan=False), min_size=1, max_size=3),
    st.just([Image(IMG), 3]),
    st.just({1.0}),
    st.just(np.bool_(True)),
    st.just(IMG),
    st.decimals(allow_nan=False, allow_infinity=False),
)
bad_log_keys = st.sampled_from(["", "/abs", "a/../b", "..", ".", "a\\b", "a\x00b", "a//b", "a/"])


@st.composite
def bad_log_calls(draw: st.DrawFn) -> tuple[Any, Any, type[Exception], str]:
    """(data, step, error, argument): valid entries first, so partial logging would show."""
    kind = draw(st.sampled_from(["data", "key_type", "key", "value", "nested", "step"]))
    data: dict[Any, Any] = {"ok_metric": 0.5, "ok_image": Image(IMG)}
    step: Any = None
    if kind == "data":
        return draw(not_a_dict), None, InvalidMediaTypeError, "data"
    if kind == "key_type":
        data[draw(st.one_of(st.integers(), st.none(), st.tuples(segments)))] = 1.0
        return data, None, InvalidMediaTypeError, "data key"
    if kind == "key":
        data[draw(bad_log_keys)] = draw(st.sampled_from([1.0, Image(IMG)]))
        return data, None, InvalidMediaNameError, "data key"
    if kind == "value":
        key = draw(segments)
        assume(key not in data)
        data[key] = draw(bad_log_values)
        return data, None, InvalidMediaTypeError, f"data[{key!r}]"
    if kind == "nested":
        data["group"] = {"fine": 1.0, "worse": draw(bad_log_values)}
        return data, None, InvalidMediaTypeError, "data['group/worse']"
    step = draw(
        st.one_of(
            st.integers(max_value=-1),
            st.floats(),
            st.text(max_size=3),
            st.booleans(),
            st.just(np.int64(3)),
        )
    )
    return data, step, InvalidMediaValueError, "step"


@_settings("log")
@given(case=bad_log_calls(), commit=st.booleans())
def test_bad_log(live: Live, case: tuple[Any, Any, type[Exception], str], commit: bool) -> None:
    data, step, error, argument = case
    assert_rejected(live, lambda: live.log(data, step=step, commit=commit), error, argument)


# -- deterministic: full messages ------------------------------------------------------------


def test_every_error_is_a_dvclive_error() -> None:
    for error in (
        DvcStageError,
        InvalidAnnotationError,
        InvalidMediaNameError,
        InvalidMediaTypeError,
        InvalidMediaValueError,
        MediaWriteError,
        SchemaValidationError,
    ):
        assert issubclass(error, dvclive.error.DvcLiveError)
        assert getattr(dvcstage, error.__name__) is error
    assert issubclass(InvalidMediaTypeError, dvclive.error.InvalidDataTypeError)
    assert issubclass(InvalidMediaNameError, dvclive.error.InvalidImageNameError)


def test_unsupported_box_format_message_lists_the_formats(live: Live) -> None:
    annotations = {"boxes": [[0, 0, 1, 1]], "labels": ["a"], "scores": [1], "box_format": "xyxy"}
    message = assert_rejected(
        live,
        lambda: live.log_image("a.png", IMG, annotations),
        InvalidAnnotationError,
        "annotations['box_format']",
    )
    assert message.startswith("annotations['box_format']: 'xyxy' is not a box format; accepted:")
    for box_format in BOX_FORMATS:
        assert f"'{box_format}'" in message
    assert "[top, left, bottom, right]" in message
    assert "[center_x, center_y, width, height]" in message


def test_missing_annotation_keys_are_named(live: Live) -> None:
    message = assert_rejected(
        live,
        lambda: live.log_image("a.png", IMG, {"boxes": [], "labels": []}),
        InvalidAnnotationError,
        "annotations",
    )
    assert message.startswith("annotations: missing keys ['box_format', 'scores']")
    for key in ANNOTATION_KEYS:
        assert f"'{key}'" in message


def test_inverted_box_message_names_the_box(live: Live) -> None:
    annotations = {"boxes": [[9, 0, 2, 4]], "labels": ["a"], "scores": [1], "box_format": "tlbr"}
    message = assert_rejected(
        live,
        lambda: live.log_image("a.png", IMG, annotations),
        InvalidAnnotationError,
        "annotations['boxes'][0]",
    )
    assert "[9, 0, 2, 4] in 'tlbr' gives bottom < top" in message


def test_name_suffix_message_lists_the_suffixes(live: Live) -> None:
    message = assert_rejected(
        live, lambda: live.log_image("pred/3.bmp", IMG), InvalidMediaNameError, "name"
    )
    assert message == (
        "Cannot log image with name 'pred/3.bmp': has no supported image suffix; "
        "accepted: .png, .jpg, .jpeg, .gif (lower case)"
    )


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("../x.png", "has a '..' segment"),
        ("/tmp/x.png", "is absolute"),
        ("a\\x.png", "contains a backslash"),
        ("a\x00.png", "contains a NUL byte"),
        ("", "is empty"),
        (3, "is not a string"),
        (PurePosixPath("/abs/x.png"), "is absolute"),
    ],
)
def test_name_messages(live: Live, name: Any, problem: str) -> None:
    message = assert_rejected(
        live, lambda: live.log_image(name, IMG), InvalidMediaNameError, "name", problem
    )
    assert "accepted: a relative path such as 'pred/3.png'" in message


def test_val_type_message_names_type_and_accepted_types(live: Live) -> None:
    message = assert_rejected(
        live, lambda: live.log_image("a.png", {"pixels": 1}), InvalidMediaTypeError, "val"
    )
    assert message.startswith("val: unsupported type builtins.dict ({'pixels': 1}); accepted:")
    for accepted in ("NumPy array", "torch tensor", "PIL.Image.Image", "matplotlib", "path"):
        assert accepted in message


def test_long_value_is_cut_in_message(live: Live) -> None:
    message = assert_rejected(
        live, lambda: live.log_image("a.png", list(range(10_000))), InvalidMediaTypeError, "val"
    )
    assert len(message) < 600
    assert "..." in message


def test_image_of_image_names_data_or_path(live: Live) -> None:
    message = assert_rejected(
        live, lambda: Image(Image(IMG)), InvalidMediaTypeError, "data_or_path"
    )
    assert "(not an Image)" in message


def test_missing_file_val_names_the_path(live: Live, files: dict[str, Path]) -> None:
    message = assert_rejected(
        live, lambda: live.log_image("a.png", files["missing"]), InvalidMediaValueError, "val"
    )
    assert repr(str(files["missing"])) in message
    assert "is not a file" in message


def test_unreadable_file_val_is_rejected(live: Live, files: dict[str, Path]) -> None:
    assert_rejected(
        live,
        lambda: live.log_image("a.png", str(files["text"])),
        InvalidMediaValueError,
        "val",
        "is not an image Pillow can open",
    )


def test_array_messages(live: Live) -> None:
    message = assert_rejected(
        live, lambda: live.log_image("a.png", np.zeros((5, 5, 2))), InvalidMediaValueError, "val"
    )
    assert message.startswith("val: shape (5, 5, 2) is not an image; accepted: an array HxW")
    nan = np.zeros((4, 4))
    nan[1, 1] = np.nan
    message = assert_rejected(
        live, lambda: live.log_image("a.png", nan), InvalidMediaValueError, "val"
    )
    assert message == "val: contains NaN or infinity; accepted: finite values"


def test_fraction_boxes_message_suggests_pixel_domain(live: Live) -> None:
    boxes = {
        "predictions": {
            "box_data": [
                {"position": {"minX": 10, "maxX": 20, "minY": 0, "maxY": 1}, "class_id": 1}
            ]
        }
    }
    message = assert_rejected(
        live,
        lambda: live.log_image("a.png", IMG, boxes=boxes),
        InvalidAnnotationError,
        "boxes['predictions']['box_data'][0]['position']",
        "lies outside [0, 1]",
    )
    assert '"domain": "pixel"' in message


def test_min_greater_than_max_message(live: Live) -> None:
    boxes = {
        "g": {
            "box_data": [
                {"position": {"minX": 0.7, "maxX": 0.2, "minY": 0, "maxY": 1}, "class_id": 1}
            ]
        }
    }
    message = assert_rejected(
        live, lambda: live.log_image("a.png", IMG, boxes=boxes), InvalidAnnotationError, "boxes"
    )
    assert "minX=0.7 is greater than maxX=0.2" in message
    assert "accepted: minX <= maxX" in message


def test_class_id_message(live: Live) -> None:
    boxes = {
        "g": {
            "box_data": [
                {"position": {"minX": 0, "maxX": 1, "minY": 0, "maxY": 1}, "class_id": 1.5}
            ]
        }
    }
    message = assert_rejected(
        live, lambda: live.log_image("a.png", IMG, boxes=boxes), InvalidAnnotationError, "boxes"
    )
    assert message == (
        "boxes['g']['box_data'][0]['class_id']: 1.5 is not an integer; "
        "accepted: an integer class id"
    )


def test_mask_messages(live: Live) -> None:
    big = np.zeros((H, W), np.int32)
    big[0, 0] = 70_000
    message = assert_rejected(
        live,
        lambda: live.log_image("a.png", IMG, masks={"seg": {"mask_data": big}}),
        InvalidAnnotationError,
        "masks['seg']['mask_data']",
    )
    assert message == (
        "masks['seg']['mask_data']: class ids range over 0..70000; accepted: ids in 0..65535"
    )
    small = np.zeros((H - 1, W), np.uint8)
    message = assert_rejected(
        live,
        lambda: live.log_image("a.png", IMG, masks={"seg": {"mask_data": small}}),
        InvalidAnnotationError,
        "masks['seg']",
    )
    assert f"mask shape {(H - 1, W)} differs from the image's {(H, W)}" in message


def test_caption_message(live: Live) -> None:
    message = assert_rejected(
        live, lambda: live.log_image("a.png", IMG, caption=7), InvalidAnnotationError, "caption"
    )
    assert message == "caption: 7 is not a str; accepted: a str or None"


def test_log_message_names_the_key(live: Live) -> None:
    message = assert_rejected(
        live,
        lambda: live.log({"ok": 1.0, "loss": None}),
        InvalidMediaTypeError,
        "data['loss']",
    )
    assert "a metric (int, float, str or NumPy scalar), a media object (dvcstage.Image" in message
    message = assert_rejected(
        live, lambda: live.log({"ok": 1.0}, step=-1), InvalidMediaValueError, "step"
    )
    assert message == "step: -1 is not a step at or after 0; accepted: an int >= live.step"


def test_valid_input_still_works_after_rejections(live: Live) -> None:
    """The rejected calls above leave the run usable: a good call right after succeeds."""
    with pytest.raises(InvalidAnnotationError):
        live.log_image("a.png", IMG, {"boxes": []})
    live.log_image(
        "a.png",
        IMG,
        {"boxes": [[1, 1, 3, 3]], "labels": ["a"], "scores": [0.5], "box_format": "tlbr"},
    )
    live.flush()
    record = dvcstage.read_image(Path(live.images_dir) / "a.png")
    box = {"top": 1, "left": 1, "bottom": 3, "right": 3}
    assert record.annotations == {"a": [{"box": box, "score": 0.5}]}


# -- known gaps: bad input that escapes validation ------------------------------------------
#
# Each of these is bad input that today is either not a typed dvcstage error (a bare
# OverflowError / ValueError whose message does not name the argument), or passes
# validation and fails later on a writer thread, or leaves files behind.

HUGE = 10**400  # an int Python cannot turn into a float


@pytest.mark.parametrize(
    ("where", "kwargs"),
    [
        (
            "annotations",
            {
                "annotations": {
                    "boxes": [[0, 0, HUGE, HUGE]],
                    "labels": ["a"],
                    "scores": [1],
                    "box_format": "tlbr",
                }
            },
        ),
        (
            "annotations",
            {
                "annotations": {
                    "boxes": [[0, 0, 1, 1]],
                    "labels": ["a"],
                    "scores": [HUGE],
                    "box_format": "tlbr",
                }
            },
        ),
        (
            "boxes",
            {
                "boxes": {
                    "g": {
                        "box_data": [
                            {
                                "position": {"minX": 0, "maxX": HUGE, "minY": 0, "maxY": 1},
                                "class_id": 1,
                                "domain": "pixel",
                            }
                        ]
                    }
                }
            },
        ),
        (
            "boxes",
            {
                "boxes": {
                    "g": {
                        "box_data": [
                            {
                                "position": {"minX": 0, "maxX": 1, "minY": 0, "maxY": 1},
                                "class_id": 1,
                                "scores": {"acc": HUGE},
                            }
                        ]
                    }
                }
            },
        ),
    ],
)
def test_huge_integer_is_a_typed_error(live: Live, where: str, kwargs: dict[str, Any]) -> None:
    assert_rejected(
        live, lambda: live.log_image("a.png", IMG, **kwargs), InvalidAnnotationError, where
    )


def test_huge_integer_metric_in_log_is_a_typed_error(live: Live) -> None:
    assert_rejected(
        live, lambda: live.log({"img": Image(IMG), "m": HUGE}), DvcStageError, "data['m']"
    )


@pytest.mark.parametrize("value", [Fraction(1, 3), np.longdouble(0.5)])
def test_log_rejects_numbers_dvclive_cannot_log_before_logging_anything(
    live: Live, value: Any
) -> None:
    """``live.log`` promises to validate everything before logging anything."""
    run = Path(live.dir)
    before = snapshot(run)
    with pytest.raises(dvclive.error.InvalidDataTypeError):
        live.log({"img": Image(IMG), "m": value})
    live.flush()
    assert snapshot(run) == before, "the image was logged before the metric was refused"
    assert_rejected(
        live, lambda: live.log({"img": Image(IMG), "m": value}), InvalidMediaTypeError, "data['m']"
    )


def test_ragged_mask_list_is_a_typed_error(live: Live) -> None:
    masks = {"seg": {"mask_data": [[0] * W] * (H - 1) + [[0] * (W - 1)]}}
    assert_rejected(
        live, lambda: live.log_image("a.png", IMG, masks=masks), InvalidAnnotationError, "masks"
    )


@pytest.mark.parametrize("key", ["\u00b2", "\u0663\u00b9"])  # str.isdigit() but not int()
def test_non_decimal_digit_class_label_is_a_typed_error(live: Live, key: str) -> None:
    box = {"position": {"minX": 0, "maxX": 1, "minY": 0, "maxY": 1}, "class_id": 1}
    boxes = {"g": {"box_data": [box], "class_labels": {key: "cat"}}}
    assert_rejected(
        live, lambda: live.log_image("a.png", IMG, boxes=boxes), InvalidAnnotationError, "boxes"
    )
    masks = {"seg": {"mask_data": np.zeros((H, W), np.uint8), "class_labels": {key: "cat"}}}
    assert_rejected(
        live, lambda: live.log_image("a.png", IMG, masks=masks), InvalidAnnotationError, "masks"
    )


@pytest.mark.parametrize("size", [(0, 0), (0, 5), (5, 0)])
def test_empty_pil_image_is_rejected_on_the_calling_thread(
    live: Live, size: tuple[int, int]
) -> None:
    assert_rejected(
        live,
        lambda: live.log_image("a.png", PILImage.new("RGB", size)),
        InvalidMediaValueError,
        "val",
    )


def test_name_longer_than_the_file_system_allows_is_rejected(live: Live) -> None:
    name = "pred/" + "n" * 300 + ".png"
    assert_rejected(live, lambda: live.log_image(name, IMG), InvalidMediaNameError, "name")


def test_long_but_legal_name_is_written(live: Live) -> None:
    """A 244-byte file name is legal (the limit is 255) and must be written, not fail late."""
    name = "n" * 240 + ".png"
    live.log_image(name, IMG, caption="long")
    live.flush()
    assert (Path(live.images_dir) / name).is_file()
