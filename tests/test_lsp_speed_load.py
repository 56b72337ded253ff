"""The run index's whole-block path and the server's start-up shortcuts change nothing.

``RunIndex`` takes a block whose lines are all in the writer's layout column by column
(``fastline.whole_block``), any other block line by line: the index must end in exactly the
same state either way, on blocks mixing good, broken, blank, re-ordered, listed and non-ASCII
lines. The hand check of the custom requests' params must accept only what their schemas
accept, and the server must answer ``dvcstage/runs`` and ``dvcstage/media`` without importing
jsonschema or the editor features. No timing here.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from dvcstage_lsp import protocol as p
from dvcstage_lsp import queries
from dvcstage_lsp.fastline import split_lines, whole_block
from dvcstage_lsp.runs import IndexLine, RunIndex
from hypothesis import given, settings
from hypothesis import strategies as st

from dvcstage import schemas
from tests.test_lsp_speed_parse import WRITER_LINES, _mutate, compact


def _good_row(rng: random.Random) -> bytes:
    value = dict(rng.choice(WRITER_LINES), step=rng.randrange(60))
    if rng.random() < 0.3:
        value["item"] = rng.randrange(4)
    if rng.random() < 0.1:
        value["key"] = rng.choice(["é-clé", "日本", "pred"])
    return compact(value)


def _row(rng: random.Random) -> bytes:
    choice = rng.random()
    if choice < 0.75:
        return _good_row(rng)
    if choice < 0.85:
        return _mutate(rng, _good_row(rng)).replace(b"\n", b"")
    if choice < 0.9:
        return json.dumps(json.loads(_good_row(rng))).encode()  # valid, not the layout
    return rng.choice([b"", b" ", b"\xff", b"{}", _good_row(rng)[:-1] + b"\xc3}"])


def _state(index: RunIndex, appended: list[IndexLine]) -> Any:
    keys = {
        key: (info.kind, info.sorted_steps(), sorted(info.items), sorted(info.steps))
        for key, info in index.keys.items()
    }
    return (
        list(index.latest.items()),
        list(index.keys),
        keys,
        index.last_step,
        index.line_count,
        index.problems,
        appended,
    )


def _take_all(blocks: list[bytes], exact: bool) -> Any:
    index = RunIndex(Path("media.jsonl"))
    appended: list[IndexLine] = []
    for block in blocks:
        if exact:
            index._take_lines(block, appended)
        else:
            index._take_block(block, appended)
        for info in index.keys.values():
            info.sorted_steps()  # cached: the next block must drop the cache if it adds steps
    return _state(index, appended)


@pytest.mark.parametrize("seed", range(40))
def test_whole_blocks_and_line_by_line_leave_the_same_index(seed: int) -> None:
    rng = random.Random(seed)
    blocks = []
    for _ in range(rng.randrange(1, 8)):
        broken = rng.random() < 0.4  # else every line in the writer's layout
        rows = [_row(rng) if broken else _good_row(rng) for _ in range(rng.randrange(0, 60))]
        blocks.append(b"".join(row + b"\n" for row in rows))
    fast = _take_all(blocks, exact=False)
    assert fast == _take_all(blocks, exact=True)
    assert all(type(line) is IndexLine for line in fast[-1])


def test_whole_block_is_split_lines_when_every_line_is_in_the_layout() -> None:
    rng = random.Random(3)
    rows = [_good_row(rng) for _ in range(500)]
    block = b"".join(row + b"\n" for row in rows)
    columns = whole_block(block)
    assert columns is not None
    expected = list(split_lines(block))
    assert columns.rows == [row for row, _ in expected] == rows
    found = zip(columns.keys, columns.steps, columns.items, columns.kinds, strict=True)
    assert [(k, s, int(i) if i else None, kind) for k, s, i, kind in found] == [
        fields for _, fields in expected
    ]
    assert whole_block(b"") == ([], [], [], [], [])


@pytest.mark.parametrize(
    "odd", [b"", b" ", b"not json", b"\xff", b'{"v":1}', b"\r", b"\xc3"], ids=repr
)
def test_one_line_out_of_the_layout_sends_the_block_line_by_line(odd: bytes) -> None:
    good = compact(WRITER_LINES[0])
    assert whole_block(good + b"\n" + odd + b"\n" + good + b"\n") is None
    with pytest.raises(ValueError):
        whole_block(good)


# Params: JSON values of the shapes the schemas talk about, and near misses.
_JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-3, max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["", "x", "workspace:dvclive", "histogram", "metric", "é"]),
)
_VALUES = st.one_of(_JSON_SCALARS, st.lists(_JSON_SCALARS, max_size=2))
_PARAMS = st.one_of(
    st.none(),
    _VALUES,
    st.dictionaries(
        st.sampled_from(["run", "key", "step", "item", "kind", "other"]), _VALUES, max_size=5
    ),
)


@settings(max_examples=1500, deadline=None)
@given(method=st.sampled_from([p.RUNS, p.MEDIA, p.ITEM, p.SERIES]), params=_PARAMS)
def test_the_params_hand_check_accepts_only_what_the_schema_accepts(
    method: str, params: Any
) -> None:
    as_dict = {} if params is None else params
    if isinstance(as_dict, dict) and queries.surely_valid(method, as_dict):
        assert schemas.schema_errors(p.SCHEMAS[method][0], as_dict) == []
    try:
        answer: Any = queries.check_params(method, params)
    except p.QueryError as exc:
        answer = exc.code
    schema_ok = isinstance(as_dict, dict) and not schemas.schema_errors(
        p.SCHEMAS[method][0], as_dict
    )
    assert answer == (as_dict if schema_ok else p.INVALID_PARAMS)


@pytest.mark.parametrize(
    ("method", "params"),
    [
        (p.RUNS, {}),
        (p.MEDIA, {"run": "workspace:."}),
        (p.ITEM, {"run": "r", "key": "k", "step": 0}),
        (p.ITEM, {"run": "r", "key": "k", "step": 3, "item": 2}),
        (p.SERIES, {"run": "r", "key": "k", "kind": "metric"}),
        (p.SERIES, {"run": "r", "key": "k", "kind": "histogram", "item": 0}),
    ],
)
def test_the_usual_params_need_no_schema(method: str, params: dict[str, Any]) -> None:
    assert queries.surely_valid(method, params)


def test_the_server_starts_without_jsonschema_or_the_editor_features() -> None:
    code = (
        "import sys, dvcstage_lsp.server\n"
        "from dvcstage_lsp import queries\n"
        "queries.check_params('dvcstage/media', {'run': 'workspace:.'})\n"
        "print(sorted(m for m in ('jsonschema', 'dvcstage_lsp.editor',"
        " 'dvcstage_lsp.diagnostics') if m in sys.modules))"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}  # these sources
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    ).stdout
    assert out.strip() == "[]"


def test_custom_results_are_sent_as_they_are() -> None:
    from dvcstage_lsp.server import PlainJson, plain_converter
    from pygls.protocol import JsonRPCResponseMessage

    result = PlainJson({"runs": [{"id": "workspace:.", "1": [1, 2]}]})
    message = JsonRPCResponseMessage(id=1, jsonrpc="2.0", result=result)
    sent = plain_converter().unstructure(message)
    assert sent["result"] is result
    assert json.loads(json.dumps(sent)) == {"id": 1, "jsonrpc": "2.0", "result": result}
