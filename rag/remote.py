"""A running `rag serve` answers for its store: `rag ask` and `rag search` hand it the question.

The server announces itself in `<store>/server.json` (its pid, address and what its answers
depend on: the settings hash, the Chroma URL, the LLM endpoint), and withdraws the file when it
stops. A client uses it only when the process is alive, the settings match its own (so the
answer is the one it would compute itself), and the token rules hold: the client sends its own
RAG_API_TOKEN, and a server that requires a token the client does not have is not used. The
answer's own settings hash is checked again. Any failure returns None and the caller answers in
process. Only the standard library is imported here: the point is a fast cold start.
"""

from __future__ import annotations

import http.client
import json
import os
from pathlib import Path
from urllib.parse import urlencode, urlparse

SERVER_FILE = "server.json"
_CONNECT_TIMEOUT = 0.5  # a live server on this machine accepts at once
_ANSWER_TIMEOUT = 600.0  # an LLM answer may take minutes


def identity(settings) -> dict:
    """What a server's answers depend on beside the store: a client must ask for the same."""
    return {"settings_hash": settings.settings_hash(), "chroma_url": settings.chroma_url,
            "llm_base_url": settings.llm_base_url}


def announce(settings, url: str) -> Path:
    """Write the server file (atomically, readable only by its owner)."""
    store = Path(settings.store_dir)
    store.mkdir(parents=True, exist_ok=True)
    data = {"pid": os.getpid(), "url": url, "token": bool(settings.api_token), **identity(settings)}
    tmp = store / f".{SERVER_FILE}.{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle)
    tmp.replace(store / SERVER_FILE)
    return store / SERVER_FILE


def withdraw(settings) -> None:
    """Remove the server file if this process wrote it."""
    path = Path(settings.store_dir) / SERVER_FILE
    try:
        if json.loads(path.read_text()).get("pid") == os.getpid():
            path.unlink()
    except (OSError, ValueError):
        pass


def find(settings) -> dict | None:
    """The announced server for this store and these settings, or None."""
    try:
        data = json.loads((Path(settings.store_dir) / SERVER_FILE).read_text())
        os.kill(int(data["pid"]), 0)  # alive (a SIGKILLed server leaves its file behind)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if data.get("token") and not settings.api_token:
        return None
    if any(data.get(k) != v for k, v in identity(settings).items()):
        return None
    return data


def ask(settings, question: str, k: int | None, filters: dict) -> dict | None:
    """The server's Answer as JSON, or None (no usable server: answer in process). `filters`:
    source, since and until as JSON values (None when not given)."""
    return _call(settings, "POST", "/ask", {"question": question, "k": k, **filters})


def search(settings, query: str, k: int | None, filters: dict) -> dict | None:
    """The server's SearchResult as JSON, or None."""
    params = {"q": query, **({"k": k} if k else {}), **{key: v for key, v in filters.items() if v}}
    return _call(settings, "GET", "/search?" + urlencode(params), None)


def _call(settings, method: str, path: str, body: dict | None) -> dict | None:
    server = find(settings)
    if server is None:
        return None
    url = urlparse(server["url"])
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if settings.api_token:
        headers["Authorization"] = f"Bearer {settings.api_token}"
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=_CONNECT_TIMEOUT)
    try:
        connection.connect()
        connection.sock.settimeout(_ANSWER_TIMEOUT)
        connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        response = connection.getresponse()
        payload = response.read()
    except (OSError, http.client.HTTPException):
        return None
    finally:
        connection.close()
    if response.status != 200:
        return None  # its error is answered again, in process, with the same one-line message
    try:
        data = json.loads(payload)
    except ValueError:
        return None
    return data if data.get("settings_hash") == server["settings_hash"] else None
