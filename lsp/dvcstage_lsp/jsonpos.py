"""A small position-tracking JSON scanner: where each value (and each object key) sits.

``json.loads`` says what a document holds; this says where. :func:`scan` walks strict JSON
text and records the character span of every value by its path (the keys and indices that
lead to it, as ``jsonschema`` reports them), so a schema error can be shown on exactly the
offending value. It never raises on bad input: scanning stops where the text stops being
JSON, keeping what it found so far.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

Path = tuple[str | int, ...]
Span = tuple[int, int]

MAX_DEPTH = 256
_STRING = re.compile(r'"(?:[^"\\\x00-\x1f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"')
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_LITERALS = ("true", "false", "null")


class _StopScanError(Exception):
    """Raised inside the scanner where the text stops being JSON."""


@dataclass
class Spans:
    """Spans found by :func:`scan`: each value's and each object member key's."""

    values: dict[Path, Span] = field(default_factory=dict)
    keys: dict[Path, Span] = field(default_factory=dict)
    complete: bool = True
    stop: int = 0

    def value(self, path: Path) -> Span | None:
        """The span of the value at ``path``, else of its nearest ancestor found."""
        for end in range(len(path), -1, -1):
            span = self.values.get(path[:end])
            if span is not None:
                return span
        return None

    def key(self, path: Path) -> Span | None:
        """The span of the key naming the member at ``path`` (``None`` for array items)."""
        return self.keys.get(path)


class _Scanner:
    def __init__(self, text: str, offset: int) -> None:
        self.text = text
        self.spans = Spans()
        self.pos = offset

    def skip_ws(self) -> None:
        match = _WHITESPACE.match(self.text, self.pos)
        self.pos = match.end() if match else self.pos

    def value(self, path: Path, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise _StopScanError
        self.skip_ws()
        start = self.pos
        char = self.text[start : start + 1]
        if char == "{":
            self.members(path, depth)
        elif char == "[":
            self.items(path, depth)
        elif char == '"':
            self.string()
        elif char in "-0123456789" and char:
            match = _NUMBER.match(self.text, start)
            if not match:
                raise _StopScanError
            self.pos = match.end()
        else:
            for literal in _LITERALS:
                if self.text.startswith(literal, start):
                    self.pos = start + len(literal)
                    break
            else:
                raise _StopScanError
        self.spans.values[path] = (start, self.pos)

    def string(self) -> str:
        match = _STRING.match(self.text, self.pos)
        if not match:
            raise _StopScanError
        self.pos = match.end()
        decoded: str = json.loads(match.group())
        return decoded

    def expect(self, char: str) -> None:
        self.skip_ws()
        if self.text[self.pos : self.pos + 1] != char:
            raise _StopScanError
        self.pos += 1

    def members(self, path: Path, depth: int) -> None:
        self.pos += 1
        self.skip_ws()
        if self.text[self.pos : self.pos + 1] == "}":
            self.pos += 1
            return
        while True:
            self.skip_ws()
            key_start = self.pos
            key = self.string()
            member = (*path, key)
            self.spans.keys[member] = (key_start, self.pos)
            self.expect(":")
            self.value(member, depth + 1)
            self.skip_ws()
            char = self.text[self.pos : self.pos + 1]
            self.pos += 1
            if char == "}":
                return
            if char != ",":
                raise _StopScanError

    def items(self, path: Path, depth: int) -> None:
        self.pos += 1
        self.skip_ws()
        if self.text[self.pos : self.pos + 1] == "]":
            self.pos += 1
            return
        index = 0
        while True:
            self.value((*path, index), depth + 1)
            index += 1
            self.skip_ws()
            char = self.text[self.pos : self.pos + 1]
            self.pos += 1
            if char == "]":
                return
            if char != ",":
                raise _StopScanError


def scan(text: str, offset: int = 0) -> Spans:
    """Spans of the JSON value starting at ``offset`` in ``text`` (absolute offsets)."""
    scanner = _Scanner(text, offset)
    try:
        scanner.value((), 0)
    except (_StopScanError, ValueError, RecursionError):
        scanner.spans.complete = False
    scanner.spans.stop = min(scanner.pos, len(text))
    return scanner.spans
