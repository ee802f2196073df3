"""Numbering citations and assembling answer text: shared by every engine."""

from __future__ import annotations

from collections.abc import Iterable

from rag.models import AnswerSentence, Chunk, Citation, Sentence


def markers(numbers: Iterable[int]) -> str:
    """'[1][3]': the citation markers of these numbers, as every answer and briefing shows them."""
    return "".join(f"[{n}]" for n in numbers)


def where(citation: Citation) -> str:
    """'file.txt:12' or 'file.txt:12-14': the lines a citation points at."""
    end = f"-{citation.line_end}" if citation.line_end != citation.line_start else ""
    return f"{citation.source}:{citation.line_start}{end}"


class CitationBook:
    """Gives each cited sentence span one number, in order of first use."""

    def __init__(self):
        self.citations: list[Citation] = []
        self._numbers: dict[tuple[str, int, int], int] = {}

    def cite(self, chunk: Chunk, sentence: Sentence) -> int:
        key = (chunk.source, sentence.char_start, sentence.char_end)
        if key not in self._numbers:
            n = len(self.citations) + 1
            self._numbers[key] = n
            self.citations.append(Citation(
                n=n, source=chunk.source, line_start=sentence.line_start, line_end=sentence.line_end,
                quote=sentence.text, char_start=sentence.char_start, char_end=sentence.char_end,
                title=chunk.title, date=chunk.date, outlet=chunk.outlet,
            ))
        return self._numbers[key]


def render_answer_text(sentences: list[AnswerSentence]) -> str:
    """'Sentence. [1][2] Next sentence. [3]': markers follow the sentence they support."""
    parts = []
    for s in sentences:
        parts.append(f"{s.text} {markers(s.citations)}".strip())
    return " ".join(parts)
