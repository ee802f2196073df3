"""The typer app; the options the commands share are in rag/cli/options.py."""

from __future__ import annotations

import atexit
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
    collector. What it imports and builds lives until the process ends: the collections it set
    off (about 50, a full one among them) freed a few hundred objects, and the full collections
    Python makes at exit traversed every object again (together ~15% of a cold ask's CPU).
    So the heap is frozen at exit, after the atexit hooks of anything the command starts (they
    are registered later, and run first): what the collections would free, the process's end
    frees. Objects still reachable are released as the modules are torn down."""
    atexit.unregister(gc.freeze)
    atexit.register(gc.freeze)
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
