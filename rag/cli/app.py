"""The typer app; the options the commands share are in rag/cli/options.py."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="rag",
    help="Cited question answering and briefings over news articles, offline by default.",
    add_completion=False,
    pretty_exceptions_enable=False,
    no_args_is_help=True,
)
