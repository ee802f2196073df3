"""The backend MiniLM uses is chosen per call: an ingest through a server that embeds hundreds
of texts (torch's batch size) must leave the server's later queries on the numpy forward pass."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from rag.index.embedders import BULK, MiniLMEmbedder
from rag.server import create_app
from rag.settings import Settings


@pytest.fixture
def backends(monkeypatch):
    """Record which backend embeds each call. torch's stands in for itself with the numpy pass
    (the same model, cosine 0.99999), so the test does not spend 15 s importing torch."""
    calls: list[tuple[str, int]] = []
    real_numpy = MiniLMEmbedder._numpy

    def torch_embed(self, texts):
        calls.append(("torch", len(texts)))
        return real_numpy.func(self).embed(texts)

    monkeypatch.setattr(MiniLMEmbedder, "_torch_embed", torch_embed)
    original = MiniLMEmbedder.embed

    def embed(self, texts, bulk=False):
        before = len(calls)
        out = original(self, texts, bulk=bulk)
        if len(calls) == before:
            calls.append(("numpy", len(texts)))
        return out

    monkeypatch.setattr(MiniLMEmbedder, "embed", embed)
    return calls


def test_an_http_ingest_of_many_texts_leaves_queries_on_numpy(tmp_path, backends):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    lines = [f"Inspectors counted {n} cracked cables on bridge number {n} near the harbour." for n in range(BULK + 40)]
    (corpus / "bridges.txt").write_text("\n\n".join(lines) + "\n")
    settings = Settings(store_dir=tmp_path / "store", corpus_dir=corpus, chunk_tokens=16, chunk_overlap_sentences=0)
    with TestClient(create_app(settings, warm=False), base_url="http://localhost") as client:
        report = client.post("/ingest", json={"paths": ["bridges.txt"]})
        assert report.status_code == 200, report.text
        assert report.json()["embedded"] >= BULK
        assert any(kind == "torch" for kind, _ in backends)  # the ingest did use the bulk backend
        backends.clear()
        for question in ("cracked cables near the harbour", "bridge number 7"):
            assert client.get("/search", params={"q": question, "k": 3}).status_code == 200
        assert backends and all(kind == "numpy" for kind, _ in backends), backends
