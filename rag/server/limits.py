"""Request-size limits, enforced before a body is parsed (Content-Length) and while it streams in."""

from __future__ import annotations

import json


class _TooLarge(Exception):
    pass


class BodyLimit:
    """ASGI middleware: 413 for a body over `limit` bytes (`upload_limit` for the upload routes)."""

    def __init__(self, app, limit: int, upload_limit: int, upload_routes: set[tuple[str, str]]):
        self.app = app
        self.limit = limit
        self.upload_limit = upload_limit
        self.upload_routes = upload_routes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        upload = (scope["method"], scope["path"]) in self.upload_routes
        limit = self.upload_limit if upload else self.limit
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return await _reject(send, limit, upload)
        seen = 0
        exceeded = rejected = False

        async def counting_receive():
            nonlocal seen, exceeded
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:  # a chunked body, or a Content-Length that lied
                    exceeded = True
                    raise _TooLarge
            return message

        async def guarded_send(message):
            nonlocal rejected
            if not exceeded:
                return await send(message)
            # The framework answers a body it could not read with its own 400: send the 413 instead.
            if message["type"] == "http.response.start" and not rejected:
                rejected = True
                await _reject(send, limit, upload)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except _TooLarge:
            if not rejected:
                await _reject(send, limit, upload)


async def _reject(send, limit: int, upload: bool) -> None:
    what = "upload" if upload else "request body"
    setting = "api_max_upload_bytes" if upload else "api_max_body_bytes"
    body = json.dumps({"error": f"the {what} is larger than {limit} bytes (setting {setting})", "details": []}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
