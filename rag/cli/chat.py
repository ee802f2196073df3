"""rag chat"""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from rag.cli.app import (
    AsOf,
    BaseUrl,
    ChromaUrl,
    Engine,
    Fallback,
    Json,
    K,
    LocalModel,
    Model,
    NoCache,
    Sets,
    Since,
    Source,
    StoreDir,
    Until,
    app,
    filters_from,
    llm_settings_from,
)

_RESET = {"/new", "/reset"}
_QUIT = {"/quit", "/exit", "quit", "exit"}


@app.command()
def chat(
    k: K = None,
    engine: Engine = None,
    source: Source = None,
    since: Since = None,
    until: Until = None,
    as_of: AsOf = None,
    model: Model = None,
    base_url: BaseUrl = None,
    fallback: Fallback = None,
    no_cache: NoCache = False,
    local_model: LocalModel = None,
    turns: Annotated[Optional[int], typer.Option("--turns", min=1, max=20,
                                                 help="Earlier turns a follow-up is rewritten from.")] = None,
    store_dir: StoreDir = None,
    chroma_url: ChromaUrl = None,
    sets: Sets = None,
    as_json: Json = False,
) -> None:
    """Questions with follow-ups: "When was he born?" is rewritten from the conversation (shown as
    'answered as'). On a terminal: type questions, /new starts over, Ctrl-D ends. Otherwise one
    question per line of standard input; --json prints one Answer per line."""
    import sys

    from rag.api import Rag
    from rag.chat.session import Conversation
    from rag.errors import RagError
    from rag.render import answer_text

    settings = llm_settings_from(store_dir, chroma_url, sets, engine, model, base_url, fallback, no_cache, local_model)
    interactive = sys.stdin.isatty()
    rag = Rag(settings)
    conversation = Conversation(rag, k=k, filters=filters_from(source, since, until, as_of), keep=turns)
    failed = 0
    try:
        for question in _questions(interactive):
            if question in _RESET:
                conversation.reset()
                continue
            if question in _QUIT:
                break
            try:
                answer = conversation.ask(question)
            except RagError as err:  # one bad question does not end the conversation
                print(f"error: {(str(err).splitlines() or ['failed'])[0]}", file=sys.stderr)
                failed += 1
                continue
            print(answer.model_dump_json() if as_json else answer_text(answer) + ("\n" if interactive else "\n---"),
                  flush=True)
    finally:
        rag.close()
    if failed and not interactive:
        raise typer.Exit(1)


def _questions(interactive: bool):
    import sys

    while True:
        try:
            line = input("? ") if interactive else sys.stdin.readline()
        except EOFError:
            return
        if not interactive and not line:
            return
        line = line.strip()
        if line:
            yield line
