"""Refusal accuracy: refuse exactly when the corpus cannot answer."""

from __future__ import annotations

from rag.models import Score


def refusal(should_refuse: bool, refused: bool) -> Score:
    if should_refuse and refused:
        return Score(value=1.0, explanation="refused, as it should")
    if should_refuse:
        return Score(value=0.0, explanation="answered a question the corpus cannot answer")
    if refused:
        return Score(value=0.0, explanation="refused a question the corpus answers")
    return Score(value=1.0, explanation="answered, as it should")
