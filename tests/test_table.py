"""Tables: the spec page's samples, media cells with overlays, limits, bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import dvcstage
from dvcstage import InvalidMediaTypeError, InvalidMediaValueError, Live
from dvcstage.index import read_index, rebuild_index
from dvcstage.validate import validate_tree


def _table_doc(live: Live, key: str, step: int = 0) -> dict[str, Any]:
    path = Path(live.media_dir) / "table" / key / f"{step}.json"
    document: dict[str, Any] = json.loads(path.read_text())
    return document


def test_spec_text_table_both_methods(plain_dir: Path) -> None:
    live = Live(save_dvc_exp=False)
    columns = ["Text", "Predicted Sentiment", "True Sentiment"]
    # Method 1
    data = [["I love my phone", "1", "1"], ["My phone sucks", "0", "-1"]]
    table = dvcstage.Table(data=data, columns=columns)
    live.log({"examples": table})
    # Method 2
    table = dvcstage.Table(columns=columns)
    table.add_data("I love my phone", "1", "1")
    table.add_data("My phone sucks", "0", "-1")
    live.log({"examples2": table})
    live.end()
    for key in ("examples", "examples2"):
        document = _table_doc(live, key)
        assert document["columns"] == columns
        assert document["data"] == data
    assert validate_tree(".") == []


def test_default_columns_and_row_length(plain_dir: Path) -> None:
    table = dvcstage.Table()
    assert table.columns == ["Input", "Output", "Expected"]
    with pytest.raises(InvalidMediaValueError, match=r"row 0 has 2 cells; accepted: 3 cells"):
        table.add_data("a", "b")


def test_max_rows_is_an_error_and_can_be_raised(
    plain_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dvcstage.Table, "MAX_ROWS", 3)
    table = dvcstage.Table(columns=["a"], data=[[1], [2], [3]])
    with pytest.raises(InvalidMediaValueError, match=r"Table\.MAX_ROWS = 3"):
        table.add_data(4)
    with pytest.raises(InvalidMediaValueError, match="MAX_ROWS"):
        dvcstage.Table(columns=["a"], data=[[i] for i in range(4)])
    monkeypatch.setattr(dvcstage.Table, "MAX_ROWS", 5)
    table.add_data(4)
    assert table.get_column("a") == [1, 2, 3, 4]


def test_image_cells_keep_masks_and_boxes(plain_dir: Path) -> None:
    live = Live(save_dvc_exp=False)
    class_labels = {1: "tree", 2: "car"}
    table = dvcstage.Table(columns=["ID", "Image"])
    masks = []
    for ident in range(3):
        label = np.zeros((16, 24), np.uint8)
        label[ident : ident + 4, 2:9] = 1 + ident % 2
        masks.append(label)
        img = np.full((16, 24, 3), ident * 40, np.uint8)
        mask_img = dvcstage.Image(
            img,
            masks={"prediction": {"mask_data": label, "class_labels": class_labels}},
            boxes={
                "prediction": {
                    "box_data": [
                        {
                            "position": {"minX": 1, "minY": 2, "maxX": 10, "maxY": 12},
                            "class_id": 2,
                            "box_caption": "car",
                            "domain": "pixel",
                        }
                    ],
                    "class_labels": class_labels,
                }
            },
        )
        table.add_data(ident, mask_img)
    live.log({"Table": table})
    live.end()
    document = _table_doc(live, "Table")
    folder = Path(live.media_dir) / "table" / "Table"
    for ident, (row_id, cell) in enumerate(document["data"]):
        assert row_id == ident
        assert cell["_type"] == "image"
        record = dvcstage.read_image(folder / cell["path"])
        assert np.array_equal(record.masks["prediction"]["mask_data"], masks[ident])
        assert record.boxes is not None
        assert record.boxes["prediction"]["box_data"][0]["box_caption"] == "car"
        assert record.pixels.max() == ident * 40
    assert validate_tree(".") == []


def test_logged_table_is_a_snapshot(plain_dir: Path) -> None:
    live = Live(save_dvc_exp=False)
    table = dvcstage.Table(columns=["n"])
    table.add_data(1)
    live.log({"t": table})
    table.add_data(2)
    live.next_step()
    live.log({"t": table})
    live.end()
    assert _table_doc(live, "t", 0)["data"] == [[1]]
    assert _table_doc(live, "t", 1)["data"] == [[1], [2]]


def test_cells_numbers_and_special_values(plain_dir: Path) -> None:
    live = Live(save_dvc_exp=False)
    table = dvcstage.Table(columns=["a", "b", "c", "d"])
    table.add_data(np.int64(3), np.float32(0.5), float("nan"), np.bool_(True))
    table.add_data(None, True, "x", 2.0)
    live.log_table("t", table)
    live.end()
    assert _table_doc(live, "t")["data"] == [[3, 0.5, "nan", True], [None, True, "x", 2.0]]


def test_dataframe(plain_dir: Path) -> None:
    import pandas  # a development dependency; Table itself never imports it

    frame = pandas.DataFrame({"x": [1, 2], "y": ["a", "b"]})
    live = Live(save_dvc_exp=False)
    live.log({"frame": dvcstage.Table(dataframe=frame)})
    live.end()
    assert _table_doc(live, "frame")["columns"] == ["x", "y"]
    assert _table_doc(live, "frame")["data"] == [[1, "a"], [2, "b"]]


@pytest.mark.parametrize(
    ("build", "error", "needle"),
    [
        (lambda: dvcstage.Table(columns="abc"), InvalidMediaValueError, "columns"),
        (lambda: dvcstage.Table(columns=["a", "a"]), InvalidMediaValueError, "repeats"),
        (lambda: dvcstage.Table(columns=[]), InvalidMediaValueError, "columns"),
        (
            lambda: dvcstage.Table(columns=["a"], data=[[object()]]),
            InvalidMediaTypeError,
            "data[0]['a']",
        ),
        (
            lambda: dvcstage.Table(columns=["a"], data=[[{"x": 1}]]),
            InvalidMediaTypeError,
            "data[0]",
        ),
        (
            lambda: dvcstage.Table(columns=["a"], data=[[dvcstage.Table()]]),
            InvalidMediaTypeError,
            "not a Table",
        ),
        (
            lambda: dvcstage.Table(columns=["a"], data=[[dvcstage.Histogram([1.0, 2.0])]]),
            InvalidMediaTypeError,
            "or Histogram",
        ),
        (
            lambda: dvcstage.Table(columns=["a"], data=[[1]], rows=[[1]]),
            InvalidMediaValueError,
            "rows",
        ),
        (lambda: dvcstage.Table(dataframe=[1, 2]), InvalidMediaTypeError, "dataframe"),
    ],
)
def test_bad_tables_are_refused(build: Any, error: type[Exception], needle: str) -> None:
    with pytest.raises(error) as info:
        build()
    assert needle in str(info.value)
    assert "accepted:" in str(info.value)


def test_rebuilt_index_lists_the_table(plain_dir: Path) -> None:
    live = Live(save_dvc_exp=False)
    table = dvcstage.Table(columns=["i", "img"], data=[[0, dvcstage.Image(np.zeros((4, 4)))]])
    live.log({"t": table})
    live.end()
    written = read_index(live.index_file).lines
    Path(live.index_file).unlink()
    rebuild_index(live.dir)
    rebuilt = read_index(live.index_file)
    assert not rebuilt.problems
    assert [(line["kind"], line["key"]) for line in rebuilt.lines] == [("table", "t")]
    paths = {f["path"] for f in written[0]["files"]}
    assert {f["path"] for f in rebuilt.lines[0]["files"]} == paths
