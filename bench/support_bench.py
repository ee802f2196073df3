"""Precision and recall of "supported" for the LLM engine's support check, before and after
issue 19, on the labelled pairs of bench/support_pairs.py.

    python -m bench.support_bench            (make bench-support; rewrites its BENCHMARKS.md section)

Both checks run as the engine runs them: each pair's window becomes a chunk, and
rag.answer.support.SupportScorer (MiniLM) anchors the sentence in it (one sentence or a pair).
- today's check (before): the best window has every number of the sentence and
  (lexical + cosine) / 2 >= 0.5;
- the new check: the same, and the window passes rag.answer.support_check.supports.
The new check's two thresholds (COVERAGE, CLAUSE_COVERAGE) are chosen on the tune half (highest
recall with precision >= 0.97 there; of equal ones the loosest); the check half is reported. The code's constants must be
the chosen ones, or the run says so.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import pickle
import sys
import time
import numpy as np
from pathlib import Path

from bench.data import DATA, ROOT, load_articles
from bench.support_pairs import HALVES, NEGATIVE, POSITIVE, Pair, build

OUT = ROOT / "bench" / "out" / "support"
THRESHOLD = 0.5  # llm_support_threshold's default: the engine's semantic + lexical floor
COVERAGES = [round(0.5 + 0.05 * i, 2) for i in range(10)]  # 0.50 .. 0.95
CLAUSE_COVERAGES = [round(0.3 + 0.1 * i, 2) for i in range(7)]  # 0.3 .. 0.9
TUNE_PRECISION = 0.97


def chunk_of(texts: list[str]):
    from rag.models import Chunk, Sentence

    sentences, offset = [], 0
    for line, text in enumerate(texts, start=1):
        sentences.append(Sentence(char_start=offset, char_end=offset + len(text), line_start=line, line_end=line, text=text))
        offset += len(text) + 1
    return Chunk(id="pair", source="pair.txt", ordinal=0, text="\n".join(texts), sentences=sentences, tokens=1,
                 char_start=0, char_end=max(offset - 1, 0), line_start=1, line_end=len(texts))


def windows(texts: list[str]) -> list[list[str]]:
    return [[t] for t in texts] + [list(p) for p in itertools.pairwise(texts)]


class _Cached:
    """An embedder answering from vectors computed once for every text of the set (kept in
    bench/out/support/vectors.pkl, so a second run embeds only texts it has not seen)."""

    def __init__(self, embedder, texts: list[str], store: Path | None = None):
        self.vectors = pickle.loads(store.read_bytes()) if store and store.exists() else {}
        missing = [t for t in texts if t not in self.vectors]
        for i in range(0, len(missing), 256):
            batch = missing[i:i + 256]
            self.vectors.update(zip(batch, np.asarray(embedder.embed(batch), dtype=np.float32)))
        if store and missing:
            store.parent.mkdir(parents=True, exist_ok=True)
            store.write_bytes(pickle.dumps(self.vectors))

    def embed(self, texts: list[str]) -> np.ndarray:
        return np.stack([self.vectors[t] for t in texts])


def judge(pairs: list[Pair], embedder, store: Path | None = None) -> list[dict]:
    """Per pair: today's verdict, the new one with the code's constants, and what tuning needs."""
    from rag.answer.support import SupportScorer
    from rag.answer.support_check import coverages, supports

    cached = _Cached(embedder, list(dict.fromkeys(t for p in pairs for t in [p.sentence, *p.window])), store)
    scorer = SupportScorer(cached)
    rows = []
    for p in pairs:
        after = scorer.anchor(p.sentence, chunk_of(p.window))
        candidates = []  # per window: (today's check passes, other rules pass, coverage, lowest clause coverage)
        for window in windows(p.window):
            share, parts = coverages(p.sentence, window)
            rest = supports(p.sentence, window, coverage=0.0, clause_coverage=0.0).supported
            low = min((part for _, part in parts), default=1.0)
            candidates.append((_today(cached, p.sentence, window), rest, share, low))
        rows.append({"kind": p.kind, "half": p.half, "label": p.supported,
                     "before": any(c[0] for c in candidates), "after": after.supports(THRESHOLD),
                     "reason": after.verdict.reason, "rule": after.verdict.rule, "candidates": candidates})
    return rows


def _today(cached: _Cached, sentence: str, window: list[str]) -> bool:
    """The check before issue 19, on one window: every number, and (lexical + cosine) / 2 >= 0.5."""
    from rag.answer.support import lexical_support, numbers

    vector = sum(cached.vectors[t] for t in window)
    norm = float(np.linalg.norm(vector)) or 1.0
    text = " ".join(window)
    score = (lexical_support(sentence, text) + max(float(vector @ cached.vectors[sentence]) / norm, 0.0)) / 2
    return score >= THRESHOLD and numbers(sentence) <= numbers(text)


def rates(rows: list[dict], key) -> dict:
    tp = sum(1 for r in rows if r["label"] and key(r))
    fp = sum(1 for r in rows if not r["label"] and key(r))
    fn = sum(1 for r in rows if r["label"] and not key(r))
    return {"precision": round(tp / (tp + fp), 4) if tp + fp else None,
            "recall": round(tp / (tp + fn), 4) if tp + fn else None, "tp": tp, "fp": fp, "fn": fn}


def tuned(rows: list[dict]) -> dict:
    """The thresholds with the highest recall at precision >= TUNE_PRECISION on these rows; of
    equal ones the loosest, which leave most room for paraphrase (the set has none)."""
    best, grid = None, []
    for coverage, clause in itertools.product(COVERAGES, CLAUSE_COVERAGES):
        def accepted(r, c=coverage, cc=clause):
            return any(f and rest and share >= c and low >= cc for f, rest, share, low in r["candidates"])
        got = rates(rows, accepted)
        grid.append(got)
        if (got["precision"] or 0) < TUNE_PRECISION:
            continue
        rank = (got["recall"], got["precision"], -coverage, -clause)  # ties: the loosest thresholds
        if best is None or rank > best[0]:
            best = (rank, {"coverage": coverage, "clause_coverage": clause, **got})
    if not best:
        return {}
    spread = {k: [min(g[k] or 0 for g in grid), max(g[k] or 0 for g in grid)] for k in ("precision", "recall")}
    return {**best[1], "grid": f"{len(COVERAGES)}x{len(CLAUSE_COVERAGES)}", "grid_spread": spread}


def by_kind(rows: list[dict], key) -> dict:
    out = {}
    for kind in POSITIVE + NEGATIVE:
        group = [r for r in rows if r["kind"] == kind]
        if group:
            out[kind] = {"pairs": len(group), "judged_supported": round(sum(map(key, group)) / len(group), 4)}
    return out


def run(n_articles: int, per_article: int) -> dict:
    from rag.answer import support_check
    from rag.index.embedders import make_embedder
    from rag.settings import Settings

    started = time.perf_counter()
    pairs = build(load_articles(DATA), n_articles=n_articles, per_article=per_article)
    rows = judge(pairs, make_embedder(Settings()), OUT / "vectors.pkl")
    halves = {h: [r for r in rows if r["half"] == h] for h in HALVES}
    choice = tuned(halves["tune"])
    code = {"coverage": support_check.COVERAGE, "clause_coverage": support_check.CLAUSE_COVERAGE}
    result = {
        "date": dt.date.today().isoformat(), "articles": n_articles, "pairs": len(rows),
        "sizes": {h: {"pairs": len(rs), "supported": sum(r["label"] for r in rs),
                      "articles": len({p.article for p in pairs if p.half == h})} for h, rs in halves.items()},
        "tuned_on_tune_half": choice, "code_constants": code,
        "constants_match": bool(choice) and all(choice.get(k) == v for k, v in code.items()),
        "halves": {h: {"before": rates(rs, lambda r: r["before"]), "after": rates(rs, lambda r: r["after"]),
                       "before_by_kind": by_kind(rs, lambda r: r["before"]),
                       "after_by_kind": by_kind(rs, lambda r: r["after"])} for h, rs in halves.items()},
        "failing_rules_on_check_positives": _rules(halves["check"]),
        "seconds": round(time.perf_counter() - started, 1),
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.json").write_text(json.dumps(result, indent=1))
    return result


def _rules(rows: list[dict]) -> dict:
    out: dict[str, int] = {}
    for r in rows:
        if r["label"] and not r["after"]:
            out[r["rule"] or "score"] = out.get(r["rule"] or "score", 0) + 1
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def main(argv: list[str] | None = None) -> int:
    from bench.support_report import write_section

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--per-article", type=int, default=2)
    parser.add_argument("--no-write", action="store_true", help="do not rewrite BENCHMARKS.md")
    args = parser.parse_args(argv)
    if not DATA.is_dir():
        print(f"error: no benchmark data at {DATA}", file=sys.stderr)
        return 1
    result = run(args.articles, args.per_article)
    check = result["halves"]["check"]
    print(f"check half: before P={check['before']['precision']} R={check['before']['recall']}; "
          f"after P={check['after']['precision']} R={check['after']['recall']}; "
          f"tuned {result['tuned_on_tune_half']}; code {result['code_constants']}")
    if not args.no_write:
        write_section(ROOT / "BENCHMARKS.md", result)
    return 0 if result["constants_match"] else 3


if __name__ == "__main__":
    sys.exit(main())
