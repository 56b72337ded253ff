"""Character offsets to LSP positions, in the position encoding agreed with the client."""

from __future__ import annotations

from bisect import bisect_right


class LineIndex:
    """Maps offsets into a text to (line, character) in UTF-8, UTF-16 or UTF-32 code units."""

    def __init__(self, text: str, encoding: str = "utf-16") -> None:
        self.text = text
        self.encoding = encoding
        self.starts = [0]
        at = text.find("\n")
        while at >= 0:
            self.starts.append(at + 1)
            at = text.find("\n", at + 1)

    def _units(self, chunk: str) -> int:
        if self.encoding == "utf-32" or chunk.isascii():
            return len(chunk)
        if self.encoding == "utf-8":
            return len(chunk.encode("utf-8", errors="surrogatepass"))
        return len(chunk.encode("utf-16-le", errors="surrogatepass")) // 2

    def position(self, offset: int) -> tuple[int, int]:
        """The (line, character) of ``offset`` (clamped to the text)."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect_right(self.starts, offset) - 1
        return line, self._units(self.text[self.starts[line] : offset])
