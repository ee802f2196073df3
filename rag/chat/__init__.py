"""Conversations: follow-up questions rewritten into standalone ones (rag chat, POST /ask history)."""

from __future__ import annotations

from rag.chat.rewrite import Gate, gate, rewrite_from

__all__ = ["Gate", "gate", "rewrite_from", "standalone_question"]

MAX_TURNS = 6  # earlier turns a rewrite reads: the previous one decides; more give the model context


def standalone_question(question: str, history, llm=None) -> str | None:
    """The question a follow-up is answered as, or None when it needs no rewrite. With `llm`
    (the LLM engine) the model rewrites; without, or when its reply is not one question, the
    deterministic rewrite does."""
    if not history or not gate(question).needed:
        return None
    turns = list(history)[-MAX_TURNS:]
    if llm is not None:
        from rag.chat.llm_rewrite import rewrite_with_model

        rewritten = rewrite_with_model(llm, question, turns)
        if rewritten:
            return rewritten
    return rewrite_from(question, turns)
