"""The LLM endpoint's process dies mid-response (SIGKILL, so the kernel drops the connection):
partial output is discarded with one clear line, nothing reaches the response cache, the
failure is logged, and the next complete answer is fetched fresh and then cached.

tests/test_llm_client.py, test_llm_engine.py and test_api_llm.py already cover a stream the
scripted server drops or stalls (client, CLI, SSE), 429/5xx/timeouts and a wrong key; this adds
an endpoint that really dies, for streamed and plain replies, on the library, CLI and API."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import hash_index
from fastapi.testclient import TestClient
from scripted_server import ScriptedServer, streamed
from test_llm_engine import ROCKETS, eight_rockets, find

from rag.api import Rag
from rag.errors import LLMError
from rag.llm.log import read_calls
from rag.server import create_app
from rag.settings import Settings

# A chat-completions endpoint that sends part of its reply and then SIGKILLs itself.
DYING_SERVER = r'''
import json, os, signal, sys, time
from http.server import BaseHTTPRequestHandler, HTTPServer

PIECES = ["An ", "estimated ", "eight ", "rockets ", "were ", "fired ", "overall. ", "[1]"]
DIE_AFTER = 3

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        if body.get("stream"):
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i, piece in enumerate(PIECES):
                if i == DIE_AFTER:
                    os.kill(os.getpid(), signal.SIGKILL)
                event = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": body["model"],
                         "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
                data = f"data: {json.dumps(event)}\n\n".encode()
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()
        else:  # headers and half the JSON body, then death
            reply = {"id": "c", "object": "chat.completion", "created": 0, "model": body["model"],
                     "choices": [{"index": 0, "message": {"role": "assistant", "content": "An estimated eight [1]."},
                                  "finish_reason": "stop"}],
                     "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}}
            data = json.dumps(reply).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            time.sleep(0.2)
            os.kill(os.getpid(), signal.SIGKILL)

server = HTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
'''


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """Three real articles indexed with the fast hash embedder; tests only read it."""
    return hash_index(tmp_path_factory.mktemp("llm-faults"))


@pytest.fixture
def dying(tmp_path):
    """Start a fresh dying endpoint; returns its base URL (each dies after one reply)."""
    script = tmp_path / "dying_server.py"
    script.write_text(DYING_SERVER)
    started = []

    def start() -> str:
        proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
        started.append(proc)
        return f"http://127.0.0.1:{proc.stdout.readline().strip()}/v1"

    yield start
    for proc in started:
        proc.kill()
        proc.wait(10)


def settings_for(store: Path, url: str, tmp_path: Path, **extra) -> Settings:
    return Settings(store_dir=store / "store", corpus_dir=store / "corpus", embedding_model="hash",
                    llm_base_url=url, llm_model="scripted-model", llm_timeout=10, llm_retries=1,
                    cache_dir=tmp_path / "cache", llm_log=tmp_path / "log.jsonl",
                    **{"llm_answer_check": False, **extra})  # the scripted model only answers


def cached_files(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "cache").rglob("*")) if (tmp_path / "cache").exists() else []


def assert_nothing_cached_and_failure_logged(settings: Settings, tmp_path: Path) -> None:
    assert [p for p in cached_files(tmp_path) if p.is_file()] == []  # no entry, no half-written temp file
    calls = read_calls(settings)
    assert calls and calls[-1].error and "\n" not in calls[-1].error


def test_a_stream_whose_endpoint_dies_is_discarded_and_never_cached(store, dying, tmp_path):
    settings = settings_for(store, dying(), tmp_path)
    tokens: list[str] = []
    with pytest.raises(LLMError) as failure:
        Rag(settings).ask(ROCKETS, engine="llm", on_token=tokens.append)
    assert "".join(tokens) == "An estimated eight "  # what arrived before the death, and no answer
    message = str(failure.value)
    assert "\n" not in message and message.startswith("the LLM stream broke after 3 chunks")
    assert_nothing_cached_and_failure_logged(settings, tmp_path)

    with ScriptedServer() as revived:  # the same request again: a miss, then a cached answer
        revived.responder = lambda body: streamed([f"{find(body, 'estimated eight rockets')[1]} "
                                                   f"[{find(body, 'estimated eight rockets')[0]}]"])
        again = settings.model_copy(update={"llm_base_url": revived.url})
        answer = Rag(again).ask(ROCKETS, engine="llm", on_token=lambda t: None)
        assert answer.citations and len(revived.chat_requests()) == 1
        Rag(again).ask(ROCKETS, engine="llm", on_token=lambda t: None)
        assert len(revived.chat_requests()) == 1  # complete, so now cached
    assert [p for p in cached_files(tmp_path) if p.suffix == ".json"]


def test_a_plain_reply_cut_off_by_the_endpoints_death_is_one_line(store, dying, tmp_path):
    settings = settings_for(store, dying(), tmp_path)
    with pytest.raises(LLMError) as failure:
        Rag(settings).ask(ROCKETS, engine="llm")
    assert "\n" not in str(failure.value) and "LLM endpoint" in str(failure.value)
    assert_nothing_cached_and_failure_logged(settings, tmp_path)


def test_the_cli_stream_stops_with_one_line_and_no_answer(cli, store, dying, tmp_path):
    url = dying()
    code, out, err = cli("ask", ROCKETS, "--engine", "llm", "--stream", "--store-dir", store / "store",
                         "--base-url", url, "--model", "scripted-model", "--set", "embedding_model=hash",
                         "--set", f"cache_dir={tmp_path / 'cache'}", "--set", f"llm_log={tmp_path / 'log.jsonl'}",
                         "--set", "llm_retries=1")
    assert code == 1 and out == "An estimated eight " and "--- verified ---" not in out
    assert err.startswith("error: the LLM stream broke after 3 chunks") and err.count("\n") == 1
    assert [p for p in cached_files(tmp_path) if p.is_file()] == []


def test_the_api_stream_ends_with_an_error_event_and_caches_nothing(store, dying, tmp_path):
    settings = settings_for(store, dying(), tmp_path)
    with TestClient(create_app(settings, warm=False), base_url="http://localhost") as client:
        response = client.post("/ask", json={"question": ROCKETS, "engine": "llm", "stream": True})
        events = [(b.split("\n")[0].removeprefix("event: "), json.loads(b.split("\n")[1].removeprefix("data: ")))
                  for b in response.text.split("\n\n") if b.strip()]
        assert [name for name, _ in events] == ["token"] * 3 + ["error"]
        assert events[-1][1]["status"] == 502 and "stream broke after 3 chunks" in events[-1][1]["error"]
        assert not any(name == "answer" for name, _ in events)
        plain = client.post("/ask", json={"question": ROCKETS, "engine": "llm"})  # the endpoint is dead now
        assert plain.status_code == 502 and "\n" not in plain.json()["error"]
    assert_nothing_cached_and_failure_logged(settings, tmp_path)


def test_the_llm_brief_fails_cleanly_when_the_endpoint_dies(cli, store, dying, tmp_path):
    url = dying()
    code, out, err = cli("brief", "the rocket attack", "--engine", "llm", "--store-dir", store / "store",
                         "--base-url", url, "--model", "scripted-model", "--set", "embedding_model=hash",
                         "--set", f"cache_dir={tmp_path / 'cache'}", "--set", f"llm_log={tmp_path / 'log.jsonl'}",
                         "--set", "llm_retries=1")
    assert code == 1 and out == "" and err.startswith("error: ") and err.count("\n") == 1, err
    assert [p for p in cached_files(tmp_path) if p.is_file()] == []


def test_a_complete_reply_is_still_cached_after_a_failed_one(store, tmp_path):
    """Control for the tests above: the cache does work, so their empty caches mean something."""
    with ScriptedServer(eight_rockets) as server:
        settings = settings_for(store, server.url, tmp_path)
        Rag(settings).ask(ROCKETS, engine="llm")
        Rag(settings).ask(ROCKETS, engine="llm")
        assert len(server.chat_requests()) == 1
    assert [p for p in cached_files(tmp_path) if p.suffix == ".json"]
