"""Class colours shared by the annotated previews and the media panel.

A class is coloured by its id when it has one (W&B boxes and masks), else by its name
(DVCLive's annotations): the same class has the same colour in every run, step, box group and
mask. The colours are saturated and distinct, each with a contrast of at least 3:1 on white
and on near-black. The panel's ``vscode-ext/src/webview/colors.ts`` holds the same list and
the same rule (a test compares them).
"""

from __future__ import annotations

PALETTE = (
    "#e6194b", "#1f77d0", "#2e9e44", "#d4640a", "#9b4fdc", "#0f9b9b",
    "#d6338c", "#8a7a00", "#6b6fe0", "#a0522d", "#5f8a00",
)  # fmt: skip


def _fnv1a(text: str) -> int:
    """FNV-1a, 32 bit, over UTF-16 code units (as the panel's JavaScript computes it)."""
    value = 0x811C9DC5
    data = text.encode("utf-16-le")
    for i in range(0, len(data), 2):
        value ^= data[i] | (data[i + 1] << 8)
        value = (value * 0x01000193) & 0xFFFFFFFF
    return value


def class_colour(key: str | int) -> str:
    """``#rrggbb`` for a class id (an int) or a class name (a str)."""
    if isinstance(key, int):
        return PALETTE[key % len(PALETTE)]
    return PALETTE[_fnv1a(key) % len(PALETTE)]


def class_rgb(key: str | int) -> tuple[int, int, int]:
    """:func:`class_colour` as an ``(r, g, b)`` tuple."""
    value = int(class_colour(key)[1:], 16)
    return (value >> 16) & 255, (value >> 8) & 255, value & 255
