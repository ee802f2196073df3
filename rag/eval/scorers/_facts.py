"""Fact recall: the share of expected facts the text states, in any accepted phrasing."""

from __future__ import annotations

from rag.eval.normalize import phrase_finder, strip_markers
from rag.models import Score


def fact_recall(facts: list[list[str]], text: str) -> Score:
    """Each fact counts once when any of its phrasings occurs as whole words (see normalize)."""
    if not facts:
        return Score(value=None, explanation="no facts expected")
    contains = phrase_finder(strip_markers(text))
    found, missing = [], []
    for phrasings in facts:
        hit = next((p for p in phrasings if contains(p)), None)
        (found if hit is not None else missing).append(hit if hit is not None else " | ".join(phrasings))
    explanation = f"{len(found)}/{len(facts)} facts"
    if missing:
        explanation += "; missing: " + "; ".join(f"[{m}]" for m in missing)
    return Score(value=len(found) / len(facts), explanation=explanation)
