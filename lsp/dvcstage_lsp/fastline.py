"""A fast, exact pre-parse of the index lines dvcstage writes, without ``json.loads``.

dvcstage's writer emits compact JSON with its members in a fixed order::

    {"v":1,"step":3,"key":"pred","kind":"image","files":[{"path":…,"role":…,"bytes":…}],
     "width":32,"height":32,"sidecar":…,"item":0,"facts":{…},"time":1718000000.123}

:func:`quick_fields` matches a whole line against a strict grammar of that layout (one
compiled regular expression, run in C) and returns the four fields the run index needs. The
grammar only accepts lines that are valid JSON *and* pass
:func:`dvcstage_lsp.runs.check_line`, and the fields it returns are those ``json.loads``
would give: a match is never wrong, only incomplete. Anything unusual (whitespace, escapes in
the key or kind, other members or another order, nested facts, ``NaN``, non-UTF-8 bytes, a
duplicated ``item``…) gives ``None``, and the caller parses the line in full instead.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import NamedTuple

# The grammar's building blocks are the index's own (dvcstage.index_grammar, where the
# validator's grammar of schema-valid lines is built from them too).
from dvcstage.index_grammar import COUNT as _COUNT
from dvcstage.index_grammar import FLAT_OBJECT as _FLAT_OBJECT
from dvcstage.index_grammar import NUMBER as _NUMBER
from dvcstage.index_grammar import STRING as _STRING

# A key or kind: non-empty and without escapes, so its bytes are its text.
_PLAIN = rb'"([^"\\\x00-\x1f]+)"'
_FILE = (
    rb'\{"path":' + _STRING + rb',"role":' + _STRING
    + rb'(?:,"bytes":' + _NUMBER + rb")?"
    + rb'(?:,"name":' + _STRING + rb")?"
    + rb'(?:,"schema":' + _STRING + rb")?\}"
)  # fmt: skip
# The members that may follow "files", in any order, each a scalar or a flat object. One
# repetition, not two around "item": a line that does not match then fails in linear time.
# "item" may come twice: the group keeps the last, as json.loads keeps the last member.
_AFTER_FILES = (
    rb'(?:,"(?:width|height)":' + _NUMBER
    + rb'|,"sidecar":(?:' + _STRING + rb"|null)"
    + rb'|,"facts":' + _FLAT_OBJECT
    + rb'|,"time":' + _NUMBER
    + rb'|,"item":(' + _COUNT + rb"))*"
)  # fmt: skip
_LINE_PATTERN = (
    rb'\{"v":1,"step":(' + _COUNT + rb'),"key":' + _PLAIN + rb',"kind":' + _PLAIN
    + rb',"files":\[' + _FILE + rb"(?:," + _FILE + rb")*\]" + _AFTER_FILES + rb"\}"
)  # fmt: skip

# Every line of a block: what the index load runs (compiled at import, a few milliseconds).
_LINES = re.compile(rb"^" + _LINE_PATTERN + rb"$", re.MULTILINE)


@functools.cache
def _line() -> re.Pattern[bytes]:
    """One line (compiled when first needed: lines are mostly taken block by block)."""
    return re.compile(_LINE_PATTERN)


QuickFields = tuple[str, int, int | None, str]


class Columns(NamedTuple):
    """The lines of a block all in the writer's layout, field by field (same order)."""

    rows: list[bytes]
    keys: list[str]
    steps: list[int]
    items: list[bytes]  # b"" where a line has no "item" member, else its digits
    kinds: list[str]


@functools.lru_cache(maxsize=4096)
def _text(name: bytes) -> str:
    """A key or kind as text: decoded once, and one string shared by all its lines."""
    return name.decode("utf-8")


def _fields(match: re.Match[bytes], row: bytes) -> QuickFields | None:
    if not row.isascii():
        try:
            row.decode("utf-8")  # json.loads would refuse it: let it say why
        except UnicodeDecodeError:
            return None
    step, key, kind, item = match.groups()
    return _text(key), int(step), None if item is None else int(item), _text(kind)


def quick_fields(row: bytes) -> QuickFields | None:
    """``(key, step, item, kind)`` of one index line in the writer's layout, else ``None``.

    ``row`` is the line without its newline. ``item`` is ``None`` when the line has no
    ``item`` member. ``None`` as a whole means "not recognised" (not "invalid"): parse the
    line with ``json.loads`` then.
    """
    match = _line().fullmatch(row)
    return None if match is None else _fields(match, row)


def split_lines(block: bytes) -> Iterator[tuple[bytes, QuickFields | None]]:
    """Each line of ``block`` (complete lines, ending with a newline) with its quick fields.

    Yields ``(row, fields)`` in order for every line, blank and broken ones included;
    ``row`` has no newline, ``fields`` is :func:`quick_fields`'s answer. One regular
    expression scan covers the whole block, which is faster than a match per line.
    """
    if block and not block.endswith(b"\n"):
        raise ValueError("the block must end with a newline")
    at = 0
    for match in _LINES.finditer(block):
        start = match.start()
        if start != at:  # lines the scan skipped: not in the writer's layout
            for row in block[at : start - 1].split(b"\n"):
                yield row, None
        row = match.group()
        yield row, _fields(match, row)
        at = match.end() + 1
    if at < len(block):
        for row in block[at : len(block) - 1].split(b"\n"):
            yield row, None


def whole_block(block: bytes) -> Columns | None:
    """The fields of every line of ``block`` if *all* are in the writer's layout, else ``None``.

    ``block`` holds complete lines (ending with a newline). One ``findall`` over the block
    and no Python work per line: the quick path for a whole index. The answer is exactly
    what :func:`split_lines` gives line by line: a match never spans a newline and is
    anchored at both ends, so as many matches as lines means every line matched (and the
    n-th match is the n-th line). ``None`` (a line is blank, broken, in another layout, or
    not valid UTF-8) means "take the block line by line".
    """
    if block and not block.endswith(b"\n"):
        raise ValueError("the block must end with a newline")
    found = _LINES.findall(block)
    rows = block.split(b"\n")
    del rows[-1]  # after the last newline: nothing
    if len(found) != len(rows):
        return None
    if not block.isascii():
        try:
            block.decode("utf-8")  # a newline is never inside a UTF-8 sequence
        except UnicodeDecodeError:
            return None
    if not found:
        return Columns([], [], [], [], [])
    steps, keys, kinds, items = zip(*found, strict=True)
    return Columns(
        rows,
        list(map(_text, keys)),
        list(map(int, steps)),
        list(items),
        list(map(_text, kinds)),
    )
