"""rag brief"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from rag.cli.app import app
from rag.cli.options import Engine, Json, LLMOptions, StoreOptions, Where, grouped

FORMATS = ("md", "json", "html")


@app.command()
@grouped
def brief(
    topic: Annotated[Optional[str], typer.Argument(help="What to brief on; omit it to brief the whole corpus.")] = None,
    *,
    where: Where,
    engine: Engine = None,
    new_since: Annotated[Optional[str], typer.Option(
        "--new-since", help="DATE (YYYY-MM-DD) or an earlier BRIEFING.json: only what is new since then.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="md, json or html.")] = "md",
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="Write to FILE instead of stdout.")] = None,
    llm: LLMOptions,
    store: StoreOptions,
    as_json: Json = False,
) -> None:
    """A cited briefing: summary, key facts, timeline, who said what, disagreements, sources."""
    import sys

    from rag.api import Rag
    from rag.brief.render import render
    from rag.errors import InputError

    if fmt not in FORMATS:
        raise InputError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if output is not None and not output.parent.is_dir():
        raise InputError(f"cannot write {output}: no directory {output.parent}")
    settings = llm.settings(store, engine)
    rag = Rag(settings)
    try:
        briefing = rag.brief(topic, where.filters(), **new_since_args(new_since))
    finally:
        rag.close()
    text = render(briefing, "json" if as_json else fmt)
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as err:
        raise InputError(f"cannot write {output}: {err.strerror or err}") from None
    print(f"wrote {output} ({len(briefing.citations)} citations, {len(briefing.sources)} sources)", file=sys.stderr)


def new_since_args(value: str | None) -> dict:
    """--new-since DATE → {new_since: date}; --new-since FILE.json → {previous: Briefing}."""
    import datetime as dt

    from pydantic import ValidationError

    from rag.errors import InputError, first_line
    from rag.models import Briefing

    if value is None:
        return {}
    try:
        return {"new_since": dt.date.fromisoformat(value)}
    except ValueError:
        pass
    path = Path(value)
    if not path.is_file():
        raise InputError(f"--new-since {value!r} is neither a date (YYYY-MM-DD) nor a briefing file")
    try:
        return {"previous": Briefing.model_validate_json(path.read_bytes())}
    except (ValidationError, ValueError) as err:
        raise InputError(f"--new-since {value}: not a briefing from `rag brief --format json` ({first_line(err)})") from None
