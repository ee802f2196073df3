"""The LLM engine's rewrite of a follow-up (prompt rag/prompts/rewrite.md), checked before use."""

from __future__ import annotations

import re

from rag.prompts import load_prompt

REWRITE_PROMPT = "rewrite"
_MAX_CHARS = 400
_MARKERS = re.compile(r"\s*\[\d+\]")


def rewrite_with_model(llm, question: str, turns) -> str | None:
    """The model's standalone question, or None when its reply is not one question (or the call fails)."""
    from rag.errors import LLMError

    prompt = load_prompt(REWRITE_PROMPT)
    history = "\n".join(_turn_lines(turns))
    try:
        result = llm.chat(prompt.messages(history=history, question=question), temperature=0.0, max_tokens=120,
                          prompt=prompt, purpose="rewrite")
    except LLMError:
        return None
    return usable(result.text, question)


def usable(reply: str, question: str) -> str | None:
    """One line, a question, not empty and not absurdly long; the follow-up itself is no rewrite."""
    lines = [line.strip().strip('"“”') for line in (reply or "").strip().splitlines() if line.strip()]
    if len(lines) != 1 or len(lines[0]) > _MAX_CHARS or not any(ch.isalpha() for ch in lines[0]):
        return None
    text = lines[0].removeprefix("Question:").strip()
    return None if text.lower() == question.strip().lower() else text


def _turn_lines(turns) -> list[str]:
    out = []
    for turn in turns:
        out.append(f"Q: {turn.rewritten or turn.question}")
        if turn.answer:
            out.append(f"A: {_MARKERS.sub('', turn.answer)[:1500]}")
    return out
