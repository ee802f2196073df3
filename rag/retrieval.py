"""Hybrid retrieval: dense (Chroma) + BM25, reciprocal-rank fusion, near-duplicate folding, MMR."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

import numpy as np

from rag.errors import InputError
from rag.index.store import Store
from rag.models import Hit, SearchResult

MAX_QUERY_CHARS = 2000


@dataclass(frozen=True)
class Filters:
    source: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    sources: tuple[str, ...] | None = None  # only these sources (the page's selection); with `source`, both apply
    as_of: dt.date | None = None

    def __post_init__(self):
        # As of a date nothing published after it is used: it caps `until` (undated articles,
        # which cannot be shown to predate it, are left out as with any date filter).
        if self.as_of is not None and (self.until is None or self.until > self.as_of):
            object.__setattr__(self, "until", self.as_of)

    @property
    def active(self) -> bool:
        return bool(self.source or self.since or self.until or self.sources is not None)


def check_query(query: str) -> str:
    query = (query or "").strip()
    if not query:
        raise InputError("the question is empty")
    if len(query) > MAX_QUERY_CHARS:
        raise InputError(f"the question is {len(query)} characters long; the limit is {MAX_QUERY_CHARS}")
    if not any(ch.isalnum() for ch in query):
        raise InputError("the question has no words in it")
    return query


def search(store: Store, query: str, k: int | None = None, filters: Filters = Filters()) -> SearchResult:
    settings = store.settings
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
        scope = store.scope(filters.source, filters.since, filters.until, filters.sources) if filters.active else None
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
        fused = fuse(dense, sparse, settings.rrf_k, settings.dense_weight, settings.lexical_weight)
        pool = fused[: max(3 * k, 20)]
        chunks = store.docs.chunks([i for i, _ in pool])
        vectors = store.chunk_vectors([i for i, _ in pool if i in chunks])
    lap("fetch")
    dense_rank = {i: r for r, (i, _) in enumerate(dense, start=1)}
    lexical_rank = {i: r for r, (i, _) in enumerate(sparse, start=1)}
    candidates = [(i, s) for i, s in pool if i in chunks and i in vectors]
    chosen = diversify(candidates, vectors, k, settings.mmr_lambda, settings.near_duplicate, chunks)
    hits = [
        Hit(rank=r, score=round(score, 5), dense_rank=dense_rank.get(i), lexical_rank=lexical_rank.get(i),
            chunk=chunks[i], duplicates=dups)
        for r, (i, score, dups) in enumerate(chosen, start=1)
    ]
    lap("diversify")
    return SearchResult(query=query, hits=hits, settings_hash=settings.settings_hash(), timings=timings,
                        query_vector=vector)


def fuse(dense, sparse, rrf_k: int, dense_weight: float, lexical_weight: float) -> list[tuple[str, float]]:
    """Reciprocal rank fusion: score = Σ weight / (rrf_k + rank)."""
    scores: dict[str, float] = {}
    for weight, ranked in ((dense_weight, dense), (lexical_weight, sparse)):
        for rank, (chunk_id, _) in enumerate(ranked, start=1):
            scores[chunk_id] = scores.get(chunk_id, 0.0) + weight / (rrf_k + rank)
    return sorted(scores.items(), key=lambda item: -item[1])


def diversify(candidates, vectors, k: int, mmr_lambda: float, near_duplicate: float, chunks):
    """Fold syndicated copies into the best-ranked one, then pick k by maximal marginal relevance.

    Returns [(id, fused score, [sources of folded copies])].
    """
    if not candidates:
        return []
    ids = [i for i, _ in candidates]
    matrix = np.stack([vectors[i] for i in ids])
    similarity = matrix @ matrix.T
    relevance = np.array([s for _, s in candidates])
    relevance = relevance / relevance.max()
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
    while kept and len(selected) < k:
        def mmr(j: int) -> float:
            redundancy = max((similarity[j, s] for s in selected), default=0.0)
            return mmr_lambda * relevance[j] - (1 - mmr_lambda) * redundancy
        best = max(kept, key=mmr)
        selected.append(best)
        kept.remove(best)
    return [(ids[j], float(candidates[j][1]), folded[j]) for j in selected]
