"""Cited briefings (`rag brief`): a summary, key facts, a timeline, who said what, where the
sources disagree and the sources, every line cited to file and lines.

    from rag.api import Rag
    briefing = Rag(settings).brief("the embassy attack", Filters(), engine="extractive")

The engines (rag/brief/extractive.py, rag/brief/llm.py) are looked up by name in rag/engines.py.
"""

from __future__ import annotations

from rag.brief.options import BriefOptions

__all__ = ["BriefOptions"]
