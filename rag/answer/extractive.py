"""The offline engine: pick the retrieved sentences that answer the question, verbatim, with citations.

Scoring (documented in docs/design.md):
- coverage: IDF-weighted share of the question's content terms found in the sentence;
- context: the same over the sentence and its neighbours (answers often name the subject one
  sentence earlier);
- semantic: MiniLM cosine between question and sentence, for the best lexical candidates;
- rank: how high the sentence's chunk came out of hybrid retrieval;
- type: a "how many" question needs a figure of the thing counted, "when" a date, "what is the
  name of" a name, "what did X say" a quote. ("Who" may be answered by a role: "a U.S. contractor".)
The question is refused when no sentence reaches `min_support`, or when it names something the
corpus never mentions.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field


from rag.answer.citations import CitationBook, render_answer_text
from rag.answer.conflicts import UNIT_SIMILARITY, find_conflicts
from rag.answer.figures import figures
from rag.answer.question import Question, analyse
from rag.answer.refusal import REFUSAL_PHRASE
from rag.index.store import Store
from rag.models import Answer, AnswerSentence, Chunk, Sentence
from rag.retrieval import Filters, search
from rag.text.lexical import content_words
from rag.text.vocab import ADDRESS_VERBS, MONTH_PATTERN, SPEECH_VERBS, WEEKDAY_PATTERN, alternation

_DATE = re.compile(
    rf"\b{MONTH_PATTERN}|\b(19|20)\d{{2}}\b|\b{WEEKDAY_PATTERN}\b|"
    r"\b(yesterday|today|tonight|last (week|month|year)|this (week|month|year)|next (week|month|year))\b",
)
_NAME = re.compile(r"(?<!^)(?<![.?!]\s)\b[A-Z][a-z'’-]+(?:\s+[A-Z][a-z'’.-]+)+")
# "What did X tell Y": a quotation, or X named in the sentence with a verb of speech.
_QUOTE = re.compile(r"[\"“”]")
_SPEECH = re.compile(rf"\b({alternation(SPEECH_VERBS + ADDRESS_VERBS)}|according to)\b", re.I)
_WEIGHTS = {"semantic": 0.5, "coverage": 0.3, "context": 0.1, "rank": 0.1}
_TYPE_PENALTY = 0.6
_NAME_BONUS = 0.08  # "who"/"which officials": a sentence that names people answers better
_SEMANTIC_FLOOR = 0.3  # below this cosine nothing is about the question
_DUPLICATE = 0.6
_SEMANTIC_CHARS = 200
# A sentence that only shares the question's names ("Joe Biden ... has said he will revive
# diplomacy") does not answer what the question asks about them.
_MIN_TOPIC = 0.25
_NEIGHBOURS = 2  # content-word Jaccard at which two sentences say the same thing


@dataclass
class Candidate:
    chunk: Chunk
    sentence: Sentence
    rank: int
    terms: set[str]
    coverage: float = 0.0
    context: float = 0.0
    semantic: float = 0.0
    type_ok: bool = True
    topic: float = 1.0  # coverage of the question's non-name terms, with neighbours
    score: float = 0.0
    twins: list["Candidate"] = field(default_factory=list)


def answer_extractive(store: Store, question: str, k: int | None = None, filters: Filters = Filters()) -> Answer:
    settings = store.settings
    result = search(store, question, k or settings.answer_k, filters)
    started = time.perf_counter()
    q = analyse(result.query)
    lexical = store.lexical()
    # +0.5 keeps every question term worth something in a small corpus, where IDF is noisy.
    idf = {t: 0.5 + lexical.idf(t) for t in q.terms}
    candidates = _candidates(result.hits, q, idf)
    if q.unit:
        _match_counted_unit(candidates, q, store.embedder)
    _semantic(store, result.query_vector, candidates, settings.rerank_sentences)
    for c in candidates:
        c.score = _score(c, q)
    candidates.sort(key=lambda c: -c.score)

    unknown = [t for t in q.names if lexical.df.get(t, 0) == 0]
    eligible = [c for c in candidates if _support(c) >= settings.min_support]
    on_topic = max((c.semantic for c in candidates), default=0.0) >= _SEMANTIC_FLOOR
    base = dict(question=result.query, engine="extractive", settings_hash=result.settings_hash,
                retrieved=list(dict.fromkeys(h.chunk.source for h in result.hits)))
    if unknown or not eligible or not on_topic:
        notes = [f"not in the corpus: {', '.join(unknown)}"] if unknown else []
        return Answer(answer=REFUSAL_PHRASE, refused=True, notes=notes,
                      timings={**result.timings, "answer": round(time.perf_counter() - started, 4)}, **base)

    lead = eligible[0]
    chosen = _select([lead] + [c for c in candidates if c is not lead], q, settings.answer_max_sentences)
    conflicts_found = find_conflicts(candidates, chosen, q, store.embedder)
    for group in conflicts_found:
        for stated in group.statements:
            if not any(stated is c or stated in c.twins for c in chosen):
                chosen.append(stated)
    book = CitationBook()
    sentences = [
        AnswerSentence(
            text=c.sentence.text,
            citations=[book.cite(x.chunk, x.sentence) for x in [c, *c.twins]],
            support=round(_support(c), 3),
        )
        for c in chosen
    ]
    numbers = {id(x): book.cite(x.chunk, x.sentence) for c in chosen for x in [c, *c.twins]}
    return Answer(
        answer=render_answer_text(sentences), sentences=sentences, citations=book.citations,
        conflicts=[g.to_conflict(lambda c: numbers.get(id(c))) for g in conflicts_found],
        timings={**result.timings, "answer": round(time.perf_counter() - started, 4)}, **base,
    )


def _candidates(hits, q: Question, idf: dict[str, float]) -> list[Candidate]:
    total = sum(idf.values()) or 1.0
    topic_terms = [t for t in q.terms if t not in q.names]
    topic_total = sum(idf[t] for t in topic_terms)
    first_seen: dict[tuple[str, int], tuple] = {}
    for hit in hits:
        for sentence in hit.chunk.sentences:
            first_seen.setdefault((hit.chunk.source, sentence.char_start), (hit, sentence))
    # Neighbours come from the article's order, across the retrieved chunks of one source.
    ordered = sorted(first_seen.items(), key=lambda item: item[0])
    terms = [set(content_words(s.text)) for _, (_, s) in ordered]
    out: list[Candidate] = []
    for i, ((source, _), (hit, sentence)) in enumerate(ordered):
        if sentence.kind != "sentence":
            continue
        nearby = set(terms[i])
        for step in (-1, 1):  # up to two sentences either way: quotes are often attributed later
            j, previous = i + step, sentence
            while abs(j - i) <= _NEIGHBOURS and 0 <= j < len(ordered) and ordered[j][0][0] == source \
                    and _adjacent(ordered[j][1][1], previous):
                nearby |= terms[j]
                previous = ordered[j][1][1]
                j += step
        around = nearby | set(content_words(hit.chunk.title or ""))
        out.append(Candidate(
            chunk=hit.chunk, sentence=sentence, rank=hit.rank, terms=terms[i],
            coverage=sum(idf[t] for t in q.terms if t in terms[i]) / total,
            context=sum(idf[t] for t in q.terms if t in around) / total,
            topic=sum(idf[t] for t in topic_terms if t in nearby) / topic_total if topic_total else 1.0,
            type_ok=_type_ok(q.kind, sentence.text, set(q.terms), set(q.names), terms[i]),
        ))
    return out


def _adjacent(a: Sentence, b: Sentence) -> bool:
    """Neighbouring sentences: at most one blank line apart."""
    return abs(a.line_start - b.line_end) <= 2 or abs(b.line_start - a.line_end) <= 2


def _type_ok(kind: str, text: str, terms: set[str], names: set[str] = frozenset(),
             words: set[str] = frozenset()) -> bool:
    if kind == "number":
        return bool(figures(text, terms))
    if kind == "date":
        return bool(_DATE.search(text))
    if kind == "name":  # "what was the name of ...": only a sentence with a name answers
        return bool(_NAME.search(text))
    if kind == "quote":
        return bool(_QUOTE.search(text)) or bool(_SPEECH.search(text) and names & words)
    return True


def _match_counted_unit(candidates: list[Candidate], q: Question, embedder) -> None:
    """'How many rockets': a sentence answers only if it counts rockets (or a near synonym such as
    missiles), not if it counts something else ('three members of the coalition')."""
    found = {id(c): figures(c.sentence.text, {q.unit}, counted=q.unit) for c in candidates}
    words = {f.unit: f.unit_word.lower() for figs in found.values() for f in figs}
    if not words:
        for c in candidates:
            c.type_ok = False
        return
    units = list(words)
    vectors = embedder.embed([q.unit_word.lower()] + [words[u] for u in units])
    close = {u for u, sim in zip(units, vectors[1:] @ vectors[0]) if sim >= UNIT_SIMILARITY or u == q.unit}
    for c in candidates:
        c.type_ok = any(f.unit in close for f in found[id(c)])


def _semantic(store: Store, query_vector, candidates: list[Candidate], limit: int) -> None:
    """Embed the question and the most promising sentences; a cosine per sentence."""
    if not candidates or limit == 0:
        return
    def promise(c: Candidate) -> float:
        return c.coverage + 0.5 * c.context + 0.3 / c.rank + (0.3 if c.type_ok else 0.0)

    shortlist = sorted(candidates, key=promise, reverse=True)[:limit]
    # The opening of a sentence carries its claim; capping the length bounds query latency.
    vectors = store.embedder.embed([c.sentence.text[:_SEMANTIC_CHARS] for c in shortlist])
    sims = vectors @ query_vector
    for c, sim in zip(shortlist, sims):
        c.semantic = float(sim)


def _score(c: Candidate, q: Question) -> float:
    score = (
        _WEIGHTS["semantic"] * max(c.semantic, 0.0)
        + _WEIGHTS["coverage"] * c.coverage
        + _WEIGHTS["context"] * c.context
        + _WEIGHTS["rank"] / c.rank
    )
    if q.kind == "person" and _NAME.search(c.sentence.text):
        score += _NAME_BONUS
    return score if c.type_ok else score * _TYPE_PENALTY


def _support(c: Candidate) -> float:
    """How well the sentence answers: half lexical (question terms in it, or around it), half
    semantic. Paraphrased questions score on the second half, off-topic word matches on neither
    alone. Only the embedded shortlist can reach the threshold. A sentence must also address
    the question's topic, not just the people or places it names."""
    if not c.type_ok or c.topic < _MIN_TOPIC:
        return 0.0
    return 0.5 * max(c.coverage, 0.8 * c.context) + 0.5 * max(c.semantic, 0.0)


def _select(candidates: list[Candidate], q: Question, limit: int) -> list[Candidate]:
    """Greedy: the best sentence, then sentences that cover more of the question; copies of a
    chosen sentence from other sources become extra citations on it."""
    best = candidates[0]
    chosen = [best]
    covered = set(best.terms) & set(q.terms)
    for c in candidates[1:]:
        if c.score < 0.6 * best.score:
            break
        twin = next((x for x in chosen if _same_statement(x, c)), None)
        if twin is not None:
            if c.chunk.source != twin.chunk.source and all(c.chunk.source != t.chunk.source for t in twin.twins):
                twin.twins.append(c)
            continue
        adds = (set(c.terms) & set(q.terms)) - covered
        if len(chosen) < limit and (adds or c.score >= 0.9 * best.score):
            chosen.append(c)
            covered |= adds
    return chosen


def _same_statement(a: Candidate, b: Candidate) -> bool:
    if not a.terms or not b.terms:
        return False
    return len(a.terms & b.terms) / len(a.terms | b.terms) >= _DUPLICATE


