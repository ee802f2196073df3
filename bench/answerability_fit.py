"""Fitting the extractive engine's answerability score on the tune half: `python -m bench.answerability_fit`.

The refusal decision asks "does the index hold the answer?", not "is this sentence the best
one": so its label is answerable (a tune question on the full index) against unanswerable (the
tune questions of the blind and held-out stores of `make bench-answers`). For every question
the engine ranks once (rag.answer.extractive.rank) and rag.answer.answerable_score.evidence
describes the evidence for its lead; this script fits a logistic model on those features
(L2, strength and threshold chosen by leave-one-quiz-week-out cross-validation inside tune),
compares it with the support score, and writes the weights to
rag/answer/answerable_model.json. The check half is never read here.

The model is fitted on the questions asked as of their date, as a live index is asked. Rows
collected without as_of (`--no-as-of`) only compare: without its date a near-topic question
retrieves the next weeks' articles on its topic, and no threshold told them apart
(cross-validated false refusals 0.42 with 0.18 of the unanswerable answered). The operating point: the fewest cross-validated false refusals with at most
UNANSWERED_CAP of the unanswerable questions answered (the target is 0.20; the cap keeps about
one question of the 56 in hand), over the L2 strengths and the support floors FLOORS; the pair
with the fewest such false refusals wins (then the fewest answered unanswerable). The model's
bias is shifted to put that point at 0.5, the engine's `min_answerable`; its floor is kept with it.

The rows are ranked with the settings `python -m bench.answers` uses (its no-rag.toml under --out,
no RAG_ variables) plus any `--set key=value`: a model that will answer with a retrieval setting
(e.g. `--set recent_window_days=3`) is fitted on evidence ranked with it. Rows collected with
overrides are kept under a name that spells them, and the written model records them.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

from bench import data as bench_data
from bench.answers import OUT, held_out_groups, isolate, question_date, still_answerable_blind
from bench.split import half_of, weeks

MODEL = bench_data.ROOT / "rag" / "answer" / "answerable_model.json"
UNANSWERED_CAP = 0.18


def collect(store_dir: Path, questions: list[dict], label: int, as_of: bool,
            overrides: dict[str, str] | None = None) -> list[dict]:
    from rag.answer import extractive
    from rag.answer.answerable_score import evidence
    from rag.index.store import Store
    from rag.retrieval import Filters
    from rag.settings import Settings

    store = Store(Settings(store_dir=store_dir, corpus_dir=store_dir.parent, **(overrides or {})))
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


def capped_threshold(scores: np.ndarray, labels: np.ndarray, cap: float = UNANSWERED_CAP) -> tuple[float, float, float]:
    """The threshold with the fewest false refusals whose unanswerable-answered rate stays within
    `cap` (ties: fewer unanswerable answered)."""
    grid = [t for t in sorted(set(np.round(scores, 3)) | {1.0}) if cost(scores, labels, t)[1] <= cap]
    best = min(grid, key=lambda t: cost(scores, labels, t))
    return (float(best), *cost(scores, labels, best))


def best_threshold(scores: np.ndarray, labels: np.ndarray) -> tuple[float, float, float]:
    """The threshold with the lowest false refusals + unanswerable answered (ties: fewer refusals)."""
    grid = sorted(set(np.round(scores, 3)) | {0.5})
    best = min(grid, key=lambda t: (sum(cost(scores, labels, t)), cost(scores, labels, t)[0]))
    return (float(best), *cost(scores, labels, best))


FLOORS = (0.0, 0.4, 0.45, 0.5, 0.55)  # support floors tried with each model
LAMBDAS = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0)


def fit_mode(rows: list[dict], labels: np.ndarray, mode: str, names: list[str]) -> dict:
    """One model: its L2 strength, its support floor (a question whose best evidence's support is
    under it is refused whatever the model says) and its operating point, chosen together by
    cross-validation (module doc); ties go to the stronger regularisation and the lower floor."""
    support = np.array([0.0 if r["unknown"] or not r["lead"] else r["support"] for r in rows])
    results = []
    for lam in LAMBDAS:
        scores = cross_validated(rows, names, lam)
        for floor in FLOORS:
            results.append((lam, floor, *capped_threshold(np.where(support >= floor, scores, 0.0), labels)))
            print(f"{mode} lambda {lam} floor {floor}: threshold / false refusals / unanswerable answered "
                  f"(cross-validated, unanswered cap {UNANSWERED_CAP}) {tuple(round(v, 3) for v in results[-1][2:])}")
    lam, floor, threshold, fr, ua = min(results, key=lambda r: (r[3], r[4], -r[0], r[1]))
    x = _matrix(rows, names)
    mean, scale = x.mean(0), x.std(0) + 1e-9
    w, b = _fit((x - mean) / scale, labels.astype(float), lam)
    print(f"{mode}: chosen lambda {lam}, support floor {floor}; cross-validated threshold {threshold}: "
          f"false refusals {fr:.3f}, unanswerable answered {ua:.3f}")
    for n, wt in sorted(zip(names, w), key=lambda t: -abs(t[1])):
        print(f"  {n:28s} {wt:+.3f}")
    shift = math.log(threshold / (1 - threshold))  # the operating point becomes 0.5
    return {
        "lambda": lam, "support_floor": floor, "threshold_fitted": threshold,
        "cross_validated": {"false_refusals": round(fr, 4), "answered_unanswerable": round(ua, 4)},
        "features": names, "weights": [round(float(v), 6) for v in w], "bias": round(float(b) - shift, 6),
        "mean": [round(float(v), 6) for v in mean], "scale": [round(float(v), 6) for v in scale],
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="bench.answerability_fit", description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=bench_data.DATA, help="the rtqa-2022-summer directory")
    p.add_argument("--out", type=Path, default=OUT)
    p.add_argument("--rows", type=Path, help="reuse collected rows (JSON)")
    p.add_argument("--no-as-of", action="store_true", help="rank without the question's date as as_of (to compare)")
    p.add_argument("--write", action="store_true", help="write the chosen model (to --model)")
    p.add_argument("--model", type=Path, default=MODEL, help="where --write writes (default rag/answer/answerable_model.json)")
    p.add_argument("--set", dest="assignments", action="append", default=[], metavar="KEY=VALUE",
                   help="a setting the rows are ranked with (repeatable), e.g. recent_window_days=3")
    p.add_argument("--features", help="comma-separated feature subset")
    args = p.parse_args(argv)
    from rag.settings import Settings, parse_assignments

    overrides = parse_assignments(args.assignments)
    isolate(args.out)  # the settings bench.answers ranks with; then the overrides
    Settings(**overrides)  # an unknown or invalid override fails here, before any ranking
    suffix = "".join(f"-{k}={v}" for k, v in sorted(overrides.items()))
    rows_path = args.rows or args.out / f"answerability-rows-tune{'-noasof' if args.no_as_of else ''}{suffix}.json"
    if rows_path.exists():
        rows = json.loads(rows_path.read_text())
    else:
        articles = bench_data.load_articles(args.data)
        questions = bench_data.load_questions(args.data)
        table = weeks()
        tune = [q for q in questions if half_of(q, table) == "tune"]
        _, blind = bench_data.unanswerable_split(articles, questions)
        as_of = not args.no_as_of
        rows = collect(args.out / "stores" / "main", tune, 1, as_of, overrides)
        # A blind question a hand check found still answered by a line of the blind corpus is no
        # unanswerable example (bench.answers.still_answerable_blind).
        still, _ = still_answerable_blind(args.out / "stores" / "blind")
        rows += collect(args.out / "stores" / "blind",
                        [q for q in blind if half_of(q, table) == "tune" and q["id"] not in still], 0, as_of, overrides)
        for g in held_out_groups(articles, questions):
            if g["half"] == "tune":
                rows += collect(args.out / "stores" / g["name"], g["questions"], 0, as_of, overrides)
        rows_path.write_text(json.dumps(rows))
    labels = np.array([r["label"] for r in rows])
    print(f"tune: {int(labels.sum())} answerable, {int((1 - labels).sum())} unanswerable")
    support = np.array([0.0 if r["unknown"] or not r["lead"] else r["support"] for r in rows])
    print("support score:", best_threshold(support, labels), "at 0.55:", cost(support, labels, 0.55))
    from rag.answer.answerable_score import FEATURES

    model = fit_mode(rows, labels, "no as_of" if args.no_as_of else "as_of",
                     args.features.split(",") if args.features else list(FEATURES))
    if args.write:
        model = {"about": "Answerability model, fitted on the benchmark's tune half by bench/answerability_fit.py "
                          "(logistic regression on standardised features; see rag/answer/answerable_score.py). "
                          "The bias is shifted so that the cross-validated operating point (threshold_fitted) is 0.5; "
                          "support_floor is chosen with it.", **model}
        if overrides:
            model["collected_with"] = overrides
        args.model.write_text(json.dumps(model, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
