"""Checks that a citation's quote really is the text of its source within the cited lines."""

from __future__ import annotations

import re

from rag.models import Citation
from rag.text.lines import LineIndex

_SPACE = re.compile(r"\s+")


def cited_text(raw: str, fmt: str, line_start: int, line_end: int) -> str:
    """What a reader sees on lines line_start..line_end of the original (HTML: its text, not tags)."""
    index = LineIndex(raw)
    if not 1 <= line_start <= line_end <= index.count:
        return ""
    start, _ = index.line_span(line_start)
    _, end = index.line_span(line_end)
    if fmt != "html":
        return raw[start:end]
    from rag.text.html import HtmlView

    view = HtmlView(raw)
    return "".join(ch for ch, s in zip(view.text, view.starts) if start <= s < end)


def quote_is_verbatim(citation: Citation, raw: str, fmt: str = "txt") -> bool:
    """True when the quote occurs within the cited lines (HTML: modulo markup whitespace)."""
    text = cited_text(raw, fmt, citation.line_start, citation.line_end)
    if not citation.quote or not text:
        return False
    if fmt == "html":
        return _SPACE.sub(" ", citation.quote).strip() in _SPACE.sub(" ", text)
    return citation.quote in text
