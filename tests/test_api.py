"""The HTTP API over the real corpus index (MiniLM + embedded Chroma): every endpoint returns what
the library returns, errors are clear 4xx, auth, limits, CORS, metrics, SSE and concurrency."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from live_server import LiveServer, free_port

from rag.retrieval import Filters
from rag.server import create_app
from rag.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
QUESTION = "How many rockets were fired at the US embassy in Baghdad?"
QUESTIONS = [
    QUESTION,
    "Who did Pompeo blame for the rocket attack?",
    "What did Trump say about Iran?",
    "What is the capital of Australia?",  # the corpus cannot answer it: a refusal
]


def api_settings(store: Path, **extra) -> Settings:
    # Explicit values: module fixtures run before the per-test environment isolation.
    return Settings(store_dir=store, corpus_dir=CORPUS, api_token=extra.pop("api_token", None), **extra)


def comparable(answer: dict) -> dict:
    """An Answer as JSON without its timings, which differ between two runs of the same question."""
    return {k: v for k, v in answer.items() if k != "timings"}


@pytest.fixture(scope="module")
def client(corpus_store):
    with TestClient(create_app(api_settings(corpus_store)), base_url="http://localhost") as c:
        yield c


@pytest.fixture(scope="module")
def reference(corpus_rag):
    """The library's own answers, computed once, one at a time."""
    cache = {}

    def answer(question: str) -> dict:
        if question not in cache:
            cache[question] = comparable(corpus_rag.ask(question).model_dump(mode="json"))
        return cache[question]

    return answer


def sse(text: str) -> list[tuple[str, dict]]:
    events = []
    for block in text.split("\n\n"):
        if not block.strip():
            continue
        fields = dict(line.split(": ", 1) for line in block.split("\n"))
        events.append((fields["event"], json.loads(fields["data"])))
    return events


# --- answers, search, documents: the same objects as the library --------------------------------


def test_ask_returns_the_library_answer(client, reference):
    response = client.post("/ask", json={"question": QUESTION})
    assert response.status_code == 200
    body = response.json()
    assert comparable(body) == reference(QUESTION)
    assert body["citations"] and not body["refused"]


def test_ask_refusal_is_an_answer_not_an_error(client, reference):
    response = client.post("/ask", json={"question": QUESTIONS[3]})
    assert response.status_code == 200
    assert response.json()["refused"] is True
    assert comparable(response.json()) == reference(QUESTIONS[3])


def test_ask_takes_the_cli_filters(client, corpus_rag):
    body = {"question": QUESTION, "k": 3, "source": "00[34]_*.txt", "since": "2020-01-01", "until": "2020-12-31"}
    answer = client.post("/ask", json=body).json()
    filters = Filters(source="00[34]_*.txt", since=dt.date(2020, 1, 1), until=dt.date(2020, 12, 31))
    expected = corpus_rag.ask(QUESTION, 3, filters)
    assert comparable(answer) == comparable(expected.model_dump(mode="json"))
    assert answer["retrieved"] and all(s.startswith(("003_", "004_")) for s in answer["retrieved"])


def test_every_citation_resolves_to_its_quote(client):
    answer = client.post("/ask", json={"question": QUESTION}).json()
    for citation in answer["citations"]:
        passage = client.get(f"/documents/{citation['source']}",
                             params={"lines": f"{citation['line_start']}-{citation['line_end']}"}).json()
        assert passage["line_start"] == citation["line_start"] and passage["line_end"] == citation["line_end"]
        assert citation["quote"] in "\n".join(passage["lines"])


def test_stream_is_tokens_then_the_same_answer(client, reference):
    response = client.post("/ask", json={"question": QUESTION, "stream": True})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = sse(response.text)
    names = [name for name, _ in events]
    assert names[-1] == "answer" and set(names[:-1]) == {"token"}
    final = events[-1][1]
    assert comparable(final) == reference(QUESTION)
    assert "".join(data["text"] for name, data in events if name == "token") == final["answer"]


def test_search_returns_the_library_result(client, corpus_rag):
    response = client.get("/search", params={"q": "rockets fired at the embassy", "k": 3})
    assert response.status_code == 200
    hits = response.json()["hits"]
    expected = corpus_rag.search("rockets fired at the embassy", 3).hits
    assert [(h["chunk"]["id"], h["rank"]) for h in hits] == [(h.chunk.id, h.rank) for h in expected]


def test_documents_list_every_indexed_article(client, corpus_rag):
    listing = client.get("/documents").json()
    assert listing["total"] == 5
    assert [d["source"] for d in listing["documents"]] == sorted(p.name for p in CORPUS.glob("*.txt"))
    article = corpus_rag.store.docs.article(listing["documents"][0]["source"])
    assert listing["documents"][0]["title"] == article.title and listing["documents"][0]["n_lines"] == article.n_lines
    assert "path" not in listing["documents"][0]  # server file paths stay on the server
    page = client.get("/documents", params={"source": "00[12]_*", "offset": 1, "limit": 1}).json()
    assert page["total"] == 2 and [d["source"] for d in page["documents"]] == ["002_5cca6cf56978dda1.txt"]


def test_document_lines_are_rag_show(client, corpus_rag):
    source = "003_568550a85670bdb3.txt"
    assert client.get(f"/documents/{source}", params={"lines": "13-15"}).json() == \
        corpus_rag.show(f"{source}:13-15").model_dump(mode="json")
    assert client.get(f"/documents/{source}", params={"lines": "7"}).json()["lines"] == corpus_rag.show(f"{source}:7").lines
    whole = client.get(f"/documents/{source}").json()
    assert whole["line_start"] == 1 and len(whole["lines"]) == whole["line_end"]


@pytest.mark.parametrize("path, status, says", [
    ("/documents/nothing-here.txt", 404, "unknown source"),
    ("/documents/003_568550a85670bdb3.txt?lines=9000-9001", 400, "out of range"),
    ("/documents/003_568550a85670bdb3.txt?lines=5-2", 400, "backwards"),
    ("/documents/003_568550a85670bdb3.txt?lines=abc", 400, "lines must look like"),
    ("/documents/..%2F..%2Fetc%2Fpasswd", 400, "'..' is not allowed"),
    ("/documents/corpus/..%2F..%2Fsecret.txt", 400, "'..' is not allowed"),
    ("/documents/%2Fetc%2Fpasswd", 400, "absolute paths"),
    ("/documents//etc/passwd", 400, "absolute paths"),
    ("/documents/C:%5Cwindows%5Cwin.ini", 400, "absolute paths"),
    ("/documents/a%5C..%5Cb.txt", 400, "invalid characters"),
])
def test_document_errors_are_clear(client, path, status, says):
    response = client.get(path)
    assert response.status_code == status
    assert says in response.json()["error"]


# --- validation and limits ---------------------------------------------------------------------


@pytest.mark.parametrize("body, says", [
    ({"question": ""}, "question: String should have at least 1 character"),
    ({"question": "x" * 2001}, "question: String should have at most 2000 characters"),
    ({}, "question: Field required"),
    ({"question": "why?", "k": 0}, "k: Input should be greater than or equal to 1"),
    ({"question": "why?", "since": "last week"}, "since: Input should be a valid date"),
    ({"question": "why?", "since": "2021-01-02", "until": "2021-01-01"}, "is after until"),
    ({"question": "why?", "colour": "red"}, "colour: Extra inputs are not permitted"),
    ({"question": ["a list"]}, "question: Input should be a valid string"),
])
def test_ask_validation_is_422_with_one_line(client, body, says):
    response = client.post("/ask", json=body)
    assert response.status_code == 422
    assert says in response.json()["error"]
    assert "\n" not in response.json()["error"]


def test_bad_questions_get_400_from_the_library(client):
    for question, says in [("?!?", "no words"), ("   ", "empty")]:
        response = client.post("/ask", json={"question": question})
        assert response.status_code == 400 and says in response.json()["error"]
    response = client.post("/ask", json={"question": "why?", "engine": "telepathy"})
    assert response.status_code == 400 and "unknown engine" in response.json()["error"]


def test_invalid_json_is_422(client):
    response = client.post("/ask", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 422 and "JSON" in response.json()["error"]


def test_search_validation(client):
    assert client.get("/search").status_code == 422
    assert "q:" in client.get("/search", params={"q": ""}).json()["error"]
    assert client.get("/search", params={"q": "x", "k": 201}).status_code == 422


def test_oversized_bodies_are_413(client):
    big = json.dumps({"question": "x" * 70_000}).encode()
    response = client.post("/ask", content=big, headers={"content-type": "application/json"})
    assert response.status_code == 413 and "larger than 64000 bytes" in response.json()["error"]

    def chunked():  # no Content-Length: the limit is enforced while the body streams in
        for _ in range(10):
            yield b"x" * 10_000

    response = client.post("/ask", content=chunked(), headers={"content-type": "application/json"})
    assert response.status_code == 413


# --- service endpoints -------------------------------------------------------------------------


def test_healthz_and_status(client, corpus_rag):
    assert client.get("/healthz").json()["status"] == "ok"
    status = client.get("/status").json()
    assert status["documents"] == 5 and status["chunks"] == corpus_rag.status().chunks
    assert client.get("/status", params={"check": True}).json()["problems"] == []


def test_metrics_count_requests_by_route_template(corpus_store):
    with TestClient(create_app(api_settings(corpus_store), warm=False), base_url="http://localhost") as c:
        for source in ("000_eb6e83a28ce734ce.txt", "001_c31d4bc7025f9123.txt"):
            c.get(f"/documents/{source}", params={"lines": "1"})
        c.get("/documents/unknown.txt")
        c.get("/search", params={"q": ""})
        report = c.get("/metrics", params={"format": "json"}).json()
        routes = {(r["method"], r["route"]): r for r in report["routes"]}
        docs = routes[("GET", "/documents/{source}")]
        assert docs["count"] == 3 and docs["statuses"] == {"200": 2, "404": 1}
        assert 0 < docs["p50_seconds"] <= docs["max_seconds"]
        assert routes[("GET", "/search")]["statuses"] == {"422": 1}
        text = c.get("/metrics").text
    assert 'rag_http_requests_total{method="GET",route="/documents/{source}",status="200"} 2' in text
    assert 'rag_http_request_seconds_count{method="GET",route="/documents/{source}"} 3' in text
    assert "rag_http_requests_in_flight" in text


def test_openapi_and_docs_are_served_locally(client):
    schema = client.get("/openapi.json").json()
    for path in ("/ask", "/brief", "/search", "/ingest", "/documents", "/documents/{source}", "/healthz", "/metrics", "/status"):
        assert path in schema["paths"], path
    assert schema["components"]["schemas"]["Answer"]["properties"]["citations"]
    docs = client.get("/docs").text
    assert "http://" not in docs and "https://" not in docs  # no CDN: works offline
    assert client.get("/docs-assets/swagger-ui-bundle.js").status_code == 200
    assert "SwaggerUIBundle" in client.get("/static/docs.js").text


# --- auth and CORS -----------------------------------------------------------------------------


def test_token_required_everywhere_but_healthz(corpus_store):
    app = create_app(api_settings(corpus_store, api_token="s3cret-token"), warm=False)
    calls = [("GET", "/status", None), ("GET", "/search?q=rockets", None), ("GET", "/documents", None),
             ("GET", "/documents/003_568550a85670bdb3.txt?lines=1", None), ("GET", "/metrics", None),
             ("GET", "/openapi.json", None), ("POST", "/ask", {"question": "?"}), ("POST", "/brief", {}), ("POST", "/ingest", {"paths": []}),
             ("POST", "/documents", None), ("GET", "/evals", None)]
    with TestClient(app, base_url="http://localhost") as c:
        assert c.get("/healthz").status_code == 200
        for method, path, body in calls:
            for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic s3cret-token"}):
                response = c.request(method, path, json=body, headers=headers)
                assert response.status_code == 401, (path, headers)
                assert response.headers["www-authenticate"] == "Bearer"
                assert "bearer token" in response.json()["error"]
        good = {"Authorization": "Bearer s3cret-token"}
        assert c.get("/status", headers=good).status_code == 200
        assert c.get("/documents/003_568550a85670bdb3.txt", params={"lines": "1"}, headers=good).status_code == 200
        # The page and docs shells carry no data; the page asks for the token and sends it.
        assert c.get("/").status_code == 200 and c.get("/docs").status_code == 200


def test_cors_is_off_by_default_and_explicit_when_on(client, corpus_store):
    preflight = {"Origin": "https://elsewhere.example", "Access-Control-Request-Method": "POST"}
    response = client.options("/ask", headers=preflight)
    assert "access-control-allow-origin" not in response.headers
    assert "access-control-allow-origin" not in client.get("/healthz", headers={"Origin": "https://x.example"}).headers
    settings = api_settings(corpus_store, api_cors_origins=["https://intranet.example"])
    with TestClient(create_app(settings, warm=False), base_url="http://localhost") as c:
        allowed = c.options("/ask", headers={**preflight, "Origin": "https://intranet.example"})
        assert allowed.headers["access-control-allow-origin"] == "https://intranet.example"
        assert "access-control-allow-origin" not in c.options("/ask", headers=preflight).headers


# --- a real server: concurrency and `rag serve` ---------------------------------------------------


def test_twenty_concurrent_asks_all_answer_correctly(corpus_store, reference):
    expected = {q: reference(q) for q in QUESTIONS}
    with LiveServer(create_app(api_settings(corpus_store))) as server:
        def ask(i: int) -> tuple[str, httpx.Response]:
            question = QUESTIONS[i % len(QUESTIONS)]
            return question, httpx.post(f"{server.url}/ask", json={"question": question, "stream": i % 5 == 0},
                                        timeout=300)

        with ThreadPoolExecutor(20) as pool:
            results = list(pool.map(ask, range(20)))
        metrics = httpx.get(f"{server.url}/metrics", params={"format": "json"}).json()
    for question, response in results:
        assert response.status_code == 200, response.text
        body = sse(response.text)[-1][1] if response.headers["content-type"].startswith("text/event-stream") \
            else response.json()
        assert comparable(body) == expected[question]
    ask_metrics = next(r for r in metrics["routes"] if r["route"] == "/ask")
    assert ask_metrics["statuses"] == {"200": 20}


def test_rag_serve_command_serves_the_index(corpus_store, tmp_path):
    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    command = [sys.executable, "-m", "rag", "serve", "--port", str(port), "--store-dir", str(corpus_store),
               "--set", f"corpus_dir={CORPUS}"]
    with open(tmp_path / "serve.log", "w") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
            time.sleep(0.2)
        status = httpx.get(f"http://127.0.0.1:{port}/status", timeout=30).json()
        assert status["documents"] == 5
        assert "<title>rag" in httpx.get(f"http://127.0.0.1:{port}/", timeout=10).text
    finally:
        process.terminate()
        process.wait(20)


def test_rag_serve_rejects_a_bad_port(cli):
    code, _, err = cli("serve", "--port", "70000")
    assert code == 2 and "65535" in err


def test_rag_serve_warns_when_it_serves_the_network_without_a_token(cli, monkeypatch, corpus_store):
    import uvicorn

    runs = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: runs.append(options))
    code, _, err = cli("serve", "--host", "0.0.0.0", "--port", "9123", "--store-dir", corpus_store)
    assert code == 0 and runs[-1] == {"host": "0.0.0.0", "port": 9123, "log_level": "info"}
    assert "warning: serving 0.0.0.0 without a token" in err
    monkeypatch.setenv("RAG_API_TOKEN", "a-token")
    code, _, err = cli("serve", "--host", "0.0.0.0", "--store-dir", corpus_store)
    assert code == 0 and err == "" and runs[-1]["port"] == 8000


# --- briefings ---------------------------------------------------------------------------------

TOPIC = "rocket attacks on the US embassy in Baghdad"


@pytest.fixture(scope="module")
def reference_briefing(corpus_rag):
    return corpus_rag.brief(TOPIC)


def test_brief_returns_the_library_briefing(client, reference_briefing):
    response = client.post("/brief", json={"topic": TOPIC})
    assert response.status_code == 200
    assert comparable(response.json()) == comparable(reference_briefing.model_dump(mode="json"))
    assert reference_briefing.citations and reference_briefing.summary


def test_brief_renders_markdown_and_html_like_the_cli(client, reference_briefing):
    from rag.brief.render import render

    for fmt, media in (("md", "text/markdown"), ("html", "text/html")):
        response = client.post("/brief", json={"topic": TOPIC, "format": fmt})
        assert response.status_code == 200 and response.headers["content-type"].startswith(media)
        assert response.text == render(reference_briefing, fmt)


def test_brief_of_the_whole_corpus_takes_the_filters(client, corpus_rag):
    body = {"source": "00[34]_*.txt", "since": "2020-01-01", "until": "2020-12-31"}
    briefing = client.post("/brief", json=body).json()
    expected = corpus_rag.brief(None, Filters(source="00[34]_*.txt", since=dt.date(2020, 1, 1), until=dt.date(2020, 12, 31)))
    assert comparable(briefing) == comparable(expected.model_dump(mode="json"))
    assert briefing["topic"] is None and {s["source"][:4] for s in briefing["sources"]} <= {"003_", "004_"}


@pytest.mark.parametrize("body, status, says", [
    ({"topic": ""}, 422, "topic: String should have at least 1 character"),
    ({"format": "pdf"}, 422, "format: Input should be 'json', 'md' or 'html'"),
    ({"since": "2021-02-01", "until": "2021-01-01"}, 422, "is after until"),
    ({"engine": "oracle"}, 400, "unknown engine 'oracle'"),
])
def test_brief_bad_requests(client, body, status, says):
    response = client.post("/brief", json=body)
    assert response.status_code == status and says in response.json()["error"]


def test_search_and_ask_take_as_of(client, corpus_rag):
    params = {"q": "rockets fired at the embassy", "k": 3, "as_of": "2020-12-23"}
    served = client.get("/search", params=params).json()
    expected = corpus_rag.search(params["q"], 3, Filters(as_of=dt.date(2020, 12, 23)))
    assert [h["chunk"]["id"] for h in served["hits"]] == [h.chunk.id for h in expected.hits]
    assert served["hits"] and all(h["chunk"]["date"] <= "2020-12-23" for h in served["hits"])
    answer = client.post("/ask", json={"question": QUESTION, "as_of": "2019-01-01"}).json()
    assert answer["refused"] is True and answer["retrieved"] == []
    assert client.get("/search", params={"q": "x", "as_of": "soon"}).status_code == 422
