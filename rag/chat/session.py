"""A conversation: the turns so far, and each new question asked with them (rag chat, eval follow-ups)."""

from __future__ import annotations

from rag.chat import MAX_TURNS
from rag.models import Answer, Turn
from rag.retrieval import Filters


class Conversation:
    """Asks each question with the earlier turns, so a follow-up is rewritten before retrieval."""

    def __init__(self, rag, k: int | None = None, filters: Filters = Filters(), engine: str | None = None,
                 keep: int | None = None):
        self.rag, self.k, self.filters, self.engine = rag, k, filters, engine
        self.keep = keep or MAX_TURNS
        self.turns: list[Turn] = []

    def ask(self, question: str) -> Answer:
        answer = self.rag.ask(question, self.k, self.filters, self.engine, history=self.turns[-self.keep:])
        self.turns.append(turn_of(answer))
        return answer

    def reset(self) -> None:
        self.turns = []


def turn_of(answer: Answer) -> Turn:
    """The turn a later follow-up reads: the question, its rewrite, and the answer's text (none for a refusal)."""
    return Turn(question=answer.question[:2000], rewritten=answer.rewritten,
                answer=None if answer.refused else answer.answer[:20_000])
