"""The index's quick pre-parse (``dvcstage_lsp.fastline``) agrees with ``json.loads``.

The pre-parse may decline a line (the run index then parses it in full) but must never accept
a line that ``json.loads`` + ``check_line`` would refuse, nor return other fields. Checked on
the writer's real lines, on hand-made edge cases and on thousands of mutated lines; and the
run index must hold the same thing whichever path each line took. No timing here.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from dvcstage_lsp.fastline import quick_fields, split_lines
from dvcstage_lsp.runs import IndexLine, RunIndex, check_line

IMAGE = {
    "v": 1,
    "step": 3,
    "key": "pred",
    "kind": "image",
    "files": [
        {"path": "plots/images/pred/3.masks/truth.png", "role": "mask", "bytes": 75, "name": "t"},
        {"path": "plots/images/pred/3.png", "role": "image", "bytes": 3172},
        {
            "path": "plots/images/pred/3.json",
            "role": "sidecar",
            "bytes": 9,
            "schema": "image-sidecar",
        },
    ],
    "width": 32,
    "height": 32,
    "sidecar": "plots/images/pred/3.json",
    "time": 1718000000.123,
}
LISTED = {
    "v": 1,
    "step": 0,
    "key": "samples",
    "kind": "image",
    "files": [{"path": "plots/images/samples/1/0.png", "role": "image", "bytes": 1820}],
    "width": 24,
    "height": 24,
    "sidecar": None,
    "item": 1,
    "time": 1795329395.43,
}
HISTOGRAM = {
    "v": 1,
    "step": 1,
    "key": "weights",
    "kind": "histogram",
    "files": [{"path": "plots/histograms/weights.tsv", "role": "series", "bytes": 365}],
    "facts": {"bins": 8, "low": -2.04446786984061, "high": 2.3836315957076137, "total": 200},
    "time": 1795329395.435,
}
AUDIO = {
    "v": 1,
    "step": 0,
    "key": "voice",
    "kind": "audio",
    "files": [
        {"path": "media/audio/voice/0.wav", "role": "audio", "bytes": 844},
        {"path": "media/audio/voice/0.json", "role": "sidecar", "bytes": 226, "schema": "audio"},
    ],
    "sidecar": "media/audio/voice/0.json",
    "facts": {"sample_rate": 8000, "channels": 1, "frames": 400, "duration_s": 0.05},
    "time": 1795329395.427,
}
WRITER_LINES = [IMAGE, LISTED, HISTOGRAM, AUDIO]


def compact(value: Any) -> bytes:
    """A line as dvcstage's writer writes it (without the newline)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def reference(row: bytes) -> tuple[str, int, int | None, str] | None:
    """What the full parse makes of ``row``: its fields, or ``None`` if it is refused."""
    try:
        value = json.loads(row)
    except (ValueError, RecursionError):
        return None
    if check_line(value) is not None:
        return None
    return value["key"], value["step"], value.get("item"), value["kind"]


def agrees(row: bytes) -> bool:
    """The quick parse declines ``row`` or says exactly what the full parse says."""
    quick = quick_fields(row)
    return quick is None or (quick == reference(row) and quick is not None)


@pytest.mark.parametrize("value", WRITER_LINES, ids=lambda v: v["key"])
def test_the_writers_lines_are_recognised(value: dict[str, Any]) -> None:
    row = compact(value)
    assert quick_fields(row) == (value["key"], value["step"], value.get("item"), value["kind"])


def test_lines_written_by_the_real_writer_are_recognised(tmp_path: Path) -> None:
    from dvcstage.index import MediaIndex

    index = MediaIndex(tmp_path / "media.jsonl")
    for value in [*WRITER_LINES, IMAGE | {"key": "ünïcode/键"}]:
        index.append({k: v for k, v in value.items() if k != "time"} | {"time": 1.5})
    index.close()
    rows = (tmp_path / "media.jsonl").read_bytes().split(b"\n")[:-1]
    assert all(quick_fields(row) is not None and agrees(row) for row in rows)


@pytest.mark.parametrize(
    "row",
    [
        compact(IMAGE).replace(b'"v":1', b'"v":1.0'),  # valid, but not the writer's
        compact(IMAGE).replace(b'"key":"pred"', b'"key":"pr\\u00e9d"'),  # an escape
        compact(IMAGE).replace(b":", b": "),  # whitespace
        compact(IMAGE) + b" ",
        compact(IMAGE) + b"\r",
        compact(IMAGE).replace(b'"v":1', b'"v":true'),
        compact(LISTED | {"facts": {"nested": [1, 2]}}),
        compact(HISTOGRAM).replace(b'"low":-2.04446786984061', b'"low":NaN'),
        compact(IMAGE | {"extra": 1}),
        json.dumps(IMAGE, ensure_ascii=False).encode(),
    ],
)
def test_unusual_but_valid_lines_are_left_to_the_full_parse(row: bytes) -> None:
    assert quick_fields(row) is None


@pytest.mark.parametrize(
    "row",
    [
        b"",
        b"{}",
        b"not json",
        compact(IMAGE)[:-1],  # torn
        compact(IMAGE) + b"}",
        compact(IMAGE).replace(b'"step":3', b'"step":-3'),
        compact(IMAGE).replace(b'"step":3', b'"step":03'),
        compact(IMAGE).replace(b'"step":3', b'"step":3.0'),
        compact(IMAGE).replace(b'"step":3', b'"step":' + b"9" * 5000),
        compact(IMAGE).replace(b'"key":"pred"', b'"key":""'),
        compact(IMAGE).replace(b'"kind":"image"', b'"kind":7'),
        compact(IMAGE | {"files": []}),
        compact(IMAGE | {"files": [{"path": "a.png"}]}),
        compact(LISTED | {"item": None}),
        compact(LISTED | {"item": -1}),
        compact(IMAGE).replace(b"plots/images", b"plots\x01images"),  # a raw control char
        compact(IMAGE).replace(b"plots/images", b"plots\\qimages"),  # an invalid escape
        compact(IMAGE).replace(b"plots/images", b"plots\xff\xfeimages"),  # not UTF-8
        compact(IMAGE).replace(b"plots/images", b"plots\xed\xa0\x80images"),  # a surrogate
        compact(IMAGE).replace(b'"time":', b'"time":-'),
        compact(AUDIO).replace(b'"frames":400', b'"frames":'),
    ],
)
def test_broken_or_invalid_lines_are_never_accepted(row: bytes) -> None:
    assert agrees(row)
    if reference(row) is None:
        assert quick_fields(row) is None


def test_a_duplicated_item_keeps_the_last_as_json_does() -> None:
    row = compact(LISTED)[:-1] + b',"item":7}'
    assert quick_fields(row) == ("samples", 0, 7, "image") == reference(row)


def _mutate(rng: random.Random, row: bytes) -> bytes:
    """One random byte-level change: delete, insert, replace or duplicate a slice."""
    alphabet = b'{}[]",:0123456789-.eE\\/ntrufalsvkeyitmpdh\x00\x1f\x7f\xc3\xa9\xff '
    at = rng.randrange(len(row) + 1)
    size = rng.randrange(1, 6)
    choice = rng.randrange(5)
    if choice == 0:
        return row[:at] + row[at + size :]
    if choice == 1:
        return row[:at] + bytes(rng.choice(alphabet) for _ in range(size)) + row[at:]
    if choice == 2:
        return row[:at] + bytes(rng.choice(alphabet) for _ in range(size)) + row[at + size :]
    if choice == 3:
        return row[:at] + row[at : at + size] * 2 + row[at + size :]
    replacement = rng.choice([b"1", b"0", b"-1", b"null", b"true", b'""', b'"x"', b"{}", b"[]"])
    start = row.find(b":", at)
    end = min((i for i in (row.find(b",", start), row.find(b"}", start)) if i > 0), default=-1)
    if start < 0 or end < 0:
        return row
    return row[: start + 1] + replacement + row[end:]


def test_fuzz_the_quick_parse_never_disagrees() -> None:
    rng = random.Random(20240612)
    accepted = 0
    for _ in range(20_000):
        row = compact(rng.choice(WRITER_LINES))
        for _ in range(rng.randrange(1, 4)):
            row = _mutate(rng, row)
        row = row.replace(b"\n", b"")
        assert agrees(row), row
        accepted += quick_fields(row) is not None
    assert accepted > 1000  # the fuzz also exercises the accepting side


def test_split_lines_yields_every_line_in_order() -> None:
    rows = [compact(IMAGE), b"", b"not json", compact(LISTED), b" ", compact(AUDIO) + b"\r"]
    rows += [compact(HISTOGRAM), compact(HISTOGRAM)]
    block = b"\n".join(rows) + b"\n"
    found = list(split_lines(block))
    assert [row for row, _ in found] == rows
    assert [fields is not None for _, fields in found] == [
        True,
        False,
        False,
        True,
        False,
        False,
        True,
        True,
    ]
    assert list(split_lines(b"")) == []
    assert list(split_lines(b"\n\n")) == [(b"", None), (b"", None)]
    with pytest.raises(ValueError):
        list(split_lines(compact(IMAGE)))


def _full_parse_index(path: Path) -> dict[tuple[str, int, int], tuple[Any, ...]]:
    """The latest line per (key, step, item) by json.loads alone: the reference."""
    latest: dict[tuple[str, int, int], tuple[Any, ...]] = {}
    data = path.read_bytes()
    for number, row in enumerate(data.split(b"\n")[:-1], start=1):
        fields = reference(row) if row.strip() else None
        if fields is not None:
            key, step, item, kind = fields
            position = 0 if item is None else item
            latest[(key, step, position)] = (key, step, position, item is not None, kind, number)
    return latest


def _summary(line: IndexLine) -> tuple[Any, ...]:
    return line.key, line.step, line.item, line.has_item, line.kind, line.number


def test_the_run_index_holds_the_same_whichever_path_lines_take(tmp_path: Path) -> None:
    rng = random.Random(7)
    rows = []
    for step in range(3000):
        value = dict(rng.choice(WRITER_LINES), step=step % 700)
        row = compact(value)
        if rng.random() < 0.3:
            row = _mutate(rng, row).replace(b"\n", b"")
        elif rng.random() < 0.1:
            row = json.dumps(value).encode()  # valid, through the full parse
        rows.append(row)
    path = tmp_path / "media.jsonl"
    path.write_bytes(b"\n".join(rows) + b"\n")
    index = RunIndex(path)
    appended = index.refresh()
    expected = _full_parse_index(path)
    assert {k: _summary(v) for k, v in index.latest.items()} == expected
    assert [line.raw for line in appended.lines] == [
        row for row in rows if row.strip() and reference(row) is not None
    ]
    assert all(line.parsed() == json.loads(line.raw) for line in index.latest.values())
    steps = {key: sorted({s for k, s, _ in expected if k == key}) for key, *_ in expected}
    assert {k: info.sorted_steps() for k, info in index.keys.items()} == steps
    assert index.last_step == max(step for _, step, _ in expected)
    refused = sum(1 for row in rows if row.strip() and reference(row) is None)
    assert len(index.problems) == min(refused, 1000)


def test_a_large_file_read_in_chunks_matches_the_reference(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dvcstage_lsp.runs as runs

    monkeypatch.setattr(runs, "READ_CHUNK", 4096)  # many chunks, lines cut across them
    monkeypatch.setattr(runs, "GC_PAUSE_BYTES", 1024)  # and the collector paused for each
    rows = [compact(dict(IMAGE, step=step)) for step in range(2000)]
    rows[500] = b"garbage"
    path = tmp_path / "media.jsonl"
    path.write_bytes(b"\n".join(rows) + b"\n" + compact(IMAGE)[:40])
    index = RunIndex(path)
    assert len(index.refresh().lines) == 1999
    assert {k: _summary(v) for k, v in index.latest.items()} == _full_parse_index(path)
    assert index.problems == [(501, index.problems[0][1])] and index.line_count == 2000
    assert index.offset == path.stat().st_size - 40


def test_finding_runs_does_not_enter_a_runs_output_folders(tmp_path: Path) -> None:
    from dvcstage_lsp.runs import find_index_files

    for run in ("a", "a/plots/images/x", "a/media/audio/y", "a/nested", "plots", "b/plots/c"):
        (tmp_path / run).mkdir(parents=True, exist_ok=True)
        (tmp_path / run / "media.jsonl").write_text("")
    found = [p.parent.relative_to(tmp_path).as_posix() for p in find_index_files(tmp_path)]
    assert found == ["a", "a/nested", "b/plots/c", "plots"]
