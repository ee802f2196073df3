"""Writing through the API: ingest under the corpus root only, uploads, read-only mode, the write
lock, an empty store, and an ingest while queries are in flight. Uses the fast hash embedder."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from live_server import LiveServer

from rag.api import Rag
from rag.index.store import Store
from rag.server import create_app

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
UPLOADER = {"X-Rag-Client": "test"}  # uploads need it without a token (tests/test_api_guard.py)

ARTICLE = """---
title: Harbour bridge reopens after repairs
date: 2021-03-04
---
The harbour bridge reopened on Thursday after repairs that cost 12 million dollars.

Engineers replaced 40 steel cables over six months, the city transport office said.
"""


@pytest.fixture
def client(small_corpus):
    with TestClient(create_app(small_corpus, warm=False), base_url="http://localhost", headers=UPLOADER) as c:
        yield c


def test_ingest_a_path_under_the_corpus_root(client, small_corpus):
    (small_corpus.corpus_dir / "bridge.md").write_text(ARTICLE)
    dry = client.post("/ingest", json={"paths": ["bridge.md"], "dry_run": True})
    assert dry.status_code == 200 and dry.json()["dry_run"] and dry.json()["added"] == ["bridge.md"]
    assert client.get("/documents").json()["total"] == 0  # a dry run changes nothing

    report = client.post("/ingest", json={"paths": ["bridge.md"]}).json()
    assert report["added"] == ["bridge.md"] and report["chunks"] >= 1
    everything = client.post("/ingest", json={}).json()  # no paths: the whole corpus root
    assert sorted(everything["added"]) == ["000_eb6e83a28ce734ce.txt", "003_568550a85670bdb3.txt"]
    assert everything["skipped"] == ["bridge.md"]
    assert client.get("/documents").json()["total"] == 3
    hits = client.get("/search", params={"q": "harbour bridge steel cables", "k": 1}).json()["hits"]
    assert hits[0]["chunk"]["source"] == "bridge.md"


@pytest.mark.parametrize("path, says", [
    ("../outside.txt", "'..' is not allowed"),
    ("sub/../../outside.txt", "'..' is not allowed"),
    ("/etc/hostname", "absolute paths"),
    ("missing.txt", "no such file or directory under the corpus root"),
    ("", "an empty path"),
])
def test_ingest_refuses_paths_outside_the_root(client, path, says):
    response = client.post("/ingest", json={"paths": [path]})
    assert response.status_code == 400 and says in response.json()["error"]


def test_ingest_refuses_a_symlink_out_of_the_root(client, small_corpus, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("A secret article about nothing in particular.\n")
    (small_corpus.corpus_dir / "link").symlink_to(outside)
    response = client.post("/ingest", json={"paths": ["link"]})
    assert response.status_code == 400 and "leads outside the corpus root" in response.json()["error"]


def test_ingest_where_every_file_fails_is_422_with_reasons(client, small_corpus):
    (small_corpus.corpus_dir / "binary.txt").write_bytes(b"\x00\x01\x02\xff" * 100)
    response = client.post("/ingest", json={"paths": ["binary.txt"]})
    assert response.status_code == 422
    body = response.json()
    assert body["error"].startswith("nothing could be ingested: binary.txt:")
    assert body["details"][0]["path"] == "binary.txt" and body["details"][0]["reason"]


def test_upload_saves_under_the_corpus_and_ingests(client, small_corpus):
    response = client.post("/documents", files=[("files", ("bridge.md", ARTICLE.encode(), "text/markdown"))])
    assert response.status_code == 200, response.text
    assert response.json()["added"] == ["uploads/bridge.md"]
    assert (small_corpus.corpus_dir / "uploads" / "bridge.md").read_text() == ARTICLE
    passage = client.get("/documents/uploads/bridge.md", params={"lines": "5"}).json()
    assert passage["lines"] == ["The harbour bridge reopened on Thursday after repairs that cost 12 million dollars."]
    assert passage["title"] == "Harbour bridge reopens after repairs"

    changed = ARTICLE.replace("40 steel cables", "44 steel cables")
    again = client.post("/documents", files=[("files", ("bridge.md", changed.encode(), "text/markdown"))]).json()
    assert again["updated"] == ["uploads/bridge.md"]
    assert "44 steel cables" in "\n".join(client.get("/documents/uploads/bridge.md").json()["lines"])
    assert not list((small_corpus.corpus_dir / "uploads").glob(".*"))  # no partial files left behind


@pytest.mark.parametrize("name, says", [
    ("../escape.txt", "invalid upload file name"),
    ("sub/dir.txt", "invalid upload file name"),
    (".hidden.txt", "invalid upload file name"),
    ("program.exe", "unsupported file type"),
    ("noextension", "unsupported file type"),
])
def test_upload_names_are_checked(client, small_corpus, name, says):
    response = client.post("/documents", files=[("files", (name, b"Some text.\n", "text/plain"))])
    assert response.status_code == 400 and says in response.json()["error"]
    assert not (small_corpus.corpus_dir.parent / "escape.txt").exists()


def test_upload_limits(small_corpus):
    settings = small_corpus.model_copy(update={"api_max_upload_bytes": 5_000})
    with TestClient(create_app(settings, warm=False), base_url="http://localhost", headers=UPLOADER) as c:
        big = c.post("/documents", files=[("files", ("big.txt", b"word " * 2_000, "text/plain"))])
        assert big.status_code == 413 and "api_max_upload_bytes" in big.json()["error"]
        empty = c.post("/documents", files=[("files", ("empty.txt", b"", "text/plain"))])
        assert empty.status_code == 422 and "nothing could be ingested" in empty.json()["error"]
        twice = c.post("/documents", files=[("files", ("a.txt", b"A.\n", "text/plain")),
                                            ("files", ("a.txt", b"B.\n", "text/plain"))])
        assert twice.status_code == 400 and "twice" in twice.json()["error"]
        assert c.post("/documents").status_code == 422  # no files at all


def test_read_only_server_refuses_writes(small_corpus):
    settings = small_corpus.model_copy(update={"api_read_only": True})
    with TestClient(create_app(settings, warm=False), base_url="http://localhost", headers=UPLOADER) as c:
        for response in (c.post("/ingest", json={}),
                         c.post("/documents", files=[("files", ("a.txt", b"Text.\n", "text/plain"))])):
            assert response.status_code == 403 and "read-only" in response.json()["error"]
    assert not (small_corpus.corpus_dir / "uploads").exists()


def test_ingest_while_another_holds_the_lock_is_409(client, small_corpus):
    with Store(small_corpus).write_lock():
        response = client.post("/ingest", json={})
    assert response.status_code == 409 and "being written" in response.json()["error"]


def test_an_empty_store_says_so(client):
    assert client.get("/healthz").json() == {"status": "ok", "ready": False}
    for response in (client.post("/ask", json={"question": "What happened?"}),
                     client.post("/ask", json={"question": "What happened?", "stream": True}),
                     client.get("/search", params={"q": "anything"})):
        assert response.status_code == 503 and "run `rag ingest` first" in response.json()["error"]
        assert response.headers["content-type"] == "application/json"  # the stream never started
    assert client.get("/documents").json() == {"total": 0, "documents": []}
    assert client.get("/status").json()["documents"] == 0


def test_ingest_while_serving_does_not_break_queries_in_flight(hash_settings):
    corpus = hash_settings.corpus_dir
    for path in CORPUS.glob("*.txt"):
        shutil.copy(path, corpus / path.name)
    Rag(hash_settings).ingest()
    stop = threading.Event()
    results: list[tuple[str, int, dict]] = []

    def query(worker: int) -> None:
        with httpx.Client(base_url=server.url, timeout=120) as http:
            while not stop.is_set():
                if worker % 2:
                    response = http.get("/search", params={"q": "rockets fired at the embassy", "k": 4})
                else:
                    response = http.post("/ask", json={"question": "How many rockets were fired at the embassy?"})
                results.append((response.request.url.path, response.status_code, response.json()))

    with LiveServer(create_app(hash_settings)) as server:
        workers = [threading.Thread(target=query, args=(i,)) for i in range(4)]
        for w in workers:
            w.start()
        reports = []
        try:
            for round_ in range(1, 7):
                _wait_for_more(results, 2)  # queries run between (and during) the ingests
                with open(corpus / "000_eb6e83a28ce734ce.txt", "a") as f:
                    f.write(f"\nIn round {round_} observers counted {round_ + 10} more rockets near the embassy.\n")
                (corpus / f"extra-{round_ - 1}.txt").unlink(missing_ok=True)
                (corpus / f"extra-{round_}.txt").write_text(
                    f"Harbour update {round_}\n\nThe zanzibar{round_} ferry carried rockets to the embassy port.\n")
                reports.append(httpx.post(f"{server.url}/ingest", json={}, timeout=300))
        finally:
            stop.set()
            for w in workers:
                w.join(300)
        final = httpx.get(f"{server.url}/search", params={"q": "zanzibar6 ferry", "k": 1}, timeout=60).json()
        check = httpx.get(f"{server.url}/status", params={"check": True}, timeout=60).json()

    for report in reports:
        assert report.status_code == 200, report.text
        assert report.json()["updated"] == ["000_eb6e83a28ce734ce.txt"]
    known = {p.name for p in CORPUS.glob("*.txt")} | {f"extra-{i}.txt" for i in range(1, 7)}
    assert len(results) >= 8
    for path, status, body in results:
        assert status == 200, (path, body)
        if path == "/search":
            assert body["hits"] and {h["chunk"]["source"] for h in body["hits"]} <= known
        else:
            assert body["refused"] or body["citations"]
            assert {c["source"] for c in body["citations"]} <= known
    assert final["hits"][0]["chunk"]["source"] == "extra-6.txt"
    assert check["problems"] == [] and check["documents"] == 6


def _wait_for_more(results: list, n: int, timeout: float = 120) -> None:
    target = len(results) + n
    deadline = time.monotonic() + timeout
    while len(results) < target and time.monotonic() < deadline:
        time.sleep(0.05)


def test_a_jsonl_record_is_a_source_with_a_hash(client, small_corpus):
    records = b'{"id": "a1", "title": "Ferry strike", "text": "Ferry crews went on strike on Monday.\\nThe port was closed."}\n'
    report = client.post("/documents", files=[("files", ("feed.jsonl", records, "application/jsonl"))]).json()
    assert report["added"] == ["uploads/feed.jsonl#a1"]
    passage = client.get("/documents/uploads/feed.jsonl%23a1", params={"lines": "2"}).json()
    assert passage["source"] == "uploads/feed.jsonl#a1" and passage["lines"] == ["The port was closed."]


def test_saved_eval_runs_are_served(client, small_corpus):
    from rag.eval.runfile import default_run_path, save_run
    from rag.eval.runner import run_eval
    from rag.models import EvalCase

    rag = Rag(small_corpus)
    rag.ingest()
    case = EvalCase(id="rockets", question="How many rockets were fired at the embassy?", facts=[["eight"]])
    run = run_eval(rag, [case])
    rag.close()
    save_run(run, default_run_path(small_corpus.store_dir, run))

    listing = client.get("/evals").json()
    assert [r["id"] for r in listing] == [run.id] and listing[0]["cases"] == 1
    assert listing[0]["metrics"] == {name: m.mean for name, m in run.metrics.items()}
    assert client.get(f"/evals/{run.id}").json() == run.model_dump(mode="json")
    assert client.get("/evals/no-such-run").status_code == 404
    assert client.get("/evals/..%2Fsecret").status_code == 404  # a slash never reaches the route
    bad = client.get("/evals/..secret")
    assert bad.status_code == 422 and bad.json()["error"].startswith("run_id: String should match")
