"""Article-level ranking: chunk hits are pooled per article, the articles ranked on several
signals, and each chunk scored by its article's rank and its own.

A chunk holds only some of an article's mentions of the question's names; the whole article
holds them all. So every candidate chunk (the dense and the lexical lists) votes for its article,
and each article is ranked on three signals, all read from the two candidate lists the engines
already returned (no per-query scan of article texts):
- `dense`: its best chunk's cosine (MaxP: the best passage stands for the article);
- `lexical`: its best chunk's BM25;
- `article`: the sum of BM25 over all its chunks in the lexical list (CombSUM: how much of the
  article matches the question, not only its best passage).
The signals are fused by reciprocal rank or by a convex combination of min-max normalised
scores (`fusion`).

A chunk's final relevance is `article_share` times its article's normalised score plus the rest
times its own fused chunk score (normalised; share 0: chunk-level ranking, the articles unread); with an `as_of` date a recency prior multiplies it by
2^(-age / half-life), age in days of its article before as_of. Near-duplicate folding, the
per-article cap and MMR follow (rag.retrieval). Under as_of the chunk lists may also hold the
recent window's candidates (rag.retrieval.recent_window): merged into them by score, or as two
lists of their own fused at `recent_window_weight` times the engines' weights.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

Ranked = Sequence[tuple[str, float]]  # (id, score), best first


@dataclass(frozen=True)
class Head:
    """What ranking needs of a candidate chunk: its article and that article's date."""

    source: str
    date: dt.date | None


@dataclass(frozen=True)
class RankingParams:
    fusion: str  # "rrf" or "convex"
    rrf_k: int
    dense_weight: float
    lexical_weight: float
    article_weight: float
    article_share: float
    recency_half_life_days: float
    article_bm25_weight: float = 0.0
    article_chunks: int = 2
    article_bm25_weight_as_of: float | None = None  # under as_of (None: article_bm25_weight)
    recent_window_weight: float = 0.0  # the recent window's own lists (0: merged into the main ones)

    def whole_article_weight(self, as_of: dt.date | None) -> float:
        """The whole-article list's weight: its own under as_of, where the recency prior also ranks."""
        if as_of is not None and self.article_bm25_weight_as_of is not None:
            return self.article_bm25_weight_as_of
        return self.article_bm25_weight

    @classmethod
    def of(cls, settings) -> RankingParams:
        return cls(fusion=settings.fusion, rrf_k=settings.rrf_k, dense_weight=settings.dense_weight,
                   lexical_weight=settings.lexical_weight, article_weight=settings.article_weight,
                   article_share=settings.article_share, recency_half_life_days=settings.recency_half_life_days,
                   article_bm25_weight=settings.article_bm25_weight, article_chunks=settings.article_chunks,
                   article_bm25_weight_as_of=settings.article_bm25_weight_as_of,
                   recent_window_weight=settings.recent_window_weight)


def evidence_settings(settings):
    """The settings a briefing's evidence search ranks by (rag.brief.scope): the answer ranking's
    with the briefing's own lexical weight, whole-article weight and per-article cap, and each
    article's best-ranked chunks (a briefing reads every chunk it gathers, not a first five)."""
    return settings.model_copy(update={
        "lexical_weight": settings.brief_lexical_weight, "article_bm25_weight": settings.brief_article_bm25_weight,
        "article_bm25_weight_as_of": None, "max_per_article": settings.brief_max_per_article,
        "passage_choice": "score"})


def fuse(lists: Sequence[tuple[float, Ranked]], how: str, rrf_k: int) -> dict[str, float]:
    """Weighted fusion of ranked lists. "rrf": Σ w / (rrf_k + rank). "convex": Σ w · (s - min) /
    (max - min) over each list (an id a list lacks adds 0 from it; a list of equal scores adds w)."""
    scores: dict[str, float] = {}
    for weight, ranked in lists:
        if not weight or not ranked:
            continue
        if how == "rrf":
            for rank, (key, _) in enumerate(ranked, start=1):
                scores[key] = scores.get(key, 0.0) + weight / (rrf_k + rank)
            continue
        values = [s for _, s in ranked]
        low, span = min(values), max(values) - min(values)
        for key, score in ranked:  # a list whose scores are all equal (one item) counts each as its best
            scores[key] = scores.get(key, 0.0) + weight * ((score - low) / span if span else 1.0)
    return scores


def merged(ranked: Ranked, more: Ranked) -> list[tuple[str, float]]:
    """The union of two lists of one engine's scores (a search and the same search in a narrower
    scope: the same index, so the same scale), each id at its best score, best first; ties keep
    `ranked`'s order, then `more`'s."""
    best: dict[str, float] = {}
    for key, score in [*ranked, *more]:
        if key not in best or score > best[key]:
            best[key] = score
    return sorted(best.items(), key=lambda item: -item[1])  # stable: ties keep first-seen order


def best_per_article(ranked: Ranked, article_of: dict[str, str]) -> list[tuple[str, float]]:
    """MaxP: each article's best chunk score, best first."""
    best: dict[str, float] = {}
    for chunk_id, score in ranked:
        source = article_of.get(chunk_id)
        if source is not None and score > best.get(source, -math.inf):
            best[source] = score
    return sorted(best.items(), key=lambda item: (-item[1], item[0]))


def sum_per_article(ranked: Ranked, article_of: dict[str, str]) -> list[tuple[str, float]]:
    """CombSUM: the sum of each article's chunk scores in the list, best first."""
    total: dict[str, float] = {}
    for chunk_id, score in ranked:
        source = article_of.get(chunk_id)
        if source is not None:
            total[source] = total.get(source, 0.0) + score
    return sorted(total.items(), key=lambda item: (-item[1], item[0]))


def recency(day: dt.date | None, as_of: dt.date, half_life: float) -> float:
    """2^(-age / half_life), age in days before as_of (an article of as_of itself: 1). Undated
    articles never reach here under as_of: like --until, as_of excludes them."""
    if day is None or half_life <= 0:
        return 1.0
    return 0.5 ** (max(0, (as_of - day).days) / half_life)


def rank_articles(dense: Ranked, sparse: Ranked, heads: dict[str, Head], p: RankingParams) -> dict[str, float]:
    """Each candidate article's fused score."""
    article_of = {i: h.source for i, h in heads.items()}
    return fuse([(p.dense_weight, best_per_article(dense, article_of)),
                 (p.lexical_weight, best_per_article(sparse, article_of)),
                 (p.article_weight, sum_per_article(sparse, article_of))], p.fusion, p.rrf_k)


def needs_heads(p: RankingParams, as_of: dt.date | None) -> bool:
    """Whether ranking reads each candidate's article and date (rank_chunks' `heads`)."""
    return (p.article_share > 0 or p.whole_article_weight(as_of) > 0
            or (as_of is not None and p.recency_half_life_days > 0))


def credit_best_chunks(chunk_scores: dict[str, float], articles: Ranked, cosines: dict[str, float],
                       heads: dict[str, Head], p: RankingParams, weight: float) -> dict[str, float]:
    """MaxP the other way round: each article of the whole-article BM25 list lends its fused
    `weight` (by rank or normalised score, as `fusion` says) to its `article_chunks` best chunks,
    best by their own fused score, then by cosine (`cosines`: every chunk of the articles the
    chunk lists found fewer than that many of, so an article no chunk list found still brings its
    best passages). The article's other chunks get none: one good article lifts only the passages
    that stand for it."""
    credit = fuse([(weight, articles)], p.fusion, p.rrf_k)
    out = dict(chunk_scores)
    if not credit:
        return out
    by_article: dict[str, list[str]] = {}
    ids = set(chunk_scores) | {i for i in cosines if i in heads}
    for chunk_id in sorted(ids, key=lambda i: (-chunk_scores.get(i, 0.0), -cosines.get(i, -1.0), i)):
        by_article.setdefault(heads[chunk_id].source, []).append(chunk_id)
    for source, value in credit.items():
        for chunk_id in by_article.get(source, [])[: p.article_chunks]:
            out[chunk_id] = out.get(chunk_id, 0.0) + value
    return out


def rank_chunks(dense: Ranked, sparse: Ranked, heads: dict[str, Head] | None, p: RankingParams,
                as_of: dt.date | None = None, articles: Ranked = (),
                cosines: dict[str, float] | None = None,
                recent: tuple[Ranked, Ranked] = ((), ())) -> list[tuple[str, float]]:
    """Every candidate chunk with its final relevance, best first: `article_share` of its article's
    normalised score plus the rest of its own, times the recency prior of its article under as_of
    (on the whole relevance, so the prior counts the same whatever the article's share).

    `heads` may be None when neither needs the articles (share 0, no as_of): then every candidate
    is ranked, as the chunk lists gave them. `articles`: the whole-article BM25 list (source,
    score), whose articles' best chunks it credits (credit_best_chunks; `cosines`: every chunk
    of those articles, by cosine to the question). `recent`: the recent window's dense and lexical
    lists (rag.retrieval.recent_window), fused with `recent_window_weight` times the engines' weights."""
    recent_dense, recent_sparse = recent
    if heads is not None:
        dense = [(i, s) for i, s in dense if i in heads]
        sparse = [(i, s) for i, s in sparse if i in heads]
        recent_dense = [(i, s) for i, s in recent_dense if i in heads]
        recent_sparse = [(i, s) for i, s in recent_sparse if i in heads]
    w = p.recent_window_weight
    chunk_scores = fuse([(p.dense_weight, dense), (p.lexical_weight, sparse),
                         (w * p.dense_weight, recent_dense), (w * p.lexical_weight, recent_sparse)], p.fusion, p.rrf_k)
    if articles and heads is not None and p.whole_article_weight(as_of) > 0:
        chunk_scores = credit_best_chunks(chunk_scores, articles, cosines or {}, heads, p, p.whole_article_weight(as_of))
    top_chunk = max(chunk_scores.values(), default=0.0) or 1.0
    final = {i: s / top_chunk for i, s in chunk_scores.items()}
    if p.article_share > 0:
        scores = rank_articles(dense, sparse, heads, p)
        top_article = max(scores.values(), default=0.0) or 1.0
        final = {i: p.article_share * scores.get(heads[i].source, 0.0) / top_article + (1 - p.article_share) * v
                 for i, v in final.items()}
    if as_of is not None and heads is not None:
        final = {i: v * recency(heads[i].date, as_of, p.recency_half_life_days) for i, v in final.items()}
    return sorted(final.items(), key=lambda item: (-item[1], item[0]))
