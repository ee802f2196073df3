"""Hybrid retrieval: dense (Chroma) + BM25 chunk candidates and a whole-article BM25 list, ranked
by rag.ranking, near-duplicate folding, per-article cap, MMR, then each chosen article shown by
its chunk covering most of the question's rare terms (rag.passages)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from dataclasses import dataclass

import numpy as np

from rag.errors import InputError
from rag.index.store import Store
from rag.models import Chunk, Hit, SearchResult
from rag.passages import by_coverage, coverage
from rag.ranking import Head, RankingParams, merged, needs_heads, rank_chunks
from rag.text.lexical import content_words

MAX_QUERY_CHARS = 2000
_EPOCH = dt.date(1970, 1, 1)  # day numbers count from it (rag.index.scope.day_number)


@dataclass(frozen=True)
class Filters:
    source: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    sources: tuple[str, ...] | None = None  # only these sources (the page's selection); with `source`, both apply
    # What was known on that day: articles dated after it are excluded (undated ones too, as by
    # `until`: nothing shows they were out by then), and a recency prior favours the latest coverage.
    as_of: dt.date | None = None

    def __post_init__(self):
        # as_of caps `until`, so every reader of the date range (scopes, briefings, new-since) honours it.
        if self.as_of is not None and (self.until is None or self.until > self.as_of):
            object.__setattr__(self, "until", self.as_of)

    @property
    def active(self) -> bool:
        return bool(self.source or self.since or self.last_day or self.sources is not None)

    @property
    def last_day(self) -> dt.date | None:
        """The last date an article may carry: the earlier of until and as_of."""
        return min((d for d in (self.until, self.as_of) if d), default=None)


def check_query(query: str) -> str:
    query = (query or "").strip()
    if not query:
        raise InputError("the question is empty")
    if len(query) > MAX_QUERY_CHARS:
        raise InputError(f"the question is {len(query)} characters long; the limit is {MAX_QUERY_CHARS}")
    if not any(ch.isalnum() for ch in query):
        raise InputError("the question has no words in it")
    return query


def search(store: Store, query: str, k: int | None = None, filters: Filters = Filters(),
           settings=None) -> SearchResult:
    """The k best chunks for `query`, ranked by `settings` (the store's by default; a briefing
    ranks its evidence by rag.ranking.evidence_settings)."""
    settings = settings or store.settings
    k = k or settings.top_k
    query = check_query(query)
    store.check_compatible(for_query=True)
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = round(now - clock, 4)
        clock = now

    with store.reading():  # one committed state for every read below
        evidence = gather(store, query, filters, settings, lap)
        ranked = rank(evidence, settings, filters.as_of)
        pool = ranked[: pool_size(k)]
        lap("rank")
        chunks = store.docs.chunks([i for i, _ in pool])
        vectors = store.chunk_vectors([i for i, _ in pool if i in chunks])
        lap("fetch")
        reader = PassageReader(store, evidence) if evidence.idf is not None else None
        hits = choose(evidence, ranked, chunks, vectors, k, settings, reader)
    lap("diversify")
    return SearchResult(query=query, hits=hits, settings_hash=settings.settings_hash(), timings=timings,
                        query_vector=evidence.vector)


def pool_size(k: int) -> int:
    """How many of the ranked candidates MMR picks k hits from."""
    return max(3 * k, 20)


# How deep in the ranking an article's other chunks may stand in for its chosen one: a fixed depth,
# so the chunk shown for an article does not depend on k (up to k = 20, whose pool is this deep).
PASSAGE_DEPTH = 60


@dataclass(frozen=True)
class PassageReader:
    """What choosing the chunk shown for an article reads beyond the pool (passage_choice
    "coverage"): coverages, the articles' leads, and the chunks and vectors of candidates that
    were not in the pool."""

    store: Store
    evidence: Evidence

    def coverages(self, ids: list[str]) -> dict[str, float]:
        """Each chunk's coverage of the question's rare terms (rag.passages.coverage)."""
        return {i: coverage(r.terms, self.evidence.idf or {}) for i, r in self.store.docs.lexical_rows(ids).items()}

    def leads(self, sources: list[str]) -> dict[str, str]:
        """Each article's first chunk (source → chunk id)."""
        return self.store.docs.lead_chunks(sources)

    def chunks(self, ids: list[str]) -> dict[str, Chunk]:
        return self.store.docs.chunks(ids) if ids else {}

    def vectors(self, ids: list[str]) -> dict:
        return self.store.chunk_vectors(ids) if ids else {}


def recent_window(filters: Filters, days: int) -> Filters | None:
    """The filters of a search's recent window: its own, narrowed to the articles dated from `days`
    before as_of up to as_of. None without as_of, with `days` 0, or when the search's own range
    starts inside the window (its candidates are the window's already)."""
    if not days or filters.as_of is None:
        return None
    start = filters.as_of - dt.timedelta(days=days)
    if filters.since is not None and filters.since >= start:
        return None
    return dataclasses.replace(filters, since=start)


def gather(store: Store, query: str, filters: Filters, settings, lap=lambda stage: None,
           heads: bool | None = None) -> Evidence:
    """Read what ranking needs (inside `store.reading()`); `lap(stage)` marks each stage's end.
    The candidates' articles and dates are read when the ranking needs them (`heads` None) or
    when asked (True: a caller that re-ranks the evidence with other settings)."""
    scope = _scope(store, filters) if filters.active else None
    lexical = store.lexical()
    lap("filters")
    vector = store.embedder.embed([query])[0]
    lap("embed")
    # Vectors an interrupted ingest left behind (until the next ingest or repair sweeps them) must
    # not push live chunks out of the candidates: `nearest` fetches that many more, and keeps
    # only committed chunks.
    dense = store.nearest(vector, settings.candidates, scope)
    lap("dense")
    sparse = lexical.search(query, settings.candidates, scope)
    lap("lexical")
    # The recent window (as_of): a live index's question is usually about that week's coverage, which
    # older stories matching the question better can keep out of the lists above, and with it out of
    # the recency prior's reach. The same searches in the window: merged into those lists (the same
    # index's scores), or kept as lists of their own (recent_window_weight).
    recent: tuple[list, list] = ([], [])
    if (window := recent_window(filters, settings.recent_window_days)) is not None:
        within = _scope(store, window)
        recent = (store.nearest(vector, settings.candidates, within), lexical.search(query, settings.candidates, within))
        if not settings.recent_window_weight:
            dense, sparse, recent = merged(dense, recent[0]), merged(sparse, recent[1]), ([], [])
        lap("recent")
    params = RankingParams.of(settings)
    weighted = params.whole_article_weight(filters.as_of) > 0
    articles = lexical.articles(query, settings.article_candidates, scope) if weighted else []
    if weighted:
        lap("article_bm25")
    cosines: dict[str, float] = {}
    if heads or articles or (heads is None and needs_heads(params, filters.as_of)):
        # the days only for a recency prior (as_of), or for a caller that re-ranks (`heads` True)
        dated = bool(heads) or filters.as_of is not None
        listed = [*dense, *sparse, *recent[0], *recent[1]]
        read = _heads(store.docs.chunk_heads(list(dict.fromkeys(i for i, _ in listed)), dated))
        if articles:
            # every article's chunks when the caller re-ranks with other settings (`heads` True)
            extra, cosines = unlisted_chunks(store, articles, read, vector, None if heads else params.article_chunks,
                                             dated)
            read.update(extra)
        lap("articles")
    else:
        read = None
    idf = lexical.idfs(content_words(query)) if settings.passage_choice == "coverage" else None
    return Evidence(query, vector, dense, sparse, read, articles, cosines, idf, recent)


def _scope(store: Store, filters: Filters):
    return store.scope(filters.source, filters.since, filters.last_day, filters.sources)


def _heads(rows: dict[str, tuple[str, int | None]]) -> dict[str, Head]:
    return {i: Head(s, None if d is None else _EPOCH + dt.timedelta(days=d)) for i, (s, d) in rows.items()}


def unlisted_chunks(store: Store, articles: list[tuple[str, float]], heads: dict[str, Head], vector: np.ndarray,
                    wanted: int | None, dated: bool = True) -> tuple[dict[str, Head], dict[str, float]]:
    """The heads and the cosine to the question of every chunk of the whole-article list's
    articles that the chunk lists found fewer than `wanted` chunks of (None: of every article):
    rag.ranking.credit_best_chunks credits an article's best listed chunks, and only then its
    others by cosine, so only those articles need their chunks read."""
    listed: dict[str, int] = {}
    for head in heads.values():
        listed[head.source] = listed.get(head.source, 0) + 1
    sources = [s for s, _ in articles if wanted is None or listed.get(s, 0) < wanted]
    extra = _heads(store.docs.heads_of_sources(sources, dated)) if sources else {}
    vectors = store.chunk_vectors(list(extra))
    query_vector = np.asarray(vector, dtype=np.float32)
    return extra, {i: float(v @ query_vector) for i, v in vectors.items()}


@dataclass(frozen=True)
class Evidence:
    """What one search read: the dense and lexical chunk candidates and their articles."""

    query: str
    vector: np.ndarray
    dense: list[tuple[str, float]]
    sparse: list[tuple[str, float]]
    heads: dict[str, Head] | None  # None: the ranking did not need them
    articles: list[tuple[str, float]] = ()  # the whole-article BM25 list: (source, score), best first
    cosines: dict[str, float] | None = None  # chunk id → cosine, the chunks unlisted_chunks read
    idf: dict[str, float] | None = None  # the question's distinct terms → idf over chunks (rag.passages)
    # the recent window's own dense and lexical lists (recent_window_weight > 0; else merged into the above)
    recent: tuple[list[tuple[str, float]], list[tuple[str, float]]] = ((), ())


def rank(evidence: Evidence, settings, as_of: dt.date | None) -> list[tuple[str, float]]:
    """Every candidate chunk by its final relevance (rag.ranking), best first."""
    return rank_chunks(evidence.dense, evidence.sparse, evidence.heads, RankingParams.of(settings), as_of,
                       evidence.articles, evidence.cosines, evidence.recent)


def choose(evidence: Evidence, ranked: list[tuple[str, float]], chunks: dict[str, Chunk], vectors: dict, k: int,
           settings, reader: PassageReader | None = None) -> list[Hit]:
    """The k hits from the first pool_size(k) of `ranked` (`chunks` and `vectors` hold at least
    theirs): the pool's syndicated copies folded, the rest picked by MMR; with `reader`
    (passage_choice "coverage"), each article's hits then shown by its best-covering chunks."""
    dense_rank = {i: r for r, (i, _) in enumerate(evidence.dense, start=1)}
    lexical_rank = {i: r for r, (i, _) in enumerate(evidence.sparse, start=1)}
    candidates = [(i, s) for i, s in ranked[: pool_size(k)] if i in vectors and i in chunks]
    cap = ArticleCap(settings.max_per_article, settings.article_cap_window)
    chosen = diversify(candidates, vectors, k, settings.mmr_lambda, settings.near_duplicate, chunks, cap)
    if reader is not None and chosen:
        chosen, chunks = shown_passages(evidence, ranked[: max(pool_size(k), PASSAGE_DEPTH)], chosen, chunks,
                                        vectors, settings, reader)
    return [Hit(rank=r, score=round(score, 5), dense_rank=dense_rank.get(i), lexical_rank=lexical_rank.get(i),
                chunk=chunks[i], duplicates=dups)
            for r, (i, score, dups) in enumerate(chosen, start=1)]


def shown_passages(evidence: Evidence, ranked: list[tuple[str, float]], chosen, chunks: dict[str, Chunk],
                   vectors: dict, settings, reader: PassageReader):
    """rag.passages.by_coverage over the chosen hits' articles' candidates in `ranked` and their
    leads, none a syndicated copy of another article's hit. Returns the new choice, and `chunks`
    with the chunks it shows."""
    source = {i: c.source for i, c in chunks.items()}
    if evidence.heads is not None:  # the articles of the candidates beyond the pool
        source.update((i, h.source) for i, h in evidence.heads.items() if i not in source)
    shown = list(dict.fromkeys(chunks[i].source for i, _, _ in chosen))
    wanted = set(shown)
    leads = reader.leads(shown)
    source.update((i, s) for s, i in leads.items())
    ids = list(dict.fromkeys([*(i for i, _ in ranked if source.get(i) in wanted), *leads.values()]))
    vectors = {**vectors, **reader.vectors([i for i in ids if i not in vectors])}
    others = unfolded([i for i in ids if i in vectors], chosen, vectors, source, settings.near_duplicate)
    covered = reader.coverages(list(dict.fromkeys([*others, *(i for i, _, _ in chosen)])))
    chosen = by_coverage(chosen, others, {i: source[i] for i in others}, covered, settings.passage_margin,
                         set(leads.values()).intersection(others), settings.passage_lead_bonus)
    missing = [i for i, _, _ in chosen if i not in chunks]
    return chosen, ({**chunks, **reader.chunks(missing)} if missing else chunks)


def unfolded(ids: list[str], chosen, vectors, source: dict[str, str], near_duplicate: float) -> list[str]:
    """The `ids` that are no syndicated copy of a chosen hit of another article (those were
    folded into it): the chunks that may stand for their article instead of its chosen one."""
    hits = [i for i, _, _ in chosen]
    if not hits or not ids:
        return ids
    close = np.stack([vectors[i] for i in ids]) @ np.stack([vectors[h] for h in hits]).T >= near_duplicate
    other = np.array([[source[i] != source[h] for h in hits] for i in ids])
    return [i for i, copy in zip(ids, (close & other).any(axis=1)) if not copy]


@dataclass(frozen=True)
class ArticleCap:
    """Among the first `window` hits at most `per_article` come from one article, while another
    article's candidate remains. Article-level ranking lifts every chunk of the best article, so
    without it one article could fill the hits an answer reads; the cap depends only on the hits
    chosen so far, so the first k hits of a longer search are the hits of a search for k."""

    per_article: int = 10**9
    window: int = 0


def diversify(candidates, vectors, k: int, mmr_lambda: float, near_duplicate: float, chunks,
              cap: ArticleCap = ArticleCap()):
    """Fold syndicated copies into the best-ranked one, then pick k by maximal marginal relevance
    under the per-article cap.

    Returns [(id, fused score, [sources of folded copies])].
    """
    if not candidates:
        return []
    ids = [i for i, _ in candidates]
    matrix = np.stack([vectors[i] for i in ids])
    similarity = matrix @ matrix.T
    relevance = np.array([s for _, s in candidates])
    relevance = relevance / relevance.max() if relevance.max() > 0 else np.ones(len(relevance))
    kept: list[int] = []
    folded: dict[int, list[str]] = {}
    for j in range(len(ids)):
        twin = next((i for i in kept if similarity[i, j] >= near_duplicate
                     and chunks[ids[i]].source != chunks[ids[j]].source), None)
        if twin is None:
            kept.append(j)
            folded[j] = []
        elif chunks[ids[j]].source not in folded[twin]:
            folded[twin].append(chunks[ids[j]].source)
    selected: list[int] = []
    remaining = np.array(kept)
    redundancy = np.zeros(len(remaining))  # each remaining chunk's highest similarity to a selected one
    article = np.array([chunks[ids[j]].source for j in kept], dtype=object)
    taken: dict[str, int] = {}
    while len(remaining) and len(selected) < k:
        value = mmr_lambda * relevance[remaining] - (1 - mmr_lambda) * redundancy
        if len(selected) < cap.window:
            full = np.array([taken.get(a, 0) >= cap.per_article for a in article])
            if not full.all():
                value = np.where(full, -np.inf, value)
        best = int(np.argmax(value))  # first of ties
        chosen = int(remaining[best])
        selected.append(chosen)
        taken[article[best]] = taken.get(article[best], 0) + 1
        article = np.delete(article, best)
        remaining, redundancy = np.delete(remaining, best), np.delete(redundancy, best)
        redundancy = np.maximum(redundancy, similarity[remaining, chosen])
    return [(ids[j], float(candidates[j][1]), folded[j]) for j in selected]
