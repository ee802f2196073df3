"""The endpoints. Each parses its request, calls one method of the server's Rag and returns
the domain model it gets back; the logic lives in the library."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, File, HTTPException, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import PlainTextResponse, Response, StreamingResponse

from rag.api import Rag
from rag.errors import InputError
from rag.models import Answer, Briefing, EvalRun, IngestReport, Passage, SearchResult, SourcePage, Status, Suggestion
from rag.server.auth import require_token
from rag.server.errors import NothingIngested, scrub
from rag.server.evals import RUN_ID, EvalRunSummary, eval_run, run_summaries
from rag.server.metrics import MetricsReport
from rag.server.paths import check_source, corpus_path, parse_lines, upload_name
from rag.server.schemas import (
    AskRequest,
    BriefRequest,
    DocumentInfo,
    DocumentList,
    ErrorBody,
    Health,
    IngestRequest,
    SearchQuery,
    SourcesQuery,
)
from rag.server.sse import AnswerStream
from rag.server.state import ServerState

_LOCK_WAIT = 2.0  # seconds an HTTP ingest waits for another ingest before answering 409
_MAX_FILES = 100
_BRIEF_RETRY_AFTER = 10  # seconds: a briefing takes seconds to minutes

_ERRORS = {
    400: "Invalid request (a bad source name, line range or question)",
    401: "Missing or wrong bearer token",
    403: "Not allowed on this server (read-only), or a cross-site write without a token",
    404: "Unknown source",
    409: "Another ingest is writing the index",
    413: "Body too large",
    422: "Request failed validation, or nothing could be ingested",
    502: "The LLM endpoint failed",
    503: "No usable index yet (run an ingest), no LLM endpoint configured for engine=llm, or too many briefings at once",
}
public = APIRouter()
protected = APIRouter(
    dependencies=[Depends(require_token)],
    responses={code: {"model": ErrorBody, "description": text} for code, text in _ERRORS.items()},
)


async def server(request: Request) -> ServerState:
    # async: resolving it never waits for a worker thread (/healthz and /metrics stay off the pool)
    return request.app.state.server


def rag(state: Annotated[ServerState, Depends(server)]) -> Rag:
    # A sync dependency runs in the thread pool, so waiting for the warm-up never blocks the event loop.
    return state.rag_ready()


Server = Annotated[ServerState, Depends(server)]
Ready = Annotated[Rag, Depends(rag)]


@public.get("/healthz", response_model=Health, tags=["service"])
async def healthz(state: Server) -> Health:
    """Liveness: answers without a token and without touching the index (or a worker thread)."""
    return Health(ready=state.ready)


@protected.post(
    "/ask", response_model=Answer, tags=["answers"],
    responses={200: {"content": {"text/event-stream": {}},
                     "description": "The Answer, or with `stream: true` Server-Sent Events (see rag/server/sse.py)."}},
)
def ask(body: AskRequest, rag: Ready):
    """A cited answer, a refusal, and any disagreements between sources (`rag ask`)."""
    kwargs = {"question": body.question, "k": body.k, "filters": body.filters(), "engine": body.engine,
              "prompt": body.prompt, "fallback": body.fallback, "show_unsupported": body.show_unsupported,
              "history": body.history}
    if not body.stream:
        return rag.ask(**kwargs)
    stream = AnswerStream(rag.ask, kwargs)
    return StreamingResponse(stream.events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


_BRIEF_TYPES = {"md": "text/markdown; charset=utf-8", "html": "text/html; charset=utf-8"}


@protected.post(
    "/brief", response_model=Briefing, tags=["answers"],
    responses={200: {"content": {"text/markdown": {}, "text/html": {}},
                     "description": "The Briefing, or with `format` md or html its rendering."}},
)
def brief(body: BriefRequest, state: Server):
    """A cited briefing: summary, key facts, timeline, who said what, disagreements, sources (`rag brief`).
    At most `api_max_briefings` run at once; past that the answer is 503 with Retry-After."""
    if not state.briefings.acquire(blocking=False):
        raise HTTPException(503, f"{state.settings.api_max_briefings} briefings are being written; "
                                 f"try again in {_BRIEF_RETRY_AFTER} s (setting api_max_briefings)",
                            headers={"Retry-After": str(_BRIEF_RETRY_AFTER)})
    try:
        briefing = state.rag_ready().brief(body.topic, body.filters(), body.engine, fallback=body.fallback,
                                           new_since=body.new_since, previous=body.previous)
    finally:
        state.briefings.release()
    if body.format == "json":
        return briefing
    from rag.brief.render import render

    return Response(render(briefing, body.format), media_type=_BRIEF_TYPES[body.format])


@protected.get("/search", response_model=SearchResult, tags=["answers"])
def search(params: Annotated[SearchQuery, Query()], rag: Ready) -> SearchResult:
    """Hybrid (dense + BM25) retrieval: each hit with its file, lines, score and text (`rag search`)."""
    return rag.search(params.q, params.k, params.filters())


@protected.get("/documents", response_model=DocumentList, tags=["documents"])
def documents(
    rag: Ready,
    source: Annotated[str | None, Query(max_length=500, description="Only sources matching this glob.")] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> DocumentList:
    """The indexed articles, by source."""
    articles = rag.documents(source)
    page = articles[offset:offset + limit]
    return DocumentList(total=len(articles), documents=[DocumentInfo.model_validate(a, from_attributes=True) for a in page])


@protected.get("/sources", response_model=SourcePage, tags=["documents"])
def sources(params: Annotated[SourcesQuery, Query()], rag: Ready) -> SourcePage:
    """A page of the indexed articles (title, outlet, date, size), filtered and sorted in the
    docstore: the web page's sources panel."""
    return rag.sources(params.query(), facets=params.facets)


@protected.get("/suggestions", response_model=list[Suggestion], tags=["documents"])
def suggestions(rag: Ready, n: Annotated[int, Query(ge=1, le=20)] = 6) -> list[Suggestion]:
    """Questions and briefing topics drawn from the names that recent articles share (no LLM)."""
    return rag.suggestions(n)


@protected.get("/documents/{source:path}", response_model=Passage, tags=["documents"])
def document(
    source: str,
    rag: Ready,
    lines: Annotated[str | None, Query(description="12 or 12-15; default: the whole article.")] = None,
) -> Passage:
    """The lines a citation points to (`rag show SOURCE:START-END`). A JSONL record's `#` is sent as %23."""
    check_source(source)
    span = parse_lines(lines)
    return rag.show(source if span is None else f"{source}:{span[0]}-{span[1]}")


@protected.post("/ingest", response_model=IngestReport, tags=["index"])
def ingest(body: IngestRequest, state: Server) -> IngestReport:
    """Index files or directories under the corpus root (`rag ingest`); unchanged files are skipped."""
    state.check_writable()
    root = state.corpus_root
    paths = [corpus_path(root, p) for p in body.paths] or [root]
    return _ingest(state, paths, body.dry_run)


@protected.post("/documents", response_model=IngestReport, tags=["index"])
def upload(
    state: Server,
    files: Annotated[list[UploadFile], File(description="Articles (.txt, .md, .html, .jsonl); a file with the name "
                                                        "of an earlier upload replaces it.")],
) -> IngestReport:
    """Upload articles: saved under `<corpus root>/<api_upload_dir>/` and ingested. Send the header
    `X-Rag-Client` (any value) or a bearer token. A file that is refused is not kept."""
    state.check_writable()
    if len(files) > _MAX_FILES:
        raise InputError(f"{len(files)} files in one upload; the limit is {_MAX_FILES}")
    names = [upload_name(f.filename) for f in files]
    if len(set(names)) != len(names):
        raise InputError("the upload names the same file twice")
    target = _upload_dir(state)
    saved = [_save(f, target / name) for f, name in zip(files, names)]
    try:
        report = _ingest(state, [path for path, _ in saved], dry_run=False)
    except Exception:
        for path, previous in saved:
            _discard(path, previous)
        raise
    root = state.corpus_root
    for path, previous in saved:
        if path.relative_to(root).as_posix() in report.failed:
            _discard(path, previous)
        elif previous is not None:
            previous.unlink(missing_ok=True)
    return report


@protected.get("/status", response_model=Status, tags=["index"])
def status(rag: Ready, check: bool = False) -> Status:
    """Documents, chunks, embedding model, store location and sizes; `check` verifies consistency."""
    return rag.status(check=check)


@protected.get("/evals", response_model=list[EvalRunSummary], tags=["evals"])
def evals(state: Server) -> list[EvalRunSummary]:
    """The eval runs saved in the store by `rag eval`, newest first, with each metric's mean."""
    return run_summaries(state.settings.store_dir)


@protected.get("/evals/{run_id}", response_model=EvalRun, tags=["evals"])
def evals_run(run_id: Annotated[str, PathParam(pattern=RUN_ID)], state: Server) -> EvalRun:
    """One saved eval run: every case's answers and scores, and where they came from."""
    return eval_run(state.settings.store_dir, run_id)


@protected.get(
    "/metrics", tags=["service"],
    responses={200: {"content": {"text/plain": {}, "application/json": {"schema": MetricsReport.model_json_schema()}},
                     "description": "Prometheus text, or JSON with `?format=json`."}},
)
async def metrics(state: Server, format: Annotated[str, Query(pattern="^(prometheus|json)$")] = "prometheus"):
    """Request counts and latencies per route (served on the event loop, never queued behind work)."""
    if format == "json":
        return state.metrics.report()
    return PlainTextResponse(state.metrics.prometheus(), media_type="text/plain; version=0.0.4")


def _ingest(state: ServerState, paths: list[Path], dry_run: bool) -> IngestReport:
    report = state.rag.ingest(paths, dry_run=dry_run, lock_wait=_LOCK_WAIT)
    # Failures are named relative to the corpus root; a reason never shows a server path or pid.
    report.failed = {scrub(k, state.settings): scrub(v, state.settings) for k, v in report.failed.items()}
    nothing = not (report.added or report.updated or report.removed or report.skipped or report.duplicates)
    if report.failed and nothing:
        raise NothingIngested(report.failed)
    return report


def _upload_dir(state: ServerState) -> Path:
    name = check_source(state.settings.api_upload_dir)
    (state.corpus_root / name).mkdir(parents=True, exist_ok=True)
    return corpus_path(state.corpus_root, name)  # and it must not be a symlink out of the corpus


def _save(upload: UploadFile, path: Path) -> tuple[Path, Path | None]:
    """Write the upload to `path`; an earlier file of that name is kept aside until the upload is
    accepted. Returns (path, where the earlier file was put, or None)."""
    # Written under a hidden name and renamed: an ingest scanning the corpus never sees half a file.
    suffix = uuid.uuid4().hex
    partial = path.with_name(f".{path.name}.{suffix}.part")
    previous = path.with_name(f".{path.name}.{suffix}.previous") if path.exists() else None
    try:
        with open(partial, "wb") as out:
            shutil.copyfileobj(upload.file, out)
        if previous is not None:  # a second name for the old bytes; `path` itself is replaced atomically
            try:
                os.link(path, previous)
            except OSError:  # a file system without hard links
                shutil.copy2(path, previous)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path, previous


def _discard(path: Path, previous: Path | None) -> None:
    """Undo a refused upload: the earlier file comes back, or the new one goes."""
    if previous is not None:
        os.replace(previous, path)
    else:
        path.unlink(missing_ok=True)
