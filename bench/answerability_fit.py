"""Fitting the extractive engine's answerability score on the tune half: `python -m bench.answerability_fit`.

The refusal decision asks "does the index hold the answer?", not "is this sentence the best
one": so its label is answerable (a tune question on the full index) against unanswerable (the
tune questions of the blind and held-out stores of `make bench-answers`). For every question
the engine ranks once (rag.answer.extractive.rank) and rag.answer.answerable_score.evidence
describes the evidence for its lead; this script fits a logistic model on those features
(L2, strength and threshold chosen by leave-one-quiz-week-out cross-validation inside tune),
compares it with the support score, and writes the weights to
rag/answer/answerable_model.json. The check half is never read here.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

from bench import data as bench_data
from bench.answers import OUT, held_out_groups, question_date
from bench.split import half_of, weeks

MODEL = bench_data.ROOT / "rag" / "answer" / "answerable_model.json"


def collect(store_dir: Path, questions: list[dict], label: int, as_of: bool) -> list[dict]:
    from rag.answer import extractive
    from rag.answer.answerable_score import evidence
    from rag.index.store import Store
    from rag.retrieval import Filters
    from rag.settings import Settings

    store = Store(Settings(store_dir=store_dir, corpus_dir=store_dir.parent))
    out = []
    try:
        for q in questions:
            filters = Filters(as_of=question_date(q)) if as_of else Filters()
            ranking = extractive.rank(store, q["question"], filters=filters)
            answering = [c for c in ranking.candidates if extractive._answers(c, ranking.question)]
            support = max((extractive._support(c) for c in answering), default=0.0)
            out.append({"id": q["id"], "week": q["id"].split("_")[0], "label": label,
                        "unknown": bool(ranking.unknown), "lead": bool(answering), "support": support,
                        "features": evidence(ranking, answering[0] if answering else None,
                                             extractive._support(answering[0]) if answering else 0.0)})
    finally:
        store.close()
    return out


def _fit(x: np.ndarray, y: np.ndarray, lam: float) -> tuple[np.ndarray, float]:
    """L2 logistic regression by Newton's method (standardised inputs)."""
    w, b = np.zeros(x.shape[1]), 0.0
    for _ in range(50):
        p = 1 / (1 + np.exp(-(x @ w + b)))
        g_w = x.T @ (p - y) + lam * w
        g_b = float(np.sum(p - y))
        s = p * (1 - p)
        h = np.zeros((x.shape[1] + 1, x.shape[1] + 1))
        h[:-1, :-1] = x.T @ (x * s[:, None]) + lam * np.eye(x.shape[1])
        h[:-1, -1] = h[-1, :-1] = x.T @ s
        h[-1, -1] = float(np.sum(s)) + 1e-9
        step = np.linalg.solve(h, np.concatenate([g_w, [g_b]]))
        w, b = w - step[:-1], b - step[-1]
        if np.max(np.abs(step)) < 1e-8:
            break
    return w, b


def _matrix(rows: list[dict], names: list[str]) -> np.ndarray:
    return np.array([[r["features"][n] for n in names] for r in rows], dtype=float)


def cost(scores: np.ndarray, labels: np.ndarray, threshold: float) -> tuple[float, float]:
    """(false refusals, unanswerable answered) at a threshold."""
    pos, neg = labels == 1, labels == 0
    return float(np.mean(scores[pos] < threshold)), float(np.mean(scores[neg] >= threshold))


def cross_validated(rows: list[dict], names: list[str], lam: float) -> np.ndarray:
    """Each question's score from a model fitted without its quiz week."""
    scores = np.zeros(len(rows))
    weeks_ = sorted({r["week"] for r in rows})
    for wk in weeks_:
        train = [r for r in rows if r["week"] != wk]
        test = [i for i, r in enumerate(rows) if r["week"] == wk]
        x = _matrix(train, names)
        mean, scale = x.mean(0), x.std(0) + 1e-9
        w, b = _fit((x - mean) / scale, np.array([r["label"] for r in train], float), lam)
        xt = (_matrix([rows[i] for i in test], names) - mean) / scale
        scores[test] = 1 / (1 + np.exp(-(xt @ w + b)))
    for i, r in enumerate(rows):
        if r["unknown"] or not r["lead"]:
            scores[i] = 0.0
    return scores


def best_threshold(scores: np.ndarray, labels: np.ndarray) -> tuple[float, float, float]:
    """The threshold with the lowest false refusals + unanswerable answered (ties: fewer refusals)."""
    grid = sorted(set(np.round(scores, 3)) | {0.5})
    best = min(grid, key=lambda t: (sum(cost(scores, labels, t)), cost(scores, labels, t)[0]))
    return (float(best), *cost(scores, labels, best))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="bench.answerability_fit", description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=OUT)
    p.add_argument("--rows", type=Path, help="reuse collected rows (JSON)")
    p.add_argument("--no-as-of", action="store_true", help="rank without the question's date as as_of")
    p.add_argument("--write", action="store_true", help="write the chosen model to rag/answer/answerable_model.json")
    p.add_argument("--features", help="comma-separated feature subset")
    args = p.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    rows_path = args.rows or args.out / f"answerability-rows-tune{'-noasof' if args.no_as_of else ''}.json"
    if rows_path.exists():
        rows = json.loads(rows_path.read_text())
    else:
        articles = bench_data.load_articles(bench_data.DATA)
        questions = bench_data.load_questions(bench_data.DATA)
        table = weeks()
        tune = [q for q in questions if half_of(q, table) == "tune"]
        _, blind = bench_data.unanswerable_split(articles, questions)
        as_of = not args.no_as_of
        rows = collect(args.out / "stores" / "main", tune, 1, as_of)
        rows += collect(args.out / "stores" / "blind", [q for q in blind if half_of(q, table) == "tune"], 0, as_of)
        for g in held_out_groups(articles, questions):
            if g["half"] == "tune":
                rows += collect(args.out / "stores" / g["name"], g["questions"], 0, as_of)
        rows_path.write_text(json.dumps(rows))
    labels = np.array([r["label"] for r in rows])
    print(f"tune: {int(labels.sum())} answerable, {int((1 - labels).sum())} unanswerable")
    support = np.array([0.0 if r["unknown"] or not r["lead"] else r["support"] for r in rows])
    print("support score:", best_threshold(support, labels), "at 0.55:", cost(support, labels, 0.55))
    from rag.answer.answerable_score import FEATURES

    names = args.features.split(",") if args.features else list(FEATURES)
    results = []
    for lam in (0.1, 1.0, 3.0, 10.0, 30.0, 100.0):
        scores = cross_validated(rows, names, lam)
        results.append((lam, *best_threshold(scores, labels)))
        print(f"lambda {lam}: threshold / false refusals / unanswerable answered (cross-validated) {results[-1][1:]}")
    lam = min(results, key=lambda r: (r[2] + r[3], -r[0]))[0]
    x = _matrix(rows, names)
    mean, scale = x.mean(0), x.std(0) + 1e-9
    w, b = _fit((x - mean) / scale, labels.astype(float), lam)
    cv = cross_validated(rows, names, lam)
    threshold, fr, ua = best_threshold(cv, labels)
    print(f"chosen lambda {lam}; cross-validated threshold {threshold}: false refusals {fr:.3f}, unanswerable answered {ua:.3f}")
    # The engine also keeps the support floor (min_support): the model decides among the
    # questions whose best evidence reaches it.
    from rag.settings import Settings

    floor = Settings.model_fields["min_support"].default
    floored = np.where(support >= floor, cv, 0.0)
    threshold, fr, ua = best_threshold(floored, labels)
    print(f"with the support floor {floor}: threshold {threshold}: false refusals {fr:.3f}, unanswerable answered {ua:.3f}")
    for t in (0.5, 0.55, 0.6, 0.625, 0.65, 0.7):
        print(f"  threshold {t}: false refusals / unanswerable answered {cost(floored, labels, t)}")
    # The floor itself (it depends on the semantic score): each floor with its best threshold.
    for f in (0.4, 0.45, 0.5, 0.55, 0.6):
        t, fr_f, ua_f = best_threshold(np.where(support >= f, cv, 0.0), labels)
        print(f"  support floor {f}: best threshold {t}: false refusals {fr_f:.3f}, unanswerable answered {ua_f:.3f}")
    for n, wt in sorted(zip(names, w), key=lambda t: -abs(t[1])):
        print(f"  {n:28s} {wt:+.3f}")
    if args.write:
        MODEL.write_text(json.dumps({
            "about": "Answerability model, fitted on the benchmark's tune half by bench/answerability_fit.py "
                     "(logistic regression on standardised features; see rag/answer/answerable_score.py). "
                     "threshold: chosen on the cross-validated scores with the support floor min_support.",
            "lambda": lam, "threshold": threshold,
            "cross_validated": {"false_refusals": round(fr, 4), "answered_unanswerable": round(ua, 4)},
            "features": names, "weights": [round(float(v), 6) for v in w], "bias": round(float(b), 6),
            "mean": [round(float(v), 6) for v in mean], "scale": [round(float(v), 6) for v in scale],
        }, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
