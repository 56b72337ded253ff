"""3D objects, point clouds and lidar scenes: ``dvcstage.Object3D`` and ``box3d``.

Three inputs, as in W&B:

- a mesh file (obj, gltf, glb, babylon, stl), by path or file object, stored byte for byte;
- a point cloud: an array n x 3 (xyz), n x 4 (xyz + category 1..14) or n x 6 (xyz + rgb);
- a ``lidar/beta`` scene: ``{"type": "lidar/beta", "points": ..., "boxes": [...],
  "vectors": [...]}``.

Point clouds and scenes are written as ``<step>.pts.json``, one JSON document described by
``schemas/pts.schema.json``: ``{"type": "points" | "lidar/beta", "points": [[x, y, z, ...]],
"boxes": [...], "vectors": [...]}`` (a ``pts.json`` file given by the user is read,
validated and rewritten in this form, so readers meet one form only). Every point is
stored; viewers may draw fewer (W&B draws at most 300,000).

Colour channels (point rgb and box colours) outside 0..255 are clamped, with a
:class:`ColorClampedWarning`: W&B's own example uses a colour of 321, and a colour is a
display hint, not data worth failing a training run for. Everything else that is wrong
(shape, NaN or infinite coordinates, categories outside 1..14, unknown keys) is an error.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import sys
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import schemas
from ..errors import InvalidAnnotationError, InvalidMediaTypeError, InvalidMediaValueError
from .base import EncodedFile, EncodedItem, Media, MediaSlot
from .pixels import array_from_arraylike

MESH_FORMATS = ("obj", "gltf", "glb", "babylon", "stl")
FORMATS = (*MESH_FORMATS, "pts.json")
SCENE_TYPES = ("lidar/beta",)
MAX_CATEGORY = 14
POINTS_HELP = (
    "an array n x 3 ([x, y, z]), n x 4 ([x, y, z, category] with category an integer "
    "1..14) or n x 6 ([x, y, z, r, g, b] with r, g, b in 0..255) of finite numbers"
)
OBJECT3D_HELP = (
    "a path (str or pathlib.Path) or file object of a 'obj', 'gltf', 'glb', 'babylon', "
    "'stl' or 'pts.json' file, " + POINTS_HELP + ", or a dict "
    "{'type': 'lidar/beta', 'points': ..., 'boxes': [...], 'vectors': [...]}"
)
BOX_HELP = (
    "a dict {'corners': 8 points [x, y, z], 'color': [r, g, b] in 0..255, "
    "'label': str (optional), 'score': number (optional)}"
)
VECTOR_HELP = "a dict {'start': [x, y, z], 'end': [x, y, z]} or a pair [[x, y, z], [x, y, z]]"
SCENE_KEYS = ("type", "points", "boxes", "vectors")
BOX_KEYS = ("corners", "color", "label", "score")
_EXACT_INTEGERS = 2.0**53


class ColorClampedWarning(UserWarning):
    """A colour channel outside 0..255 was clamped into that range."""


def _warn_clamped(argument: str, count: int, example: Any) -> None:
    # Point the warning at the caller's line, not at this module.
    frame = sys._getframe(0)
    level = 1
    while frame.f_back is not None and frame.f_globals.get("__name__", "").startswith("dvcstage"):
        frame = frame.f_back
        level += 1
    noun = "value" if count == 1 else "values"
    warnings.warn(
        f"{argument}: {count} colour {noun} outside 0..255 (e.g. {example!r}) clamped to 0..255",
        ColorClampedWarning,
        stacklevel=level,
    )


# -- numbers ---------------------------------------------------------------------------------


def _numeric_array(value: Any, argument: str, accepted: str) -> np.ndarray:
    """``value`` as a NumPy array of int or float dtype (strings, bools and None refused)."""
    array = array_from_arraylike(value)
    if array is None:
        if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, (Sequence,)):
            raise InvalidMediaTypeError(argument, value, accepted)
        try:
            array = np.asarray(value)
        except ValueError as exc:  # ragged nested lists
            raise InvalidMediaValueError(
                argument, f"not a regular array ({exc})", accepted
            ) from None
    if array.dtype.kind not in "iuf":
        raise InvalidMediaValueError(argument, f"holds {array.dtype} values, not numbers", accepted)
    return array


def _check_finite(array: np.ndarray, argument: str, accepted: str) -> None:
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        bad = np.argwhere(~np.isfinite(array))[0]
        where = "".join(f"[{i}]" for i in bad)
        raise InvalidMediaValueError(
            argument, f"{argument}{where} is {array[tuple(bad)]!r}, not finite", accepted
        )


def _vector(value: Any, argument: str, length: int, accepted: str) -> np.ndarray:
    """A finite vector of ``length`` numbers."""
    array = _numeric_array(value, argument, accepted)
    if array.shape != (length,):
        raise InvalidMediaValueError(
            argument, f"has shape {array.shape}, not ({length},)", accepted
        )
    _check_finite(array, argument, accepted)
    return array


def _json_numbers(array: np.ndarray) -> list[Any]:
    """Nested lists of JSON-ready numbers: ints where exact, else the shortest float text.

    Integer-valued floats become ints (shorter); float32 values are written with the
    shortest decimal that reads back as the same float32 (``0.1``, not ``0.100000001``).
    """
    if array.dtype.kind in "iu":
        values: list[Any] = array.tolist()
        return values
    if array.size and (np.abs(array) <= _EXACT_INTEGERS).all() and (array == np.round(array)).all():
        ints: list[Any] = array.astype(np.int64).tolist()
        return ints
    if array.dtype.itemsize < 8:
        # str() of a float32 is its shortest round-trip decimal; as a float64 it keeps it.
        array = array.astype(str).astype(np.float64)
    floats: list[Any] = array.astype(np.float64).tolist()
    return floats


def _color(value: Any, argument: str) -> list[Any]:
    """An ``[r, g, b]`` colour; channels outside 0..255 are clamped with a warning."""
    accepted = "three numbers [r, g, b] in 0..255"
    array = _vector(value, argument, 3, accepted)
    outside = (array < 0) | (array > 255)
    if outside.any():
        _warn_clamped(
            argument, int(outside.sum()), value if isinstance(value, list) else array.tolist()
        )
        array = np.clip(array, 0, 255)
    return _json_numbers(array)


# -- points, boxes, vectors ------------------------------------------------------------------


def check_points(value: Any, argument: str) -> np.ndarray:
    """A validated *copy* of a point array (n x 3, n x 4 or n x 6); rgb clamped to 0..255."""
    array = _numeric_array(value, argument, POINTS_HELP)
    if array.ndim != 2 or array.shape[1] not in (3, 4, 6):
        raise InvalidMediaValueError(
            argument, f"an array of shape {array.shape} is not a point cloud", POINTS_HELP
        )
    _check_finite(array, argument, POINTS_HELP)
    array = np.array(array, copy=True)  # the caller may change theirs after logging
    if array.shape[1] == 4:
        category = array[:, 3]
        bad = (category < 1) | (category > MAX_CATEGORY) | (category != np.round(category))
        if bad.any():
            row = int(np.argmax(bad))
            raise InvalidMediaValueError(
                argument,
                f"{argument}[{row}] has category {category[row].item()!r}, not an integer 1..14",
                POINTS_HELP,
            )
    elif array.shape[1] == 6:
        rgb = array[:, 3:]
        outside = (rgb < 0) | (rgb > 255)
        if outside.any():
            row = int(np.argmax(outside.any(axis=1)))
            _warn_clamped(argument, int(outside.sum()), rgb[row].tolist())
            np.clip(rgb, 0, 255, out=rgb)
    return array


def _unit_list(value: Any, argument: str, accepted: str) -> list[Any]:
    """The items of a list, tuple or 1-D NumPy (object) array; ``None`` is empty."""
    if value is None:
        return []
    if isinstance(value, np.ndarray):
        if value.size == 0:
            return []
        if value.dtype != object:
            return list(value)  # numeric arrays: one row per item (vectors as k x 2 x 3)
        if value.ndim != 1:
            raise InvalidAnnotationError(
                argument, f"an object array of shape {value.shape} is not a list", accepted
            )
        return list(value)
    if isinstance(value, (list, tuple)):
        return list(value)
    raise InvalidAnnotationError(
        argument, f"{type(value).__name__} {value!r:.60} is not a list", f"a list of {accepted}"
    )


def check_box(value: Any, argument: str) -> dict[str, Any]:
    """A JSON-ready scene box: ``corners`` (8 x 3), ``color``, optional ``label`` and ``score``."""
    if not isinstance(value, Mapping):
        raise InvalidAnnotationError(argument, f"{value!r:.60} is not a dict", BOX_HELP)
    unknown = sorted(str(k) for k in value if k not in BOX_KEYS)
    if unknown:
        raise InvalidAnnotationError(argument, f"unknown keys {unknown}", BOX_HELP)
    for required in ("corners", "color"):
        if required not in value:
            raise InvalidAnnotationError(argument, f"has no {required!r}", BOX_HELP)
    accepted = "8 corners [x, y, z] of finite numbers"
    corners = _numeric_array(value["corners"], f"{argument}['corners']", accepted)
    if corners.shape != (8, 3):
        raise InvalidAnnotationError(
            f"{argument}['corners']", f"has shape {corners.shape}, not (8, 3)", accepted
        )
    _check_finite(corners, f"{argument}['corners']", accepted)
    box: dict[str, Any] = {
        "corners": _json_numbers(corners),
        "color": _color(value["color"], f"{argument}['color']"),
    }
    label = value.get("label")
    if label is not None:
        if not isinstance(label, str):
            raise InvalidAnnotationError(
                f"{argument}['label']", f"{label!r:.60} is not a str", "a str or None"
            )
        box["label"] = label
    score = value.get("score")
    if score is not None:
        if isinstance(score, bool) or not isinstance(score, (int, float, np.integer, np.floating)):
            raise InvalidAnnotationError(
                f"{argument}['score']", f"{score!r:.60} is not a number", "a finite number"
            )
        if not math.isfinite(float(score)):
            raise InvalidAnnotationError(
                f"{argument}['score']", f"{score!r} is not finite", "a finite number"
            )
        box["score"] = score.item() if isinstance(score, np.generic) else score
    return box


def check_vector(value: Any, argument: str) -> dict[str, Any]:
    """A JSON-ready scene vector ``{"start": [x, y, z], "end": [x, y, z]}``."""
    accepted = VECTOR_HELP
    if isinstance(value, Mapping):
        unknown = sorted(str(k) for k in value if k not in ("start", "end"))
        if unknown or "start" not in value or "end" not in value:
            problem = f"unknown keys {unknown}" if unknown else "needs 'start' and 'end'"
            raise InvalidAnnotationError(argument, problem, accepted)
        start = _vector(value["start"], f"{argument}['start']", 3, accepted)
        end = _vector(value["end"], f"{argument}['end']", 3, accepted)
    else:
        pair = _numeric_array(value, argument, accepted)
        if pair.shape != (2, 3):
            raise InvalidAnnotationError(argument, f"has shape {pair.shape}, not (2, 3)", accepted)
        _check_finite(pair, argument, accepted)
        start, end = pair[0], pair[1]
    return {"start": _json_numbers(start), "end": _json_numbers(end)}


# -- boxes from center, size and orientation -------------------------------------------------


def box3d(
    center: Any,
    size: Any,
    orientation: Any,
    color: Any,
    label: str | None = None,
    score: float | None = None,
) -> dict[str, Any]:
    """A scene box from its center, size and orientation (W&B's ``wandb.box3d``).

    Args:
        center: ``[x, y, z]`` of the box's center.
        size: the box's extent ``[dx, dy, dz]`` along its own axes (each > 0).
        orientation: a non-zero quaternion ``[w, x, y, z]`` rotating the box's axes into the
            scene's (``[1, 0, 0, 0]``: axis-aligned); it is normalised.
        color: ``[r, g, b]`` in 0..255 (clamped with a warning, like scene box colours;
            W&B's ``box3d`` documents 0..1, its scenes 0..255: we use 0..255 everywhere).
        label, score: optional text and number shown with the box.

    >>> box = box3d(center=[0, 0, 1], size=[2, 2, 2], orientation=[1, 0, 0, 0],
    ...             color=[255, 0, 0], label="car", score=0.9)
    >>> box["corners"][0], box["corners"][7]
    ([-1, -1, 0], [1, 1, 2])

    Use it in a scene: ``Object3D({"type": "lidar/beta", "points": pts, "boxes": [box]})``.
    """
    c = _vector(center, "center", 3, "three finite numbers [x, y, z]")
    s = _vector(size, "size", 3, "three finite numbers [dx, dy, dz], each > 0")
    if (s <= 0).any():
        raise InvalidAnnotationError(
            "size", f"{s.tolist()} has a size <= 0", "three finite numbers, each > 0"
        )
    q = _vector(orientation, "orientation", 4, "a non-zero quaternion [w, x, y, z]")
    norm = float(np.linalg.norm(q.astype(np.float64)))
    if norm == 0:
        raise InvalidAnnotationError(
            "orientation", "[0, 0, 0, 0] is not a rotation", "a non-zero quaternion [w, x, y, z]"
        )
    w, x, y, z = q.astype(np.float64) / norm
    rotation = np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
            [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
            [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
        ]
    )
    # The 8 corners of the unit cube in W&B's order: (-1,-1,-1), (-1,-1,1), ..., (1,1,1).
    unit = np.array([[i, j, k] for i in (-1, 1) for j in (-1, 1) for k in (-1, 1)], np.float64)
    corners = c + (0.5 * s * unit) @ rotation.T
    corners[np.abs(corners) < 1e-12] = 0.0  # no -0.0 or 1e-17 from the rotation
    box: dict[str, Any] = {"corners": corners.tolist(), "color": color}
    if label is not None:
        box["label"] = label
    if score is not None:
        box["score"] = score
    checked = check_box(box, "box3d")
    checked["corners"] = _json_numbers(np.round(corners, 12))
    return checked


# -- the scene -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PointScene:
    """A validated point cloud or scene: what a ``.pts.json`` holds."""

    type: str  # "points" (a bare point cloud) or "lidar/beta"
    points: np.ndarray
    boxes: tuple[dict[str, Any], ...] = ()
    vectors: tuple[dict[str, Any], ...] = ()

    def document(self, points: list[Any]) -> dict[str, Any]:
        """The ``.pts.json`` document with the given JSON rows as its points."""
        document: dict[str, Any] = {"type": self.type, "points": points}
        if self.type != "points":
            document["boxes"] = list(self.boxes)
            document["vectors"] = list(self.vectors)
        return document

    def point_rows(self, rows: np.ndarray | None = None) -> list[Any]:
        """The points (or the chosen ``rows``) as JSON-ready lists."""
        points = self.points if rows is None else self.points[rows]
        xyz = _json_numbers(points[:, :3])
        if points.shape[1] == 3:
            return xyz
        extra = _json_numbers(points[:, 3:])
        return [a + b for a, b in zip(xyz, extra, strict=True)]

    def encode(self) -> bytes:
        """The compact ``.pts.json`` bytes (no spaces, plain JSON numbers)."""
        text = json.dumps(self.document(self.point_rows()), separators=(",", ":"), allow_nan=False)
        return text.encode("utf-8")

    def extreme_rows(self) -> np.ndarray:
        """The first and last rows and the rows holding each column's minimum and maximum.

        The schema limits each column to a range (categories 1..14, colours 0..255) and
        every row has the same width, so these rows match the schema if and only if all do.
        """
        count = len(self.points)
        if count == 0:
            return np.zeros(0, np.intp)
        chosen = {0, count - 1}
        chosen.update(int(i) for i in self.points.argmin(axis=0))
        chosen.update(int(i) for i in self.points.argmax(axis=0))
        return np.array(sorted(chosen), np.intp)


def check_scene(value: Mapping[str, Any], argument: str) -> PointScene:
    """Validate a ``{"type": "lidar/beta", ...}`` scene (W&B's dict) and copy what it holds."""
    kind = value.get("type")
    if "type" not in value:
        raise InvalidMediaValueError(
            argument, "a dict without 'type'", "a dict {'type': 'lidar/beta', ...}"
        )
    if kind not in SCENE_TYPES:
        raise InvalidMediaValueError(
            f"{argument}['type']", f"{kind!r:.60} is not a scene type", "'lidar/beta'"
        )
    unknown = sorted(str(k) for k in value if k not in SCENE_KEYS)
    if unknown:
        raise InvalidMediaValueError(
            argument, f"unknown keys {unknown}", "the keys 'type', 'points', 'boxes', 'vectors'"
        )
    raw_points = value.get("points")
    if raw_points is None or (isinstance(raw_points, (list, tuple)) and not raw_points):
        points = np.zeros((0, 3))
    else:
        points = check_points(raw_points, f"{argument}['points']")
    boxes = tuple(
        check_box(box, f"{argument}['boxes'][{i}]")
        for i, box in enumerate(_unit_list(value.get("boxes"), f"{argument}['boxes']", BOX_HELP))
    )
    vectors = tuple(
        check_vector(vector, f"{argument}['vectors'][{i}]")
        for i, vector in enumerate(
            _unit_list(value.get("vectors"), f"{argument}['vectors']", VECTOR_HELP)
        )
    )
    return PointScene(str(kind), points, boxes, vectors)


def scene_from_pts_json(data: bytes, argument: str) -> PointScene:
    """Parse a ``.pts.json`` file: W&B's bare point list or a scene document."""
    accepted = (
        "a JSON list of points [[x, y, z, ...], ...] or an object "
        "{'type': 'points' | 'lidar/beta', 'points': [...], 'boxes': [...], 'vectors': [...]}"
    )
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidMediaValueError(argument, f"not a JSON file ({exc})", accepted) from None
    if isinstance(document, list):
        points = np.zeros((0, 3)) if not document else check_points(document, argument)
        return PointScene("points", points)
    if isinstance(document, dict) and document.get("type") == "points":
        extra = sorted(k for k in document if k not in ("type", "points"))
        if extra:
            raise InvalidMediaValueError(argument, f"unknown keys {extra}", accepted)
        raw = document.get("points") or []
        points = check_points(raw, f"{argument}['points']") if raw else np.zeros((0, 3))
        return PointScene("points", points)
    if isinstance(document, dict):
        return check_scene(document, argument)
    raise InvalidMediaValueError(argument, f"a JSON {type(document).__name__}", accepted)


# -- files -----------------------------------------------------------------------------------


def read_file_input(value: Any, argument: str, accepted: str) -> tuple[bytes, str | None]:
    """The bytes and file name of a path or an open file object.

    A file object with a ``name`` that is an existing file is read from that path, in
    binary (``open("x.glb")`` opens a binary file in text mode, as W&B's examples do); any
    other file object is read from the start (text is encoded as UTF-8).
    """
    if isinstance(value, (str, os.PathLike)):
        path = Path(value)
        if not path.is_file():
            raise InvalidMediaValueError(argument, f"{str(path)!r} is not a file", accepted)
        return path.read_bytes(), path.name
    name = getattr(value, "name", None)
    if isinstance(name, (str, os.PathLike)) and Path(name).is_file():
        return Path(name).read_bytes(), Path(name).name
    if not callable(getattr(value, "read", None)):
        raise InvalidMediaTypeError(argument, value, accepted)
    if callable(getattr(value, "seek", None)):
        with contextlib.suppress(OSError, io.UnsupportedOperation):
            value.seek(0)  # a pipe or socket cannot: read from where it is
    content = value.read()
    if isinstance(content, str):
        return content.encode("utf-8"), None
    if isinstance(content, (bytes, bytearray, memoryview)):
        return bytes(content), None
    raise InvalidMediaTypeError(f"{argument}.read()", content, "str or bytes")


def file_format(name: str | None, file_type: Any, formats: Sequence[str], argument: str) -> str:
    """The format of a file from ``file_type`` or its name (``.pts.json`` counts as one)."""
    listed = ", ".join(repr(f) for f in formats)
    from_name = None
    if name is not None:
        lower = name.lower()
        from_name = next(
            (f for f in sorted(formats, key=len, reverse=True) if lower.endswith(f".{f}")), None
        )
    if file_type is not None:
        if not isinstance(file_type, str) or file_type.lower().lstrip(".") not in formats:
            raise InvalidMediaValueError(
                "file_type", f"{file_type!r:.60} is not a supported format", listed
            )
        chosen = file_type.lower().lstrip(".")
        if from_name is not None and from_name != chosen:
            raise InvalidMediaValueError(
                "file_type",
                f"{file_type!r} contradicts the file name {name!r}",
                f"the name's format ({from_name!r}) or no file_type",
            )
        return chosen
    if from_name is None:
        if name is None:
            raise InvalidMediaValueError(
                "file_type", "is needed for a file object without a name", listed
            )
        raise InvalidMediaValueError(
            argument, f"{name!r} has no supported suffix", f"a file ending in one of {listed}"
        )
    return from_name


def check_mesh(data: bytes, fmt: str, argument: str) -> None:
    """Refuse bytes that cannot be a file of format ``fmt`` (empty, wrong magic, not JSON)."""
    accepted = f"a valid {fmt} file"
    if not data:
        raise InvalidMediaValueError(argument, "the file is empty", accepted)
    if fmt == "glb":
        # Binary glTF: "glTF", version 2, total length (little endian) no larger than the file.
        if len(data) < 12 or data[:4] != b"glTF":
            raise InvalidMediaValueError(argument, "no binary glTF header ('glTF')", accepted)
        if int.from_bytes(data[8:12], "little") > len(data):
            raise InvalidMediaValueError(argument, "the glb file is truncated", accepted)
    elif fmt in ("gltf", "babylon"):
        try:
            document = json.loads(data.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise InvalidMediaValueError(argument, f"not JSON ({exc})", accepted) from None
        if not isinstance(document, dict) or (fmt == "gltf" and "asset" not in document):
            what = "a JSON object with an 'asset' (glTF 2)" if fmt == "gltf" else "a JSON object"
            raise InvalidMediaValueError(argument, f"not {what}", accepted)
    elif fmt == "stl":
        binary = len(data) >= 84 and 84 + 50 * int.from_bytes(data[80:84], "little") == len(data)
        if not binary and not data.lstrip()[:5].lower() == b"solid":
            raise InvalidMediaValueError(
                argument, "neither binary STL (size mismatch) nor ASCII STL ('solid')", accepted
            )
    elif fmt == "obj" and b"\x00" in data:
        raise InvalidMediaValueError(argument, "binary data in a text format", accepted)


# -- the media kind --------------------------------------------------------------------------


class Object3D(Media):
    """A 3D mesh, point cloud or lidar scene (W&B's ``wandb.Object3D``).

    >>> import numpy as np, dvcstage
    >>> cloud = dvcstage.Object3D(np.random.rand(100, 3), caption="random")
    >>> cloud.format, cloud.points
    ('pts.json', 100)
    >>> mesh = dvcstage.Object3D(io.StringIO("v 0 0 0\\n"), file_type="obj")

    Log it with ``live.log({"cloud": cloud})`` (written to
    ``media/object3d/cloud/<step>.pts.json`` and a sidecar ``<step>.json``).

    Args:
        data_or_path: a path or file object (``obj``, ``gltf``, ``glb``, ``babylon``,
            ``stl``, ``pts.json``), a point array (n x 3, n x 4 or n x 6) or a
            ``{"type": "lidar/beta", "points", "boxes", "vectors"}`` scene.
        caption: text shown with the object.
        file_type: the format of a file object without a name (``"obj"``, ...).

    Raises:
        InvalidMediaTypeError, InvalidMediaValueError, InvalidAnnotationError: bad input.
    """

    kind = "object3d"

    def __init__(
        self, data_or_path: Any, caption: str | None = None, *, file_type: str | None = None
    ) -> None:
        argument = "data_or_path"
        if caption is not None and not isinstance(caption, str):
            raise InvalidAnnotationError(
                "caption", f"{caption!r:.60} is not a str", "a str or None"
            )
        self.caption = caption
        self.file_bytes: bytes | None = None
        self.scene: PointScene | None = None
        if isinstance(data_or_path, Mapping):
            self.scene = check_scene(data_or_path, argument)
            self.format = "pts.json"
        elif array_from_arraylike(data_or_path) is not None or isinstance(
            data_or_path, (list, tuple)
        ):
            if file_type is not None and file_type != "pts.json":
                raise InvalidMediaValueError(
                    "file_type", f"{file_type!r:.60} given with a point array", "None"
                )
            self.scene = PointScene("points", check_points(data_or_path, argument))
            self.format = "pts.json"
        elif isinstance(data_or_path, (str, os.PathLike)) or callable(
            getattr(data_or_path, "read", None)
        ):
            data, name = read_file_input(data_or_path, argument, OBJECT3D_HELP)
            self.format = file_format(name, file_type, FORMATS, argument)
            if self.format == "pts.json":
                self.scene = scene_from_pts_json(data, argument)
            else:
                check_mesh(data, self.format, argument)
                self.file_bytes = data
        else:
            raise InvalidMediaTypeError(argument, data_or_path, OBJECT3D_HELP)

    @property
    def points(self) -> int | None:
        """Number of points of a point cloud or scene (``None`` for a mesh)."""
        return None if self.scene is None else len(self.scene.points)

    @property
    def held_bytes(self) -> int:
        """Memory held until written: the points (plus boxes) or the file's bytes."""
        if self.scene is not None:
            return self.scene.points.nbytes + 256 * (
                len(self.scene.boxes) + len(self.scene.vectors)
            )
        return len(self.file_bytes or b"")

    def facts(self) -> dict[str, Any]:
        """What the sidecar and the index record beside the files."""
        facts: dict[str, Any] = {"format": self.format}
        if self.scene is not None:
            facts.update(
                scene=self.scene.type,
                points=len(self.scene.points),
                boxes=len(self.scene.boxes),
                vectors=len(self.scene.vectors),
            )
        if self.caption is not None:
            facts["caption"] = self.caption
        return facts

    def encode(self, slot: MediaSlot) -> EncodedItem:
        """The payload (``<step>.<format>``) and its sidecar (``<step>.json``)."""
        payload = slot.file(f".{self.format}")
        if self.scene is not None:
            data = self.scene.encode()
            # Schema-checking a million points in Python takes seconds; the points were
            # checked by NumPy at construction, so check the document's structure with the
            # rows that hold each column's extremes (see PointScene.extreme_rows).
            sample = self.scene.document(self.scene.point_rows(self.scene.extreme_rows()))
            schemas.check_document("pts", sample, str(payload))
            payload_file = EncodedFile(payload, data, self.kind, schema="pts")
        else:
            assert self.file_bytes is not None
            payload_file = EncodedFile(payload, self.file_bytes, self.kind)
        return self.item_with_sidecar(
            slot,
            [payload_file],
            self.facts(),
            owned=tuple(slot.file(f".{fmt}") for fmt in FORMATS),
        )

    def __repr__(self) -> str:
        size = f" points={self.points}" if self.scene is not None else ""
        return f"<dvcstage.Object3D {self.format}{size} caption={self.caption!r}>"


__all__ = ["FORMATS", "ColorClampedWarning", "Object3D", "PointScene", "box3d"]
