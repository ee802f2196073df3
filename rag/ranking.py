"""Article-level ranking: chunk hits are pooled per article, the articles ranked on several
signals, and each article's best chunks returned in its place.

A chunk holds only some of an article's mentions of the question's names; the whole article
holds them all. So every candidate chunk (the dense and the lexical lists) votes for its article,
and each article is ranked on three signals:
- `dense`: its best chunk's cosine (MaxP: the best passage stands for the article);
- `lexical`: its best chunk's BM25;
- `article`: BM25 over the whole article, its title weighted apart from its body (BM25F-style),
  computed from the article's stored chunk terms (no separate index). Its idf is the chunk-level
  idf (a term's rarity among passages stands in for its rarity among articles).
The signals are fused by reciprocal rank or by a convex combination of min-max normalised
scores (`fusion`). Optionally (`prf_terms` > 0) RM3 pseudo relevance feedback re-scores the
article signal with terms from the first pass's best articles. With an `as_of` date, a recency
prior multiplies each article's fused score by 2^(-age / half-life), age in days before as_of.

A chunk's final relevance is its article's normalised score plus `chunk_weight` times its own
fused chunk score (normalised); near-duplicate folding and MMR follow (rag.retrieval).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rag.text.lexical import content_words

Ranked = Sequence[tuple[str, float]]  # (id, score), best first


@dataclass(frozen=True)
class ArticleText:
    """One article's lexical evidence: its chunks' terms joined, how many terms, how many chunks."""

    terms: str
    n_terms: int
    n_chunks: int


@dataclass(frozen=True)
class Head:
    """What ranking needs of a candidate chunk: its article, and that article's title and date."""

    source: str
    title: str | None
    date: dt.date | None


@dataclass(frozen=True)
class RankingParams:
    fusion: str  # "rrf" or "convex"
    rrf_k: int
    dense_weight: float
    lexical_weight: float
    article_weight: float
    title_weight: float
    chunk_weight: float
    k1: float
    b: float
    prf_docs: int
    prf_terms: int
    prf_weight: float
    recency_half_life_days: float

    @classmethod
    def of(cls, settings) -> RankingParams:
        return cls(fusion=settings.fusion, rrf_k=settings.rrf_k, dense_weight=settings.dense_weight,
                   lexical_weight=settings.lexical_weight, article_weight=settings.article_weight,
                   title_weight=settings.title_weight, chunk_weight=settings.chunk_weight,
                   k1=settings.article_bm25_k1, b=settings.article_bm25_b, prf_docs=settings.prf_docs,
                   prf_terms=settings.prf_terms, prf_weight=settings.prf_weight,
                   recency_half_life_days=settings.recency_half_life_days)


@dataclass(frozen=True)
class Corpus:
    """The statistics article BM25 needs: articles, chunks, all chunk terms; idf of a term."""

    n_articles: int
    n_chunks: int
    total_terms: int
    idf: Callable[[str], float]


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


def best_per_article(ranked: Ranked, article_of: dict[str, str]) -> list[tuple[str, float]]:
    """MaxP: each article's best chunk score, best first."""
    best: dict[str, float] = {}
    for chunk_id, score in ranked:
        source = article_of.get(chunk_id)
        if source is not None and score > best.get(source, -math.inf):
            best[source] = score
    return sorted(best.items(), key=lambda item: (-item[1], item[0]))


def term_counts(text: ArticleText, terms) -> dict[str, int]:
    """How often each of `terms` occurs in the article: with every separator doubled, each whole
    term is found by C's str.count (no per-token Python loop over thousands of terms)."""
    padded = f"  {text.terms.replace(' ', '  ')}  "
    return {t: n for t in terms if (n := padded.count(f" {t} "))}


def article_bm25(weights: dict[str, float], texts: dict[str, ArticleText], titles: dict[str, list[str]],
                 corpus: Corpus, p: RankingParams, title_in_chunks: bool) -> list[tuple[str, float]]:
    """BM25F-style article scores for weighted query terms (`weights`: term → query weight).

    A chunk's stored terms include its title when titles are indexed (`title_in_chunks`), so an
    article's title terms occur once per chunk: they are counted out of the body and back in once,
    times `title_weight`."""
    if not weights or not corpus.n_articles:
        return []
    average = corpus.total_terms / corpus.n_articles or 1.0
    idf = {t: corpus.idf(t) for t in weights}
    out = []
    for source, text in texts.items():
        counts = term_counts(text, weights)
        if not counts:
            continue
        title = Counter(t for t in titles.get(source, ()) if t in weights)
        copies = text.n_chunks if title_in_chunks else 0
        norm = p.k1 * (1 - p.b + p.b * text.n_terms / average)
        score = 0.0
        for term, tf in counts.items():
            body = max(0, tf - copies * title[term])
            tf_f = body + p.title_weight * title[term]
            score += weights[term] * idf[term] * tf_f / (tf_f + norm) if tf_f > 0 else 0.0
        out.append((source, score))
    out.sort(key=lambda item: (-item[1], item[0]))
    return out


def rm3_weights(query: dict[str, float], first_pass: list[tuple[str, float]], texts: dict[str, ArticleText],
                p: RankingParams, idf: Callable[[str], float]) -> dict[str, float]:
    """RM3: the query's terms mixed with the relevance model of the first pass's best articles
    (P(t|R) ∝ Σ_d score(d) · tf(t, d) / |d|), its `prf_terms` strongest terms weighted by idf
    (common words carry no feedback), with weight `prf_weight`."""
    feedback = [(s, score) for s, score in first_pass[:p.prf_docs] if s in texts]
    if not feedback or p.prf_terms <= 0 or p.prf_weight <= 0:
        return query
    total = sum(score for _, score in feedback) or 1.0
    model: Counter = Counter()
    for source, score in feedback:
        terms = texts[source].terms.split()
        for term, tf in Counter(terms).items():
            model[term] += (score / total) * tf / len(terms)
    strength = {t: v * idf(t) for t, v in model.items()}
    top = sorted(strength.items(), key=lambda item: -item[1])[:p.prf_terms]
    norm = sum(v for _, v in top) or 1.0
    q_norm = sum(query.values()) or 1.0
    out = {t: (1 - p.prf_weight) * w / q_norm for t, w in query.items()}
    for term, value in top:
        out[term] = out.get(term, 0.0) + p.prf_weight * value / norm
    return out


def recency(day: dt.date | None, as_of: dt.date, half_life: float) -> float:
    """2^(-age / half_life), age in days before as_of (an article of as_of itself: 1). Undated
    articles never reach here under as_of: like --until, as_of excludes them."""
    if day is None or half_life <= 0:
        return 1.0
    return 0.5 ** (max(0, (as_of - day).days) / half_life)


def rank_chunks(query: str, dense: Ranked, sparse: Ranked, heads: dict[str, Head],
                texts: dict[str, ArticleText], corpus: Corpus, p: RankingParams, title_in_chunks: bool,
                as_of: dt.date | None = None) -> list[tuple[str, float]]:
    """Every candidate chunk with its final relevance, best first."""
    article_of = {i: h.source for i, h in heads.items()}
    dense = [(i, s) for i, s in dense if i in heads]
    sparse = [(i, s) for i, s in sparse if i in heads]
    chunk_scores = fuse([(p.dense_weight, dense), (p.lexical_weight, sparse)], p.fusion, p.rrf_k)
    dense_a, sparse_a = best_per_article(dense, article_of), best_per_article(sparse, article_of)
    titles = {}
    for h in heads.values():
        if h.source in texts and h.source not in titles:
            titles[h.source] = content_words(h.title or "")
    query_weights = {t: float(n) for t, n in Counter(content_words(query)).items()}

    def articles(weights):
        lexical = article_bm25(weights, texts, titles, corpus, p, title_in_chunks)
        return fuse([(p.dense_weight, dense_a), (p.lexical_weight, sparse_a), (p.article_weight, lexical)],
                    p.fusion, p.rrf_k)

    scores = articles(query_weights)
    if p.prf_terms > 0 and p.prf_weight > 0 and p.article_weight > 0:
        first = sorted(scores.items(), key=lambda item: -item[1])
        scores = articles(rm3_weights(query_weights, first, texts, p, corpus.idf))
    if as_of is not None:
        dates = {h.source: h.date for h in heads.values()}
        scores = {s: v * recency(dates.get(s), as_of, p.recency_half_life_days) for s, v in scores.items()}
    top_article = max(scores.values(), default=0.0) or 1.0
    top_chunk = max(chunk_scores.values(), default=0.0) or 1.0
    final = {i: scores.get(article_of[i], 0.0) / top_article + p.chunk_weight * s / top_chunk
             for i, s in chunk_scores.items()}
    return sorted(final.items(), key=lambda item: (-item[1], item[0]))
