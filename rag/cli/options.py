"""The options of the commands, and the groups of them that several commands share.

A group (`Where`, `LLMOptions`, `StoreOptions`) is a frozen dataclass whose fields are typer
options. A command names a group as one keyword-only parameter; `@grouped` spreads the group's
fields into the signature typer reads, in that parameter's place, and gathers the parsed values
back into the group before the command runs. So each option of a group is declared once, and a
command reads `store.settings()`, `where.filters()`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import inspect
import typing
from pathlib import Path
from typing import Annotated, Optional

import typer

from rag.settings import Settings, load_settings, parse_assignments

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


def filters_from(source: str | None, since: dt.datetime | None, until: dt.datetime | None,
                 as_of: dt.datetime | None = None):
    from rag.retrieval import Filters  # here: a command a running server answers never imports retrieval

    return Filters(source=source, since=since.date() if since else None, until=until.date() if until else None,
                   as_of=as_of.date() if as_of else None)


@dataclasses.dataclass(frozen=True)
class StoreOptions:
    """Which index, and settings overridden for this run."""

    store_dir: StoreDir = None
    chroma_url: ChromaUrl = None
    sets: Sets = None

    def settings(self, **flags) -> Settings:
        return settings_from(self.store_dir, self.chroma_url, self.sets, **flags)


@dataclasses.dataclass(frozen=True)
class Where:
    """Which articles may be used."""

    source: Source = None
    since: Since = None
    until: Until = None
    as_of: AsOf = None

    def filters(self):
        return filters_from(self.source, self.since, self.until, self.as_of)


@dataclasses.dataclass(frozen=True)
class LLMOptions:
    """How the LLM engine is reached (ask, chat, brief)."""

    model: Model = None
    base_url: BaseUrl = None
    fallback: Fallback = None
    no_cache: NoCache = False
    local_model: LocalModel = None

    def settings(self, store: StoreOptions, engine: str | None) -> Settings:
        return store.settings(engine=engine, llm_model=self.model, llm_base_url=self.base_url,
                              llm_fallback=self.fallback, llm_cache=False if self.no_cache else None,
                              llm_local_model=self.local_model)


_GROUPS = (StoreOptions, Where, LLMOptions)


def grouped(command):
    """`command` with each group parameter spread into its options for typer (see the module)."""
    signature = inspect.signature(command, eval_str=True)
    spread: list[inspect.Parameter] = []
    groups: dict[str, type] = {}
    for p in signature.parameters.values():
        if p.annotation in _GROUPS:
            groups[p.name] = p.annotation
            hints = typing.get_type_hints(p.annotation, include_extras=True)
            spread += [inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=f.default,
                                         annotation=hints[f.name]) for f in dataclasses.fields(p.annotation)]
        else:
            spread.append(p.replace(kind=inspect.Parameter.KEYWORD_ONLY))
    names = [p.name for p in spread]
    if len(names) != len(set(names)):
        raise TypeError(f"{command.__name__}: an option of a group has the name of another parameter")

    @functools.wraps(command)
    def run(**values):
        for name, group in groups.items():
            values[name] = group(**{f.name: values.pop(f.name) for f in dataclasses.fields(group)})
        return command(**values)

    run.__signature__ = signature.replace(parameters=spread)
    run.__annotations__ = {p.name: p.annotation for p in spread}
    return run
