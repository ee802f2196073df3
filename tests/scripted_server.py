"""A real HTTP server on 127.0.0.1 that speaks the OpenAI chat-completions protocol, with
scripted replies: plain and streamed completions, HTTP errors, delays, and streams that stall
or drop midway. It records every request so tests can check what the client sent.

    with ScriptedServer() as server:
        server.script(error(429), completion("Hello [1]."))
        settings = Settings(llm_base_url=server.url, ...)
        ...
        server.requests[-1]["body"]["messages"]

A `responder(body) -> Reply` can compute replies from the request instead of a fixed script.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self


@dataclass
class Reply:
    status: int = 200
    content: str = ""
    stream: list[str] | None = None  # content pieces, sent as server-sent events
    delay: float = 0.0  # seconds before the response starts
    stall_after: int | None = None  # stream: stop sending (but keep the connection) after N pieces
    drop_after: int | None = None  # stream: close the connection after N pieces
    usage: tuple[int, int] | None = None  # (prompt, completion) tokens; None: counted from words
    error_message: str = ""
    headers: dict = field(default_factory=dict)
    finish_reason: str = "stop"


def completion(content: str, **kw) -> Reply:
    return Reply(content=content, **kw)


def json_completion(obj, **kw) -> Reply:
    return Reply(content=json.dumps(obj), **kw)


def streamed(pieces: list[str], **kw) -> Reply:
    return Reply(stream=pieces, **kw)


def error(status: int, message: str = "", **kw) -> Reply:
    return Reply(status=status, error_message=message or f"scripted error {status}", **kw)


class ScriptedServer:
    def __init__(self, responder: Callable[[dict], Reply] | None = None):
        self.replies: deque[Reply] = deque()
        self.responder = responder
        self.requests: list[dict] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        server = self

        class Handler(_Handler):
            owner = server

        self.httpd = _Server(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def script(self, *replies: Reply) -> ScriptedServer:
        with self._lock:
            self.replies.extend(replies)
        return self

    def chat_requests(self) -> list[dict]:
        return [r["body"] for r in self.requests if r["path"].endswith("/chat/completions")]

    def next_reply(self, body: dict) -> Reply:
        with self._lock:
            if self.replies:
                return self.replies.popleft()
        if self.responder is not None:
            return self.responder(body)
        return error(500, "the test script has no reply left")

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()  # releases stalled streams
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


class _Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        import sys

        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)  # a client that gave up is expected


class _Handler(BaseHTTPRequestHandler):
    owner: ScriptedServer
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def do_GET(self) -> None:
        if self.path.rstrip("/").endswith("/models"):
            self._json(200, {"object": "list", "data": [{"id": "scripted", "object": "model"}]})
        else:
            self._json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {}
        self.owner.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
        if self.path.rstrip("/").endswith("/embeddings"):
            self._json(200, _embeddings(body))
            return
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
            return
        reply = self.owner.next_reply(body)
        if reply.delay and self.owner._stop.wait(reply.delay):
            return
        if reply.status != 200:
            self._json(reply.status, {"error": {"message": reply.error_message, "type": "scripted",
                                                "code": reply.status}}, reply.headers)
        elif reply.stream is not None:
            self._stream(reply, body)
        else:
            self._json(200, _completion(body, reply), reply.headers)

    def _json(self, status: int, payload: dict, headers: dict | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, str(value))
        self.end_headers()
        self.wfile.write(data)

    def _stream(self, reply: Reply, body: dict) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        base = {"id": "chatcmpl-scripted", "object": "chat.completion.chunk", "created": int(time.time()),
                "model": body.get("model", "scripted")}
        for i, piece in enumerate(reply.stream):
            if reply.drop_after is not None and i >= reply.drop_after:
                self.close_connection = True
                self.wfile.flush()
                self.connection.shutdown(2)  # mid-stream, no terminating chunk
                return
            if reply.stall_after is not None and i >= reply.stall_after:
                self.owner._stop.wait(60)
                return
            self._event({**base, "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]})
        self._event({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": reply.finish_reason}]})
        if (body.get("stream_options") or {}).get("include_usage"):
            self._event({**base, "choices": [], "usage": _usage(body, "".join(reply.stream), reply.usage)})
        self._chunk(b"data: [DONE]\n\n")
        self._chunk(b"")

    def _event(self, payload: dict) -> None:
        self._chunk(f"data: {json.dumps(payload)}\n\n".encode())

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()


def _usage(body: dict, content: str, usage: tuple[int, int] | None) -> dict:
    if usage is None:
        prompt = sum(len(str(m.get("content", "")).split()) for m in body.get("messages", []))
        usage = (prompt, len(content.split()))
    return {"prompt_tokens": usage[0], "completion_tokens": usage[1], "total_tokens": sum(usage)}


def _completion(body: dict, reply: Reply) -> dict:
    return {
        "id": "chatcmpl-scripted", "object": "chat.completion", "created": int(time.time()),
        "model": body.get("model", "scripted"),
        "choices": [{"index": 0, "message": {"role": "assistant", "content": reply.content},
                     "finish_reason": reply.finish_reason}],
        "usage": _usage(body, reply.content, reply.usage),
    }


def _embeddings(body: dict) -> dict:
    """Deterministic 8-dimensional vectors from the text's bytes, in request order."""
    texts = body.get("input") or []
    texts = [texts] if isinstance(texts, str) else texts
    data = [{"object": "embedding", "index": i, "embedding": [float((sum(t.encode()) * (j + 1)) % 97) + 1.0
                                                             for j in range(8)]}
            for i, t in enumerate(texts)]
    data.reverse()  # servers may answer out of order: the index says where each vector goes
    return {"object": "list", "data": data, "model": body.get("model"), "usage": {"prompt_tokens": 0, "total_tokens": 0}}
