"""The typer app; the options the commands share are in rag/cli/options.py."""

from __future__ import annotations

import gc
from contextlib import contextmanager

import typer

app = typer.Typer(
    name="rag",
    help="Cited question answering and briefings over news articles, offline by default.",
    add_completion=False,
    pretty_exceptions_enable=False,
    no_args_is_help=True,
)


@contextmanager
def collector_paused():
    """Run a command that answers once and exits (ask, search) without the cyclic garbage
    collector: what it imports and builds lives until the process ends, so the collections it
    set off (about 50, a full one among them, 5-10% of a cold ask's CPU) freed almost nothing
    (a few hundred objects)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
