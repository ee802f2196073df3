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
    if not n_docs or not query_terms:
        return []
    average = total_terms / n_docs or 1.0
    weights = Counter(query_terms)
    weight = {t: c * idf(n_docs, df.get(t, 0)) for t, c in weights.items()}
    scored = []
    for chunk_id, (terms, length) in docs.items():
        counts = Counter(t for t in terms.split() if t in weight)
        if not counts:
            continue
        norm = k1 * (1 - b + b * length / average)
        scored.append((chunk_id, sum(weight[t] * tf / (tf + norm) for t, tf in counts.items())))
    scored.sort(key=lambda item: (-item[1], item[0]))
    return scored
