"""Shared fixtures. The real corpus is ingested once per session with the real embedder and
real Chroma; tests that change an index build their own small one with the hash embedder."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
BENCH = ROOT.parent / "shared" / "bench" / "rtqa-2022-summer"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


LLM_ARTICLES = ("000_eb6e83a28ce734ce.txt", "002_5cca6cf56978dda1.txt", "003_568550a85670bdb3.txt")


def hash_index(root: Path, names=LLM_ARTICLES) -> Path:
    """Copy these articles into root/corpus and index them into root/store with the hash
    embedder, outside any developer config (for module-scoped fixtures, which cannot use the
    function-scoped isolation below). Returns root."""
    from rag.api import Rag
    from rag.settings import Settings

    corpus = root / "corpus"
    corpus.mkdir()
    for name in names:
        shutil.copy(CORPUS / name, corpus / name)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RAG_CONFIG", str(root / "none.toml"))
        for key in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "RAG_LLM_MODEL"):
            mp.delenv(key, raising=False)
        Rag(Settings(store_dir=root / "store", corpus_dir=corpus, embedding_model="hash")).ingest([corpus])
    return root


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item (`item.rep_call`): browser tests save a
    screenshot when their call phase failed (tests/web_browser.py)."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Headless chromium for a module of web page tests (tests/web_browser.py)."""
    from web_browser import chromium

    driver = chromium(tmp_path_factory.mktemp("chromium-profile"))
    yield driver
    driver.quit()


@pytest.fixture
def screenshots(request, browser):
    """Use in a browser test module: a failing test leaves test-artifacts/web/<test>.png."""
    from web_browser import screenshot_on_failure

    yield
    screenshot_on_failure(request, browser)


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path_factory):
    """No test reads the developer's rag.toml or RAG_* variables, or writes to ./.rag."""
    for key in list(os.environ):
        if key.startswith("RAG_") or key in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("RAG_CONFIG", str(tmp_path_factory.getbasetemp() / "no-rag.toml"))


@pytest.fixture(scope="session")
def corpus_store(tmp_path_factory) -> Path:
    """A store holding corpus/, built with MiniLM and embedded Chroma. Read-only for tests."""
    from rag.api import Rag
    from rag.settings import Settings

    store = tmp_path_factory.mktemp("corpus-store")
    settings = Settings(store_dir=store, corpus_dir=CORPUS)
    report = Rag(settings).ingest([CORPUS])
    assert len(report.added) == 5 and not report.failed
    return store


@pytest.fixture(scope="session")
def corpus_rag(corpus_store):
    from rag.api import Rag
    from rag.settings import Settings

    rag = Rag(Settings(store_dir=corpus_store, corpus_dir=CORPUS))
    yield rag
    rag.close()


@pytest.fixture
def hash_settings(tmp_path):
    """Settings for a fresh store with the deterministic hash embedder (fast, no model)."""
    from rag.settings import Settings

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    return Settings(store_dir=tmp_path / "store", corpus_dir=corpus, embedding_model="hash")


@pytest.fixture
def small_corpus(hash_settings):
    """Two of the real articles copied into a writable corpus directory."""
    for name in ("000_eb6e83a28ce734ce.txt", "003_568550a85670bdb3.txt"):
        shutil.copy(CORPUS / name, hash_settings.corpus_dir / name)
    return hash_settings


@pytest.fixture
def cli(monkeypatch, capsys):
    """Run the real CLI entry point in-process: returns (exit code, stdout, stderr)."""
    from rag.cli import main

    def run(*args: str):
        monkeypatch.setattr(sys, "argv", ["rag", *map(str, args)])
        code = 0
        try:
            main()
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        out = capsys.readouterr()
        return code, out.out, out.err

    return run
