"""What a briefing reads: the chunks in scope, and their sentences as candidate units.

With a topic, hybrid retrieval (the filters apply) picks the chunks; without one, every article
that passes the filters is read, newest first, up to `max_chunks` chunks (each article's lead
first, because news puts the event in its first paragraphs). Candidates are the body sentences
of those chunks, once each: headings, photo captions and credit lines, fragments under 8 words
and run-ons over 80 words are not statements a briefing can stand on.

What is new since a date (rag/brief/new_since.py) reads the retrieved new articles whole
(`whole_articles`: the new articles are few, and a detail is often in a chunk the topic does not
retrieve) and keeps short sentences that `keep_short` accepts (attributed quotations: "Today is
a historic day," Biden said.).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from rag.errors import InputError
from rag.index.embed_cache import embed_cached
from rag.index.store import Store
from rag.models import Article, Chunk, Hit, Sentence
from rag.ranking import evidence_settings
from rag.retrieval import Filters, check_query, search
from rag.text.dates import find_date_mentions, resolve_mention
from rag.text.lexical import content_words

_CAPTION = re.compile(r"^\s*(FILE|PHOTO|IMAGE|VIDEO)\b|\bfile photo\b|\bPhoto:|Getty Images|\bAP Photo\b|\||"
                      r"^\s*(Editor['’]s note|Correction|Clarification|Update)\s*:", re.IGNORECASE)
_MIN_WORDS, _MAX_WORDS = 8, 80
_EMBED_CHARS = 300  # sentence vectors read the opening of long sentences (MiniLM reads 256 wordpieces)
_EMBED_BATCH = 128  # under MiniLMEmbedder's bulk size (256), above which it imports torch


@dataclass
class Unit:
    """One candidate sentence, with what the briefing computes about it."""

    chunk: Chunk
    sentence: Sentence
    article: Article
    position: int  # order of the sentence within its article's body (0 = first)
    terms: set[str]
    vector: np.ndarray | None = None
    relevance: float = 1.0  # to the topic (1.0 without one)
    centrality: float = 0.0
    score: float = 0.0
    episode: int | None = None
    twins: list[Unit] = field(default_factory=list)  # the same statement in other sources

    @property
    def source(self) -> str:
        return self.chunk.source

    @property
    def text(self) -> str:
        return self.sentence.text


@dataclass
class Scope:
    hits: list[Hit]  # the chunks read, best first (a whole-corpus briefing ranks them by recency)
    units: list[Unit]
    articles: dict[str, Article]
    topic_vector: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)
    year_hints: dict[str, int] = field(default_factory=dict)  # undated source → a year it writes


def gather(store: Store, topic: str | None, filters: Filters, k: int, max_chunks: int, whole_articles: bool = False,
           keep_short: Callable[[str], bool] | None = None) -> Scope:
    if topic is not None:
        topic = check_query(topic)
        result = search(store, topic, k, filters, evidence_settings(store.settings))
        hits, notes, vector = result.hits, [], result.query_vector
        if whole_articles:
            hits = _whole_articles(store, hits, max_chunks)
    else:
        hits, notes = _whole_corpus(store, filters, max_chunks)
        vector = None
    if not hits:
        raise InputError("nothing to brief: no indexed article matches " + (
            f"the topic {topic!r}" if topic else "the filters") + (" and the filters" if topic and filters.active else ""))
    articles = {a: store.docs.article(a) for a in dict.fromkeys(h.chunk.source for h in hits)}
    units = candidate_units(store, [h.chunk for h in hits], articles, keep_short)
    embed_units(store, units)
    if vector is not None:
        _relevance(units, set(content_words(topic)), vector)
    return Scope(hits=hits, units=units, articles=articles, topic_vector=vector, notes=notes,
                 year_hints=year_hints(store, [s for s, a in articles.items() if a.date is None]))


def year_hints(store: Store, undated: list[str]) -> dict[str, int]:
    """For undated articles: the year of the latest full date the file writes anywhere (lines
    the cleaner dropped included: a caption's "Nov. 27, 2020" is still a date the article states)."""
    out: dict[str, int] = {}
    for source in undated:
        found = [r.start for m in find_date_mentions(store.docs.raw(source) or "")
                 if m.kind == "full" and (r := resolve_mention(m, None))]
        if found:
            out[source] = max(found).year
    return out


def _relevance(units: list[Unit], terms: set[str], vector: np.ndarray) -> None:
    """Half semantic (cosine with the topic), half lexical: the share of the topic's content words
    in the sentence or the one before it (a quote's speaker is often named a sentence earlier)."""
    previous: Unit | None = None
    for u in units:  # sorted by source and position
        around = u.terms | (previous.terms if previous is not None and previous.source == u.source else set())
        lexical = len(terms & around) / len(terms) if terms else 0.0
        u.relevance = 0.5 * max(float(u.vector @ vector), 0.0) + 0.5 * lexical
        previous = u


def _whole_articles(store: Store, hits: list[Hit], max_chunks: int) -> list[Hit]:
    """Every chunk of the retrieved articles, in order of each article's best hit, the retrieved
    chunks first, up to `max_chunks` (at least the retrieved ones)."""
    out = list(hits)
    seen = {(h.chunk.source, h.chunk.ordinal) for h in hits}
    for source in dict.fromkeys(h.chunk.source for h in hits):
        for chunk in store.docs.chunks_of(source):
            if len(out) >= max_chunks:
                return out
            if (source, chunk.ordinal) not in seen:
                seen.add((source, chunk.ordinal))
                out.append(Hit(rank=len(out) + 1, score=0.0, chunk=chunk))
    return out


def _whole_corpus(store: Store, filters: Filters, max_chunks: int) -> tuple[list[Hit], list[str]]:
    store.check_compatible(for_query=True)
    sources = store.docs.sources(filters.source, filters.since, filters.last_day)
    if filters.sources is not None:
        chosen = set(filters.sources)
        sources = [s for s in sources if s in chosen]
    articles = [store.docs.article(s) for s in sources]
    articles.sort(key=lambda a: (a.date is None, -(a.date.toordinal() if a.date else 0), a.source))
    per_article = [store.docs.chunks_of(a.source) for a in articles]
    chosen: list[Chunk] = []
    depth = 0
    while len(chosen) < max_chunks and any(depth < len(c) for c in per_article):
        for chunks in per_article:  # round robin: every article's lead before any article's tail
            if depth < len(chunks) and len(chosen) < max_chunks:
                chosen.append(chunks[depth])
        depth += 1
    total = sum(len(c) for c in per_article)
    note = (f"read {len(chosen)} of {total} chunks (the leads of the newest articles first); "
            "give a topic to brief on the rest")
    notes = [note] if len(chosen) < total else []
    hits = [Hit(rank=r, score=0.0, chunk=c) for r, c in enumerate(chosen, start=1)]
    return hits, notes


def candidate_units(store: Store, chunks: list[Chunk], articles: dict[str, Article],
                    keep_short: Callable[[str], bool] | None = None) -> list[Unit]:
    seen: dict[tuple[str, int], Unit] = {}
    for chunk in chunks:
        for sentence in chunk.sentences:
            key = (chunk.source, sentence.char_start)
            if key in seen or sentence.kind != "sentence":
                continue
            if not _is_statement(sentence.text) and not (keep_short and _is_short(sentence.text) and keep_short(sentence.text)):
                continue
            seen[key] = Unit(chunk=chunk, sentence=sentence, article=articles[chunk.source], position=0,
                             terms=set(content_words(sentence.text)))
    units = sorted(seen.values(), key=lambda u: (u.source, u.sentence.char_start))
    _number_positions(store, units)
    return units


def _is_statement(text: str) -> bool:
    n = len(text.split())
    return _MIN_WORDS <= n <= _MAX_WORDS and not _CAPTION.search(text)


def _is_short(text: str) -> bool:
    return len(text.split()) < _MIN_WORDS and not _CAPTION.search(text)


def _number_positions(store: Store, units: list[Unit]) -> None:
    """Position = index among the article's body sentences, counted over all its chunks."""
    for source in dict.fromkeys(u.source for u in units):
        starts = sorted({s.char_start for c in store.docs.chunks_of(source) for s in c.sentences
                         if s.kind == "sentence" and _is_statement(s.text)})
        index = {start: i for i, start in enumerate(starts)}
        for u in units:
            if u.source == source:
                u.position = index.get(u.sentence.char_start, len(starts))


class _SentenceEmbedder:
    """The store's embedder, in batches under its bulk size: a briefing's few hundred short
    sentences embed faster with the numpy forward pass than by importing torch (measured: 480
    sentences 25 s against 85 s on 2 busy cores)."""

    def __init__(self, embedder):
        self.embedder = embedder
        self.name = embedder.name

    def embed(self, texts: list[str], bulk: bool = False) -> np.ndarray:
        return self.embedder.embed(texts)  # never bulk: see above


def embed_units(store: Store, units: list[Unit]) -> None:
    texts = [u.text[:_EMBED_CHARS] for u in units]
    if not texts:
        return
    embedder = _SentenceEmbedder(store.embedder)
    try:  # sentence vectors are cached with the chunk vectors, so a second briefing embeds nothing
        vectors, _ = embed_cached(embedder, store.cache, texts, batch=_EMBED_BATCH)
    except sqlite3.Error:  # a read-only store: embed without the cache
        vectors = np.concatenate([embedder.embed(texts[i:i + _EMBED_BATCH]) for i in range(0, len(texts), _EMBED_BATCH)])
    for u, v in zip(units, vectors):
        u.vector = np.asarray(v, dtype=np.float32)
