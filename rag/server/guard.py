"""Browser attacks on a server without a token: DNS rebinding and cross-site writes.

A page on any web site can make the visitor's browser send requests to 127.0.0.1. Two rules
stop what it could do with them (README "Security"):
- Host allow-list. A rebinding page reaches the server under its own name (attacker.example
  resolving to 127.0.0.1), so the Host header names it. Only the bound address, localhost and
  the loopback addresses, plus `api_allowed_hosts`, are served; on a wildcard address (0.0.0.0)
  any IP literal and this machine's name are too (a rebinding page cannot make a browser send
  an IP literal as the Host of its own origin). Others get 421.
- No cross-site writes. A state-changing request (any method but GET, HEAD, OPTIONS) with an
  Origin other than the server's own or one of `api_cors_origins`, or with `Sec-Fetch-Site:
  cross-site`/`same-site`, is refused with 403. A multipart upload (POST /documents) is what a
  plain HTML form can send cross-site without a CORS preflight, so it also needs a header no
  form can set: `X-Rag-Client` (any value) or `Authorization`. JSON routes need
  `Content-Type: application/json`, which FastAPI requires, and which a cross-site page cannot
  send without a preflight that CORS refuses.
A request that carries `Authorization` is not a form (browsers never add it cross-site without
a preflight), and the bearer token check then decides. With `api_token` set, every protected
route needs the token, which no other site has, so the cross-site rules are left to it.
"""

from __future__ import annotations

import ipaddress
import json
import socket
from urllib.parse import urlsplit

UPLOAD_HEADER = "x-rag-client"
_SAFE = {"GET", "HEAD", "OPTIONS"}
_LOOPBACK = {"localhost", "127.0.0.1", "::1"}
_WILDCARD = {"0.0.0.0", "::", ""}


def allowed_hosts(bound: str | None, extra: list[str]) -> tuple[set[str], bool]:
    """(host names served, whether any IP literal is) for a server bound to `bound`."""
    names = set(_LOOPBACK) | {h.lower().strip("[]") for h in extra}
    wildcard = bound is not None and bound in _WILDCARD
    if bound and not wildcard:
        names.add(bound.lower().strip("[]"))
    if wildcard:
        names |= {socket.gethostname().lower(), socket.getfqdn().lower()}
    return names, wildcard


def hostname(host_header: str) -> str:
    """'Example.org:8000' → 'example.org'; '[::1]:8000' → '::1'."""
    return (urlsplit(f"//{host_header}").hostname or "").lower()


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        return False


class SiteGuard:
    """ASGI middleware enforcing the Host allow-list and the cross-site rules above."""

    def __init__(self, app, hosts: set[str], any_ip: bool, cors_origins: list[str],
                 upload_routes: set[tuple[str, str]], token: bool):
        self.app = app
        self.token = token
        self.hosts = hosts
        self.any_ip = any_ip
        self.cors_origins = {o.rstrip("/").lower() for o in cors_origins}
        self.upload_routes = upload_routes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host", "")
        name = hostname(host)
        if name not in self.hosts and not (self.any_ip and _is_ip(name)):
            return await _refuse(send, 421, f"this server does not answer for host {name or host!r}; "
                                            "add it to api_allowed_hosts if it is yours")
        writes = not self.token and scope["method"] not in _SAFE and "authorization" not in headers
        if writes and (reason := self._cross_site(scope, headers, host)):
            return await _refuse(send, 403, reason)
        return await self.app(scope, receive, send)

    def _cross_site(self, scope, headers: dict, host: str) -> str | None:
        origin = headers.get("origin")
        if origin is not None:
            own = {f"http://{host}".lower(), f"https://{host}".lower()}
            if origin.rstrip("/").lower() not in own | self.cors_origins:
                return f"cross-site request refused (Origin {origin}); send a bearer token or use this server's own page"
        elif headers.get("sec-fetch-site") in ("cross-site", "same-site"):
            return "cross-site request refused (Sec-Fetch-Site); send a bearer token or use this server's own page"
        if (scope["method"], scope["path"]) in self.upload_routes and UPLOAD_HEADER not in headers:
            return ("uploads need the X-Rag-Client header (any value) or a bearer token, "
                    "which a form on another site cannot send")
        return None


async def _refuse(send, status: int, message: str) -> None:
    body = json.dumps({"error": message, "details": []}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
