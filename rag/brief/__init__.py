"""Cited briefings (`rag brief`): a summary, key facts, a timeline, who said what, where the
sources disagree and the sources, every line cited to file and lines.

    from rag.brief import brief
    briefing = brief(store, "the embassy attack", Filters(), engine="extractive")
"""

from __future__ import annotations

from rag.brief.options import BriefOptions
from rag.retrieval import Filters


def brief(store, topic: str | None = None, filters: Filters = Filters(), engine: str = "extractive",  # noqa: B008
          llm=None, options: BriefOptions = BriefOptions(), prompt_map: str | None = None,  # noqa: B008
          prompt_reduce: str | None = None):
    from rag.errors import InputError

    if filters.since and filters.until and filters.since > filters.until:
        raise InputError(f"--since {filters.since} is after --until {filters.until}")
    if engine == "extractive":
        from rag.brief.extractive import brief_extractive

        return brief_extractive(store, topic, filters, options)
    if engine == "llm":
        from rag.brief.llm import brief_llm

        return brief_llm(store, llm, topic, filters, options, prompt_map=prompt_map, prompt_reduce=prompt_reduce)
    from rag.errors import RagError

    raise RagError(f"unknown engine {engine!r}; use extractive or llm")


__all__ = ["BriefOptions", "brief"]
