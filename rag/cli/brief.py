"""rag brief"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from rag.cli.app import ChromaUrl, Json, Sets, Since, Source, StoreDir, Until, app, filters_from, settings_from


FORMATS = ("md", "json", "html")


@app.command()
def brief(
    topic: Annotated[Optional[str], typer.Argument(help="What to brief on; omit it to brief the whole corpus.")] = None,
    source: Source = None,
    since: Since = None,
    until: Until = None,
    engine: Annotated[Optional[str], typer.Option("--engine", help="extractive (offline) or llm.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="md, json or html.")] = "md",
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="Write to FILE instead of stdout.")] = None,
    model: Annotated[Optional[str], typer.Option("--model", help="LLM model name (env RAG_LLM_MODEL).")] = None,
    base_url: Annotated[Optional[str], typer.Option("--base-url", help="OpenAI-compatible endpoint (env OPENAI_BASE_URL).")] = None,
    fallback: Annotated[Optional[str], typer.Option(
        "--fallback", help="'extractive': brief offline when the LLM fails, and say so.")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Neither read nor write the LLM response cache.")] = False,
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
    if engine is not None and engine not in ("extractive", "llm"):
        raise InputError(f"--engine must be extractive or llm, not {engine!r}")
    settings = settings_from(store_dir, chroma_url, sets, engine=engine, llm_model=model, llm_base_url=base_url,
                             llm_fallback=fallback, llm_cache=False if no_cache else None)
    rag = Rag(settings)
    try:
        briefing = rag.brief(topic, filters_from(source, since, until))
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
