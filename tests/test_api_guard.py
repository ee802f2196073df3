"""A server without a token against browser attacks and load (issue 19, items 7 and 9): no
cross-site writes, a Host allow-list against DNS rebinding, /healthz and /metrics off the worker
pool, a cap on concurrent briefings, refused uploads deleted, error bodies without server paths
or pids. Hash embedder, embedded Chroma."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from fastapi.testclient import TestClient
from live_server import LiveServer

from rag.api import Rag
from rag.index.store import Store
from rag.server import create_app

PLANTED = b"Planted notice\n\nThe harbour authority says every ferry is cancelled until further notice.\n"
FORM = {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}  # what a form elsewhere sends
MINE = {"X-Rag-Client": "test"}


def upload(client, name="notice.txt", data=PLANTED, headers=None):
    return client.post("/documents", files=[("files", (name, data, "text/plain"))], headers=headers or {})


@pytest.fixture
def client(small_corpus):
    Rag(small_corpus).ingest()
    with TestClient(create_app(small_corpus, warm=False), base_url="http://localhost") as c:
        yield c


# --- 7. cross-site writes ----------------------------------------------------------------------------

def test_a_cross_site_form_cannot_plant_an_article(client, small_corpus):
    for headers in (FORM, {"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"},
                    {"Origin": "null"}, {"Sec-Fetch-Site": "same-site", **MINE}, {}):
        response = upload(client, headers=headers)
        assert response.status_code == 403, headers
        assert "cross-site" in response.json()["error"] or "X-Rag-Client" in response.json()["error"]
    assert not (small_corpus.corpus_dir / "uploads" / "notice.txt").exists()
    assert "uploads/notice.txt" not in {a.source for a in Rag(small_corpus).documents()}


def test_cross_site_json_writes_are_refused_too(client):
    for path, body in (("/ingest", {}), ("/ask", {"question": "ferries?"}), ("/brief", {})):
        response = client.post(path, json=body, headers={"Origin": "https://evil.example"})
        assert response.status_code == 403 and "cross-site request refused" in response.json()["error"], path


def test_the_servers_own_page_and_plain_clients_still_write(client, small_corpus):
    same_origin = {"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin", **MINE}
    assert upload(client, headers=same_origin).status_code == 200
    assert upload(client, "curl.txt", PLANTED + b"Again.\n", headers=MINE).status_code == 200  # no Origin: curl
    assert client.post("/ingest", json={}).status_code == 200
    assert client.post("/ask", json={"question": "ferries?"}, headers={"Sec-Fetch-Site": "same-origin"}).status_code == 200


def test_allowed_cors_origins_and_a_token_are_not_cross_site_refusals(small_corpus):
    settings = small_corpus.model_copy(update={"api_cors_origins": ["https://intranet.example"]})
    with TestClient(create_app(settings, warm=False), base_url="http://localhost") as c:
        response = c.post("/ask", json={"question": "ferries?"}, headers={"Origin": "https://intranet.example"})
        assert response.status_code != 403
    tokened = small_corpus.model_copy(update={"api_token": "t0ken"})
    with TestClient(create_app(tokened, warm=False), base_url="http://localhost") as c:
        assert upload(c, headers=FORM).status_code == 401  # the token decides: no other site has it
        good = upload(c, headers={**FORM, "Authorization": "Bearer t0ken"})
        assert good.status_code == 200


# --- 7. DNS rebinding: the Host allow-list -------------------------------------------------------------

@pytest.mark.parametrize("host, bound, extra, served", [
    ("localhost:8000", None, [], True), ("127.0.0.1:8000", None, [], True), ("[::1]:8000", None, [], True),
    ("evil.example", None, [], False), ("127.0.0.1.nip.io:8000", None, [], False),
    ("rag.intranet:8000", None, ["rag.intranet"], True), ("10.0.0.7:8000", "10.0.0.7", [], True),
    ("10.0.0.8:8000", "10.0.0.7", [], False), ("192.168.1.5:8000", "0.0.0.0", [], True),
    ("evil.example", "0.0.0.0", [], False),
])
def test_only_allowed_hosts_are_served(small_corpus, host, bound, extra, served):
    settings = small_corpus.model_copy(update={"api_allowed_hosts": extra})
    with TestClient(create_app(settings, warm=False, host=bound), base_url="http://localhost") as c:
        for response in (c.get("/healthz", headers={"Host": host}), c.get("/documents", headers={"Host": host})):
            assert (response.status_code != 421) == served, (host, response.status_code)
            if not served:
                assert "does not answer for host" in response.json()["error"]


def test_rag_serve_answers_for_the_address_it_is_bound_to(cli, monkeypatch, small_corpus):
    import uvicorn

    apps = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: apps.append(app))
    code, _, _ = cli("serve", "--host", "10.1.2.3", "--store-dir", small_corpus.store_dir)
    assert code == 0
    with TestClient(apps[-1], base_url="http://10.1.2.3:8000") as c:
        assert c.get("/healthz").status_code == 200
        assert c.get("/healthz", headers={"Host": "rebind.example:8000"}).status_code == 421


# --- 9. load: /healthz and /metrics never wait for a worker thread; briefings are capped --------------

@pytest.fixture
def blocked_briefs(monkeypatch):
    """Every briefing waits until the test releases them."""
    release, started = threading.Event(), []

    def brief(self, *args, **kwargs):
        started.append(1)
        release.wait(120)
        raise RuntimeError("released")

    monkeypatch.setattr(Rag, "brief", brief)
    yield release, started
    release.set()


def briefs(pool, url: str, n: int, started: list) -> list:
    """Send n briefings and wait (a minute at most) until they, or 40 of them, are running."""
    futures = [pool.submit(httpx.post, f"{url}/brief", json={}, timeout=180) for _ in range(n)]
    deadline = time.monotonic() + 60
    while len(started) < min(n, 40) and time.monotonic() < deadline:  # anyio's pool has 40 threads
        time.sleep(0.05)
    return futures


def test_healthz_and_metrics_answer_while_briefings_hold_every_worker(small_corpus, blocked_briefs):
    release, started = blocked_briefs
    Rag(small_corpus).ingest()
    settings = small_corpus.model_copy(update={"api_max_briefings": 100})
    with LiveServer(create_app(settings, warm=False)) as server, ThreadPoolExecutor(45) as pool:
        futures = briefs(pool, server.url, 45, started)
        assert len(started) >= 40  # every worker thread is taken
        health = httpx.get(f"{server.url}/healthz", timeout=20)
        metrics = httpx.get(f"{server.url}/metrics", params={"format": "json"}, timeout=20)
        release.set()
        for future in futures:
            future.result()
    assert health.status_code == 200 and metrics.status_code == 200
    assert metrics.json()["in_flight"] >= 40


def test_briefings_past_the_cap_get_503_and_retry_after(small_corpus, blocked_briefs):
    release, started = blocked_briefs
    Rag(small_corpus).ingest()
    settings = small_corpus.model_copy(update={"api_max_briefings": 2})
    with LiveServer(create_app(settings, warm=False)) as server, ThreadPoolExecutor(2) as pool:
        running = briefs(pool, server.url, 2, started)
        refused = httpx.post(f"{server.url}/brief", json={}, timeout=30)
        release.set()
        [f.result() for f in running]
        after = httpx.post(f"{server.url}/brief", json={}, timeout=30)
    assert refused.status_code == 503 and int(refused.headers["retry-after"]) > 0
    assert "api_max_briefings" in refused.json()["error"]
    assert after.status_code == 500  # the slot was given back (the blocked stand-in then raises)


# --- 9. refused uploads leave nothing behind; error bodies hold no server paths or pids ----------------

def test_refused_uploads_are_deleted(client, small_corpus):
    uploads = small_corpus.corpus_dir / "uploads"
    empty = upload(client, "empty.txt", b"", headers=MINE)
    assert empty.status_code == 422 and not (uploads / "empty.txt").exists()
    mixed = client.post("/documents", headers=MINE, files=[("files", ("good.txt", PLANTED, "text/plain")),
                                                           ("files", ("bad.txt", b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "text/plain"))])
    assert mixed.status_code == 200 and mixed.json()["failed"] == {"uploads/bad.txt": "binary file, not text"}
    assert (uploads / "good.txt").exists() and not (uploads / "bad.txt").exists()
    assert sorted(p.name for p in uploads.iterdir()) == ["good.txt"]  # no partial or kept-aside files


def test_a_refused_replacement_keeps_the_earlier_upload(client, small_corpus):
    assert upload(client, "notice.txt", headers=MINE).status_code == 200
    again = upload(client, "notice.txt", b"\x89PNG\r\n\x1a\n" + bytes(range(256)), headers=MINE)
    assert again.status_code == 422
    assert (small_corpus.corpus_dir / "uploads" / "notice.txt").read_bytes() == PLANTED
    assert sorted(p.name for p in (small_corpus.corpus_dir / "uploads").iterdir()) == ["notice.txt"]
    assert client.post("/ingest", json={}).json()["skipped"]  # the index still holds it, unchanged


def test_an_upload_refused_with_409_is_deleted_and_says_no_path_or_pid(client, small_corpus):
    store = Store(small_corpus)
    with store.write_lock(purpose="ingest"):
        response = upload(client, headers=MINE)
    store.close()
    assert response.status_code == 409
    message = response.json()["error"]
    assert str(small_corpus.store_dir) not in message and "pid" not in message, message
    assert "another process" in message
    assert not (small_corpus.corpus_dir / "uploads" / "notice.txt").exists()


def test_ingest_failures_are_named_relative_to_the_corpus_root(client, small_corpus):
    (small_corpus.corpus_dir / "sub").mkdir()
    (small_corpus.corpus_dir / "sub" / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    (small_corpus.corpus_dir / "sub" / "dangling.txt").symlink_to("missing.txt")
    everything = client.post("/ingest", json={})
    assert everything.json()["failed"] == {"sub/binary.txt": "binary file, not text", "sub/dangling.txt": "broken symlink"}
    only = client.post("/ingest", json={"paths": ["sub"]})
    assert only.status_code == 422
    text = only.text
    assert str(small_corpus.corpus_dir) not in text and str(small_corpus.store_dir) not in text
