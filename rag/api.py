"""The library's front door. The CLI, the HTTP API and the eval harness all call `Rag`."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from rag.brief.options import BriefOptions
from rag.engines import OFFLINE, Engine, get_engine
from rag.errors import InputError, LLMError, NotFoundError
from rag.index.catalog import SourceQuery, page
from rag.index.store import Store
from rag.models import (
    Answer,
    Article,
    Briefing,
    FetchReport,
    IngestReport,
    Passage,
    SearchResult,
    SourcePage,
    Status,
    Suggestion,
    Turn,
)
from rag.retrieval import Filters, search
from rag.settings import Settings
from rag.suggest import suggestions

if TYPE_CHECKING:
    from rag.index.ingest import Progress
    from rag.llm import LLM

T = TypeVar("T", Answer, Briefing)
_SPEC = re.compile(r"^(?P<source>.+?)(?::(?P<start>\d+)(?:-(?P<end>\d+))?)?$")


class Rag:
    """A long-lived handle on one index. Components load lazily and stay loaded."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._store: Store | None = None
        self._llm: LLM | None = None
        self._local = None  # the llama.cpp server of `llm_local_model`, while it runs

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store(self.settings)
        return self._store

    def close(self) -> None:
        if self._local is not None:
            self._local.stop()
            self._local, self._llm = None, None
        if self._store is not None:
            self._store.close()
            self._store = None

    def ingest(self, paths: list[Path] | None = None, dry_run: bool = False, rebuild: bool = False,
               progress: Progress | None = None, lock_wait: float = 10.0, verify: bool = False) -> IngestReport:
        """`verify`: hash every file, even those whose size and mtime say they are unchanged."""
        # Here, not at the top: the reading and parsing pipeline is no part of a query's cold start.
        from rag.index.ingest import ingest

        embedder = None if dry_run else self.store.embedder
        report = ingest(self.settings, paths, dry_run=dry_run, rebuild=rebuild, progress=progress, lock_wait=lock_wait,
                        embedder=embedder, verify=verify)
        self.store.refresh()
        return report

    def fetch(self, urls: list[str], feed: str | None = None, progress=None, ingest_progress: Progress | None = None,
              lock_wait: float = 10.0) -> FetchReport:
        """Fetch article pages (and a feed's new items), save them under the corpus root and ingest
        what changed (rag/fetch). `progress(done, total, outcome)` follows the fetching."""
        from rag.fetch import fetch_pages

        report, written = fetch_pages(self.settings, urls, feed=feed, progress=progress)
        if written:
            report.ingest = self.ingest(written, progress=ingest_progress, lock_wait=lock_wait)
            for outcome in report.items:
                if outcome.source in report.ingest.failed:  # saved, but ingest could not read it
                    outcome.status, outcome.reason = "refused", report.ingest.failed[outcome.source]
        return report

    def search(self, query: str, k: int | None = None, filters: Filters = Filters()) -> SearchResult:
        return search(self.store, query, k, filters)

    def ask(self, question: str, k: int | None = None, filters: Filters = Filters(), engine: str | None = None,
            *, prompt: str | None = None, on_token=None, fallback: str | None = None,
            show_unsupported: bool | None = None, history: list[Turn] | None = None) -> Answer:
        """A cited answer, dated (`Answer.dated`). `history`: the conversation's earlier turns; a
        follow-up is rewritten into a standalone question first (`Answer.rewritten`). LLM only:
        `prompt` names the answer prompt, `on_token` receives the streamed text,
        `fallback="extractive"` answers offline when the LLM fails, and `show_unsupported` keeps
        unsupported sentences, flagged (default: llm_unsupported)."""
        from rag.answer.dating import date_answer

        chosen = get_engine(engine or self.settings.engine)
        rewritten = self._standalone(question, history, chosen) if history else None
        mode = None if show_unsupported is None else ("show" if show_unsupported else "remove")
        answer = self._run(chosen, fallback, "answered", lambda e, llm: e.answer(
            self.store, llm, rewritten or question, k, filters, prompt=prompt, on_token=on_token, mode=mode))
        if rewritten:
            answer.question, answer.rewritten = question.strip(), rewritten
            answer.notes.insert(0, f"a follow-up, answered as: {rewritten}")
        return date_answer(answer, filters.as_of)

    def _standalone(self, question: str, history: list[Turn], engine: Engine) -> str | None:
        from rag.chat import standalone_question  # a follow-up's path: a first question never reads its rules

        return standalone_question(question, history, self._rewriter(engine))

    def _rewriter(self, engine: Engine) -> LLM | None:
        """The LLM that rewrites follow-ups for an LLM engine; None (the deterministic rewrite) otherwise
        or when no LLM is configured."""
        if not engine.uses_llm:
            return None
        from rag.llm import LLMNotConfigured

        try:
            return self.llm
        except LLMNotConfigured:
            return None

    def brief(self, topic: str | None = None, filters: Filters = Filters(), engine: str | None = None, *,
              options: BriefOptions | None = None, fallback: str | None = None, new_since=None,
              previous: Briefing | None = None) -> Briefing:
        """A cited briefing on `topic` (None: every article that passes the filters). The LLM
        engine map-reduces over the chunks; `fallback="extractive"` briefs offline when it fails.
        `new_since` (a date) or `previous` (an earlier Briefing): only what is new since then."""
        if filters.since and filters.until and filters.since > filters.until:
            raise InputError(f"--since {filters.since} is after --until {filters.until}")
        options = options or BriefOptions()
        if new_since is not None or previous is not None:
            from rag.brief.new_since import brief_new_since

            return brief_new_since(self, topic, filters, engine or self.settings.engine, since=new_since,
                                   previous=previous, options=options)
        return self._run(get_engine(engine or self.settings.engine), fallback, "briefed",
                         lambda chosen, llm: chosen.brief(self.store, llm, topic, filters, options))

    def _run(self, engine: Engine, fallback: str | None, done: str, call: Callable[[Engine, LLM | None], T]) -> T:
        """`call(engine, llm)`; when the engine's LLM fails and the fallback (default: llm_fallback)
        is the offline engine, that engine's result instead, with a note saying why."""
        if not engine.uses_llm:
            return call(engine, None)
        from rag.llm import LLMNotConfigured  # here: the LLM client is no part of an offline query's cold start

        try:
            return call(engine, self.llm)
        except (LLMError, LLMNotConfigured) as err:
            if (fallback or self.settings.llm_fallback) != OFFLINE:
                raise
            result = call(get_engine(OFFLINE), None)
            result.notes.insert(0, f"the LLM failed ({err}); {done} with the {OFFLINE} engine")
            return result

    @property
    def llm(self) -> LLM:
        """The configured LLM client (raises LLMNotConfigured without an endpoint). With
        `llm_local_model`, the first use starts its llama.cpp server; close() stops it."""
        if self._llm is None:
            from rag.llm import OpenAILLM, make_llm

            if not self.settings.llm_local_model:
                self._llm = make_llm(self.settings)
            else:
                from rag.llm.local_model import LazyClient, for_settings, served_settings

                self._local = self._local or for_settings(self.settings)
                self._llm = OpenAILLM(served_settings(self.settings), client=LazyClient(self._local, self.settings))
        return self._llm

    def start_local_model(self) -> None:
        """Start the `llm_local_model` server now, not at the first request (`rag serve`)."""
        if self.settings.llm_local_model:
            self.llm  # noqa: B018 (checks the file)
            self._local.start()

    def documents(self, pattern: str | None = None) -> list[Article]:
        """Indexed articles by source; `pattern` is a glob on the source or its file."""
        return [a for a in self.store.docs.articles()
                if not pattern or fnmatch.fnmatch(a.source, pattern) or fnmatch.fnmatch(a.source.split("#")[0], pattern)]

    def sources(self, query: SourceQuery | None = None, facets: bool = False) -> SourcePage:
        """A page of the indexed articles, filtered and sorted in the docstore (the web page's sources panel)."""
        return page(self.store.docs, query or SourceQuery(), facets=facets)

    def suggestions(self, n: int = 6) -> list[Suggestion]:
        """Questions and briefing topics drawn from the names recent articles share (no LLM)."""
        return suggestions(self.store, n)

    def show(self, spec: str) -> Passage:
        """`SOURCE` or `SOURCE:START-END` → those lines of the indexed original."""
        m = _SPEC.match(spec.strip())
        if not m:
            raise InputError(f"expected SOURCE[:START-END], got {spec!r}")
        source = m["source"]
        raw = self.store.docs.raw(source)
        if raw is None:
            raise NotFoundError(f"unknown source {source!r}; `rag status` lists what is indexed")
        article = self.store.docs.article(source)
        lines = raw.split("\n")
        start = int(m["start"] or 1)
        end = int(m["end"] or (m["start"] or len(lines)))
        if not 1 <= start <= end <= len(lines):
            raise InputError(f"{source} has lines 1-{len(lines)}; {start}-{end} is out of range")
        return Passage(
            source=source, line_start=start, line_end=end, lines=lines[start - 1:end],
            title=article.title, date=article.date, outlet=article.outlet,
            dropped=[d for d in article.dropped if start <= d.line <= end],
        )

    def status(self, check: bool = False) -> Status:
        from rag.index.status import status

        return status(self.store, check=check)
