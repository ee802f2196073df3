"""Source recall: the expected sources appear among those an answer cites or retrieved."""

from __future__ import annotations

from rag.models import Score


def source_recall(expected: list[list[str]], found: list[str], where: str) -> Score:
    """Share of expected sources present in `found`; an inner list is satisfied by any member."""
    if not expected:
        return Score(value=None, explanation="no sources expected")
    present = set(found)
    missing = [" | ".join(alternatives) for alternatives in expected if not present & set(alternatives)]
    hit = len(expected) - len(missing)
    explanation = f"{hit}/{len(expected)} expected sources {where}"
    if missing:
        explanation += "; missing: " + "; ".join(missing)
    return Score(value=hit / len(expected), explanation=explanation)
