"""The answer and briefing engines, by name: the one place `--engine` / `engine=` is looked up.

    engine = get_engine("llm")
    answer = engine.answer(store, llm, question, k, filters, prompt=None, on_token=None, mode=None)
    briefing = engine.brief(store, llm, topic, filters, options)

An engine with `uses_llm` is given the Rag's LLM client; the others get None. Each engine's code
is imported at its first use (not to hide a cycle: `rag status` and `rag ingest` load no engine).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rag.errors import RagError

if TYPE_CHECKING:
    from rag.brief.options import BriefOptions
    from rag.index.store import Store
    from rag.llm.chat import LLM
    from rag.models import Answer, Briefing
    from rag.retrieval import Filters


@dataclass(frozen=True)
class Engine:
    name: str
    uses_llm: bool
    # (store, llm, question, k, filters, *, prompt, on_token, mode) -> Answer
    answer: Callable[..., Answer]
    # (store, llm, topic, filters, options) -> Briefing
    brief: Callable[..., Briefing]


def _answer_extractive(store: Store, llm: LLM | None, question: str, k: int | None, filters: Filters,
                       **_llm_only) -> Answer:
    from rag.answer.extractive import answer_extractive

    return answer_extractive(store, question, k, filters)


def _answer_llm(store: Store, llm: LLM, question: str, k: int | None, filters: Filters, *, prompt: str | None = None,
                on_token: Callable[[str], None] | None = None, mode: str | None = None) -> Answer:
    from rag.answer.llm_engine import answer_llm

    return answer_llm(store, llm, question, k, filters, prompt=prompt, on_token=on_token, mode=mode)


def _brief_extractive(store: Store, llm: LLM | None, topic: str | None, filters: Filters,
                      options: BriefOptions) -> Briefing:
    from rag.brief.extractive import brief_extractive

    return brief_extractive(store, topic, filters, options)


def _brief_llm(store: Store, llm: LLM, topic: str | None, filters: Filters, options: BriefOptions) -> Briefing:
    from rag.brief.llm import brief_llm

    return brief_llm(store, llm, topic, filters, options)


ENGINES: dict[str, Engine] = {e.name: e for e in (
    Engine("extractive", uses_llm=False, answer=_answer_extractive, brief=_brief_extractive),
    Engine("llm", uses_llm=True, answer=_answer_llm, brief=_brief_llm),
)}
OFFLINE = "extractive"  # what `llm_fallback = "extractive"` falls back to


def get_engine(name: str) -> Engine:
    try:
        return ENGINES[name]
    except KeyError:
        raise RagError(f"unknown engine {name!r}; use {' or '.join(ENGINES)}") from None
