"""Every error is JSON `{"error": one line, "details": [...]}` with a status that says whose fault it is."""

from __future__ import annotations

import logging
import re
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from rag.errors import (
    ConfigError,
    IndexMismatchError,
    IndexMissingError,
    InputError,
    LLMError,
    LockedError,
    NotFoundError,
    RagError,
    StoreUnavailableError,
    first_line,
)

log = logging.getLogger("rag.server")


class Forbidden(RagError):
    """The server is configured not to do this (403)."""


class NothingIngested(RagError):
    """Every file of an ingest failed (422); `failures` maps each to its reason."""

    def __init__(self, failures: dict[str, str]):
        first = next(iter(failures.items()))
        super().__init__(f"nothing could be ingested: {first[0]}: {first[1]}")
        self.failures = failures


# Most specific first: the first matching class decides the status.
STATUS = (
    (NotFoundError, 404),
    (StoreUnavailableError, 503),
    (Forbidden, 403),
    (NothingIngested, 422),
    (LockedError, 409),
    (IndexMissingError, 503),
    (IndexMismatchError, 503),
    (ConfigError, 503),  # e.g. engine=llm on a server with no LLM endpoint configured
    (LLMError, 502),
    (InputError, 400),
    (RagError, 400),
)


def status_of(err: RagError) -> int:
    return next(code for cls, code in STATUS if isinstance(err, cls))


def body(message: str, details: list | None = None) -> dict:
    return {"error": first_line(message), "details": details or []}


_PID = re.compile(r"\bpid \d+( \([^)]*\))?")


def scrub(text: str, settings) -> str:
    """A message for a client: no absolute server paths (the corpus root and the store become
    relative names) and no process ids."""
    text = str(text)
    forms = {(str(p(folder)), shown) for folder, shown in ((settings.corpus_dir, ""), (settings.store_dir, "the store"))
             for p in (lambda f: Path(f).absolute(), lambda f: Path(f).resolve())}
    for form, shown in sorted(forms, key=lambda f: len(f[0]), reverse=True):  # the deeper folder first
        text = text.replace(form + "/", f"{shown}/" if shown else "").replace(form, shown or ".")
    return _PID.sub("another process", text)


def client_body(request: Request, message: str, details: list | None = None) -> dict:
    settings = request.app.state.server.settings
    clean = [{k: scrub(v, settings) if isinstance(v, str) else v for k, v in d.items()} for d in details or []]
    return body(scrub(message, settings), clean)


def install(app: FastAPI) -> None:
    @app.exception_handler(RagError)
    async def rag_error(request: Request, err: RagError):
        details = [{"path": p, "reason": r} for p, r in getattr(err, "failures", {}).items()]
        return JSONResponse(client_body(request, str(err), details), status_code=status_of(err))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, err: RequestValidationError):
        problems = [_problem(e) for e in err.errors()]
        return JSONResponse(body(problems[0]["message"] if problems else "invalid request", problems), status_code=422)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, err: HTTPException):
        return JSONResponse(client_body(request, str(err.detail)), status_code=err.status_code,
                            headers=getattr(err, "headers", None))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, err: Exception):
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return JSONResponse(body(f"internal error ({type(err).__name__}); the server log has the details"), status_code=500)


def _problem(error: dict) -> dict:
    # loc is e.g. ("body", "question") or ("query", "k"): name the field, not the transport.
    where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path"))
    message = error.get("msg", "invalid")
    message = message.removeprefix("Value error, ")
    return {"field": where, "message": f"{where}: {message}" if where else message}
