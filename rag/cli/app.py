"""The typer app and the options every command shares."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Optional

import typer

from rag.settings import Settings, load_settings, parse_assignments

app = typer.Typer(
    name="rag",
    help="Cited question answering and briefings over news articles, offline by default.",
    add_completion=False,
    pretty_exceptions_enable=False,
    no_args_is_help=True,
)

StoreDir = Annotated[Optional[Path], typer.Option("--store-dir", help="Index directory (env RAG_STORE_DIR; default .rag).")]
ChromaUrl = Annotated[Optional[str], typer.Option("--chroma-url", help="Chroma server URL instead of the embedded store.")]
Sets = Annotated[Optional[list[str]], typer.Option("--set", help="Override any setting: key=value (repeatable).")]
Json = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
K = Annotated[Optional[int], typer.Option("-k", "--k", help="How many chunks to retrieve.", min=1, max=200)]
Source = Annotated[Optional[str], typer.Option("--source", help="Only sources matching this glob.")]
Since = Annotated[Optional[dt.datetime], typer.Option("--since", formats=["%Y-%m-%d"], help="Only articles on or after DATE.")]
Until = Annotated[Optional[dt.datetime], typer.Option("--until", formats=["%Y-%m-%d"], help="Only articles on or before DATE.")]
AsOf = Annotated[Optional[dt.datetime], typer.Option(
    "--as-of", formats=["%Y-%m-%d"],
    help="As known on DATE: articles dated after it (and undated ones) are left out; the latest coverage is favoured.")]
Engine = Annotated[Optional[str], typer.Option("--engine", help="extractive (offline) or llm.")]
Model = Annotated[Optional[str], typer.Option("--model", help="LLM model name (env RAG_LLM_MODEL).")]
BaseUrl = Annotated[Optional[str], typer.Option(
    "--base-url", help="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8080/v1 (env OPENAI_BASE_URL).")]
Fallback = Annotated[Optional[str], typer.Option(
    "--fallback", help="'extractive': work offline when the LLM fails, and say so.")]
NoCache = Annotated[bool, typer.Option("--no-cache", help="Neither read nor write the LLM response cache.")]
LocalModel = Annotated[Optional[Path], typer.Option(
    "--local-model", help="A .gguf file: start llama.cpp for the LLM engine, stop it on exit (setting llm_local_model).")]


def settings_from(store_dir: Path | None = None, chroma_url: str | None = None, sets: list[str] | None = None,
                  **flags) -> Settings:
    overrides = parse_assignments(sets or [])
    overrides.update({k: v for k, v in flags.items() if v is not None})
    return load_settings(store_dir=store_dir, chroma_url=chroma_url, **overrides)


def llm_settings_from(store_dir, chroma_url, sets, engine, model, base_url, fallback, no_cache,
                      local_model: Path | None = None) -> Settings:
    """Settings for commands that can use the LLM engine (ask, brief)."""
    return settings_from(store_dir, chroma_url, sets, engine=engine, llm_model=model, llm_base_url=base_url,
                         llm_fallback=fallback, llm_cache=False if no_cache else None, llm_local_model=local_model)


def filters_from(source: str | None, since: dt.datetime | None, until: dt.datetime | None,
                 as_of: dt.datetime | None = None):
    from rag.retrieval import Filters

    day = lambda value: value.date() if value else None
    return Filters(source=source, since=day(since), until=day(until), as_of=day(as_of))
