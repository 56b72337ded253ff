"""Where a problem in a JSON file is: the line and column of the offending value.

``dvcstage validate`` prints ``FILE:LINE:COLUMN: message`` like compilers and linters do, so
an editor or a terminal jumps to the value itself. The positions come from the language
server's scanner and its schema-error placement (:mod:`dvcstage_lsp.jsonpos`,
:func:`dvcstage_lsp.diagnostics.schema_problems`): both are pure Python without the server's
dependencies, and the command line and the editor then agree on every position.

Lines and columns are 1-based; a column counts characters (code points).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Located:
    """A message at a 1-based line and column."""

    line: int
    column: int
    message: str


class LineStarts:
    """Converts character offsets of one text into 1-based (line, column)."""

    def __init__(self, text: str) -> None:
        self.starts = [0]
        at = text.find("\n")
        while at >= 0:
            self.starts.append(at + 1)
            at = text.find("\n", at + 1)

    def position(self, offset: int) -> tuple[int, int]:
        """(line, column) of ``offset``, both from 1."""
        line = bisect.bisect_right(self.starts, max(offset, 0)) - 1
        return line + 1, offset - self.starts[line] + 1


def schema_problems_at(text: str, document: Any, schema: str) -> list[Located]:
    """The problems of ``document`` (parsed from ``text``) against ``schema``, each at the
    value (or member name) it is about."""
    from dvcstage_lsp.diagnostics import schema_problems

    lines = LineStarts(text)
    return [
        Located(*lines.position(problem.start), problem.message)
        for problem in schema_problems(text, document, schema)
    ]


def value_position(text: str, path: tuple[str | int, ...]) -> tuple[int, int]:
    """(line, column) of the value at ``path`` (of its nearest ancestor found; 1, 1 if none)."""
    from dvcstage_lsp.jsonpos import scan

    span = scan(text).value(path)
    return LineStarts(text).position(span[0] if span else 0)
