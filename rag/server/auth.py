"""Optional bearer-token auth: with `api_token` (RAG_API_TOKEN) set, every endpoint except
/healthz and the static page shell requires `Authorization: Bearer <token>`."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

# auto_error=False: we answer a missing token ourselves, in the same error shape as every 4xx.
# The check is async: it never waits for a worker thread, so /metrics answers under load.
_bearer = HTTPBearer(auto_error=False, description="The server's RAG_API_TOKEN, when one is set.")


async def require_token(request: Request,
                  credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> None:
    expected = request.app.state.server.settings.api_token
    if not expected:
        return
    given = credentials.credentials if credentials else ""
    # compare_digest: the time taken must not reveal how much of the token was right.
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(
            status_code=401,
            detail="missing or wrong bearer token: send 'Authorization: Bearer <RAG_API_TOKEN>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
