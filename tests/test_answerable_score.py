"""The extractive engine's answerability score (rag/answer/answerable_score.py) and the figures
and names the answer-type gate reads: what the evidence for the lead lacks, the shipped model,
and the two refusal thresholds."""

import datetime as dt
import math
from types import SimpleNamespace

import pytest

from rag.answer.answerable_score import (
    FEATURES,
    MODEL_FILE,
    UNDATED_FLOOR,
    answerable,
    asking_terms,
    evidence,
    explain,
    load_model,
    support_floor,
    weakest,
)
from rag.answer.figures import figures
from rag.answer.question import analyse
from rag.answer.sentence_score import _words, asked_entity, written_as_names
from rag.text.lexical import content_words


def _chunk(text: str, date: dt.date | None, id_: str) -> SimpleNamespace:
    return SimpleNamespace(id=id_, text=text, title=None, date=date)


def _ranking(question: str, chunks, as_of=None):
    q = analyse(question)
    hits = [SimpleNamespace(chunk=c) for c in chunks]
    lead = SimpleNamespace(chunk=chunks[0], score=0.4, semantic=0.5, chunk_semantic=0.4,
                           terms=frozenset(content_words(chunks[0].text)), preceding=None, following=None)
    ranking = SimpleNamespace(question=q, idf={t: 1.0 + i for i, t in enumerate(q.terms)}, as_of=as_of,
                              result=SimpleNamespace(hits=hits), candidates=[lead],
                              chunk_terms={c.id: frozenset(content_words(c.text)) for c in chunks})
    return ranking, lead


def test_a_passage_missing_the_questions_specific_term_and_an_old_article_score_lower():
    question = "Which island nation plunged into chaos, prompting its leader to flee?"
    on_topic = _chunk("The island nation plunged into chaos, prompting its leader to flee.", dt.date(2022, 7, 12), "a")
    near = _chunk("The nation plunged into chaos last year.", dt.date(2021, 7, 1), "b")
    full = evidence(*_ranking(question, [on_topic], as_of=dt.date(2022, 7, 14)), support=0.6)
    partial = evidence(*_ranking(question, [near], as_of=dt.date(2022, 7, 14)), support=0.6)
    assert full["lead_passage_coverage"] == 1.0 and full["lead_rarest_missing"] == 0.0
    assert partial["lead_passage_coverage"] < 1.0 and partial["lead_rarest_missing"] > 0.0
    assert partial["lead_age"] > full["lead_age"] > 0.0
    assert answerable(partial) < answerable(full)


def test_a_passage_covering_the_scene_but_not_what_is_asked_covers_less_of_the_asking_sentence():
    question = "Kim Kardashian wore a historic Marilyn Monroe dress at the Met Gala. Who was the designer of the dress?"
    scene = _chunk("Kim Kardashian wore the historic Marilyn Monroe dress to the Met Gala.", None, "a")
    asked = _chunk("The dress was made by designer Jean Louis; Kardashian wore it at the Met Gala.", None, "b")
    assert asking_terms(analyse(question)) == ["dress", "design"]
    near, full = (evidence(*_ranking(question, [c]), support=0.6) for c in (scene, asked))
    assert near["ask_lead_coverage"] < full["ask_lead_coverage"] == 1.0
    assert near["lead_passage_coverage"] > near["ask_lead_coverage"]  # the scene alone covers much of the question
    one = analyse("Which show received the most Emmy nominations?")
    assert asking_terms(one) == list(one.terms)  # a one-sentence question asks with all its terms


def test_without_as_of_age_is_counted_from_the_newest_retrieved_article():
    question = "Which island nation plunged into chaos?"
    new, old = _chunk("x", dt.date(2022, 7, 12), "a"), _chunk("y", dt.date(2022, 7, 2), "b")
    ranking, _ = _ranking(question, [old, new])
    assert evidence(ranking, ranking.candidates[0])["lead_age"] == pytest.approx(__import__("math").log1p(10))
    assert evidence(ranking, None)["lead_age"] == 0.0  # no lead: nothing to date


def test_the_shipped_model_reads_known_features_and_holds_its_fitted_point():
    model = load_model(MODEL_FILE)
    assert set(model["features"]) <= set(FEATURES)
    assert len(model["weights"]) == len(model["features"]) == len(model["mean"]) == len(model["scale"])
    assert 0.0 < model["threshold_fitted"] < 1.0 and 0.0 <= model["support_floor"] < 1.0


def test_a_question_without_a_date_keeps_the_stricter_support_floor():
    """Without as_of the newest evidence is always 0 days old and the model reads it as recent."""
    assert support_floor(dated=False) >= support_floor(dated=True)
    assert support_floor(dated=False) == max(UNDATED_FLOOR, load_model(MODEL_FILE)["support_floor"])


def test_percentages_and_scaled_counts_after_a_preposition_are_figures():
    assert [(f.value, f.unit) for f in figures("Gas prices were up nearly 60% over the year.")] == [("nearly 60%", "percent")]
    assert [f.unit for f in figures("It brought in roughly 10 million viewers for its premiere.")] == ["viewer"]
    assert figures("The law passed in 2018 and took effect on Jan. 3.") == []  # dates stay dates


def test_a_sentence_initial_name_counts_when_its_article_writes_it_mid_sentence():
    question = "Which country debuted the world's first hydrogen-powered passenger trains this week?"
    article = "Germany debuted the first hydrogen trains this week. The trains run in Germany, officials said."
    known = written_as_names(article)
    q = analyse(question)
    assert asked_entity(q.kind, "Germany debuted the first hydrogen trains this week.", _words(q.text), True, known) == 1.0
    assert asked_entity(q.kind, "Officials debuted the first hydrogen trains.", _words(q.text), True, known) == 0.0


def test_a_refusal_under_the_answerability_threshold_says_so(corpus_rag):
    from rag.answer.extractive import answer_extractive

    question = "How many rockets were fired at the US embassy?"
    answered = corpus_rag.ask(question)
    strict = corpus_rag.settings.model_copy(update={"min_answerable": 0.999})
    refused = answer_extractive(corpus_rag.store.__class__(strict, corpus_rag.store.embedder), question)
    assert not answered.refused and refused.refused
    assert refused.confidence == answered.confidence  # the score is computed before either threshold
    assert "holds the answer" in refused.refusal_reason and "under the threshold 1.00" in refused.refusal_reason


def test_the_words_of_a_relative_period_are_not_the_extractive_engines_terms():
    from rag.answer.question import without_period

    assert without_period(analyse("Which popular singer will launch a Las Vegas residency later this year?")).terms == (
        "popular", "singer", "launch", "las", "vega", "resid")
    asked = analyse("Broadway's biggest stars were recognized this week at which awards show?")
    assert "week" in asked.terms and "week" not in without_period(asked).terms
    counted = analyse("How many weeks did the strike last?")
    assert without_period(counted) == counted  # the subject, not a period


def test_a_refusal_names_what_weighs_most_against_the_answer():
    model = {"features": ["lead_age", "best_chunk_coverage"], "weights": [-1.0, 2.0], "mean": [1.0, 0.5],
             "scale": [1.0, 0.25], "bias": 0.0}
    ranking = SimpleNamespace(as_of="2022-07-28", question=analyse("Which singer will play Las Vegas?"))
    old = {"lead_age": math.log1p(188), "best_chunk_coverage": 0.6}  # old evidence, a passage that covers the question
    assert weakest(old, model) == "lead_age"
    assert explain(ranking, None, old, str, model) == "the best sentence's article is 188 days older than the question's date"
    thin = {"lead_age": 0.0, "best_chunk_coverage": 0.2}  # fresh evidence, a passage that covers little of it
    assert weakest(thin, model) == "best_chunk_coverage"
    assert explain(ranking, None, thin, str, model) == "no retrieved passage covers more than 20% of the question's terms"
    assert weakest({"lead_age": 0.0, "best_chunk_coverage": 0.9}, model) is None  # nothing weighs against it


def test_a_duration_is_no_count_unless_the_question_counts_it():
    text = "A Russian court ruled that her detention be extended six months pending the trial's outcome."
    assert figures(text) == []  # "six months" counts time, not things
    q = analyse("How many months was her detention extended?")
    assert q.unit == "month"
    found = figures(text, {q.unit}, counted=q.unit)
    assert [(f.value, f.number, f.unit) for f in found] == [("six", 6.0, "month")]
    # ... and only what it counts: the months asked for do not make the years a count
    assert figures("She was sentenced to nine years.", {q.unit}, counted=q.unit) == []
    # a bare number never takes a duration from the words before it ("at the time ... 300")
    times = analyse("How many times was the plant inspected?")
    assert figures("At the time, the plant employed 300.", {times.unit}, counted=times.unit) == []
    assert figures("In the months before the vote, 12 were detained.", {q.unit}, counted=q.unit) == []
    assert [f.unit for f in figures("It was inspected five times.", {times.unit}, counted=times.unit)] == ["time"]


def test_a_refusal_names_the_question_words_the_best_passage_misses():
    model = {"features": ["lead_passage_coverage", "lead_chunk_semantic"], "weights": [2.0, 1.0], "mean": [0.8, 0.5],
             "scale": [0.2, 0.1], "bias": 0.0}
    question = analyse("Which singer will play Las Vegas?")
    lead = SimpleNamespace(chunk=SimpleNamespace(id="c1"))
    ranking = SimpleNamespace(as_of=None, question=question, chunk_terms={"c1": frozenset({"singer", "play"})})
    missing = [t for t in question.terms if t not in {"singer", "play"}]
    thin = {"lead_passage_coverage": 0.4, "lead_chunk_semantic": 0.5}
    assert explain(ranking, lead, thin, lambda ts: " and ".join(ts), model) == (
        f"the best sentence's passage does not mention {' and '.join(missing)}")
    far = {"lead_passage_coverage": 0.8, "lead_chunk_semantic": 0.21}  # its own passage, not every passage
    assert explain(ranking, lead, far, str, model) == (
        "the best sentence's passage is not close in meaning to the question (cosine 0.21)")
