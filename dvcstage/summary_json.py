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
        return _container(value, "[", "]", level, out)
    elif isinstance(value, dict):
        return _container(value, "{", "}", level, out)
    else:
        return False
    return True


def _container(
    value: list[Any] | tuple[Any, ...] | dict[Any, Any],
    opening: str,
    closing: str,
    level: int,
    out: list[str],
) -> bool:
    """A list's or a dict's text, one item a line as the standard encoder indents them."""
    if not value:
        out.append(opening + closing)
        return True
    if level >= _MAX_DEPTH:
        return False
    inner = "\n" + INDENT * (level + 1)
    separator = opening
    if isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            return False  # keys the standard encoder converts
        items = ((encode_basestring_ascii(key) + ": ", item) for key, item in value.items())
    else:
        items = (("", item) for item in value)
    for label, item in items:
        out.append(separator + inner + label)
        if not _encode(item, level + 1, out):
            return False
        separator = ","
    out.append("\n" + INDENT * level + closing)
    return True


def summary_text(summary: Any) -> str | None:
    """``json.dumps(summary, indent=4)``, or ``None`` when ``summary`` holds a value this
    module leaves to the standard encoder (with its ``default`` hook)."""
    out: list[str] = []
    return "".join(out) if _encode(summary, 0, out) else None
