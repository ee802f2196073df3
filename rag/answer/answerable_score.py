"""Does the index hold the answer? The extractive engine's refusal score: a small logistic model.

Evidence strength alone (rag/answer/extractive.py `_support`) does not tell an answerable question
from a near-topic one whose answer no article holds: both retrieve sentences on the topic. The
features here describe what the evidence for the lead sentence lacks, never a word list:
- support, the lead's probability, semantic and chunk cosines (how strong the evidence is);
- which of the question's terms the lead's passage (its chunk's text and title) misses: the IDF-weighted share it covers, the share of the question's names it covers, and the
  rarest question term it misses (a near-topic passage shares the common words of the question
  and misses its specific one);
- the same for the question's asking sentence alone (its last: quiz questions often set the
  scene first), covered by the lead sentence with its neighbours: a near-topic passage covers
  the scene and misses what is asked;
- the best single retrieved chunk's IDF-weighted coverage of the question;
- how old the lead's article is: news questions ask about the recent, and near-topic evidence
  is often older.

Fitted on the benchmark's tune half, answerable against unanswerable questions, asked as of
their date (bench/answerability_fit.py writes rag/answer/answerable_model.json; the check half is
never read), together with its support floor (a question whose best evidence's support is under
it is refused: score 0) and its operating point, chosen by leave-one-quiz-week-out
cross-validation; the bias is shifted so that the operating point is 0.5. That score is
`Answer.confidence`; the threshold is `min_answerable`.

A question asked without a date (no `Filters.as_of`) has no clock but the newest retrieved
article: its newest evidence is always 0 days old, and the model reads it as answerable (9 of
the 12 near-topic unanswerable seed questions were answered). So those questions keep the
stricter support floor UNDATED_FLOOR (round 6's `min_support`). A model fitted for them on tune
with ages counted from the newest retrieved article refused four answerable seed questions and
fell under the seed eval's fact-recall floor; it is not used (docs/design.md).
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

from rag.answer.logistic import predict, read_model
from rag.answer.question import asking_sentence
from rag.text.lexical import content_words

MODEL_FILE = Path(__file__).with_name("answerable_model.json")

FEATURES = (
    "support", "lead_score", "lead_semantic", "lead_chunk_semantic", "best_chunk_semantic",
    "lead_passage_coverage", "lead_names_covered", "lead_rarest_missing", "best_chunk_coverage",
    "lead_age", "terms", "top_age", "newest_age", "ask_lead_coverage",
)
UNDATED_FLOOR = 0.55


def evidence(ranking, lead, support: float = 0.0) -> dict[str, float]:
    """The model's inputs for one question; `lead` is the engine's lead candidate or None,
    `support` its evidence strength (rag/answer/extractive.py `_support`)."""
    q, idf = ranking.question, ranking.idf
    terms = list(q.terms)
    total = sum(idf.get(t, 1.0) for t in terms) or 1.0
    chunk_terms = ranking.chunk_terms
    best_chunk = max((sum(idf.get(t, 1.0) for t in terms if t in s) / total for s in chunk_terms.values()),
                     default=0.0)
    out = {name: 0.0 for name in FEATURES}
    out["best_chunk_coverage"] = best_chunk
    out["best_chunk_semantic"] = max((c.chunk_semantic for c in ranking.candidates), default=0.0)
    out["terms"] = math.log1p(len(terms))
    hits = ranking.result.hits
    out["top_age"] = _age(ranking, hits[0].chunk) if hits else 0.0
    out["newest_age"] = min((_age(ranking, h.chunk) for h in hits), default=0.0)
    if lead is None:
        return out
    passage = chunk_terms[lead.chunk.id]
    missing = [idf.get(t, 1.0) for t in terms if t not in passage]
    rarest = max((idf.get(t, 1.0) for t in terms), default=1.0) or 1.0
    out.update({
        "support": support, "lead_score": lead.score, "lead_semantic": max(lead.semantic, 0.0),
        "lead_chunk_semantic": lead.chunk_semantic,
        "lead_passage_coverage": sum(idf.get(t, 1.0) for t in terms if t in passage) / total,
        "lead_names_covered": (sum(1 for t in q.names if t in passage) / len(q.names)) if q.names else 1.0,
        "lead_rarest_missing": max(missing, default=0.0) / rarest,
        "lead_age": _age(ranking, lead.chunk),
    })
    asked = asking_terms(q)
    if asked:
        near = set(lead.terms).union(*(n.terms for n in (lead.preceding, lead.following) if n is not None))
        asked_total = sum(idf.get(t, 1.0) for t in asked) or 1.0
        out["ask_lead_coverage"] = sum(idf.get(t, 1.0) for t in asked if t in near) / asked_total
    return out


def asking_terms(q) -> list[str]:
    """The question's terms in its asking sentence, the last one: a quiz question often sets the
    scene first ("Kim Kardashian was accused of damaging a dress. Who designed it?"), and a
    near-topic passage covers the scene but not what is asked."""
    last = set(content_words(asking_sentence(q.text)))
    return [t for t in q.terms if t in last] or list(q.terms)


def _age(ranking, chunk) -> float:
    """log(1 + days) from the chunk's article to the question's date (as_of, else the newest
    retrieved article); 0 when either is undated."""
    dates = [h.chunk.date for h in ranking.result.hits if h.chunk.date]
    now = ranking.as_of or (max(dates) if dates else None)
    if now is None or chunk.date is None:
        return 0.0
    return math.log1p(max((now - chunk.date).days, 0))


@lru_cache(maxsize=4)
def load_model(path: Path = MODEL_FILE) -> dict:
    return read_model(path, FEATURES)


def support_floor(dated: bool = True) -> float:
    """The support under which a question is refused: the model's (fitted with it), or for a
    question asked without a date UNDATED_FLOOR (module doc)."""
    floor = float(load_model().get("support_floor", 0.0))
    return floor if dated else max(floor, UNDATED_FLOOR)


def weakest(values: dict[str, float], model: dict | None = None) -> str | None:
    """The feature that weighs most against answering (its standardised value times its weight,
    the most negative), or None when none weighs against it: what a refusal names as its reason."""
    model = model or load_model()
    parts = {name: w * (values[name] - m) / sc
             for name, w, m, sc in zip(model["features"], model["weights"], model["mean"], model["scale"])}
    name = min(parts, key=parts.get, default=None)
    return name if name is not None and parts[name] < 0 else None


def explain(ranking, lead, values: dict[str, float], say_terms, model: dict | None = None) -> str | None:
    """In words, what weighs most against the index holding the answer (`weakest`): how old the
    evidence is, which question terms its passage or sentence misses, or how weak it is.
    `say_terms` renders question stems in the question's own words."""
    name = weakest(values, model)
    if name is None:
        return None
    since = "the question's date" if ranking.as_of is not None else "the newest retrieved article"
    ages = {"lead_age": "the best sentence's article", "top_age": "the top retrieved passage's article",
            "newest_age": "the newest retrieved article"}
    if name in ages:
        days = round(math.expm1(values[name]))
        return f"{ages[name]} is {days} day{'s' if days != 1 else ''} older than {since}"
    terms = list(ranking.question.terms)
    if name in ("lead_passage_coverage", "lead_names_covered", "lead_rarest_missing") and lead is not None:
        passage = ranking.chunk_terms.get(lead.chunk.id, frozenset())
        missing = [t for t in terms if t not in passage]
        if missing:
            return f"the best sentence's passage does not mention {say_terms(missing)}"
    if name == "ask_lead_coverage" and lead is not None:
        near = set(lead.terms).union(*(n.terms for n in (lead.preceding, lead.following) if n is not None))
        missing = [t for t in asking_terms(ranking.question) if t not in near]
        if missing:
            return f"the best sentence does not mention {say_terms(missing)}, which the question asks about"
    if name == "best_chunk_coverage":
        return f"no retrieved passage covers more than {values[name]:.0%} of the question's terms"
    if name == "lead_chunk_semantic":
        return f"the best sentence's passage is not close in meaning to the question (cosine {values[name]:.2f})"
    if name == "best_chunk_semantic":
        return f"no retrieved passage is close in meaning to the question (best cosine {values[name]:.2f})"
    if name == "terms":
        return "the question has few terms to match"
    return "the best sentence is a weak match for the question"


def answerable(values: dict[str, float], model: dict | None = None) -> float:
    """The score that the index holds the answer (0.5 at the cross-validated operating point)."""
    return predict(values, model or load_model())
