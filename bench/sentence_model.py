"""Fit the answer-sentence model (rag/answer/sentence_score.py) on the tune half.

`python -m bench.sentence_model` reads bench/out/answers/sentence-features-tune.json (written by
`python -m bench.sentence_features`), fits an L2-regularised logistic regression (numpy, Newton's
method) predicting "this candidate sentence holds the gold answer" over the answerable tune
questions' candidates, and writes rag/answer/sentence_model.json. The regularisation strength
is chosen by leave-one-quiz-week-out cross-validation inside tune (the share of questions whose
best-scored sentence holds the answer); the check half is never read. It prints, for the old
score and the model, where the first gold sentence ranks (top 1, top 3), in-sample and
cross-validated.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from bench.answers import OUT
from rag.answer.sentence_score import FEATURES, MODEL_FILE

LAMBDAS = (0.1, 1.0, 10.0, 30.0, 100.0, 300.0, 1000.0, 3000.0)


def matrix(questions: list[dict], names=FEATURES) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(X, y, question index) over every candidate of the answerable questions."""
    xs, ys, qs = [], [], []
    for i, q in enumerate(questions):
        for c in q["cands"]:
            xs.append([c["f"][n] for n in names])
            ys.append(1.0 if c["gold"] else 0.0)
            qs.append(i)
    return np.array(xs, dtype=float), np.array(ys), np.array(qs)


def fit(x: np.ndarray, y: np.ndarray, lam: float) -> tuple[np.ndarray, float, np.ndarray, np.ndarray]:
    """(weights, bias, mean, scale): standardised inputs, L2 on the weights, not the bias."""
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    w = np.zeros(z.shape[1])
    penalty = np.full(z.shape[1], lam)
    penalty[-1] = 0.0
    for _ in range(50):
        p = 1 / (1 + np.exp(-(z @ w)))
        grad = z.T @ (p - y) + penalty * w
        hess = (z * (p * (1 - p))[:, None]).T @ z + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w[:-1], float(w[-1]), mean, scale


def top_hits(questions: list[dict], score) -> tuple[float, float]:
    """Share of the questions whose best / three best candidates by `score` hold the answer."""
    one = three = 0
    for q in questions:
        order = sorted(q["cands"], key=score, reverse=True)
        one += any(c["gold"] for c in order[:1])
        three += any(c["gold"] for c in order[:3])
    return one / len(questions), three / len(questions)


def scorer(w, b, mean, scale, names=FEATURES):
    def score(c):
        x = np.array([c["f"][n] for n in names])
        return float(w @ ((x - mean) / scale) + b)
    return score


def round_one(c: dict) -> float:
    """The hand-set score this model replaces (docs/design.md; without its 0.08 name bonus for
    "who" questions): 0.5 semantic + 0.3 coverage + 0.2 novelty + 0.1 context + 0.1 / rank,
    x 0.6 when the answer-type check fails."""
    f = c["f"]
    score = 0.5 * f["semantic"] + 0.3 * f["coverage"] + 0.2 * f["novelty"] + 0.1 * f["context"] + 0.1 * f["inv_rank"]
    return score if f["type_ok"] else 0.6 * score


def cross_validate(questions: list[dict], lam: float) -> tuple[float, float]:
    weeks = sorted({q["id"].split("_")[0] for q in questions})
    one = three = 0.0
    for week in weeks:
        train = [q for q in questions if not q["id"].startswith(week)]
        test = [q for q in questions if q["id"].startswith(week)]
        x, y, _ = matrix(train)
        a, b = top_hits(test, scorer(*fit(x, y, lam)))
        one += a * len(test)
        three += b * len(test)
    return one / len(questions), three / len(questions)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="bench.sentence_model", description=__doc__.splitlines()[0])
    p.add_argument("--features", type=Path, default=OUT / "sentence-features-tune.json")
    p.add_argument("--model", type=Path, default=MODEL_FILE)
    args = p.parse_args(argv)
    sets = json.loads(args.features.read_text())
    questions = [q for q in sets["answerable"] if q["cands"]]
    print(f"tune: {len(questions)} answerable questions with candidates, "
          f"{sum(len(q['cands']) for q in questions)} candidates")
    one, three = top_hits(questions, round_one)
    print(f"round-1 score: top-1 {one:.3f}, top-3 {three:.3f}")
    cv = {lam: cross_validate(questions, lam) for lam in LAMBDAS}
    for lam, (a, b) in cv.items():
        print(f"lambda {lam}: cross-validated top-1 {a:.3f}, top-3 {b:.3f}")
    lam = max(LAMBDAS, key=lambda k: (cv[k][0] + cv[k][1], k))
    x, y, _ = matrix(questions)
    w, b, mean, scale = fit(x, y, lam)
    one, three = top_hits(questions, scorer(w, b, mean, scale))
    print(f"chosen lambda {lam}; in-sample top-1 {one:.3f}, top-3 {three:.3f}")
    for name, weight in sorted(zip(FEATURES, w), key=lambda t: -abs(t[1])):
        print(f"  {name:14s} {weight:+.3f}")
    args.model.write_text(json.dumps({
        "about": "Answer-sentence model, fitted on the benchmark's tune half by bench/sentence_model.py "
                 "(logistic regression on standardised features; see rag/answer/sentence_score.py).",
        "lambda": lam, "cross_validated": {"top1": round(cv[lam][0], 4), "top3": round(cv[lam][1], 4)},
        "features": list(FEATURES), "weights": [round(float(v), 6) for v in w], "bias": round(b, 6),
        "mean": [round(float(v), 6) for v in mean], "scale": [round(float(v), 6) for v in scale],
    }, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
