"""rag search, rag ask"""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from rag.cli.app import K, ChromaUrl, Json, Sets, Since, Source, StoreDir, Until, app, filters_from, settings_from


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What to look for.")],
    k: K = None,
    source: Source = None,
    since: Since = None,
    until: Until = None,
    store_dir: StoreDir = None,
    chroma_url: ChromaUrl = None,
    sets: Sets = None,
    as_json: Json = False,
) -> None:
    """Hybrid (dense + BM25) retrieval: each hit with its file, lines, score and text."""
    from rag.api import Rag
    from rag.render import search_text

    rag = Rag(settings_from(store_dir, chroma_url, sets))
    result = rag.search(query, k, filters_from(source, since, until))
    print(result.model_dump_json(indent=2) if as_json else search_text(result))


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="A question about the corpus.")],
    k: K = None,
    engine: Annotated[Optional[str], typer.Option("--engine", help="extractive (offline) or llm.")] = None,
    source: Source = None,
    since: Since = None,
    until: Until = None,
    store_dir: StoreDir = None,
    chroma_url: ChromaUrl = None,
    sets: Sets = None,
    as_json: Json = False,
) -> None:
    """Answer with sentences cited to file and line; refuse when the corpus has no answer."""
    from rag.api import Rag
    from rag.render import answer_text

    rag = Rag(settings_from(store_dir, chroma_url, sets, engine=engine))
    answer = rag.ask(question, k, filters_from(source, since, until))
    print(answer.model_dump_json(indent=2) if as_json else answer_text(answer))
