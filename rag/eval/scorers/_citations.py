"""Citation validity: every citation's quote occurs verbatim within its cited lines, and every
[n] marker in the answer points at a citation."""

from __future__ import annotations

import re
from collections.abc import Callable

from rag.answer.verify import quote_is_verbatim
from rag.models import Citation, Score
from rag.text.snippet import short

# source → (raw text of the original file, its format), or None for an unknown source
SourceLookup = Callable[[str], "tuple[str, str] | None"]

_MARKER = re.compile(r"\[(\d+)\]")


def citation_validity(answer_text: str, citations: list[Citation], lookup: SourceLookup,
                      refused: bool = False) -> Score:
    if not citations:
        if refused:
            return Score(value=None, explanation="refused: nothing cited")
        return Score(value=0.0, explanation="the answer cites nothing")
    numbers = {c.n for c in citations}
    dangling = sorted({int(n) for n in _MARKER.findall(answer_text)} - numbers)
    problems = [f"[{n}] marks no citation" for n in dangling]
    valid = 0
    for c in citations:
        problem = citation_problem(c, lookup)
        if problem:
            problems.append(f"[{c.n}] {c.source}:{c.line_start}-{c.line_end}: {problem}")
        else:
            valid += 1
    total = len(citations) + len(dangling)
    explanation = f"{valid}/{total} citations verbatim at their lines"
    if problems:
        explanation += "; " + "; ".join(problems)
    return Score(value=valid / total, explanation=explanation)


def citation_problem(citation: Citation, lookup: SourceLookup) -> str | None:
    """Why a citation is not valid, or None when its quote is verbatim within its lines."""
    found = lookup(citation.source)
    if found is None:
        return "source not in the index"
    raw, fmt = found
    count = raw.count("\n") + 1
    if not 1 <= citation.line_start <= citation.line_end <= count:
        return f"lines out of range (the file has {count})"
    if not citation.quote.strip():
        return "empty quote"
    if not quote_is_verbatim(citation, raw, fmt):
        return f"quote not found at those lines: {short(citation.quote)!r}"
    return None

