"""HTTP request bodies and the few response shapes that are not domain models.

Answers, search results, passages, status and ingest reports are returned as the domain models
of rag/models.py, exactly as `rag ... --json` prints them.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from rag.index.catalog import MAX_LIMIT, SORTS, SourceQuery
from rag.models import Briefing, Turn
from rag.retrieval import MAX_QUERY_CHARS, Filters


class FilterOptions(BaseModel):
    """The filters `rag search` and `rag ask` take."""

    model_config = ConfigDict(extra="forbid")
    source: str | None = Field(None, max_length=500, description="Only sources matching this glob.")
    since: dt.date | None = Field(None, description="Only articles on or after this date (YYYY-MM-DD).")
    until: dt.date | None = Field(None, description="Only articles on or before this date (YYYY-MM-DD).")
    sources: list[Annotated[str, Field(max_length=500)]] | None = Field(
        None, max_length=1000, description="Only these sources (the web page's selection); with `source`, both apply.")
    as_of: dt.date | None = Field(None, description="As known on this date (YYYY-MM-DD): later and undated articles are "
                                                    "left out, and the latest coverage is favoured.")

    @model_validator(mode="after")
    def _ordered(self):
        if self.since and self.until and self.since > self.until:
            raise ValueError(f"since ({self.since}) is after until ({self.until})")
        return self

    def filters(self) -> Filters:
        return Filters(source=self.source, since=self.since, until=self.until, as_of=self.as_of,
                       sources=None if self.sources is None else tuple(self.sources))


class SearchQuery(FilterOptions):
    """The options of `rag search`, as query parameters."""

    q: str = Field(min_length=1, max_length=MAX_QUERY_CHARS, description="What to look for.")
    k: int | None = Field(None, ge=1, le=200, description="How many hits (default: top_k).")


class AskRequest(FilterOptions):
    """The options of `rag ask`, as JSON. The LLM's model, endpoint and cache are the server's
    settings: a client that could set the endpoint could send the server's API key anywhere."""

    question: str = Field(min_length=1, max_length=MAX_QUERY_CHARS, description="A question about the corpus.")
    k: int | None = Field(None, ge=1, le=200, description="How many chunks to retrieve (default: answer_k).")
    engine: str | None = Field(None, max_length=40, description="extractive (offline) or llm; default: the server's setting.")
    # A prompt by NAME only: a path would let a client have any server file read and sent to the LLM.
    prompt: str | None = Field(None, pattern=r"^[A-Za-z0-9_-]{1,64}$", description="LLM only: a prompt name in prompts/.")
    fallback: Literal["none", "extractive"] | None = Field(
        None, description="LLM only: 'extractive' answers offline when the LLM fails, and says so in the notes.")
    show_unsupported: bool | None = Field(
        None, description="LLM only: keep sentences no source supports, flagged, instead of removing them "
                          "(default: the server's llm_unsupported).")
    stream: bool = Field(False, description="Answer as Server-Sent Events: `token` events, then one `answer` event.")
    history: list[Turn] = Field([], max_length=20, description="The conversation's earlier turns, oldest first: a "
                                "follow-up ('When was he born?') is rewritten from them (`rewritten` in the Answer).")


class BriefRequest(FilterOptions):
    """The options of `rag brief`, as JSON."""

    topic: str | None = Field(None, min_length=1, max_length=MAX_QUERY_CHARS,
                              description="What to brief on; omit it to brief every article that passes the filters.")
    engine: str | None = Field(None, max_length=40, description="extractive (offline) or llm; default: the server's setting.")
    fallback: Literal["none", "extractive"] | None = Field(
        None, description="LLM only: 'extractive' briefs offline when the LLM fails, and says so in the notes.")
    new_since: dt.date | None = Field(None, description="Only what is new since this date: what the articles up to "
                                      "it did not contain (`rag brief --new-since DATE`).")
    previous: Briefing | None = Field(None, description="Only what this earlier briefing (as JSON) did not contain "
                                      "(`rag brief --new-since BRIEFING.json`).")
    format: Literal["json", "md", "html"] = Field(
        "json", description="json: the Briefing model; md or html: rendered from it, as `rag brief --format`.")


class SourcesQuery(BaseModel):
    """The sources panel's page of the indexed articles, as query parameters."""

    model_config = ConfigDict(extra="forbid")
    offset: int = Field(0, ge=0)
    limit: int = Field(50, ge=1, le=MAX_LIMIT)
    sort: Literal[tuple(SORTS)] = Field("-date", description="date, -date (newest first), title, outlet, size or source.")
    q: str | None = Field(None, max_length=200, description="Words of the title or the source name.")
    outlet: str | None = Field(None, max_length=200, description="Only this outlet; empty: articles without one.")
    since: dt.date | None = None
    until: dt.date | None = None
    facets: bool = Field(False, description="Add every outlet with its count and the index's first and last date.")

    def query(self) -> SourceQuery:
        return SourceQuery(offset=self.offset, limit=self.limit, sort=self.sort, text=self.q, outlet=self.outlet,
                           since=self.since, until=self.until)


class IngestRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    paths: list[str] = Field(
        [], max_length=1000,
        description="Files or directories relative to the corpus root; empty means the whole corpus root.",
    )
    dry_run: bool = Field(False, description="Report what would change and change nothing.")


class DocumentInfo(BaseModel):
    """One indexed article, without its text (GET /documents/{source} returns the lines)."""

    source: str
    title: str | None = None
    date: dt.date | None = None
    outlet: str | None = None
    url: str | None = None
    author: str | None = None
    format: str
    n_lines: int
    n_chunks: int


class DocumentList(BaseModel):
    total: int = Field(description="Documents matching the filter, before offset and limit.")
    documents: list[DocumentInfo]


class Health(BaseModel):
    status: str = "ok"
    ready: bool = Field(description="The index components are loaded (false while warming up or with no index).")


class ErrorBody(BaseModel):
    error: str = Field(description="One line saying what was wrong.")
    details: list[dict] = Field([], description="Every validation problem, for 422 responses.")
