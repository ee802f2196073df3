"""How likely a candidate sentence holds the answer: a small logistic model over general features.

The features describe the sentence against the question, never a word list of the benchmark:
- evidence: semantic similarity (MiniLM cosine), IDF-weighted coverage of the question's terms
  in the sentence and around it (neighbours, title), coverage of the question's topic terms;
- relative evidence: each of those against the best candidate of the same question (a sentence
  competes with the others retrieved for this question, not with an absolute scale);
- answer type: whether the sentence holds an entity of the asked type that the question does
  not already give (a count of the asked unit for "how many", a date for "when", a person's
  name for "who", a place for "where", any new name otherwise), and novelty (new names at all);
- where it sits: the retrieval rank of its chunk, whether it opens the article (news puts the
  answer in the lede), its length, whether it quotes.

The weights are fitted on the benchmark's tune half (bench/sentence_model.py writes
rag/answer/sentence_model.json; the check half is never read): the model predicts "this
sentence holds the gold answer". Its probability ranks the candidates; the best probability is
the refusal score (calibrated on tune in the same fit, threshold `min_support`).
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from pathlib import Path

from rag.answer.logistic import predict, predict_many, read_model
from rag.text.lexical import content_words as _content_words
from rag.text.vocab import CALENDAR_WORDS, MONTH_PATTERN, WEEKDAY_PATTERN

MODEL_FILE = Path(__file__).with_name("sentence_model.json")

# What "when" wants (and the engine's date check): a month, a year, a weekday or a relative day.
DATE = re.compile(
    rf"\b{MONTH_PATTERN}|\b(19|20)\d{{2}}\b|\b{WEEKDAY_PATTERN}\b|"
    r"\b(yesterday|today|tonight|last (week|month|year)|this (week|month|year)|next (week|month|year))\b",
)
_DIGIT = re.compile(r"\d")
QUOTE = re.compile(r"[\"“”]")
# A run of capitalised words: a name. The first word of the sentence is capitalised anyway.
_CAPS = re.compile(r"\b[A-Z][\w'’.-]*(?:\s+(?:of\s+|de\s+|the\s+)?[A-Z][\w'’.-]*)*")
# A place is named after a locative preposition ("in Kyiv", "from Texas"); a person by two or
# more capitalised words, or by a title before one.
_LOCATIVE = re.compile(r"\b(?:in|at|from|near|to|across|outside|inside|into|toward|towards|across|throughout)\s+(?:the\s+)?$")
_TITLE = re.compile(r"\b(?:Mr|Mrs|Ms|Dr|Sen|Rep|Gov|Gen|President|Prime Minister|King|Queen|Prince|Princess|Judge|Justice|Secretary|Chancellor|Minister|Senator|Governor|Pope)\.?\s+$")

@lru_cache(maxsize=4096)
def _words(text: str) -> frozenset[str]:
    return frozenset(_content_words(text))


FEATURES = (
    "semantic", "coverage", "context", "topic", "semantic_gap", "coverage_gap", "context_gap",
    "type_ok", "asked_entity", "novelty", "inv_rank", "lede", "log_words", "quote",
    "chunk_semantic", "chunk_semantic_gap", "inv_dense_rank", "inv_lexical_rank",
)


# A capitalised word after a lower-case word or a comma is mid-sentence: a name, not an opener.
_MID_CAPS = re.compile(r"(?<=[a-z,;]\s)[A-Z][\w'’-]+")


@lru_cache(maxsize=1024)
def written_as_names(text: str) -> frozenset[str]:
    """Words the text capitalises mid-sentence: a sentence-initial "Germany" is a name when its
    article writes "... in Germany" too; "Officials" is not."""
    return frozenset(_MID_CAPS.findall(text))


def _names(text: str, question_words: set[str], known: frozenset[str] = frozenset()) -> list[tuple[str, str]]:
    """(kind, phrase) for each name in `text` that shares no word with the question; kind is
    person, place or name (undecided). A sentence's first word counts only when `known` (the
    words its article capitalises mid-sentence) holds it."""
    out = []
    for m in _CAPS.finditer(text):
        phrase = m.group().rstrip(".")
        if (m.start() == 0 and " " not in phrase and phrase not in known) or phrase in CALENDAR_WORDS:
            continue
        found = _words(phrase)
        if not found or found & question_words:
            continue
        before = text[max(0, m.start() - 30):m.start()]
        if _LOCATIVE.search(before):
            kind = "place"
        elif _TITLE.search(before) or len(phrase.split()) >= 2:
            kind = "person"
        else:
            kind = "name"
        out.append((kind, phrase))
    return out


def asked_entity(kind: str, text: str, question_words: set[str], type_ok: bool,
                 known: frozenset[str] = frozenset()) -> float:
    """1.0 when the sentence holds an entity of the asked type the question does not give
    (`known`: the words its article capitalises mid-sentence, see `_names`)."""
    if kind == "number":
        return 1.0 if type_ok else 0.0  # a figure (of the asked unit, when the question names one)
    if kind == "date":
        return 1.0 if DATE.search(text) else 0.0
    names = _names(text, question_words, known)
    if kind in ("person", "name"):
        return 1.0 if any(k in ("person", "name") for k, _ in names) else 0.0
    if kind == "place":
        return 1.0 if any(k in ("place", "name") for k, _ in names) else 0.0
    if kind == "quote":
        return 1.0 if QUOTE.search(text) else 0.0
    return 1.0 if names or _DIGIT.search(text) else 0.0


def features(c, q, best: dict[str, float] | None = None) -> dict[str, float]:
    """The model's inputs for one candidate (`best`: the question's best semantic, coverage and
    context over all candidates; the candidate's own values when not given)."""
    best = best or {"semantic": c.semantic, "coverage": c.coverage, "context": c.context,
                    "chunk_semantic": c.chunk_semantic}
    question_words = _words(q.text)
    text = c.sentence.text
    n_words = len(text.split())
    return {
        "semantic": max(c.semantic, 0.0), "coverage": c.coverage, "context": c.context, "topic": c.topic,
        "semantic_gap": max(c.semantic, 0.0) - max(best["semantic"], 0.0),
        "coverage_gap": c.coverage - best["coverage"], "context_gap": c.context - best["context"],
        "type_ok": 1.0 if c.type_ok else 0.0,
        "asked_entity": asked_entity(q.kind, text, question_words, c.type_ok, written_as_names(c.chunk.text)),
        "novelty": c.novelty, "inv_rank": 1.0 / c.rank,
        "lede": 1.0 if c.chunk.ordinal == 0 and c.preceding is None else 0.0,
        "log_words": math.log1p(n_words), "quote": 1.0 if QUOTE.search(text) else 0.0,
        "chunk_semantic": c.chunk_semantic, "chunk_semantic_gap": c.chunk_semantic - best["chunk_semantic"],
        "inv_dense_rank": 1.0 / c.dense_rank if c.dense_rank else 0.0,
        "inv_lexical_rank": 1.0 / c.lexical_rank if c.lexical_rank else 0.0,
    }


def best_values(candidates) -> dict[str, float]:
    return {"semantic": max((c.semantic for c in candidates), default=0.0),
            "coverage": max((c.coverage for c in candidates), default=0.0),
            "context": max((c.context for c in candidates), default=0.0),
            "chunk_semantic": max((c.chunk_semantic for c in candidates), default=0.0)}


@lru_cache(maxsize=4)
def load_model(path: Path = MODEL_FILE) -> dict:
    return read_model(path, FEATURES)


def probability(values: dict[str, float], model: dict | None = None) -> float:
    return predict(values, model or load_model())


def probabilities(rows: list[dict[str, float]], model: dict | None = None) -> list[float]:
    """`probability` of each row, in one matrix product."""
    return predict_many(rows, model or load_model())
