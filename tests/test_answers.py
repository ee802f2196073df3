"""The extractive engine's answers: refusals with reasons, a refusal score that does not depend on
the threshold, neighbours that complete an answer, and attribution notes that never rewrite a quote."""

from rag.answer.attribution import note, resolve_attribution
from rag.models import Sentence


def _sentences(*texts: str) -> list[Sentence]:
    out, offset = [], 0
    for line, text in enumerate(texts, start=1):
        out.append(Sentence(text=text, char_start=offset, char_end=offset + len(text), line_start=line, line_end=line))
        offset += len(text) + 1
    return out


def test_a_role_in_an_attribution_resolves_to_the_name_the_article_gives():
    *before, quote = _sentences(
        "Prime Minister Liz Truss met the King at Balmoral on Tuesday.",
        "Markets fell sharply after the budget.",
        "“We will get Britain moving,” the new prime minister said.",
    )
    found = resolve_attribution(quote, before)
    assert found is not None and found.name == "Liz Truss" and found.line == 1
    assert found.said_by == "the new prime minister"
    assert "Liz Truss" in note(found) and "line 1" in note(found)


def test_a_pronoun_resolves_only_to_the_one_name_just_before():
    before = _sentences("Governor Ron DeSantis toured the damage in Fort Myers.")
    quote = _sentences("x", "“We will rebuild,” he said.")[1]
    assert resolve_attribution(quote, before).name == "Ron DeSantis"
    two = _sentences("Joe Biden called Ron DeSantis on Thursday.")
    assert resolve_attribution(quote, two) is None  # two people: nothing is guessed


def test_a_sentence_without_a_quotation_gets_no_note():
    before = _sentences("Prime Minister Liz Truss spoke on Tuesday.")
    plain = _sentences("x", "The new prime minister said taxes would fall.")[1]
    assert resolve_attribution(plain, before) is None


def test_a_refusal_says_why(corpus_rag):
    answer = corpus_rag.ask("What did Angela Merkel say about the embassy attack?")
    assert answer.refused and answer.refusal_reason
    assert "Merkel" in answer.refusal_reason or "merkel" in answer.refusal_reason


def test_a_refusal_below_the_threshold_gives_the_score_against_it(corpus_rag):
    answer = corpus_rag.ask("How many rockets were fired at the US embassy?", k=1)
    strict = corpus_rag.settings.model_copy(update={"min_support": 0.99})
    from rag.answer.extractive import answer_extractive

    refused = answer_extractive(corpus_rag.store.__class__(strict, corpus_rag.store.embedder),
                                "How many rockets were fired at the US embassy?")
    assert refused.refused and "under the threshold 0.99" in refused.refusal_reason
    assert refused.confidence == answer.confidence or answer.confidence is not None


def test_the_answer_does_not_depend_on_the_threshold_it_passes(corpus_rag):
    """The refusal score is computed before the threshold is applied: an answer given at the
    default threshold is the answer given with no threshold at all."""
    from rag.answer.extractive import answer_extractive

    open_store = corpus_rag.store.__class__(corpus_rag.settings.model_copy(update={"min_answerable": 0.0}),
                                            corpus_rag.store.embedder)
    questions = ["How many rockets were fired at the US embassy in Baghdad?",
                 "Who is the US ambassador to Iraq?",
                 "When did the rocket attack on the embassy happen?"]
    try:
        for question in questions:
            default = corpus_rag.ask(question)
            opened = answer_extractive(open_store, question)
            assert opened.confidence == default.confidence
            if not default.refused:
                assert opened.answer == default.answer
    finally:
        open_store.close()


def test_late_chunking_pools_the_forward_pass_the_chunk_vector_comes_from():
    """bench/late_chunking.py's sentence vectors: pooled over every wordpiece they equal the
    text's own embedding, and a sentence's vector is closer to that sentence than to another."""
    import numpy as np

    from bench.late_chunking import pool
    from rag.index.embedders import MiniLMEmbedder

    embedder = MiniLMEmbedder()
    text = "Eight rockets hit the embassy. The ambassador was not in Baghdad."
    [(states, offsets)] = embedder._numpy.token_states([text])
    mask = np.array([b > a for a, b in offsets])
    whole = states[mask | ~mask].mean(0)  # every token, special ones included, as the embedding pools
    assert float(whole / np.linalg.norm(whole) @ embedder.embed([text])[0]) > 0.999
    first, second = pool(states, offsets, [(0, 30), (31, len(text))])
    alone = embedder.embed(["Eight rockets hit the embassy.", "The ambassador was not in Baghdad."])
    assert first @ alone[0] > first @ alone[1] and second @ alone[1] > second @ alone[0]
