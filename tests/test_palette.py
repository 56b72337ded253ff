"""The previews dvc plots draws and the media panel colour classes alike."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dvcstage.media.palette import PALETTE, class_colour

COLORS_TS = Path(__file__).resolve().parent.parent / "vscode-ext/src/webview/colors.ts"


def test_the_palette_is_the_panels() -> None:
    text = COLORS_TS.read_text(encoding="utf-8")
    block = re.search(r"export const PALETTE = \[(.*?)\] as const;", text, re.S)
    assert block is not None
    assert tuple(re.findall(r'"(#[0-9a-f]{6})"', block.group(1))) == PALETTE


@pytest.mark.parametrize(
    ("key", "expected"),
    # by id, modulo the palette; by name, FNV-1a over UTF-16 code units (as JavaScript does)
    [(0, "#e6194b"), (1, "#1f77d0"), (11, "#e6194b"), (302, PALETTE[302 % len(PALETTE)])],
)
def test_class_colours_by_id(key: int, expected: str) -> None:
    assert class_colour(key) == expected


def test_class_colours_by_name_follow_the_panels_hash() -> None:
    def fnv1a(text: str) -> int:  # the panel's hashString, transcribed
        h = 0x811C9DC5
        for unit in text.encode("utf-16-le")[::2]:
            h = ((h ^ unit) * 0x01000193) & 0xFFFFFFFF
        return h

    for name in ("cat", "dog", "person", "car"):
        assert class_colour(name) == PALETTE[fnv1a(name) % len(PALETTE)]
