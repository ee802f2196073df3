"""Scoring a briefing: the facts it must cover, its citations' validity and the sources it cites.

The Briefing model is built elsewhere (`rag brief`); this reads it by shape, not by class: its
text is every string in it except citation quotes, and its citations are every nested object
with `source`, `line_start`, `line_end` and `quote`.
"""

from __future__ import annotations

from rag.eval.scorers._citations import SourceLookup, citation_problem
from rag.eval.scorers._facts import fact_recall
from rag.eval.scorers._sources import source_recall
from rag.models import BriefingCase, Citation, Score

_CITATION_KEYS = {"source", "line_start", "line_end", "quote"}


def briefing_parts(data) -> tuple[str, list[Citation]]:
    """(all prose of a briefing, all its citations) from its JSON-like dump."""
    texts: list[str] = []
    citations: list[Citation] = []

    def walk(value) -> None:
        if isinstance(value, dict):
            if _CITATION_KEYS <= set(value):
                citations.append(Citation(n=value.get("n") or len(citations) + 1, source=value["source"],
                                          line_start=value["line_start"], line_end=value["line_end"],
                                          quote=value["quote"] or ""))
                return
            for v in value.values():
                walk(v)
        elif isinstance(value, (list, tuple)):
            for v in value:
                walk(v)
        elif isinstance(value, str):
            texts.append(value)

    walk(data)
    return "\n".join(texts), citations


def score_briefing(case: BriefingCase, briefing, lookup: SourceLookup) -> dict[str, Score]:
    """Scores for one briefing. `briefing` is a pydantic model or its `model_dump()`."""
    data = briefing.model_dump(mode="json") if hasattr(briefing, "model_dump") else briefing
    text, citations = briefing_parts(data)
    problems = [f"{c.source}:{c.line_start}-{c.line_end}: {p}" for c in citations if (p := citation_problem(c, lookup))]
    if citations:
        validity = Score(value=1 - len(problems) / len(citations),
                         explanation=f"{len(citations) - len(problems)}/{len(citations)} citations verbatim at their lines"
                         + (f"; {'; '.join(problems[:5])}" if problems else ""))
    else:
        validity = Score(value=0.0, explanation="the briefing cites nothing")
    return {
        "fact_recall": fact_recall(case.facts, text),
        "citation_validity": validity,
        "source_recall_cited": source_recall(case.sources, [c.source for c in citations], "cited"),
    }
