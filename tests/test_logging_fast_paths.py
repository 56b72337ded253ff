"""The logging thread's fast paths write what the general paths (and DVCLive) write.

``metrics.json`` text without the standard library's pure-Python encoder, metric rows
without ``csv``, and plain uint8 pixels journaled without media objects: each is checked
against the code it stands in for, byte for byte or pixel for pixel.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from dvclive.plots.metric import Metric
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image as PILImage

import dvcstage
from dvcstage import Live
from dvcstage import jobs as jobs_module
from dvcstage.errors import InvalidMediaNameError, InvalidMediaValueError
from dvcstage.live import SummaryEncoder
from dvcstage.summary_json import summary_text


@pytest.fixture(autouse=True)
def _outside_any_repository(plain_dir: Path) -> None:
    """Every run here lives outside a git or DVC repository (its dvc.yaml in the run)."""


# -- metrics.json ----------------------------------------------------------------------------

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
)
_summaries = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=30,
)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.text(max_size=10), _summaries, max_size=6))
def test_summary_text_is_the_standard_encoders_text(summary: dict[str, Any]) -> None:
    assert summary_text(summary) == json.dumps(summary, indent=4)


@pytest.mark.parametrize(
    ("summary", "falls_back"),
    [
        ({"loss": np.float32(0.5)}, True),  # not a float: the encoder's default hook
        ({"step": np.int64(3)}, True),
        ({1: "an int key"}, True),
        ({"nested": {"deep": [np.float64(1.0), np.float16(2.0)]}}, True),
        ({"loss": np.float64(0.5)}, False),  # a float subclass, as the encoder treats it
    ],
)
def test_summary_text_leaves_other_values_to_the_encoder(
    summary: dict[Any, Any], falls_back: bool
) -> None:
    text = summary_text(summary)
    if falls_back:
        assert text is None
    else:
        assert text == json.dumps(summary, indent=4, cls=SummaryEncoder)


def test_summary_text_of_deep_nesting_falls_back() -> None:
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(100):
        node["x"] = {}
        node = node["x"]
    assert summary_text(deep) is None
    assert json.loads(json.dumps(deep, indent=4)) == deep


def test_metrics_json_matches_dvclive_byte_for_byte(tmp_path: Path) -> None:
    from dvclive import Live as DvcLive

    runs = {}
    for name, cls in (("dvclive", DvcLive), ("dvcstage", Live)):
        with cls(str(tmp_path / name), save_dvc_exp=False, dvcyaml=None) as live:
            for step in range(3):
                live.log_metric("train/loss", 1 / (step + 1))
                live.log_metric("acc", step)
                live.log_metric("np", np.float32(0.25) * step)
                live.log_metric("nan", math.nan)
                live.log_metric("label", 'é "quoted"')
                live.next_step()
            runs[name] = (tmp_path / name / "metrics.json").read_bytes()
    assert runs["dvcstage"] == runs["dvclive"]


# -- metric rows ------------------------------------------------------------------------------

ROW_VALUES: list[Any] = [
    0,
    -7,
    10**20,
    True,
    0.1,
    1e-300,
    -0.0,
    math.nan,
    math.inf,
    "plain",
    "",
    "with\ttab",
    'with "quote"',
    "with\nnewline",
    "ünïcode",
    np.float32(0.3),
    np.float64(0.3),
    np.int64(5),
]


@pytest.mark.parametrize("timestamp", [False, True])
def test_metric_rows_match_dvclive_byte_for_byte(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, timestamp: bool
) -> None:
    from dvclive import Live as DvcLive

    monkeypatch.setattr("time.time", lambda: 1_718_000_000.123)  # one timestamp for both
    for name, cls in (("dvclive", DvcLive), ("dvcstage", Live)):
        live = cls(str(tmp_path / name), save_dvc_exp=False, dvcyaml=None)
        for value in ROW_VALUES:
            live.log_metric("group/metric", value, timestamp=timestamp)
            live.next_step()
        live.end()
    theirs = (tmp_path / "dvclive" / "plots" / "metrics" / "group" / "metric.tsv").read_bytes()
    ours = (tmp_path / "dvcstage" / "plots" / "metrics" / "group" / "metric.tsv").read_bytes()
    assert ours == theirs
    assert theirs.count(b"\n") > len(ROW_VALUES)  # a header and every row (one has a newline)


def test_metric_rows_survive_their_folder_being_removed(tmp_path: Path) -> None:
    import shutil

    live = Live(str(tmp_path / "run"), save_dvc_exp=False, dvcyaml=None)
    live.log_metric("a/b", 1)
    live.next_step()
    shutil.rmtree(tmp_path / "run" / "plots" / "metrics")
    live.log_metric("a/b", 2)
    live.end()
    rows = (tmp_path / "run" / "plots" / "metrics" / "a" / "b.tsv").read_text()
    assert rows == "step\tb\n1\t2\n"


def test_metric_row_of_dvclive_metric_class_is_unchanged(tmp_path: Path) -> None:
    """The stand-in writes what DVCLive's own ``Metric`` writes for the same calls."""
    theirs = Metric("x", tmp_path / "theirs")
    ours = dvcstage.live._Metric("x", tmp_path / "ours")
    for step, value in enumerate([1, 0.5, "s"]):
        theirs.step = ours.step = step
        theirs.dump(value)
        ours.dump(value)
    theirs_rows = (tmp_path / "theirs" / "metrics" / "x.tsv").read_bytes()
    assert (tmp_path / "ours" / "metrics" / "x.tsv").read_bytes() == theirs_rows
    assert theirs_rows == b"step\tx\n0\t1\n1\t0.5\n2\ts\n"


# -- plain pixels -----------------------------------------------------------------------------


def _pixels(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=shape, dtype=np.uint8)


@pytest.fixture
def plain_records(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """The plain-pixel records journaled (their arguments)."""
    seen: list[tuple[Any, ...]] = []
    original = jobs_module.PlainImage.__init__

    def spy(self: Any, *args: Any) -> None:
        seen.append(args)
        original(self, *args)

    monkeypatch.setattr(jobs_module.PlainImage, "__init__", spy)
    return seen


@pytest.mark.parametrize("shape", [(70, 90), (70, 90, 3), (70, 90, 4)])
@pytest.mark.parametrize("suffix", [".png", ".jpg", ".gif"])
def test_plain_pixels_write_what_the_general_path_writes(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    plain_records: list[Any],
    shape: tuple[int, ...],
    suffix: str,
) -> None:
    pixels = _pixels(shape)
    for path, value in (("fast", pixels), ("general", np.asfortranarray(pixels))):
        # A non-contiguous view of the same pixels takes the general path.
        (tmp_path / path).mkdir()
        monkeypatch.chdir(tmp_path / path)
        with Live("run", save_dvc_exp=False) as live:
            live.log_image(f"pred/0{suffix}", value)
            live.log_image(f"still{suffix}", value)
        assert len(plain_records) == 2  # both from the first run
    fast, general = tmp_path / "fast", tmp_path / "general"
    for name in (f"pred/0{suffix}", f"still{suffix}"):
        image = Path("run", "plots", "images", name)
        assert (fast / image).read_bytes() == (general / image).read_bytes()
        if suffix == ".png":
            with PILImage.open(fast / image) as decoded:
                assert np.array_equal(np.asarray(decoded), pixels)

    def lines(folder: Path) -> list[dict[str, Any]]:
        found = []
        for line in (folder / "run" / "media.jsonl").read_text().splitlines():
            record = json.loads(line)
            record.pop("time")
            found.append(record)
        return sorted(found, key=lambda record: record["key"])

    assert len(lines(fast)) == 2
    assert lines(fast) == lines(general)
    assert "run/plots/images" in (fast / "dvc.yaml").read_text()
    assert (fast / "dvc.yaml").read_text() == (general / "dvc.yaml").read_text()


def test_plain_pixels_keep_dvclives_image_records(tmp_path: Path) -> None:
    with Live(str(tmp_path / "run"), save_dvc_exp=False) as live:
        live.log_image("pred/0.png", _pixels((80, 80, 3)))
        live.next_step()
        live.log_image("pred/1.png", _pixels((80, 80, 3), 1))
        records = dict(live._images)
    assert sorted(records) == ["pred/0.png", "pred/1.png"]
    assert records["pred/1.png"].step == 1
    assert Path(records["pred/1.png"].output_path) == (
        tmp_path / "run" / "plots" / "images" / "pred" / "1.png"
    )


BAD_NAMES: list[Any] = [
    "",
    "/abs.png",
    "../up.png",
    "a/../b.png",
    "a//b.png",
    "C:x.png",
    "back\\slash.png",
    "ctl\x01.png",
    "no_suffix",
    "upper.PNG",
    "a/.png",
    "trailing./1.png",
    "CON.png",
    "a.masks/1.png",
    "b/..png",
    "..png",
    "b/...jpg",
    "x" * 300 + ".png",
    42,
]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_plain_pixels_refuse_names_as_the_general_path_does(tmp_path: Path, name: Any) -> None:
    live = Live(str(tmp_path / "run"), save_dvc_exp=False)
    with pytest.raises(InvalidMediaNameError) as fast:
        live.log_image(name, _pixels((80, 80, 3)))
    with pytest.raises(InvalidMediaNameError) as general:
        live.log_image(name, _pixels((80, 80, 3)).astype(np.float32) / 255)
    assert str(fast.value) == str(general.value)
    live.end()
    assert not (tmp_path / "run" / "plots" / "images").exists()


def test_plain_pixels_refuse_clashes_and_oversized_jpegs(tmp_path: Path) -> None:
    live = Live(str(tmp_path / "run"), save_dvc_exp=False)
    live.log_image("f.png", _pixels((80, 80)))
    with pytest.raises(InvalidMediaNameError, match="file used as a folder"):
        live.log_image("f.png/1.png", _pixels((80, 80)))
    with pytest.raises(InvalidMediaNameError, match="shares its sidecar"):
        live.log_image("f.jpg", _pixels((80, 80)))
    with pytest.raises(InvalidMediaValueError, match=r"too large for \.jpg"):
        live.log_image("wide.jpg", np.zeros((2, 70_000), dtype=np.uint8))
    live.end()
    images = tmp_path / "run" / "plots" / "images"
    assert sorted(p.name for p in images.iterdir()) == ["f.png"]


def test_plain_pixels_are_copied_before_the_call_returns(tmp_path: Path) -> None:
    pixels = _pixels((80, 80, 3))
    expected = pixels.copy()
    with Live(str(tmp_path / "run"), save_dvc_exp=False) as live:
        live.log_image("a.png", pixels)
        pixels[:] = 0  # the caller reuses its buffer at once
    with PILImage.open(tmp_path / "run" / "plots" / "images" / "a.png") as image:
        assert np.array_equal(np.asarray(image), expected)


@pytest.mark.parametrize(
    "last", ["", "CON.png", "ctl\x01.png", ".png", "x.masks", "end.", "end ", "a:b.png", "x.PNG"]
)
def test_plain_pixels_refuse_bad_names_in_a_folder_used_before(tmp_path: Path, last: str) -> None:
    """Names in a folder already checked have only their last segment checked: the same
    errors as the general path, naming the whole name."""
    live = Live(str(tmp_path / "run"), save_dvc_exp=False)
    live.log_image("pred/0.png", _pixels((80, 80, 3)))
    with pytest.raises(InvalidMediaNameError) as fast:
        live.log_image(f"pred/{last}", _pixels((80, 80, 3)))
    with pytest.raises(InvalidMediaNameError) as general:
        live.log_image(f"pred/{last}", _pixels((80, 80, 3)).astype(np.float32) / 255)
    assert str(fast.value) == str(general.value)
    assert f"pred/{last}" in str(fast.value) or repr(f"pred/{last}") in str(fast.value)
    live.end()
    assert sorted(p.name for p in (tmp_path / "run" / "plots" / "images" / "pred").iterdir()) == [
        "0.png"
    ]


def test_plain_image_records_read_back_whole_or_not_at_all(tmp_path: Path) -> None:
    from dvcstage.jobs import PlainImage, WriteMedia, job_from_fields
    from dvcstage.journal import JournalAppender, JournalReader, count_pending, segment_name

    pixels = _pixels((70, 90, 4))
    appender = JournalAppender(tmp_path)
    appender.append(PlainImage("plots/images/a/3", "a", 3, ".jpg", pixels, True, False))
    appender.append({"pickled": "job"})
    appender.close()
    assert count_pending(tmp_path) == 2

    raw = list(JournalReader(tmp_path).read())
    fields, buffers = raw[0].job  # type: ignore[misc]
    assert fields[1:] == ["plots/images/a/3", "a", "3", ".jpg", "70,90,4", "1", "0"]
    assert bytes(buffers[0]) == pixels.tobytes()
    assert raw[1].job == {"pickled": "job"}

    job = next(iter(JournalReader(tmp_path, decode_fields=job_from_fields).read())).job
    assert isinstance(job, WriteMedia)
    assert (job.slot.key, job.slot.step, str(job.slot.stem), job.shard) == (
        "a",
        3,
        "plots/images/a/3",
        "plots/images/a/3",
    )
    assert (job.preview, job.draw, job.media.suffix) == (True, False, ".jpg")  # type: ignore[attr-defined]
    assert np.array_equal(job.media.source.array, pixels)  # type: ignore[attr-defined]

    # A record cut short by a crash is never read, nor counted as pending.
    segment = tmp_path / segment_name(0)
    first = raw[0].size
    with segment.open("r+b") as handle:
        handle.truncate(first - 5)
    assert list(JournalReader(tmp_path, decode_fields=job_from_fields).read()) == []
    assert count_pending(tmp_path) == 0


def test_plain_pixels_at_a_step_of_another_type_take_the_general_path(
    tmp_path: Path, plain_records: list[Any]
) -> None:
    """DVCLive lets ``live.step`` be set to anything; only an int step takes the fast path."""
    with Live(str(tmp_path / "run"), save_dvc_exp=False) as live:
        live.step = 3.0  # type: ignore[assignment]
        live.log_image("a.png", _pixels((80, 80, 3)))
        live.step = 4
        live.log_image("b.png", _pixels((80, 80, 3), 1))
    assert [args[2] for args in plain_records] == [4]
    lines = [
        json.loads(line) for line in (tmp_path / "run" / "media.jsonl").read_text().splitlines()
    ]
    assert sorted((line["key"], line["step"]) for line in lines) == [("a.png", 3.0), ("b.png", 4)]


def test_an_unreadable_journal_record_is_reported_and_the_rest_written(tmp_path: Path) -> None:
    """A complete record whose job cannot be rebuilt (another version wrote it) fails alone:
    the writer process reports it and writes the records after it."""
    from dvcstage.errors import MediaWriteError
    from dvcstage.journal import FieldsJob

    live = Live(str(tmp_path / "run"), save_dvc_exp=False)
    live.log_image("before.png", _pixels((80, 80, 3)))
    writer = live._ensure_writer()
    writer.submit(FieldsJob(("no-such-kind", "x"), b"\0"), "bogus", "a bogus record")
    live.log_image("after.png", _pixels((80, 80, 3), 1))
    with pytest.raises(MediaWriteError, match="an unreadable journal record") as failure:
        live.end()
    assert "unknown journal fields record 'no-such-kind'" in str(failure.value)
    images = tmp_path / "run" / "plots" / "images"
    assert sorted(p.name for p in images.iterdir()) == ["after.png", "before.png"]


def test_journal_reader_turns_a_bad_record_into_a_job_that_fails() -> None:
    import tempfile

    from dvcstage.journal import FieldsJob, JournalAppender, JournalReader, UndecodableJob

    with tempfile.TemporaryDirectory() as folder:
        appender = JournalAppender(Path(folder))
        appender.append(FieldsJob(("bad",), b"x"))
        appender.append({"fine": 1})
        appender.close()

        def refuse(fields: list[str], buffers: list[memoryview]) -> object:
            raise ValueError(f"unknown {fields[0]}")

        first, second = (r.job for r in JournalReader(Path(folder), decode_fields=refuse).read())
    assert isinstance(first, UndecodableJob)
    assert "ValueError: unknown bad" in first.problem
    with pytest.raises(Exception, match="cannot be read back"):
        first.run(None)
    assert second == {"fine": 1}


def test_a_numpy_integer_step_is_stored_as_an_int(tmp_path: Path) -> None:
    """``live.step = np.int64(3)`` (a NumPy loop's counter), which DVCLive stores as given:
    every item is written at step 3, an int in the index and in metrics.json."""
    with Live(str(tmp_path / "run"), save_dvc_exp=False) as live:
        live.step = np.int64(3)  # type: ignore[assignment]
        assert type(live.step) is int and live.step == 3
        live.log_image("plain/x.png", _pixels((80, 80, 3)))
        live.log_image("captioned.png", _pixels((80, 80, 3)), caption="c")
        live.log({"h": dvcstage.Histogram(np.arange(10))})
        live.log_metric("loss", 0.5)
        live.next_step()
        assert type(live.step) is int and live.step == 4
    lines = [
        json.loads(line) for line in (tmp_path / "run" / "media.jsonl").read_text().splitlines()
    ]
    assert sorted(line["key"] for line in lines) == ["captioned.png", "h", "plain/x.png"]
    assert {line["step"] for line in lines} == {3}
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["step"] == 3
