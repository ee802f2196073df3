"""Sentence vectors stored at ingest (rag/index/sentence_vectors.py): every statement sentence
has one, furniture none; an ask then embeds only the question and scores every candidate; a
store without them answers through the query-time shortlist."""

import numpy as np

from rag.api import Rag
from rag.index.sentence_vectors import sentence_text, stored_vectors

ARTICLE = """# Council approves the budget

The county council approved the new budget on Monday after a long debate.
The budget raises spending on roads and schools by a large margin over last year.
Council members said the plan would be reviewed again before the winter.
"""
QUESTION = "What did the county council approve on Monday?"


def _ingested(settings, **overrides) -> Rag:
    (settings.corpus_dir / "budget.txt").write_text(ARTICLE, encoding="utf-8")
    rag = Rag(settings.model_copy(update={"min_support": 0.0, **overrides}))
    rag.ingest([settings.corpus_dir])
    return rag


def _counting(monkeypatch, embedder) -> list[str]:
    embedded: list[str] = []
    original = embedder.embed

    def counting(texts, bulk=False):
        embedded.extend(texts)
        return original(texts, bulk)

    monkeypatch.setattr(embedder, "embed", counting)
    return embedded


def _sentences(rag):
    return [s for source in rag.store.docs.all_sources() for c in rag.store.docs.chunks_of(source)
            for s in c.sentences]


def test_ingest_stores_every_statement_sentence_and_no_furniture(hash_settings):
    rag = _ingested(hash_settings)
    try:
        sentences = _sentences(rag)
        stored = stored_vectors(rag.store.embedder, rag.store.cache, [sentence_text(s) for s in sentences])
        statements = [s for s in sentences if s.kind == "sentence"]
        furniture = [s for s in sentences if s.kind != "sentence"]
        assert len(statements) == 3 and furniture  # the headline is furniture
        assert all(sentence_text(s) in stored for s in statements)
        assert not any(sentence_text(s) in stored for s in furniture)
        vector = stored[sentence_text(statements[0])]
        assert np.allclose(vector, rag.store.embedder.embed([sentence_text(statements[0])])[0])
        again = rag.ingest([hash_settings.corpus_dir], rebuild=True)
        assert again.embedded_sentences == 0  # kept by text: a rebuild embeds none again
    finally:
        rag.close()


def test_an_ask_embeds_only_the_question_and_scores_every_candidate(hash_settings, monkeypatch):
    from rag.answer import extractive

    rag = _ingested(hash_settings)
    try:
        embedded = _counting(monkeypatch, rag.store.embedder)
        answer = rag.ask(QUESTION)
        assert embedded == [QUESTION]
        assert not answer.refused and "budget" in answer.answer
        ranking = extractive.rank(rag.store, QUESTION)
        vectors = rag.store.embedder.embed([sentence_text(c.sentence) for c in ranking.candidates])
        expected = vectors @ ranking.result.query_vector
        assert len(ranking.candidates) == 3
        assert np.allclose([c.semantic for c in ranking.candidates], expected, atol=1e-5)
    finally:
        rag.close()


def test_without_sentence_vectors_the_shortlist_is_embedded_when_asked(hash_settings, monkeypatch):
    rag = _ingested(hash_settings, sentence_vectors=False, rerank_sentences=2)
    try:
        report = rag.ingest([hash_settings.corpus_dir], rebuild=True)
        assert report.embedded_sentences == 0
        sentences = [sentence_text(s) for s in _sentences(rag) if s.kind == "sentence"]
        assert stored_vectors(rag.store.embedder, rag.store.cache, sentences) == {}
        embedded = _counting(monkeypatch, rag.store.embedder)
        answer = rag.ask(QUESTION)
        assert embedded[0] == QUESTION and len(embedded) == 1 + 2  # the question and its shortlist
        assert not answer.refused and "budget" in answer.answer
    finally:
        rag.close()
