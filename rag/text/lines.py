"""Map character offsets to 1-based line numbers. Lines are split on '\\n' only."""

from __future__ import annotations

import bisect


class LineIndex:
    def __init__(self, text: str):
        self.text = text
        self.starts = [0]
        pos = text.find("\n")
        while pos != -1:
            self.starts.append(pos + 1)
            pos = text.find("\n", pos + 1)

    @property
    def count(self) -> int:
        return len(self.starts)

    def line_of(self, offset: int) -> int:
        """1-based line holding the character at `offset`."""
        return bisect.bisect_right(self.starts, offset)

    def lines_of(self, start: int, end: int) -> tuple[int, int]:
        """First and last line (inclusive) touched by the half-open span [start, end)."""
        return self.line_of(start), self.line_of(max(start, end - 1))

    def line_span(self, number: int) -> tuple[int, int]:
        """Character span of line `number` (1-based), without its newline."""
        start = self.starts[number - 1]
        end = self.starts[number] - 1 if number < len(self.starts) else len(self.text)
        return start, end

    def lines(self, first: int, last: int) -> str:
        """Text of lines first..last inclusive, joined by newlines."""
        start, _ = self.line_span(first)
        _, end = self.line_span(last)
        return self.text[start:end]
