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
    model: Annotated[Optional[str], typer.Option("--model", help="LLM model name (env RAG_LLM_MODEL).")] = None,
    base_url: Annotated[Optional[str], typer.Option(
        "--base-url", help="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8080/v1 (env OPENAI_BASE_URL).")] = None,
    prompt: Annotated[Optional[str], typer.Option("--prompt", help="Answer prompt: a name in prompts/ or a .md path.")] = None,
    stream: Annotated[bool, typer.Option("--stream", help="Print the LLM's text as it arrives, then the verified answer.")] = False,
    fallback: Annotated[Optional[str], typer.Option(
        "--fallback", help="'extractive': answer offline when the LLM fails, and say so.")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Neither read nor write the LLM response cache.")] = False,
    store_dir: StoreDir = None,
    chroma_url: ChromaUrl = None,
    sets: Sets = None,
    as_json: Json = False,
) -> None:
    """Answer with sentences cited to file and line; refuse when the corpus has no answer."""
    import sys

    from rag.api import Rag
    from rag.errors import InputError
    from rag.render import answer_text

    settings = settings_from(store_dir, chroma_url, sets, engine=engine, llm_model=model, llm_base_url=base_url,
                             llm_fallback=fallback, llm_cache=False if no_cache else None)
    if stream and settings.engine != "llm":
        raise InputError("--stream needs --engine llm")
    out = sys.stderr if as_json else sys.stdout  # keep stdout valid JSON

    def show(token: str) -> None:
        print(token, end="", flush=True, file=out)

    rag = Rag(settings)
    answer = rag.ask(question, k, filters_from(source, since, until), prompt=prompt, on_token=show if stream else None)
    if stream:
        print("\n\n--- verified ---", file=out)
    print(answer.model_dump_json(indent=2) if as_json else answer_text(answer))
