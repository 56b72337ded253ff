"""Object3D: meshes stored byte for byte, point clouds and lidar scenes as ``.pts.json``.

Files are read back from disk: meshes must be identical to their source, a pts.json's
points must equal the logged array, and every JSON file must match its schema in full.
"""

from __future__ import annotations

import io
import json
import math
import struct
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import dvcstage
from dvcstage import Live, schemas
from dvcstage.errors import InvalidAnnotationError, InvalidMediaTypeError, InvalidMediaValueError
from dvcstage.media.base import MediaSlot
from dvcstage.media.object3d import ColorClampedWarning, Object3D, box3d
from dvcstage.validate import validate_tree

OBJ = b"# a triangle\nv 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n"
GLTF = json.dumps({"asset": {"version": "2.0"}, "scene": 0, "scenes": [{"nodes": []}]}).encode()


def glb_bytes() -> bytes:
    """A minimal binary glTF: 12-byte header and one JSON chunk padded to 4 bytes."""
    chunk = GLTF + b" " * (-len(GLTF) % 4)
    body = struct.pack("<I4s", len(chunk), b"JSON") + chunk
    return struct.pack("<4sII", b"glTF", 2, 12 + len(body)) + body


def stl_bytes() -> bytes:
    """A binary STL with one triangle."""
    triangle = struct.pack("<12fH", 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0)
    return b"\0" * 80 + struct.pack("<I", 1) + triangle


MESHES = {
    "sample.obj": OBJ,
    "sample.gltf": GLTF,
    "sample.glb": glb_bytes(),
    "sample.babylon": b'{"meshes": []}',
    "sample.stl": stl_bytes(),
}


@pytest.fixture
def live(plain_dir: Path) -> Iterator[Live]:
    with Live(save_dvc_exp=False) as run:
        yield run


@pytest.fixture
def samples(plain_dir: Path) -> Path:
    for name, data in MESHES.items():
        (plain_dir / name).write_bytes(data)
    return plain_dir


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def sidecar(run: Path, key: str, step: int = 0) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((run / f"media/object3d/{key}/{step}.json").read_text())
    schemas.check_document("object3d", document, key)
    return document


def read_pts(path: Path) -> dict[str, Any]:
    """A written pts.json, checked against its schema in full (every point)."""
    document: dict[str, Any] = json.loads(path.read_text())
    schemas.check_document("pts", document, str(path))
    return document


def index_lines(run: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run / "media.jsonl").read_text().splitlines()]


# -- the spec page's samples, as written (wandb.X -> dvcstage.X, wandb.log -> live.log) -------


def test_spec_3d_object_sample(live: Live, samples: Path) -> None:
    live.log(
        {
            "generated_samples": [
                dvcstage.Object3D(open("sample.obj")),  # noqa: SIM115
                dvcstage.Object3D(open("sample.gltf")),  # noqa: SIM115
                dvcstage.Object3D(open("sample.glb")),  # noqa: SIM115  (binary, opened as text)
            ]
        }
    )
    live.flush()
    run = Path(live.dir)
    for item, name in enumerate(("sample.obj", "sample.gltf", "sample.glb")):
        suffix = name.split(".", 1)[1]
        stored = run / f"media/object3d/generated_samples.items/{item}/0.{suffix}"
        assert stored.read_bytes() == MESHES[name]
        document = sidecar(run, f"generated_samples.items/{item}")
        assert document["format"] == suffix
        assert document["item"] == item
        assert document["files"] == [{"path": f"0.{suffix}", "role": "object3d"}]
    lines = sorted(index_lines(run), key=lambda line: line["item"])  # workers finish in any order
    assert [line["item"] for line in lines] == [0, 1, 2]
    assert lines[2]["facts"] == {"format": "glb"}


def test_spec_point_cloud_sample(live: Live) -> None:
    COLOR = 3  # noqa: N806  (the page's placeholder: a category 1..14)
    point_cloud = np.array([[0, 0, 0, COLOR]])

    live.log({"point_cloud": dvcstage.Object3D(point_cloud)})
    live.flush()
    run = Path(live.dir)
    document = read_pts(run / "media/object3d/point_cloud/0.pts.json")
    assert document == {"type": "points", "points": [[0, 0, 0, 3]]}
    assert sidecar(run, "point_cloud")["points"] == 1


def test_spec_lidar_scene_sample(live: Live) -> None:
    with pytest.warns(ColorClampedWarning) as caught:
        # Log points and boxes in W&B
        point_scene = dvcstage.Object3D(
            {
                "type": "lidar/beta",
                "points": np.array(  # add points, as in a point cloud
                    [[0.4, 1, 1.3], [1, 1, 1], [1.2, 1, 1.2]]
                ),
                "boxes": np.array(  # draw 3d boxes
                    [
                        {
                            "corners": [
                                [0, 0, 0],
                                [0, 1, 0],
                                [0, 0, 1],
                                [1, 0, 0],
                                [1, 1, 0],
                                [0, 1, 1],
                                [1, 0, 1],
                                [1, 1, 1],
                            ],
                            "label": "Box",
                            "color": [123, 321, 111],
                        },
                        {
                            "corners": [
                                [0, 0, 0],
                                [0, 2, 0],
                                [0, 0, 2],
                                [2, 0, 0],
                                [2, 2, 0],
                                [0, 2, 2],
                                [2, 0, 2],
                                [2, 2, 2],
                            ],
                            "label": "Box-2",
                            "color": [111, 321, 0],
                        },
                    ]
                ),
                "vectors": np.array(  # add 3d vectors
                    [{"start": [0, 0, 0], "end": [0.1, 0.2, 0.5]}]
                ),
            }
        )
    assert [str(w.message).split(":")[0] for w in caught] == [
        "data_or_path['boxes'][0]['color']",
        "data_or_path['boxes'][1]['color']",
    ]
    assert all("321" in str(w.message) for w in caught)
    live.log({"point_scene": point_scene})
    live.flush()
    run = Path(live.dir)
    document = read_pts(run / "media/object3d/point_scene/0.pts.json")
    assert document["type"] == "lidar/beta"
    assert document["points"] == [[0.4, 1, 1.3], [1, 1, 1], [1.2, 1, 1.2]]
    assert [box["color"] for box in document["boxes"]] == [[123, 255, 111], [111, 255, 0]]
    assert [box["label"] for box in document["boxes"]] == ["Box", "Box-2"]
    assert document["boxes"][1]["corners"][7] == [2, 2, 2]
    assert document["vectors"] == [{"start": [0, 0, 0], "end": [0.1, 0.2, 0.5]}]
    facts = sidecar(run, "point_scene")
    assert (facts["scene"], facts["points"], facts["boxes"], facts["vectors"]) == (
        "lidar/beta",
        3,
        2,
        1,
    )
    assert validate_tree(run) == []


# -- point clouds read back -------------------------------------------------------------------


def _clouds() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    return {
        "xyz-float64": rng.normal(size=(500, 3)),
        "xyz-float32": rng.normal(size=(500, 3)).astype(np.float32),
        "xyz-int": rng.integers(-5, 5, size=(50, 3)),
        "category": np.column_stack([rng.normal(size=(60, 3)), rng.integers(1, 15, size=60)]),
        "rgb-uint8": np.column_stack(
            [rng.normal(size=(60, 3)), rng.integers(0, 256, size=(60, 3))]
        ).astype(np.float64),
        "rgb-float": np.column_stack([rng.normal(size=(40, 3)), rng.uniform(0, 255, (40, 3))]),
        "empty": np.zeros((0, 3)),
    }


@pytest.mark.parametrize("name", list(_clouds()))
def test_points_read_back_equal(live: Live, name: str) -> None:
    cloud = _clouds()[name]
    live.log({"cloud": Object3D(cloud, caption=name)})
    live.flush()
    run = Path(live.dir)
    path = run / "media/object3d/cloud/0.pts.json"
    document = read_pts(path)
    back = np.array(document["points"], dtype=cloud.dtype).reshape(-1, cloud.shape[1])
    np.testing.assert_array_equal(back, cloud)  # exact: float32 via its shortest decimal
    assert b" " not in path.read_bytes()  # compact
    facts = sidecar(run, "cloud")
    assert (facts["points"], facts["caption"], facts["scene"]) == (len(cloud), name, "points")


def test_float32_points_are_written_short(live: Live) -> None:
    live.log({"cloud": Object3D(np.array([[0.1, 0.2, 0.3]], np.float32))})
    live.flush()
    text = (Path(live.dir) / "media/object3d/cloud/0.pts.json").read_text()
    assert text == '{"type":"points","points":[[0.1,0.2,0.3]]}'


def test_point_rgb_outside_range_is_clamped_with_a_warning(live: Live) -> None:
    cloud = np.array([[0, 0, 0, 300, -2, 10], [1, 1, 1, 1, 2, 3]], dtype=np.float64)
    with pytest.warns(ColorClampedWarning, match="2 colour values") as caught:
        obj = Object3D(cloud)
    assert caught[0].filename == __file__  # the warning points at the caller's line
    assert cloud[0, 3] == 300  # the caller's array is untouched
    live.log({"cloud": obj})
    live.flush()
    points = read_pts(Path(live.dir) / "media/object3d/cloud/0.pts.json")["points"]
    assert points == [[0, 0, 0, 255, 0, 10], [1, 1, 1, 1, 2, 3]]


def test_points_are_copied_at_construction(live: Live) -> None:
    cloud = np.zeros((4, 3))
    obj = Object3D(cloud)
    cloud[:] = 9
    live.log({"cloud": obj})
    live.flush()
    points = read_pts(Path(live.dir) / "media/object3d/cloud/0.pts.json")["points"]
    assert points == [[0, 0, 0]] * 4


def test_large_cloud_is_stored_whole(live: Live) -> None:
    cloud = np.random.default_rng(0).normal(size=(300_001, 3)).astype(np.float32)
    live.log({"big": Object3D(cloud)})
    live.flush()
    document = json.loads((Path(live.dir) / "media/object3d/big/0.pts.json").read_text())
    assert len(document["points"]) == 300_001  # beyond the viewer's 300,000: all kept
    np.testing.assert_array_equal(np.array(document["points"], np.float32), cloud)


# -- files ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(MESHES))
def test_mesh_paths_and_binary_file_objects_are_stored_as_is(
    live: Live, samples: Path, name: str
) -> None:
    fmt = name.split(".", 1)[1]
    live.log(
        {
            "by_path": Object3D(Path(name)),
            "by_object": Object3D(io.BytesIO(MESHES[name]), file_type=fmt),
        }
    )
    live.flush()
    run = Path(live.dir)
    for key in ("by_path", "by_object"):
        assert (run / f"media/object3d/{key}/0.{fmt}").read_bytes() == MESHES[name]
        assert sidecar(run, key)["format"] == fmt


def test_text_file_object_with_file_type(live: Live) -> None:
    live.log({"mesh": Object3D(io.StringIO(OBJ.decode()), caption="tri", file_type="obj")})
    live.flush()
    run = Path(live.dir)
    assert (run / "media/object3d/mesh/0.obj").read_bytes() == OBJ
    assert sidecar(run, "mesh")["caption"] == "tri"


def test_pts_json_files_are_validated_and_rewritten(live: Live, plain_dir: Path) -> None:
    (plain_dir / "bare.pts.json").write_text("[[1, 2, 3, 4], [5, 6, 7, 14]]")
    scene = {"type": "lidar/beta", "points": [[0.5, 0, 0]], "boxes": [], "vectors": []}
    live.log(
        {
            "bare": Object3D("bare.pts.json"),
            "scene": Object3D(io.StringIO(json.dumps(scene)), file_type="pts.json"),
        }
    )
    live.flush()
    run = Path(live.dir)
    assert read_pts(run / "media/object3d/bare/0.pts.json") == {
        "type": "points",
        "points": [[1, 2, 3, 4], [5, 6, 7, 14]],
    }
    assert read_pts(run / "media/object3d/scene/0.pts.json") == scene


def test_a_later_format_replaces_the_earlier_file(live: Live, samples: Path) -> None:
    live.log({"m": Object3D("sample.obj")})
    live.log({"m": Object3D("sample.glb")})  # same key and step
    live.flush()
    folder = Path(live.dir) / "media/object3d/m"
    assert sorted(p.name for p in folder.iterdir()) == ["0.glb", "0.json"]


# -- box3d ------------------------------------------------------------------------------------


def test_box3d_axis_aligned_corners() -> None:
    box = box3d(center=[1, 2, 3], size=[2, 4, 6], orientation=[1, 0, 0, 0], color=[0, 0, 255])
    corners = np.array(box["corners"])
    np.testing.assert_array_equal(corners.min(axis=0), [0, 0, 0])
    np.testing.assert_array_equal(corners.max(axis=0), [2, 4, 6])
    assert box == {"corners": box["corners"], "color": [0, 0, 255]}


def test_box3d_rotation_and_use_in_a_scene(live: Live) -> None:
    half = math.sqrt(0.5)  # 90 degrees about z: x and y extents swap
    box = box3d([0, 0, 0], [2, 4, 6], [half, 0, 0, half], [10, 20, 30], label="car", score=0.5)
    corners = np.array(box["corners"])
    np.testing.assert_allclose(corners.max(axis=0), [2, 1, 3], atol=1e-9)
    live.log(
        {"scene": Object3D({"type": "lidar/beta", "points": np.zeros((1, 3)), "boxes": [box]})}
    )
    live.flush()
    written = read_pts(Path(live.dir) / "media/object3d/scene/0.pts.json")["boxes"][0]
    assert (written["label"], written["score"]) == ("car", 0.5)
    np.testing.assert_allclose(written["corners"], corners)


def test_box3d_clamps_color_with_a_warning() -> None:
    with pytest.warns(ColorClampedWarning):
        box = box3d([0, 0, 0], [1, 1, 1], [1, 0, 0, 0], [300, 0, 0])
    assert box["color"] == [255, 0, 0]


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"center": [0, 0]}, "center"),
        ({"center": [0, 0, float("nan")]}, "center"),
        ({"size": [1, 0, 1]}, "size"),
        ({"size": "big"}, "size"),
        ({"orientation": [0, 0, 0, 0]}, "orientation"),
        ({"orientation": [1, 0, 0]}, "orientation"),
        ({"color": [1, 2]}, "box3d['color']"),
        ({"label": 3}, "box3d['label']"),
        ({"score": float("inf")}, "box3d['score']"),
    ],
)
def test_box3d_bad_inputs(kwargs: dict[str, Any], argument: str) -> None:
    good: dict[str, Any] = {
        "center": [0, 0, 0],
        "size": [1, 1, 1],
        "orientation": [1, 0, 0, 0],
        "color": [0, 0, 0],
    }
    with pytest.raises(
        (InvalidMediaValueError, InvalidAnnotationError, InvalidMediaTypeError)
    ) as err:
        box3d(**(good | kwargs))
    assert str(err.value).startswith(f"{argument}:")


# -- bad input: a typed error naming the argument, and nothing written -----------------------

GOOD_CORNERS = [[0, 0, 0]] * 8


def scene(**parts: Any) -> dict[str, Any]:
    return {"type": "lidar/beta", "points": np.zeros((2, 3))} | parts


BAD: list[tuple[str, Callable[[], Any], type[Exception], str]] = [
    ("shape 1-D", lambda: Object3D(np.zeros(3)), InvalidMediaValueError, "data_or_path"),
    ("shape n x 5", lambda: Object3D(np.zeros((2, 5))), InvalidMediaValueError, "data_or_path"),
    ("nan", lambda: Object3D(np.array([[0, 0, np.nan]])), InvalidMediaValueError, "data_or_path"),
    ("inf", lambda: Object3D(np.array([[np.inf, 0, 0]])), InvalidMediaValueError, "data_or_path"),
    (
        "strings",
        lambda: Object3D(np.array([["a", "b", "c"]])),
        InvalidMediaValueError,
        "data_or_path",
    ),
    ("bools", lambda: Object3D(np.ones((2, 3), bool)), InvalidMediaValueError, "data_or_path"),
    ("ragged", lambda: Object3D([[0, 0, 0], [1, 1]]), InvalidMediaValueError, "data_or_path"),
    (
        "category 0",
        lambda: Object3D(np.array([[0, 0, 0, 0]])),
        InvalidMediaValueError,
        "data_or_path",
    ),
    (
        "category 15",
        lambda: Object3D(np.array([[0, 0, 0, 15]])),
        InvalidMediaValueError,
        "data_or_path",
    ),
    (
        "category 1.5",
        lambda: Object3D(np.array([[0, 0, 0, 1.5]])),
        InvalidMediaValueError,
        "data_or_path",
    ),
    ("int", lambda: Object3D(3), InvalidMediaTypeError, "data_or_path"),
    ("bytes", lambda: Object3D(b"v 0 0 0"), InvalidMediaTypeError, "data_or_path"),
    ("missing file", lambda: Object3D("nope.obj"), InvalidMediaValueError, "data_or_path"),
    ("bad suffix", lambda: Object3D("sample.ply"), InvalidMediaValueError, "data_or_path"),
    ("no file_type", lambda: Object3D(io.BytesIO(OBJ)), InvalidMediaValueError, "file_type"),
    (
        "bad file_type",
        lambda: Object3D(io.BytesIO(OBJ), file_type="ply"),
        InvalidMediaValueError,
        "file_type",
    ),
    (
        "contradicting file_type",
        lambda: Object3D("sample.obj", file_type="glb"),
        InvalidMediaValueError,
        "file_type",
    ),
    (
        "file_type with array",
        lambda: Object3D(np.zeros((1, 3)), file_type="obj"),
        InvalidMediaValueError,
        "file_type",
    ),
    (
        "empty obj",
        lambda: Object3D(io.BytesIO(b""), file_type="obj"),
        InvalidMediaValueError,
        "data_or_path",
    ),
    (
        "glb magic",
        lambda: Object3D(io.BytesIO(b"x" * 20), file_type="glb"),
        InvalidMediaValueError,
        "data_or_path",
    ),
    (
        "gltf not json",
        lambda: Object3D(io.StringIO("v 0 0 0"), file_type="gltf"),
        InvalidMediaValueError,
        "data_or_path",
    ),
    (
        "gltf no asset",
        lambda: Object3D(io.StringIO("{}"), file_type="gltf"),
        InvalidMediaValueError,
        "data_or_path",
    ),
    (
        "stl garbage",
        lambda: Object3D(io.BytesIO(b"x" * 100), file_type="stl"),
        InvalidMediaValueError,
        "data_or_path",
    ),
    (
        "pts.json not json",
        lambda: Object3D(io.StringIO("[[1,2"), file_type="pts.json"),
        InvalidMediaValueError,
        "data_or_path",
    ),
    (
        "pts.json bad point",
        lambda: Object3D(io.StringIO("[[1,2]]"), file_type="pts.json"),
        InvalidMediaValueError,
        "data_or_path",
    ),
    ("caption", lambda: Object3D(np.zeros((1, 3)), caption=5), InvalidAnnotationError, "caption"),  # type: ignore[arg-type]
    (
        "scene type",
        lambda: Object3D({"type": "scene/v1"}),
        InvalidMediaValueError,
        "data_or_path['type']",
    ),
    (
        "scene no type",
        lambda: Object3D({"points": np.zeros((1, 3))}),
        InvalidMediaValueError,
        "data_or_path",
    ),
    ("scene key", lambda: Object3D(scene(camera=1)), InvalidMediaValueError, "data_or_path"),
    (
        "scene points",
        lambda: Object3D(scene(points=np.zeros((2, 2)))),
        InvalidMediaValueError,
        "data_or_path['points']",
    ),
    (
        "boxes not list",
        lambda: Object3D(scene(boxes="box")),
        InvalidAnnotationError,
        "data_or_path['boxes']",
    ),
    (
        "box not dict",
        lambda: Object3D(scene(boxes=[[0, 0, 0]])),
        InvalidAnnotationError,
        "data_or_path['boxes'][0]",
    ),
    (
        "box corners",
        lambda: Object3D(scene(boxes=[{"corners": [[0, 0, 0]] * 7, "color": [0, 0, 0]}])),
        InvalidAnnotationError,
        "data_or_path['boxes'][0]['corners']",
    ),
    (
        "box nan",
        lambda: Object3D(scene(boxes=[{"corners": [[0, 0, np.nan]] * 8, "color": [0, 0, 0]}])),
        InvalidMediaValueError,
        "data_or_path['boxes'][0]['corners']",
    ),
    (
        "box no color",
        lambda: Object3D(scene(boxes=[{"corners": GOOD_CORNERS}])),
        InvalidAnnotationError,
        "data_or_path['boxes'][0]",
    ),
    (
        "box color",
        lambda: Object3D(scene(boxes=[{"corners": GOOD_CORNERS, "color": "red"}])),
        InvalidMediaTypeError,
        "data_or_path['boxes'][0]['color']",
    ),
    (
        "box color nan",
        lambda: Object3D(scene(boxes=[{"corners": GOOD_CORNERS, "color": [0, np.nan, 0]}])),
        InvalidMediaValueError,
        "data_or_path['boxes'][0]['color']",
    ),
    (
        "box label",
        lambda: Object3D(scene(boxes=[{"corners": GOOD_CORNERS, "color": [0, 0, 0], "label": 1}])),
        InvalidAnnotationError,
        "data_or_path['boxes'][0]['label']",
    ),
    (
        "box key",
        lambda: Object3D(scene(boxes=[{"corners": GOOD_CORNERS, "colour": [0, 0, 0]}])),
        InvalidAnnotationError,
        "data_or_path['boxes'][0]",
    ),
    (
        "vector",
        lambda: Object3D(scene(vectors=[{"start": [0, 0, 0]}])),
        InvalidAnnotationError,
        "data_or_path['vectors'][0]",
    ),
    (
        "vector end",
        lambda: Object3D(scene(vectors=[{"start": [0, 0, 0], "end": [1, 1]}])),
        InvalidMediaValueError,
        "data_or_path['vectors'][0]['end']",
    ),
]


@pytest.mark.parametrize(
    ("make", "error", "argument"), [c[1:] for c in BAD], ids=[c[0] for c in BAD]
)
def test_bad_input_is_a_typed_error_and_writes_nothing(
    live: Live, samples: Path, make: Callable[[], Any], error: type[Exception], argument: str
) -> None:
    live.log({"ok": Object3D(np.zeros((1, 3)))})
    live.flush()
    before = snapshot(samples)
    with pytest.raises(error) as caught, warnings.catch_warnings():
        warnings.simplefilter("ignore", ColorClampedWarning)
        live.log({"bad": make()})
    assert str(caught.value).startswith(f"{argument}:"), str(caught.value)
    assert "accepted:" in str(caught.value)
    live.flush()
    assert snapshot(samples) == before


def test_shape_error_lists_the_accepted_shapes() -> None:
    with pytest.raises(InvalidMediaValueError) as caught:
        Object3D(np.zeros((4, 5)))
    message = str(caught.value)
    assert "(4, 5)" in message
    assert all(shape in message for shape in ("n x 3", "n x 4", "n x 6"))


def test_category_error_names_the_row() -> None:
    with pytest.raises(InvalidMediaValueError, match=r"data_or_path\[1\] has category 20"):
        Object3D(np.array([[0, 0, 0, 1], [0, 0, 0, 20]]))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    hnp.arrays(
        dtype=st.sampled_from([np.float64, np.float32, np.int64]),
        shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=7),
    )
)
def test_property_shapes_other_than_n_by_3_4_6_are_refused(array: np.ndarray) -> None:
    valid_shape = array.ndim == 2 and array.shape[1] in (3, 4, 6)
    finite = array.dtype.kind != "f" or bool(np.isfinite(array).all())
    valid_values = True
    if valid_shape and array.shape[1] == 4:
        c = array[:, 3]
        valid_values = bool(((c >= 1) & (c <= 14) & (c == np.round(c))).all()) if finite else False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ColorClampedWarning)
        if valid_shape and finite and valid_values:
            obj = Object3D(array)
            item = obj.encode(MediaSlot.for_key("object3d", "k", 0))
            document = json.loads(item.files[0].data)
            schemas.check_document("pts", document, "property")  # every point, in full
            assert len(document["points"]) == len(array)
        else:
            with pytest.raises(InvalidMediaValueError, match=r"^data_or_path"):
                Object3D(array)


@settings(max_examples=40, deadline=None)
@given(
    st.one_of(
        st.none(),
        st.integers(),
        st.text(max_size=5),
        st.lists(st.floats(allow_nan=False), max_size=4),
        st.dictionaries(
            st.sampled_from(["corners", "color", "label", "x"]), st.integers(), max_size=3
        ),
    )
)
def test_property_bad_boxes_are_refused(box: Any) -> None:
    with pytest.raises(
        (InvalidAnnotationError, InvalidMediaValueError, InvalidMediaTypeError)
    ) as caught:
        Object3D(scene(boxes=[box]))
    assert str(caught.value).startswith("data_or_path['boxes'][0]")


def test_validate_tree_accepts_the_run(live: Live, samples: Path) -> None:
    live.log({"mesh": Object3D("sample.stl"), "cloud": Object3D(np.ones((3, 6)))})
    live.flush()
    assert validate_tree(samples) == []
