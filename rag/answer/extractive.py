"""The offline engine: pick the retrieved sentences that answer the question, verbatim, with citations.

Every statement sentence of the retrieved chunks is a candidate (headings and page furniture,
`Sentence.kind != "sentence"`, never are). Each gets (documented with the tune figures that chose
them in docs/design.md):
- semantic: MiniLM cosine between question and sentence, for every candidate from the sentence
  vectors stored at ingest (else for the `rerank_sentences` most promising, embedded now);
- coverage: IDF-weighted share of the question's content terms found in the sentence;
- novelty: names the sentence gives that the question does not (an answer adds what the question
  lacks; a sentence that restates the question adds nothing);
- type: "how many X" needs a figure of X (or a near synonym), "when" a date, "what is the name
  of" a name, "what did X say" a quote.
The lead is the best-scoring candidate that answers at all (the right type, on the question's
topic); the refusal score is the answerability score, from the evidence for the lead
(rag/answer/answerable_score.py: its support, what its passage misses of the question, how old
its article is), and the question is refused, with the reason, when it is under
`min_answerable`, when the best support is under the floor fitted with that score (stricter for
a question asked without a date), or when the question names something the corpus never
mentions. A chosen
sentence brings the next sentence of its paragraph when that one holds what the question asks
and it does not; a quote attributed to a role or a pronoun gets the article's name for them as
a note.
"""

from __future__ import annotations

import re
import sqlite3
import time
from dataclasses import dataclass, field

import numpy as np

from rag.answer.answerable_score import answerable, evidence, explain, support_floor
from rag.answer.attribution import note, resolve_attribution
from rag.answer.citations import CitationBook, render_answer_text
from rag.answer.conflicts import UNIT_SIMILARITY, find_conflicts
from rag.answer.figures import figures
from rag.answer.question import Question, analyse, without_period
from rag.answer.refusal import REFUSAL_PHRASE
from rag.answer.sentence_score import DATE as _DATE
from rag.answer.sentence_score import QUOTE as _QUOTE
from rag.answer.sentence_score import best_values, features, probabilities
from rag.index.embed_cache import embed_cached
from rag.index.sentence_vectors import SEMANTIC_CHARS, sentence_text, stored_vectors
from rag.index.store import Store
from rag.models import Answer, AnswerSentence, Chunk, Sentence
from rag.retrieval import Filters, search
from rag.text.lexical import content_words, stem, term_set, words
from rag.text.sameness import SAME_WORDS, same_statement
from rag.text.vocab import (
    ADDRESS_VERBS,
    CALENDAR_WORDS,
    SPEECH_VERBS,
    alternation,
)

_NAME = re.compile(r"(?<!^)(?<![.?!]\s)\b[A-Z][a-z'’-]+(?:\s+[A-Z][a-z'’.-]+)+")
_PROPER = re.compile(r"\b[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*)*")
_SPEECH = re.compile(rf"\b({alternation(SPEECH_VERBS + ADDRESS_VERBS)}|according to)\b", re.IGNORECASE)
_NOVEL_CAP = 3
# A sentence that only shares the question's names ("Joe Biden ... has said he will revive
# diplomacy") does not answer what the question asks about them.
_MIN_TOPIC = 0.25
_NEIGHBOURS = 2
# Kinds whose answer is an entity of a type (rag/answer/sentence_score.py `asked_entity`).
_TYPED = frozenset({"person", "place", "date", "number", "name"})
_KEEP_RATIO = 0.25  # a further sentence has at least this share of the lead's probability (every gold sentence ranked 2-6 on tune does)
# ... and adds question terms (these first), or scores this share of the lead (the gold sentence
# is often second or third). Scores within _TIE of the lead's are tied, broken by position, not
# score: a further sentence must not flip when unrelated articles shift IDF
# (tests/test_reliability_questions.py). Both chosen on tune (docs/design.md, round 8).
_ADD_RATIO = 0.5
_TIE = 0.03


@dataclass
class Candidate:
    chunk: Chunk
    sentence: Sentence
    rank: int
    terms: set[str]
    coverage: float = 0.0
    context: float = 0.0
    semantic: float = 0.0
    novelty: float = 0.0
    type_ok: bool = True
    topic: float = 1.0  # coverage of the question's non-name terms, with neighbours
    asked: bool = True  # holds an entity of the asked type the question does not give
    chunk_semantic: float = 0.0  # cosine of the question and the sentence's chunk vector
    dense_rank: int | None = None  # the chunk's rank in each retriever
    lexical_rank: int | None = None
    score: float = 0.0  # the answer-sentence model's probability (rag/answer/sentence_score.py)
    following: Candidate | None = None  # the next sentence in the article, when retrieved and adjacent
    preceding: Candidate | None = None
    twins: list[Candidate] = field(default_factory=list)


@dataclass
class Ranking:
    """What the engine read and how it scored it: the answer is built from this."""

    question: Question
    result: object  # SearchResult
    candidates: list[Candidate]
    unknown: list[str]  # question names the corpus never mentions
    idf: dict[str, float] = field(default_factory=dict)  # of the question's terms
    as_of: object = None  # the question's date (Filters.as_of), when given
    chunk_terms: dict[str, frozenset[str]] = field(default_factory=dict)  # chunk id → terms of its title and text


def rank(store: Store, question: str, k: int | None = None, filters: Filters = Filters()) -> Ranking:  # noqa: B008
    settings = store.settings
    result = search(store, question, k or settings.extractive_k, filters)
    q = without_period(analyse(result.query))
    lexical = store.lexical()
    # +0.5 keeps every question term worth something in a small corpus, where IDF is noisy.
    idf = {t: 0.5 + v for t, v in lexical.idfs(q.terms).items()}
    candidates = _candidates(result.hits, q, idf)
    if q.unit:
        _match_counted_unit(candidates, q, CachedEmbedder(store))
    _chunk_semantic(store, result.query_vector, candidates)
    _semantic(store, result.query_vector, candidates, settings.rerank_sentences)
    best = best_values(candidates)
    rows = [features(c, q, best) for c in candidates]
    for c, values, score in zip(candidates, rows, probabilities(rows)):
        c.asked = values["asked_entity"] > 0
        c.score = score
    candidates.sort(key=lambda c: -c.score)
    unknown = [t for t in q.names if lexical.df.get(t, 0) == 0]
    return Ranking(question=q, result=result, candidates=candidates, unknown=unknown, idf=idf, as_of=filters.as_of,
                   chunk_terms={h.chunk.id: chunk_terms(h.chunk) for h in result.hits})


def chunk_terms(chunk: Chunk) -> frozenset[str]:
    """The terms of a chunk's title and text: its sentences cover its text."""
    return term_set(chunk.title or "").union(*(term_set(s.text) for s in chunk.sentences))


def answer_extractive(store: Store, question: str, k: int | None = None, filters: Filters = Filters()) -> Answer:  # noqa: B008
    settings = store.settings
    started = time.perf_counter()
    ranking = rank(store, question, k, filters)
    result, q, candidates = ranking.result, ranking.question, ranking.candidates
    base = dict(question=result.query, engine="extractive", settings_hash=result.settings_hash,
                retrieved=list(dict.fromkeys(h.chunk.source for h in result.hits)))
    answering = [c for c in candidates if _answers(c, q)]
    lead = answering[0] if answering else None
    support = max((_support(c) for c in answering), default=0.0)
    floor = max(settings.min_support, support_floor(dated=ranking.as_of is not None))
    confidence = _confidence(ranking, lead, support, floor)
    reason = _refusal_reason(ranking, lead, support, confidence, settings, floor)

    def timings() -> dict[str, float]:  # "answer": everything after retrieval
        spent = time.perf_counter() - started - sum(result.timings.values())
        return {**result.timings, "answer": round(max(spent, 0.0), 4)}

    if reason is not None:
        notes = [f"not in the corpus: {', '.join(ranking.unknown)}"] if ranking.unknown else []
        return Answer(answer=REFUSAL_PHRASE, refused=True, notes=notes, confidence=confidence, refusal_reason=reason,
                      timings=timings(), **base)

    chosen = _select([lead] + [c for c in candidates if c is not lead], q, settings.answer_max_sentences)
    chosen = _complete(chosen, q)
    embedder = CachedEmbedder(store)
    # The event cosine reads the sentence vectors stored at ingest (their texts' opening), not
    # a forward pass over each long sentence of a figure pair.
    conflicts_found = find_conflicts(candidates, chosen, q, embedder,
                                     vectors=lambda texts: embedder.embed([t[:SEMANTIC_CHARS] for t in texts]))
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
            note=_attribution_note(store, c),
        )
        for c in chosen
    ]
    numbers = {id(x): book.cite(x.chunk, x.sentence) for c in chosen for x in [c, *c.twins]}
    return Answer(
        answer=render_answer_text(sentences), sentences=sentences, citations=book.citations,
        conflicts=[g.to_conflict(lambda c: numbers.get(id(c))) for g in conflicts_found], confidence=confidence,
        timings=timings(), **base,
    )


def _confidence(ranking: Ranking, lead: Candidate | None, support: float, min_support: float) -> float:
    """The refusal score: the answerability score (answerable_score), 0 when the best evidence's
    support is under the support floor (too weak to answer at all)."""
    if ranking.unknown or lead is None or support < min_support:
        return 0.0
    return round(answerable(evidence(ranking, lead, _support(lead))), 4)


def quoted_answerability(store: Store, question: str, quotes: list[tuple[str, str]], k: int | None = None,
                         filters: Filters = Filters()) -> float | None:  # noqa: B008
    """The extractive refusal model's score with a quoted sentence as its lead: the highest over
    `quotes` ((source, verbatim text) of another engine's answer), or None when no quote is a
    sentence the engine read; 0 when the question names what the corpus never mentions. The
    engine's own gates on its candidates (the asked type, the topic share, the support floor)
    are not applied: they choose the engine's lead, and a quote they would pass over may still
    answer (a sentence that names the singer without the question's word "residency")."""
    ranking = rank(store, question, k, filters)
    if ranking.unknown:
        return 0.0
    wanted = [(source, _flat(text)) for source, text in quotes]
    quoted = [c for c in ranking.candidates
              if any(c.chunk.source == source and _flat(c.sentence.text) in text for source, text in wanted)]
    return max((round(answerable(evidence(ranking, c, _support(c))), 4) for c in quoted), default=None)


def _flat(text: str) -> str:
    return " ".join(text.split()).lower()


def _refusal_reason(ranking: Ranking, lead: Candidate | None, support: float, confidence: float,
                    settings, floor: float) -> str | None:
    """Why the question is refused, in words; None when it is answered. `floor`: the support floor
    (the answerability model's, or `min_support` when higher)."""
    if ranking.unknown:
        return f"the corpus never mentions {_words_for(ranking.question, ranking.unknown)}"
    if lead is not None and support >= floor and confidence >= settings.min_answerable:
        return None
    seen = set().union(*ranking.chunk_terms.values())
    uncovered = [t for t in ranking.question.terms if t not in seen]
    parts = []
    if uncovered:
        parts.append(f"no retrieved passage mentions {_words_for(ranking.question, uncovered)}")
    if lead is None:
        asked = {"number": "the figure asked for", "date": "a date", "name": "a name", "quote": "a quotation",
                 "person": "a person's name", "place": "a place"}
        parts.append(f"no retrieved sentence gives {asked.get(ranking.question.kind, 'what the question asks')}"
                     if ranking.candidates else "nothing was retrieved")
    elif support < floor:
        parts.append(f"the best evidence scores {support:.2f}, under the threshold {floor:.2f}")
    else:
        parts.append(f"the evidence that the corpus holds the answer scores {confidence:.2f}, under the threshold "
                     f"{settings.min_answerable:.2f}")
        why = explain(ranking, lead, evidence(ranking, lead, _support(lead)),
                      lambda stems: _words_for(ranking.question, stems))
        if why:
            parts.append(f"what weighs most against it: {why}")
    return "; ".join(parts)


def _words_for(q: Question, stems: list[str]) -> str:
    """The question's own words for these stems ("rockets", not "rocket")."""
    by_stem = {}
    for w in words(q.text):
        by_stem.setdefault(stem(w.removesuffix("'s")), w)
    return ", ".join(f"“{by_stem.get(s, s)}”" for s in stems)


def _candidates(hits, q: Question, idf: dict[str, float]) -> list[Candidate]:
    total = sum(idf.values()) or 1.0
    topic_terms = [t for t in q.terms if t not in q.names]
    topic_total = sum(idf[t] for t in topic_terms)
    question_words = set(content_words(q.text))
    first_seen: dict[tuple[str, int], tuple] = {}
    for hit in hits:
        for sentence in hit.chunk.sentences:
            first_seen.setdefault((hit.chunk.source, sentence.char_start), (hit, sentence))
    # Neighbours come from the article's order, across the retrieved chunks of one source.
    ordered = sorted(first_seen.items(), key=lambda item: item[0])
    terms = [term_set(s.text) for _, (_, s) in ordered]
    out: list[Candidate] = []
    by_position: dict[int, Candidate] = {}
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
        around = nearby | term_set(hit.chunk.title or "")
        c = Candidate(
            chunk=hit.chunk, sentence=sentence, rank=hit.rank, terms=terms[i],
            dense_rank=hit.dense_rank, lexical_rank=hit.lexical_rank,
            coverage=sum(idf[t] for t in q.terms if t in terms[i]) / total,
            context=sum(idf[t] for t in q.terms if t in around) / total,
            topic=sum(idf[t] for t in topic_terms if t in nearby) / topic_total if topic_total else 1.0,
            novelty=_novelty(sentence.text, question_words),
            type_ok=_type_ok(q.kind, sentence.text, set(q.terms), set(q.names), terms[i]),
        )
        by_position[i] = c
        out.append(c)
    for i, c in by_position.items():
        nxt = by_position.get(i + 1)
        if nxt is not None and nxt.chunk.source == c.chunk.source and _adjacent(c.sentence, nxt.sentence):
            c.following, nxt.preceding = nxt, c
    return out


def _novelty(text: str, question_words: set[str]) -> float:
    """Share (capped) of names in the sentence that share no word with the question. The first
    word of a sentence is capitalised anyway, and calendar words name no answer."""
    novel = 0
    for m in _PROPER.finditer(text):
        phrase = m.group()
        if (m.start() == 0 and " " not in phrase) or phrase in CALENDAR_WORDS:
            continue
        found = term_set(phrase)
        if found and not found & question_words:
            novel += 1
    return min(novel, _NOVEL_CAP) / _NOVEL_CAP


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
    words_by_unit = {f.unit: f.unit_word.lower() for figs in found.values() for f in figs}
    if not words_by_unit:
        for c in candidates:
            c.type_ok = False
        return
    units = list(words_by_unit)
    vectors = embedder.embed([q.unit_word.lower()] + [words_by_unit[u] for u in units])
    close = {u for u, sim in zip(units, vectors[1:] @ vectors[0]) if sim >= UNIT_SIMILARITY or u == q.unit}
    for c in candidates:
        c.type_ok = any(f.unit in close for f in found[id(c)])


def _chunk_semantic(store: Store, query_vector, candidates: list[Candidate]) -> None:
    """The question's cosine with each candidate's chunk: stored vectors, nothing embedded."""
    ids = list(dict.fromkeys(c.chunk.id for c in candidates))
    if not ids or query_vector is None:
        return
    vectors = store.chunk_vectors(ids)  # the vector file: a cold ask need not open Chroma
    cosine = {i: float(np.asarray(v) @ query_vector) for i, v in vectors.items()}
    for c in candidates:
        c.chunk_semantic = cosine.get(c.chunk.id, 0.0)


def _semantic(store: Store, query_vector, candidates: list[Candidate], limit: int) -> None:
    """The question's cosine with every candidate sentence, from the sentence vectors stored at
    ingest (rag/index/sentence_vectors.py). Candidates without one (a store ingested before
    them, or with `sentence_vectors` off) fall back to embedding now the `limit` most promising
    of them; the others score 0 on this feature."""
    if not candidates or query_vector is None:
        return
    texts = [sentence_text(c.sentence) for c in candidates]
    try:
        stored = stored_vectors(store.embedder, store.cache, texts)
    except (sqlite3.Error, OSError):  # a cache this process cannot open: embed the shortlist
        stored = {}
    if stored:
        matrix = np.stack([stored[t] for t in texts if t in stored])
        cosines = iter((matrix @ query_vector).tolist())
        for c, t in zip(candidates, texts):
            if t in stored:
                c.semantic = next(cosines)
    missing = [c for c, t in zip(candidates, texts) if t not in stored]
    if not missing or limit == 0:
        return

    def promise(c: Candidate) -> float:
        return c.coverage + 0.5 * c.context + 0.3 / c.rank + (0.3 if c.type_ok else 0.0)

    shortlist = sorted(missing, key=promise, reverse=True)[:limit]
    vectors = CachedEmbedder(store).embed([sentence_text(c.sentence) for c in shortlist])
    for c, sim in zip(shortlist, np.asarray(vectors) @ query_vector):
        c.semantic = float(sim)


def _answers(c: Candidate, q: Question) -> bool:
    """A candidate answers at all when it is of the asked type, on the question's topic (not
    only its names), and, for who / where / when / how many, holds such an entity that the
    question does not already give (docs/design.md: measured on tune)."""
    return c.type_ok and c.topic >= _MIN_TOPIC and (c.asked or q.kind not in _TYPED)


class CachedEmbedder:
    """The store's embedder for the texts a question reads (sentences, the nouns figures count),
    through the store's embedding cache (keyed by text, beside the chunk vectors, as briefings
    keep their sentences): a text is embedded once, not at every question that reads it. A
    question's few dozen texts stay under the bulk size, so they never wait for torch. A store
    that cannot be written embeds without the cache."""

    def __init__(self, store: Store):
        self.store = store
        self.name = store.embedder.name

    def embed(self, texts: list[str], bulk: bool = False) -> np.ndarray:
        if not texts:
            return self.store.embedder.embed(texts)
        try:
            return embed_cached(self.store.embedder, self.store.cache, texts)[0]
        except (sqlite3.Error, OSError):  # a store this process may only read
            return self.store.embedder.embed(texts)


def _support(c: Candidate) -> float:
    """How well the sentence answers: half lexical (question terms in it, or around it), half
    semantic. Paraphrased questions score on the second half, off-topic word matches on neither
    alone. A sentence must also address the question's topic, not just the people or places it
    names, and be of the type the question asks for."""
    if not c.type_ok or c.topic < _MIN_TOPIC:
        return 0.0
    return 0.5 * max(c.coverage, 0.8 * c.context) + 0.5 * max(c.semantic, 0.0)


def _select(candidates: list[Candidate], q: Question, limit: int) -> list[Candidate]:
    """The lead, then up to `limit - 1` further sentences: first those that add question terms
    the answer lacks, then those that score at least `_ADD_RATIO` of the lead. Candidates within
    `_TIE` of the lead's score of the best one left are tied, and the tie goes by `_stable` (the
    lead's article first, then nearer its top), not to the higher score: scores that close move
    when unrelated articles shift IDF. Copies of a chosen sentence from other sources become
    extra citations on it."""
    best = candidates[0]
    chosen = [best]
    asked = set(q.terms)
    covered = asked.intersection(best.terms)
    copies: dict[int, list[Candidate]] = {id(best): []}

    def apart(pool: list[Candidate], x: Candidate) -> list[Candidate]:
        """The pool without x's copies, which become x's."""
        same = [c for c in pool if same_statement(x.terms, c.terms, SAME_WORDS)]
        copies.setdefault(id(x), []).extend(same)
        return [c for c in pool if c is not x and not any(c is d for d in same)]

    pool = apart([c for c in candidates[1:] if c.score >= _KEEP_RATIO * best.score], best)
    while len(chosen) < limit:
        # A sentence that brings question terms the answer lacks comes before one that only scores well.
        missing = asked - covered
        eligible = [c for c in pool if not missing.isdisjoint(c.terms)] or [
            c for c in pool if c.score >= _ADD_RATIO * best.score]
        if not eligible:
            break
        top = max(c.score for c in eligible)
        pick = min((c for c in eligible if c.score >= top - _TIE * best.score), key=lambda c: _stable(c, best))
        chosen.append(pick)
        covered |= asked.intersection(pick.terms)
        pool = apart(pool, pick)
    for x in chosen:
        for c in sorted(copies.get(id(x), []), key=lambda c: _stable(c, best)):
            if c.chunk.source != x.chunk.source and all(c.chunk.source != t.chunk.source for t in x.twins):
                x.twins.append(c)
    return [best, *sorted(chosen[1:], key=lambda c: _stable(c, best))]  # the order of picking moves with the ties


def _stable(c: Candidate, lead: Candidate) -> tuple:
    """An order that no score moves: the lead's own article first (it continues the same report),
    then nearer its article's top (news leads with what matters)."""
    return c.chunk.source != lead.chunk.source, c.sentence.line_start, c.chunk.source, c.sentence.char_start


def _complete(chosen: list[Candidate], q: Question) -> list[Candidate]:
    """A chosen sentence that only sets up the answer, or refers back to it, brings its neighbour:
    the next sentence when it ends in a colon; the next, else the previous, sentence when it lacks
    what the question asks (the figure, the date; for "who/which/where" a name the question does
    not give: "the show is green lit" after "“Squid Game” is coming back") and the neighbour has it."""
    out: list[Candidate] = []
    for c in chosen:
        before, after = c.preceding, c.following
        sets_up = c.sentence.text.rstrip().endswith(":")
        wants_name = q.kind in ("person", "name", "place", "general") and c.novelty == 0

        def holds(n: Candidate, c: Candidate = c, wants_name: bool = wants_name) -> bool:
            return (not c.type_ok and n.type_ok) or (wants_name and n.novelty > 0 and n.type_ok)

        pick = after if after is not None and (sets_up or holds(after)) else (
            before if before is not None and holds(before) else None)
        if pick is not None and pick in chosen + out:
            pick = None
        if pick is before and pick is not None:
            out.append(pick)
        out.append(c)
        if pick is after and pick is not None:
            out.append(pick)
    return out


def _attribution_note(store: Store, c: Candidate) -> str | None:
    if not _QUOTE.search(c.sentence.text):
        return None
    before = [s for ch in store.docs.chunks_of(c.chunk.source) for s in ch.sentences
              if s.char_start < c.sentence.char_start]
    before = list({s.char_start: s for s in before}.values())
    found = resolve_attribution(c.sentence, before)
    return note(found) if found else None

