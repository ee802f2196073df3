"""Scoring: answer matching, document ranks, Hits@k, MRR@10, answer recall, percentiles."""

from __future__ import annotations

import re
import unicodedata

import numpy as np

DEPTH = 10  # documents ranked per question (Hits@10, MRR@10)
_NON_WORD = re.compile(r"[^a-z0-9]+")


def normalise(text: str) -> str:
    """Lowercase, accents and punctuation removed, padded with spaces for whole-word matching."""
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return f" {_NON_WORD.sub(' ', text).strip()} "


def contains(text: str, answer: str, normalised: bool = False) -> bool:
    """The answer's words appear contiguously in the text ("Europe" is not in "European")."""
    needle = normalise(answer)
    return needle.strip() != "" and needle in (text if normalised else normalise(text))


def distinct(items) -> list:
    """Dedupe, keeping first occurrences in rank order."""
    return list(dict.fromkeys(items))


def gold_rank(docs: list[str], gold: list[str], depth: int = DEPTH) -> int | None:
    """1-based rank of the first gold document among the first `depth` documents."""
    return next((r for r, d in enumerate(docs[:depth], start=1) if d in set(gold)), None)


def retrieval_summary(rows: list[dict]) -> dict:
    """rows: {"docs": ranked doc ids, "chunks": ranked chunk texts, "gold": ids, "answer": str}."""
    n = len(rows) or 1
    ranks = [gold_rank(r["docs"], r["gold"]) for r in rows]
    out = {f"hits@{k}": sum(1 for x in ranks if x and x <= k) / n for k in (1, 5, 10)}
    out["mrr@10"] = sum(1 / x for x in ranks if x) / n
    for k in (5, 10):
        out[f"answer_recall@{k}"] = sum(
            1 for r in rows if any(contains(c, r["answer"]) for c in r["chunks"][:k])
        ) / n
    out["questions"] = len(rows)
    out["docs_per_question"] = sum(min(len(r["docs"]), DEPTH) for r in rows) / n
    return out


def latency_summary(seconds: list[float]) -> dict:
    if not seconds:
        return {}
    ms = np.array(seconds) * 1000
    return {"p50_ms": float(np.percentile(ms, 50)), "p95_ms": float(np.percentile(ms, 95)),
            "mean_ms": float(ms.mean()), "max_ms": float(ms.max()), "n": len(ms)}
