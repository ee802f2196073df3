"""The API with the LLM engine, against the scripted OpenAI-compatible server: SSE carries the
model's tokens as they arrive and then the verified Answer; failures before any output get an
HTTP status, failures midway an `error` event."""

from __future__ import annotations

import json

import pytest
from conftest import hash_index
from fastapi.testclient import TestClient
from scripted_server import ScriptedServer, error, json_completion, streamed
from test_llm_engine import find

from rag.server import create_app
from rag.settings import Settings

ROCKETS = "How many rockets were fired at the US embassy in Baghdad?"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """Three real articles indexed with the fast hash embedder; tests only read it."""
    return hash_index(tmp_path_factory.mktemp("api-llm"))


@pytest.fixture
def llm():
    with ScriptedServer() as server:
        yield server


def app_for(store, llm, tmp_path, **extra):
    settings = Settings(store_dir=store / "store", corpus_dir=store / "corpus", embedding_model="hash",
                        llm_base_url=llm.url if llm else None, llm_model="scripted-model", llm_timeout=0.5,
                        llm_retries=1, cache_dir=tmp_path / "cache", llm_log=tmp_path / "log.jsonl", **extra)
    return TestClient(create_app(settings, warm=False), base_url="http://localhost")


def events(text: str) -> list[tuple[str, dict]]:
    out = []
    for block in filter(str.strip, text.split("\n\n")):
        fields = dict(line.split(": ", 1) for line in block.split("\n"))
        out.append((fields["event"], json.loads(fields["data"])))
    return out


def rockets_stream(body, **kw):
    n, sentence = find(body, "estimated eight rockets")
    words = f"{sentence} [{n}]".split(" ")
    return streamed([w + " " for w in words[:-1]] + [words[-1]], **kw)


def test_stream_sends_the_models_tokens_then_the_verified_answer(store, llm, tmp_path):
    llm.responder = rockets_stream
    with app_for(store, llm, tmp_path) as client:
        response = client.post("/ask", json={"question": ROCKETS, "engine": "llm", "stream": True})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    got = events(response.text)
    tokens = [data["text"] for name, data in got if name == "token"]
    assert [name for name, _ in got] == ["token"] * len(tokens) + ["answer"]
    assert len(tokens) > 5 and "".join(tokens).startswith("An estimated eight rockets were fired overall")
    answer = got[-1][1]
    assert answer["engine"] == "llm" and all(s["supported"] for s in answer["sentences"])
    assert [(c["source"], c["line_start"]) for c in answer["citations"]] == [("003_568550a85670bdb3.txt", 15)]
    assert llm.chat_requests()[0]["stream"] is True


def test_a_stream_that_breaks_midway_ends_with_an_error_event(store, llm, tmp_path):
    llm.responder = lambda body: rockets_stream(body, drop_after=3)
    with app_for(store, llm, tmp_path) as client:
        response = client.post("/ask", json={"question": ROCKETS, "engine": "llm", "stream": True})
    got = events(response.text)
    assert response.status_code == 200 and [name for name, _ in got] == ["token"] * 3 + ["error"]
    assert got[-1][1]["status"] == 502 and got[-1][1]["error"].startswith("the LLM stream broke after 3 chunks")


def test_a_failure_before_any_output_gets_an_http_status(store, llm, tmp_path):
    llm.script(*[error(500, "down")] * 2)
    with app_for(store, llm, tmp_path) as client:
        response = client.post("/ask", json={"question": ROCKETS, "engine": "llm", "stream": True})
    assert response.status_code == 502 and response.headers["content-type"] == "application/json"
    assert "failed with HTTP 500" in response.json()["error"]


def test_fallback_to_extractive_is_said_in_the_answer(store, llm, tmp_path):
    llm.script(*[error(500, "down")] * 2)
    with app_for(store, llm, tmp_path) as client:
        answer = client.post("/ask", json={"question": ROCKETS, "engine": "llm", "fallback": "extractive"}).json()
    assert answer["engine"] == "extractive" and answer["notes"][0].startswith("the LLM failed")


def test_no_llm_configured_is_503(store, tmp_path):
    with app_for(store, None, tmp_path) as client:
        response = client.post("/ask", json={"question": ROCKETS, "engine": "llm"})
    assert response.status_code == 503 and response.json()["error"].startswith("no LLM endpoint configured")


@pytest.mark.parametrize("prompt", ["../../etc/passwd", "/etc/hostname", "answer.md", "a b"])
def test_prompts_are_names_never_paths(store, llm, tmp_path, prompt):
    with app_for(store, llm, tmp_path) as client:
        response = client.post("/ask", json={"question": ROCKETS, "engine": "llm", "prompt": prompt})
    assert response.status_code == 422 and response.json()["error"].startswith("prompt: String should match")
    assert llm.chat_requests() == []


def test_the_api_removes_or_shows_unsupported_sentences_as_asked(store, llm, tmp_path):
    def with_invention(body):
        n, sentence = find(body, "estimated eight rockets")
        return json_completion({"refused": False, "conflicts": [], "sentences": [
            {"text": sentence, "citations": [n]}, {"text": "The embassy in Baghdad was closed for three weeks.",
                                                   "citations": [n]}]})

    llm.responder = with_invention
    with app_for(store, llm, tmp_path) as client:
        removed = client.post("/ask", json={"question": ROCKETS, "engine": "llm"}).json()
        shown = client.post("/ask", json={"question": ROCKETS, "engine": "llm", "show_unsupported": True}).json()
    assert [s["supported"] for s in removed["sentences"]] == [True]
    assert [r["text"] for r in removed["removed"]] == ["The embassy in Baghdad was closed for three weeks."]
    assert [s["supported"] for s in shown["sentences"]] == [True, False] and shown["removed"] == []


def test_the_api_refusal_keeps_the_rejected_output(store, llm, tmp_path):
    llm.responder = lambda body: json_completion({"refused": False, "conflicts": [], "sentences": [
        {"text": "The 2020 World Series was won by the Los Angeles Dodgers.", "citations": [1]}]})
    with app_for(store, llm, tmp_path) as client:
        answer = client.post("/ask", json={"question": ROCKETS, "engine": "llm"}).json()
    assert answer["refused"] is True and answer["sentences"] == [] and answer["citations"] == []
    assert answer["rejected"]["text"] == "The 2020 World Series was won by the Los Angeles Dodgers. [1]"
