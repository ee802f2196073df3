"""rag brief"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from rag.cli.app import (
    AsOf,
    BaseUrl,
    ChromaUrl,
    Engine,
    Fallback,
    Json,
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

FORMATS = ("md", "json", "html")


@app.command()
def brief(
    topic: Annotated[Optional[str], typer.Argument(help="What to brief on; omit it to brief the whole corpus.")] = None,
    source: Source = None,
    since: Since = None,
    until: Until = None,
    as_of: AsOf = None,
    engine: Engine = None,
    new_since: Annotated[Optional[str], typer.Option(
        "--new-since", help="DATE (YYYY-MM-DD) or an earlier BRIEFING.json: only what is new since then.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="md, json or html.")] = "md",
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="Write to FILE instead of stdout.")] = None,
    model: Model = None,
    base_url: BaseUrl = None,
    fallback: Fallback = None,
    no_cache: NoCache = False,
    local_model: LocalModel = None,
    store_dir: StoreDir = None,
    chroma_url: ChromaUrl = None,
    sets: Sets = None,
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
    settings = llm_settings_from(store_dir, chroma_url, sets, engine, model, base_url, fallback, no_cache, local_model)
    rag = Rag(settings)
    try:
        briefing = rag.brief(topic, filters_from(source, since, until, as_of), **new_since_args(new_since))
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

    from rag.errors import InputError
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
        first = str(err).splitlines()[0]
        raise InputError(f"--new-since {value}: not a briefing from `rag brief --format json` ({first})") from None
