"""rag chat"""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from rag.cli.app import app
from rag.cli.options import Engine, Json, K, LLMOptions, StoreOptions, Where, grouped
from rag.errors import first_line

_RESET = {"/new", "/reset"}
_QUIT = {"/quit", "/exit", "quit", "exit"}


@app.command()
@grouped
def chat(
    k: K = None,
    engine: Engine = None,
    *,
    where: Where,
    llm: LLMOptions,
    turns: Annotated[Optional[int], typer.Option("--turns", min=1, max=20,
                                                 help="Earlier turns a follow-up is rewritten from.")] = None,
    store: StoreOptions,
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

    settings = llm.settings(store, engine)
    interactive = sys.stdin.isatty()
    rag = Rag(settings)
    conversation = Conversation(rag, k=k, filters=where.filters(), keep=turns)
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
                print(f"error: {first_line(err)}", file=sys.stderr)
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
