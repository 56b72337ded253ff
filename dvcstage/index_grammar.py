"""The media index's lines as the writer writes them, as regular expressions (run in C).

dvcstage's writer emits compact JSON with its members in a fixed order::

    {"v":1,"step":3,"key":"pred","kind":"image","files":[{"path":…,"role":…,"bytes":…}],
     "width":32,"height":32,"sidecar":…,"item":0,"facts":{…},"time":1718000000.123}

:data:`VALID_ROWS` matches a line only if it is in that layout *and* valid against
``schemas/media-index-line.schema.json``: checking 300,000 lines takes a fraction of a second
instead of minutes with a schema validator. A line it does not match may still be valid (other
whitespace, escapes in a path, members in another order): the caller checks it with the
schema then. The building blocks here are also the language server's (``fastline``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import NamedTuple

# A JSON string: no raw control characters, only valid escapes (written "unrolled", so a
# line that does not match fails in linear time). Bytes >= 0x80 are allowed: the caller
# decodes the text as UTF-8 first.
CHARS = rb'[^"\\\x00-\x1f]*'
STRING = rb'"' + CHARS + rb'(?:\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})' + CHARS + rb')*"'
# A non-empty string (the schema's minLength 1), escapes allowed.
NONEMPTY = rb'"(?:[^"\\\x00-\x1f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))+"'
# A non-negative integer as JSON writes it (bounded: Python refuses huge integer literals).
COUNT = rb"(?:0|[1-9][0-9]{0,17})"
POSITIVE = rb"[1-9][0-9]{0,17}"
NUMBER = rb"-?(?:0|[1-9][0-9]{0,99})(?:\.[0-9]{1,100})?(?:[eE][+-]?[0-9]{1,4})?"
SCALAR = rb"(?:" + STRING + rb"|" + NUMBER + rb"|true|false|null)"
MEMBER = STRING + rb":" + SCALAR
FLAT_OBJECT = rb"\{(?:" + MEMBER + rb"(?:," + MEMBER + rb")*)?\}"
# The schema's relativePath, without escapes: segments that are not "." or "..", no "/" at
# the start, no backslash or NUL.
_SEGMENT = rb'(?!\.\.?(?:/|"))[^"\\\x00-\x1f/]+'
RELATIVE_PATH = rb'"(' + _SEGMENT + rb"(?:/" + _SEGMENT + rb')*)"'
KINDS = (b"image", b"histogram", b"audio", b"video", b"table", b"html", b"object3d", b"molecule")
_KIND = rb'"(' + rb"|".join(KINDS) + rb')"'
_VALID_FILE = (
    rb'\{"path":' + RELATIVE_PATH + rb',"role":"([a-z][a-z0-9-]*)","bytes":' + COUNT
    + rb'(?:,"name":' + STRING + rb")?"
    + rb'(?:,"schema":"([a-z0-9-]+)")?\}'
)  # fmt: skip
_AFTER_FILES = (
    rb'(?:,"(?:width|height)":' + POSITIVE
    + rb'|,"sidecar":(?:' + RELATIVE_PATH + rb"|null)"
    + rb'|,"facts":' + FLAT_OBJECT
    + rb'|,"time":' + NUMBER
    + rb'|,"item":(' + COUNT + rb"))*"
)  # fmt: skip
_VALID_LINE = (
    rb'\{"v":1,"step":(' + COUNT + rb'),"key":(' + NONEMPTY + rb'),"kind":' + _KIND
    + rb',"files":\[((?:' + _VALID_FILE + rb")(?:," + _VALID_FILE + rb")*)\]"
    + _AFTER_FILES + rb"\}"
)  # fmt: skip
#: Every schema-valid line in the writer's layout, anchored to whole lines of a block.
VALID_ROWS = re.compile(rb"^" + _VALID_LINE + rb"$", re.MULTILINE)
_FILE_FIELDS = re.compile(_VALID_FILE)


class RawLine(NamedTuple):
    """The fields of a valid line, as the bytes of the line (decode only what is needed):
    ``key`` with its quotes (a JSON string), ``files`` the members of the files array."""

    step: bytes
    key: bytes
    kind: bytes
    files: bytes
    item: bytes | None


def valid_rows(text: bytes) -> Iterator[tuple[int, bytes, RawLine | None]]:
    """Each line of ``text`` (complete lines, ending with a newline, valid UTF-8) as
    ``(number, row, fields)``; ``fields`` is ``None`` for a line this grammar does not
    accept (blank, broken, another layout, or invalid): check it with the schema."""
    number = 1
    at = 0
    last_group = VALID_ROWS.groups  # "item": the last group, holding the last one given
    for match in VALID_ROWS.finditer(text):
        start = match.start()
        if start != at:  # rows the scan skipped
            for row in text[at : start - 1].split(b"\n"):
                yield number, row, None
                number += 1
        yield number, match.group(), RawLine(*match.group(1, 2, 3, 4, last_group))
        number += 1
        at = match.end() + 1
    if at < len(text):
        for row in text[at : len(text) - 1].split(b"\n"):
            yield number, row, None
            number += 1


def file_fields(files: bytes) -> list[tuple[bytes, bytes, bytes]]:
    """``(path, role, schema)`` of each file in a :class:`RawLine`'s ``files`` (``schema`` is
    empty for a file without one)."""
    return _FILE_FIELDS.findall(files)


def key_text(key: bytes) -> str:
    """A :class:`RawLine`'s key as text."""
    return key[1:-1].decode("utf-8") if b"\\" not in key else str(json.loads(key))
