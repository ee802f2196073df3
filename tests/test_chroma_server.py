"""Chroma server mode, for real: a `chroma run` server on 127.0.0.1 (free port, temp data dir)
and `rag ingest / search / ask / status / serve --chroma-url` against it, answering exactly as
the embedded store does; incremental ingest, rebuild, and two indexes sharing one server."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import chromadb
import httpx
import pytest
from live_server import free_port

from rag.api import Rag
from rag.index.store import Store
from rag.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
QUESTION = "How many rockets were fired at the US embassy in Baghdad?"
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}


def wait_until_up(url: str, process: subprocess.Popen, log: Path, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{process.args[0]} did not come up:\n{log.read_text()[-2000:]}")
        time.sleep(0.2)


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory):
    """A real Chroma server, started with the `chroma` CLI that the chromadb package installs."""
    chroma = Path(sys.executable).parent / "chroma"
    assert chroma.exists(), "the chromadb package ships the `chroma` CLI"
    data = tmp_path_factory.mktemp("chroma-server")
    port = free_port()
    log = data.parent / f"{data.name}.log"
    with open(log, "w") as out:
        process = subprocess.Popen([str(chroma), "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
                                   stdout=out, stderr=subprocess.STDOUT, env=ENV)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{url}/api/v2/heartbeat", process, log)
        yield url
    finally:
        stop(process)


def server_client(url: str):
    parsed = urlparse(url)
    return chromadb.HttpClient(host=parsed.hostname, port=parsed.port)


def settings(store: Path, url: str | None, corpus: Path = CORPUS, **extra) -> Settings:
    return Settings(store_dir=store, corpus_dir=corpus, chroma_url=url, **extra)


def live_collection(store: Path, url: str):
    """The server-side collection this store's docstore points at."""
    docs = Store(settings(store, url)).docs
    try:
        name = docs.meta("collection")
        chunks = docs.counts()[1]
    finally:
        docs.close()
    return server_client(url).get_collection(name), chunks


@pytest.fixture(scope="module")
def server_store(chroma_url, corpus_store, tmp_path_factory) -> Path:
    """corpus/ ingested by `rag ingest --chroma-url` into the server (embeddings reused from the
    embedded store's cache, so nothing is embedded twice)."""
    store = tmp_path_factory.mktemp("server-store")
    shutil.copytree(corpus_store / "cache", store / "cache")
    result = subprocess.run(
        [sys.executable, "-m", "rag", "ingest", str(CORPUS), "--store-dir", str(store), "--chroma-url", chroma_url,
         "--set", f"corpus_dir={CORPUS}"],
        capture_output=True, text=True, env=ENV, cwd=store, timeout=600, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("added 5, updated 0, removed 0")
    return store


def comparable(answer: dict) -> dict:
    return {k: v for k, v in answer.items() if k != "timings"}


def test_ingest_wrote_the_vectors_to_the_server(chroma_url, server_store):
    collection, chunks = live_collection(server_store, chroma_url)
    assert chunks > 0 and collection.count() == chunks
    assert not (server_store / "chroma").exists()  # nothing went to an embedded store


def test_search_ask_and_status_against_the_server_match_the_embedded_store(chroma_url, server_store, corpus_rag, cli):
    flags = ["--store-dir", server_store, "--chroma-url", chroma_url, "--set", f"corpus_dir={CORPUS}", "--json"]
    code, out, err = cli("search", "rockets fired at the embassy", "-k", "4", *flags)
    assert code == 0, err
    expected = corpus_rag.search("rockets fired at the embassy", 4)
    assert [(h["chunk"]["id"], h["rank"]) for h in json.loads(out)["hits"]] == [(h.chunk.id, h.rank) for h in expected.hits]

    code, out, err = cli("ask", QUESTION, *flags)
    assert code == 0, err
    answer = json.loads(out)
    assert answer["citations"] and comparable(answer) == comparable(corpus_rag.ask(QUESTION).model_dump(mode="json"))

    code, out, err = cli("status", "--check", *flags)
    status = json.loads(out)
    assert code == 0 and status["chroma"] == chroma_url and status["problems"] == []
    assert status["vectors"] == status["chunks"] == corpus_rag.status().chunks


def test_rag_serve_against_the_server(chroma_url, server_store, corpus_rag, tmp_path):
    port = free_port()
    log = tmp_path / "serve.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "rag", "serve", "--port", str(port), "--store-dir", str(server_store),
             "--chroma-url", chroma_url, "--set", f"corpus_dir={CORPUS}"],
            stdout=out, stderr=subprocess.STDOUT, env=ENV, cwd=tmp_path,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{base}/healthz", process, log)
        answer = httpx.post(f"{base}/ask", json={"question": QUESTION}, timeout=300).json()
        assert comparable(answer) == comparable(corpus_rag.ask(QUESTION).model_dump(mode="json"))
        hits = httpx.get(f"{base}/search", params={"q": "embassy", "k": 3}, timeout=120).json()["hits"]
        assert [h["chunk"]["id"] for h in hits] == [h.chunk.id for h in corpus_rag.search("embassy", 3).hits]
        status = httpx.get(f"{base}/status", params={"check": True}, timeout=120).json()
        assert status["chroma"] == chroma_url and status["problems"] == []
    finally:
        stop(process)


def test_incremental_ingest_and_rebuild_on_the_server(chroma_url, small_corpus, tmp_path):
    config = small_corpus.model_copy(update={"chroma_url": chroma_url, "collection": "incremental"})
    rag = Rag(config)
    rag.ingest()
    collection, chunks = live_collection(config.store_dir, chroma_url)
    assert collection.count() == chunks
    article = config.corpus_dir / "003_568550a85670bdb3.txt"
    article.write_text(article.read_text() + "\nA later report said the zanzibar militia fired the rockets.\n")
    assert rag.ingest().updated == ["003_568550a85670bdb3.txt"]
    collection, chunks = live_collection(config.store_dir, chroma_url)
    assert collection.count() == chunks  # the replaced chunks' vectors were deleted on the server
    assert rag.search("zanzibar militia", 1).hits[0].chunk.source == "003_568550a85670bdb3.txt"
    old_name = collection.name

    rag.ingest(rebuild=True)
    collection, chunks = live_collection(config.store_dir, chroma_url)
    names = {c.name for c in server_client(chroma_url).list_collections()}
    assert collection.name != old_name and old_name not in names and collection.count() == chunks
    assert rag.status(check=True).problems == []
    rag.close()


def test_two_indexes_share_one_server_without_interfering(chroma_url, tmp_path):
    stores = {}
    for team, article in (("team-a", "000_eb6e83a28ce734ce.txt"), ("team-b", "003_568550a85670bdb3.txt")):
        corpus = tmp_path / team / "corpus"
        corpus.mkdir(parents=True)
        shutil.copy(CORPUS / article, corpus / article)
        config = settings(tmp_path / team / "store", chroma_url, corpus, embedding_model="hash", collection=team)
        Rag(config).ingest()
        stores[team] = (config, article)
    Rag(stores["team-a"][0]).ingest(rebuild=True)  # a rebuild of one index leaves the other alone
    for team, (config, article) in stores.items():
        rag = Rag(config)
        assert {h.chunk.source for h in rag.search("embassy rockets Iran", 10).hits} == {article}
        assert rag.status(check=True).problems == []
        rag.close()


def test_an_unreachable_server_is_one_clear_line(small_corpus, cli):
    dead = f"http://127.0.0.1:{free_port()}"
    code, _, err = cli("ingest", small_corpus.corpus_dir, "--store-dir", small_corpus.store_dir, "--chroma-url", dead,
                       "--set", "embedding_model=hash", "--set", f"corpus_dir={small_corpus.corpus_dir}")
    lines = err.strip().splitlines()
    assert code == 1 and len(lines) == 1, err
    assert lines[0].startswith(f"error: cannot reach the Chroma server at {dead}: ")
