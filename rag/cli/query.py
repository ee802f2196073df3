"""rag search, rag ask"""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from rag.cli.app import app, collector_paused
from rag.cli.options import (
    AsOf,
    Engine,
    Json,
    K,
    LLMOptions,
    Since,
    Source,
    StoreOptions,
    Until,
    Where,
    filters_from,
    grouped,
)


@app.command()
@collector_paused()
@grouped
def search(
    query: Annotated[str, typer.Argument(help="What to look for.")],
    k: K = None,
    source: Source = None,
    since: Since = None,
    until: Until = None,
    as_of: AsOf = None,
    *,
    store: StoreOptions,
    as_json: Json = False,
) -> None:
    """Hybrid (dense + BM25) retrieval: each hit with its file, lines, score and text."""
    from rag import remote
    from rag.models import SearchResult
    from rag.render import search_text

    settings = store.settings()
    served = remote.search(settings, query, k, _filter_values(source, since, until, as_of))
    if served is not None:  # a running `rag serve` for this store answered
        result = SearchResult.model_validate(served)
    else:
        from rag.api import Rag

        result = Rag(settings).search(query, k, filters_from(source, since, until, as_of))
    print(result.model_dump_json(indent=2) if as_json else search_text(result))


def _filter_values(source, since, until, as_of=None) -> dict:
    """The filters as JSON values, for a running server (without importing the retrieval code)."""
    iso = lambda value: value.date().isoformat() if value else None
    return {"source": source, "since": iso(since), "until": iso(until), "as_of": iso(as_of)}


@app.command()
@collector_paused()
@grouped
def ask(
    question: Annotated[str, typer.Argument(help="A question about the corpus.")],
    k: K = None,
    engine: Engine = None,
    *,
    where: Where,
    prompt: Annotated[Optional[str], typer.Option("--prompt", help="Answer prompt: a name in prompts/ or a .md path.")] = None,
    stream: Annotated[bool, typer.Option("--stream", help="Print the LLM's text as it arrives, then the verified answer.")] = False,
    llm: LLMOptions,
    show_unsupported: Annotated[bool, typer.Option(
        "--show-unsupported", help="LLM: keep sentences no source supports, flagged, instead of removing them.")] = False,
    store: StoreOptions,
    as_json: Json = False,
) -> None:
    """Answer with sentences cited to file and line; refuse when the corpus has no answer."""
    import sys

    from rag import remote
    from rag.errors import InputError
    from rag.models import Answer
    from rag.render import answer_text

    settings = llm.settings(store, engine)
    if show_unsupported:
        settings = settings.model_copy(update={"llm_unsupported": "show"})
    if stream and settings.engine != "llm":
        raise InputError("--stream needs --engine llm")
    out = sys.stderr if as_json else sys.stdout  # keep stdout valid JSON

    def show(token: str) -> None:
        print(token, end="", flush=True, file=out)

    local_only = stream or prompt or where.as_of  # a running server is asked only what it can be asked
    served = None if local_only else remote.ask(settings, question, k, _filter_values(where.source, where.since, where.until))
    if served is not None:  # a running `rag serve` for this store answered
        answer = Answer.model_validate(served)
    else:
        from rag.api import Rag

        rag = Rag(settings)
        try:
            answer = rag.ask(question, k, where.filters(), prompt=prompt,
                             on_token=show if stream else None)
        finally:
            rag.close()  # stops a --local-model server
    if stream:
        print("\n\n--- verified ---", file=out)
    print(answer.model_dump_json(indent=2) if as_json else answer_text(answer))
