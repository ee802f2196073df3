"""BM25 from exact statistics: the formula bm25s uses (Lucene's: idf = ln(1 + (N - df + 0.5) /
(df + 0.5)), tf / (tf + k1 (1 - b + b |d| / avg |d|))), over the committed chunks only."""

from __future__ import annotations

import math
from collections import Counter


def idf(n_docs: int, df: int) -> float:
    return math.log(1 + (n_docs - df + 0.5) / (df + 0.5))


def rank(query_terms: list[str], docs: dict[str, tuple[str, int]], df: dict[str, int], n_docs: int,
         total_terms: int, k1: float, b: float) -> list[tuple[str, float]]:
    """(id, score) of the docs that share a term with the query, best first; ties by id, so two
    copies of one index rank alike. `docs`: id → (terms separated by spaces, how many). A query
    term counts as often as it occurs in the query, as in bm25s."""
    weights = Counter(query_terms)
    counts = {i: (Counter(t for t in terms.split() if t in weights), length) for i, (terms, length) in docs.items()}
    return rank_counts(weights, counts, df, n_docs, total_terms, k1, b)


def rank_counts(weights: dict[str, float], docs: dict[str, tuple[dict[str, int], int]], df: dict[str, int],
                n_docs: int, total_terms: int, k1: float, b: float) -> list[tuple[str, float]]:
    """`rank` from each doc's term counts, with a weight per query term (a query expanded by
    feedback weighs its terms). `docs`: id → (term → tf, of the query's terms at least; length).
    A whole article's counts are stored (rag.index.articles): only its query terms' are read."""
    if not n_docs or not weights:
        return []
    average = total_terms / n_docs or 1.0
    weight = {t: c * idf(n_docs, df.get(t, 0)) for t, c in weights.items()}
    scored = []
    for doc_id, (counts, length) in docs.items():
        hits = {t: tf for t, tf in counts.items() if t in weight}
        if not hits:
            continue
        norm = k1 * (1 - b + b * length / average)
        scored.append((doc_id, sum(weight[t] * tf / (tf + norm) for t, tf in hits.items())))
    scored.sort(key=lambda item: (-item[1], item[0]))
    return scored


def feedback_terms(query_terms: list[str], ranked: list[tuple[str, float]], docs: dict[str, tuple[str, int]],
                   n_feedback: int, n_terms: int, original: float) -> dict[str, float]:
    """RM3: the query's terms (weight `original`, shared by their counts) and the `n_terms` most
    likely terms of the relevance model of the first `n_feedback` documents of `ranked` (P(w|R) =
    Σ_d P(w|d) · score_d / Σ score, P(w|d) = tf / |d|; weight 1 - original, shared likewise)."""
    counts = Counter(query_terms)
    weights = {t: original * c / len(query_terms) for t, c in counts.items()}
    top = [(i, s) for i, s in ranked[:n_feedback] if i in docs and s > 0]
    mass = sum(s for _, s in top)
    if not top or not n_terms or original >= 1:
        return weights
    model: Counter = Counter()
    for doc_id, score in top:
        terms, length = docs[doc_id]
        for term, tf in Counter(terms.split()).items():
            model[term] += tf / max(1, length) * score / mass
    chosen = model.most_common(n_terms)
    total = sum(p for _, p in chosen) or 1.0
    for term, p in chosen:
        weights[term] = weights.get(term, 0.0) + (1 - original) * p / total
    return weights
