"""``metrics.json`` text, byte for byte what DVCLive's ``json.dump(..., indent=4)`` writes.

With ``indent`` set, the standard library encodes in pure Python (its C encoder only does
compact output), and ``metrics.json`` is rewritten on every ``next_step()``. For the values a
summary holds (dicts with string keys, lists, strings, numbers, booleans, ``None``) this module
builds the same text with less work; anything else (NumPy scalars, media objects, other key
types) returns ``None`` and the caller falls back to the encoder.
"""

from __future__ import annotations

from json.encoder import encode_basestring_ascii
from typing import Any

INDENT = "    "
_MAX_DEPTH = 32  # deeper (or circular) structures go to the standard encoder


def _number(value: float) -> str:
    if value != value:
        return "NaN"
    if value == float("inf"):
        return "Infinity"
    if value == float("-inf"):
        return "-Infinity"
    return float.__repr__(value)


def _encode(value: Any, level: int, out: list[str]) -> bool:
    """Append ``value``'s text at nesting ``level`` to ``out`` (the checks in the standard
    encoder's order); False if it needs the encoder."""
    if isinstance(value, str):
        out.append(encode_basestring_ascii(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    elif isinstance(value, float):
        out.append(_number(value))
    elif isinstance(value, (list, tuple)):
        if not value:
            out.append("[]")
            return True
        if level >= _MAX_DEPTH:
            return False
        inner = "\n" + INDENT * (level + 1)
        separator = "["
        for item in value:
            out.append(separator + inner)
            if not _encode(item, level + 1, out):
                return False
            separator = ","
        out.append("\n" + INDENT * level + "]")
    elif isinstance(value, dict):
        if not value:
            out.append("{}")
            return True
        if level >= _MAX_DEPTH:
            return False
        inner = "\n" + INDENT * (level + 1)
        separator = "{"
        for key, item in value.items():
            if not isinstance(key, str):
                return False
            out.append(separator + inner + encode_basestring_ascii(key) + ": ")
            if not _encode(item, level + 1, out):
                return False
            separator = ","
        out.append("\n" + INDENT * level + "}")
    else:
        return False
    return True


def summary_text(summary: Any) -> str | None:
    """``json.dumps(summary, indent=4)``, or ``None`` when ``summary`` holds a value this
    module leaves to the standard encoder (with its ``default`` hook)."""
    out: list[str] = []
    return "".join(out) if _encode(summary, 0, out) else None
