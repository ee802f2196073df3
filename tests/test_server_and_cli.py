"""A running `rag serve` and the `rag` command on one store, each a real process: the server sees
every CLI ingest at once (no stale Chroma or lexical index), its check agrees with the CLI's, and
`rag ask`/`rag search` hand their question to it through the file it announces. Hash embedder."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from live_server import free_port

from rag import remote
from rag.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
FERRY = "Dock workers walked out at the harbour on Monday, halting every ferry to the islands for a third day.\n"

pytestmark = pytest.mark.slow


def rag_cli(settings: Settings, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "rag", *args, "--store-dir", str(settings.store_dir),
               "--set", "embedding_model=hash"]
    if args[0] in ("ingest",):
        command += ["--set", f"corpus_dir={settings.corpus_dir}"]
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=300, env=env, check=False)


@pytest.fixture
def served(small_corpus):
    """A `rag serve` process over a store the CLI built."""
    assert rag_cli(small_corpus, "ingest", str(small_corpus.corpus_dir)).returncode == 0
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "rag", "serve", "--port", str(port), "--store-dir",
                             str(small_corpus.store_dir), "--set", "embedding_model=hash", "--set",
                             f"corpus_dir={small_corpus.corpus_dir}"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=2).json()["ready"]:
                break
        except httpx.HTTPError:
            pass
        assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
        time.sleep(0.2)
    yield small_corpus, url
    proc.send_signal(signal.SIGINT)
    proc.wait(30)
    assert not (Path(small_corpus.store_dir) / remote.SERVER_FILE).exists()  # withdrawn on the way out


def top_sources(url: str, query: str) -> list[str]:
    response = httpx.get(f"{url}/search", params={"q": query, "k": 3}, timeout=60)
    assert response.status_code == 200, response.text
    return [h["chunk"]["source"] for h in response.json()["hits"]]


def test_the_server_answers_from_each_cli_ingest_at_once(served):
    settings, url = served
    assert "ferry.txt" not in top_sources(url, "harbour ferry islands")
    for round_ in range(3):
        (settings.corpus_dir / "ferry.txt").write_text(FERRY * (round_ + 1))
        if round_ == 2:
            (settings.corpus_dir / "000_eb6e83a28ce734ce.txt").unlink()
        done = rag_cli(settings, "ingest", str(settings.corpus_dir))
        assert done.returncode == 0, done.stderr
        assert top_sources(url, "harbour ferry islands")[0] == "ferry.txt"  # no wait, no 503
        answer = httpx.post(f"{url}/ask", json={"question": "Why were the ferries halted?"}, timeout=60)
        assert answer.status_code == 200, answer.text
    assert "000_eb6e83a28ce734ce.txt" not in {s for q in ("Trump warns Iran", "rockets embassy")
                                              for s in top_sources(url, q)}
    server_check = httpx.get(f"{url}/status", params={"check": "true"}, timeout=120).json()
    cli_check = rag_cli(settings, "status", "--check", "--json")
    assert cli_check.returncode == 0, cli_check.stdout + cli_check.stderr
    local = json.loads(cli_check.stdout)
    assert server_check["problems"] == local["problems"] == []
    assert (server_check["documents"], server_check["chunks"]) == (local["documents"], local["chunks"])


def test_rag_ask_and_search_hand_the_question_to_the_running_server(served):
    settings, url = served

    def asked() -> int:
        report = httpx.get(f"{url}/metrics", params={"format": "json"}, timeout=10).json()
        return sum(r["count"] for r in report["routes"] if r["route"] in ("/ask", "/search"))

    before = asked()
    question = "How many rockets were fired at the embassy?"
    by_cli = rag_cli(settings, "ask", question, "--json")
    assert by_cli.returncode == 0, by_cli.stderr
    assert asked() == before + 1  # the server answered it
    direct = httpx.post(f"{url}/ask", json={"question": question}, timeout=60).json()
    assert json.loads(by_cli.stdout)["answer"] == direct["answer"]
    searched = rag_cli(settings, "search", "rockets embassy", "--json")
    assert searched.returncode == 0 and asked() == before + 3
    # Other settings, other answers: the CLI answers in process.
    other = rag_cli(settings, "ask", question, "--json", "--set", "top_k=3")
    assert other.returncode == 0 and asked() == before + 3


def test_a_server_file_is_used_only_for_a_live_server_with_the_same_settings(hash_settings):
    path = remote.announce(hash_settings, "http://127.0.0.1:9")
    assert remote.find(hash_settings)["url"] == "http://127.0.0.1:9"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert remote.find(hash_settings.model_copy(update={"top_k": 3})) is None  # other answers
    assert remote.find(hash_settings.model_copy(update={"chroma_url": "http://x:1"})) is None  # other store
    assert remote.ask(hash_settings, "anything", None, {}) is None  # nothing listens there: answer in process
    data = json.loads(path.read_text())
    path.write_text(json.dumps({**data, "token": True}))
    assert remote.find(hash_settings) is None  # the server wants a token this client does not have
    assert remote.find(hash_settings.model_copy(update={"api_token": "t"})) is not None
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    path.write_text(json.dumps({**data, "pid": dead.pid}))
    assert remote.find(hash_settings) is None  # a killed server's file
    path.write_text(json.dumps({**data, "pid": os.getpid()}))
    remote.withdraw(hash_settings)
    assert not path.exists()
    shutil.rmtree(hash_settings.store_dir)
