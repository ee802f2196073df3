"""rag: cited question answering and briefings over a corpus of news articles, offline.

    from rag import Filters, Rag, Settings
    rag = Rag(Settings(store_dir=".rag"))
    rag.ingest()
    answer = rag.ask("How many rockets were fired at the US embassy in Baghdad?", filters=Filters(source="00*"))
    answer.text, answer.citations

The public API is what `__all__` names: the `Rag` handle, its `Settings` and `Filters`, the
answer, briefing and index models it returns, and `RagError` (every error it raises is one).
The names load at first use, so that `import rag.text.dates` (or `rag --help`) does not load the
index and its models.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rag.api import Rag
    from rag.brief.options import BriefOptions
    from rag.errors import RagError
    from rag.models import (
        Answer,
        AnswerSentence,
        Article,
        Briefing,
        Chunk,
        Citation,
        Claim,
        Conflict,
        Hit,
        IngestReport,
        Passage,
        SearchResult,
        Status,
        Usage,
    )
    from rag.retrieval import Filters
    from rag.settings import Settings

__all__ = [
    "Answer", "AnswerSentence", "Article", "BriefOptions", "Briefing", "Chunk", "Citation", "Claim", "Conflict",
    "Filters", "Hit", "IngestReport", "Passage", "Rag", "RagError", "SearchResult", "Settings", "Status", "Usage",
]
_HOME = {"Rag": "rag.api", "Settings": "rag.settings", "Filters": "rag.retrieval", "BriefOptions": "rag.brief.options",
         "RagError": "rag.errors"}
_HOME.update({name: "rag.models" for name in __all__ if name not in _HOME})


def __getattr__(name: str):
    if name not in _HOME:
        raise AttributeError(f"module 'rag' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOME[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
