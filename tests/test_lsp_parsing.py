"""dvcstage-lsp in process: index tailing, series, paths, ranges, and a fuzz of the parsers.

No input may make the parsing or diagnostics functions raise: ≥ 10,000 mutated index lines
and sidecars go through them.
"""

from __future__ import annotations

import contextlib
import json
import random
from pathlib import Path

import pytest
from dvcstage_lsp import queries
from dvcstage_lsp.diagnostics import classify, document_problems, index_problems, sidecar_problems
from dvcstage_lsp.jsonpos import scan
from dvcstage_lsp.paths import PathRefusedError, resolve_inside
from dvcstage_lsp.positions import LineIndex
from dvcstage_lsp.protocol import QueryError
from dvcstage_lsp.runs import RunIndex, RunRegistry, find_index_files
from dvcstage_lsp.series import histogram_series, metric_series

LINE = {
    "v": 1,
    "step": 3,
    "key": "pred",
    "kind": "image",
    "files": [
        {
            "path": "plots/images/pred/3.masks/truth.png",
            "role": "mask",
            "bytes": 75,
            "name": "truth",
        },
        {"path": "plots/images/pred/3.png", "role": "image", "bytes": 3172},
        {
            "path": "plots/images/pred/3.json",
            "role": "sidecar",
            "bytes": 389,
            "schema": "image-sidecar",
        },
    ],
    "width": 32,
    "height": 32,
    "sidecar": "plots/images/pred/3.json",
    "time": 1.5,
}
SIDECAR = {
    "annotations": {
        "cat": [{"box": {"top": 1, "left": 2, "bottom": 10, "right": 12}, "score": 0.9}]
    },
    "boxes": {
        "predictions": {
            "box_data": [
                {"position": {"minX": 0.1, "maxX": 0.5, "minY": 0.2, "maxY": 0.6}, "class_id": 1}
            ],
            "class_labels": {"1": "cat"},
        }
    },
    "masks": {"truth": {"path": "3.masks/truth.png", "class_labels": {"1": "cat"}, "bit_depth": 8}},
    "caption": "a cat",
    "step": 3,
    "width": 32,
    "height": 32,
}


def line(**changes: object) -> bytes:
    return (json.dumps(LINE | changes) + "\n").encode()


def test_run_index_tails_from_its_offset_and_ignores_a_torn_line(tmp_path: Path) -> None:
    path = tmp_path / "media.jsonl"
    path.write_bytes(line(step=0) + b"not json\n" + line(step=1) + b'{"v":1,"st')
    index = RunIndex(path)
    first = index.refresh()
    assert [x.step for x in first.lines] == [0, 1] and not first.reset
    assert index.problems and index.problems[0][0] == 2
    assert index.offset == path.stat().st_size - len(b'{"v":1,"st')
    with path.open("ab") as handle:  # the torn line is completed, and one more arrives
        handle.write(b'ep":9}\n' + line(step=2, item=1))
    second = index.refresh()
    assert [(x.step, x.item, x.has_item) for x in second.lines] == [(2, 1, True)]
    assert index.problems[-1][0] == 4  # the completed line is not a valid index line
    assert index.keys["pred"].sorted_steps() == [0, 1, 2] and index.last_step == 2
    assert index.refresh().lines == []
    path.write_bytes(line(step=7))  # replaced (rebuilt): read again from the start
    third = index.refresh()
    assert third.reset and [x.step for x in third.lines] == [7]
    assert list(index.latest) == [("pred", 7, 0)]


def test_later_lines_replace_earlier_ones(tmp_path: Path) -> None:
    path = tmp_path / "media.jsonl"
    path.write_bytes(line(step=1, width=8) + line(step=1, width=16))
    index = RunIndex(path)
    index.refresh()
    assert index.latest[("pred", 1, 0)].parsed()["width"] == 16


def test_a_huge_line_is_skipped_without_reading_it_whole(tmp_path: Path) -> None:
    path = tmp_path / "media.jsonl"
    path.write_bytes(line(step=0) + b'{"x":"' + b"a" * (9 * 1024 * 1024) + b'"}\n' + line(step=1))
    index = RunIndex(path)
    assert [x.step for x in index.refresh().lines] == [0, 1]
    assert "longer than" in index.problems[0][1]


def test_finding_runs_skips_environments_and_symlinks(tmp_path: Path) -> None:
    for folder in ("a", "b/c", ".venv/x", "node_modules/y", ".git/z", ".dvc/tmp"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "media.jsonl").write_bytes(line())
    (tmp_path / "link").symlink_to(tmp_path / "a")
    assert find_index_files(tmp_path) == [tmp_path / "a/media.jsonl", tmp_path / "b/c/media.jsonl"]
    registry = RunRegistry([tmp_path])
    assert sorted(r.id for r in registry.scan()) == ["workspace:a", "workspace:b/c"]
    assert registry.scan() == []


def test_series_take_the_last_block_of_a_step(tmp_path: Path) -> None:
    tsv = tmp_path / "h.tsv"
    tsv.write_text(
        "step\tbin\tlow\thigh\tcount\n0\t0\t0\t1\t5\n1\t0\t0\t1\t6\n1\t1\t1\t2\t7\n"
        "1\t0\t0\t1\t9\nbad\trow\n2\t0\t0\t1\t3"  # step 1 written again; a torn last row
    )
    assert histogram_series(tsv) == [
        {"step": 0, "bins": [{"low": 0, "high": 1, "count": 5}]},
        {"step": 1, "bins": [{"low": 0, "high": 1, "count": 9}]},
    ]
    metric = tmp_path / "m.tsv"
    metric.write_text("timestamp\tstep\tloss\n1\t0\t0.5\n2\t1\tnan\n3\t2\t0.25\n")
    assert metric_series(metric) == [
        {"step": 0, "value": 0.5},
        {"step": 1, "value": None},
        {"step": 2, "value": 0.25},
    ]


@pytest.mark.parametrize(
    "relative", ["../x", "a/../../x", "/etc/passwd", "a\\b", "a\x00b", "", "./a", "C:/x"]
)
def test_paths_that_are_not_plain_relative_ones_are_refused(tmp_path: Path, relative: str) -> None:
    with pytest.raises(PathRefusedError):
        resolve_inside(tmp_path, relative, [tmp_path.resolve()])


def test_symlinks_leading_outside_are_refused(tmp_path: Path) -> None:
    root = (tmp_path / "ws").resolve()
    (root / "run").mkdir(parents=True)
    (tmp_path / "secret").write_text("x")
    (root / "run" / "s").symlink_to(tmp_path / "secret")
    (root / "run" / "d").symlink_to(tmp_path)
    (root / "run" / "ok").write_text("x")
    for relative in ("s", "d/secret"):
        with pytest.raises(PathRefusedError, match="outside the workspace"):
            resolve_inside(root / "run", relative, [root])
    assert resolve_inside(root / "run", "ok", [root]) == root / "run" / "ok"


def test_scan_spans_and_positions() -> None:
    text = '{"a": [1, {"b": "\U0001f431"}], "c": true}'
    spans = scan(text)
    assert spans.complete
    assert text[slice(*spans.values[("a", 1, "b")])] == '"\U0001f431"'
    assert text[slice(*spans.keys[("c",)])] == '"c"'
    at = spans.values[("c",)][0]
    assert LineIndex(text, "utf-16").position(at) == (0, at + 1)  # the emoji is 2 UTF-16 units
    assert LineIndex(text, "utf-8").position(at) == (0, at + 3)
    assert LineIndex(text, "utf-32").position(at) == (0, at)
    assert not scan('{"a": [1, 2').complete
    assert not scan("[" * 10_000).complete


def test_index_line_problems_have_exact_ranges() -> None:
    good = json.dumps(LINE)
    bad = json.dumps(LINE | {"step": "three"})
    text = good + "\n" + bad + "\n" + good[:-9] + "\n"
    problems = index_problems(text)
    assert good[:-9].endswith(', "ti')  # an unterminated string: shown from its quote
    assert [(p.code, text[p.start : p.end]) for p in problems] == [
        ("schema", '"three"'),
        ("json", '"ti'),
    ]
    assert problems[1].start == len(good) + 1 + len(bad) + 1 + len(good) - 9 - 3


def test_classify() -> None:
    run = Path("/w/run")
    assert classify(run / "media.jsonl").role == "index"  # type: ignore[union-attr]
    assert classify(run / "plots/images/pred/3.json").schema == "image-sidecar"  # type: ignore[union-attr]
    assert classify(run / "plots/images/pred/3.masks/x.json") is None
    assert classify(run / "params.json") is None


def _mutate(rng: random.Random, text: str) -> str:
    """One random corruption of ``text``: cut, flip, insert, duplicate or replace a value."""
    choice = rng.randrange(8)
    at = rng.randrange(len(text) + 1)
    if choice == 0:
        return text[:at]
    if choice == 1:
        return text[:at] + chr(rng.randrange(0x20, 0x2FF)) + text[at + 1 :]
    if choice == 2:
        junk = rng.choice(
            ['"', "{", "}", "[", "]", ",", ":", "\\", "\x00", "\ud800", "NaN", "-", "1e999"]
        )
        return text[:at] + junk + text[at:]
    if choice == 3:
        end = rng.randrange(at, len(text) + 1)
        return text[:at] + text[at:end] * rng.randrange(2, 4) + text[end:]
    if choice == 4:
        return "[" * rng.randrange(1, 3000) + text
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        return text[: len(text) // 2]
    replacement = rng.choice(
        [
            None,
            -1,
            2**70,
            1.5,
            "",
            "../../../etc/passwd",
            "/abs",
            [],
            {},
            True,
            "x" * 1000,
            {"$ref": "#"},
        ]
    )
    target = document
    for _ in range(rng.randrange(1, 4)):
        if isinstance(target, dict) and target:
            key = rng.choice(list(target))
            if rng.random() < 0.5 or not isinstance(target[key], (dict, list)):
                target[key] = replacement
                break
            target = target[key]
        elif isinstance(target, list) and target:
            index = rng.randrange(len(target))
            if not isinstance(target[index], (dict, list)):
                target[index] = replacement
                break
            target = target[index]
    return json.dumps(document, indent=rng.choice([None, 2]))


def test_fuzz_no_exception_escapes(tmp_path: Path) -> None:
    rng = random.Random(20240611)
    run = tmp_path / "run"
    (run / "plots/images/pred").mkdir(parents=True)
    sidecar_path = run / "plots/images/pred/3.json"
    index_path = run / "media.jsonl"
    roots = [tmp_path.resolve()]
    good_line, good_sidecar = json.dumps(LINE), json.dumps(SIDECAR, indent=2)
    mutated_lines = []
    for _ in range(6000):
        text = _mutate(rng, good_line)
        for _ in range(rng.randrange(0, 3)):
            text = _mutate(rng, text) if text else text
        mutated_lines.append(text.replace("\n", " "))
        for problem in index_problems(text + "\n", run, roots):
            assert 0 <= problem.start <= problem.end <= len(text) + 1
        sidecar = _mutate(rng, good_sidecar)
        problems = sidecar_problems(sidecar, sidecar_path, "image-sidecar", roots)
        assert all(0 <= p.start <= p.end <= len(sidecar) for p in problems)
        LineIndex(sidecar).position(rng.randrange(len(sidecar) + 1))
    # the same lines through the run index, in random chunks, as a live run appends them
    blob = "\n".join(mutated_lines).encode("utf-8", errors="surrogatepass") + b"\n"
    index = RunIndex(index_path)
    with index_path.open("wb") as handle:
        at = 0
        while at < len(blob):
            size = rng.randrange(1, 200_000)
            handle.write(blob[at : at + size])
            handle.flush()
            at += size
            index.refresh()
    assert index.line_count == len(mutated_lines)
    registry = RunRegistry([tmp_path])
    registry.scan()
    (run_entry,) = registry.runs.values()
    for key, step, position in list(run_entry.index.latest)[:2000]:  # answers, or clear errors
        params = {"run": run_entry.id, "key": key, "step": step, "item": position}
        with contextlib.suppress(QueryError):
            queries.item(registry, params)
    assert document_problems(index_path, blob.decode("utf-8", errors="replace"), roots) is not None
    assert index_path.stat().st_size == index.offset
