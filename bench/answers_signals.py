"""Which signals of the lead tell an answered unanswerable question from a correct answer?
`python -m bench.answers_signals` (issue #12, round 9; tune rows of bench.answers_leads only, the
check half is never read).

Each signal is computed from what the engine already read for the question (its answering
candidates, their articles and scores, the question's terms and IDF). The report prints each
signal's median by outcome (answerable: correct / wrong / refused as the engine answers today;
unanswerable: answered / refused) and its AUC; then refits the answerability model
(bench.answerability_fit: L2 strength, support floor and operating point by leave-one-quiz-week-
out cross-validation, at most UNANSWERED_CAP of the unanswerable answered) with the deployed
features plus each candidate signal, and plus small sets of them, and prints the
cross-validated false refusals and unanswerable answered, with the spread over the six folds.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
from pathlib import Path

import numpy as np

from bench.answerability_fit import UNANSWERED_CAP, cost, cross_validated, fit_mode
from bench.answers import OUT
from rag.answer.answerable_score import FEATURES
from rag.text.lexical import content_words

TOP = 5
CAPS = (2, 4, 6, 8, 10)  # unanswerable questions answered at most
SMALL = ["support", "best_chunk_coverage", "lead_passage_coverage", "lead_age", "newest_age"]


def _entity_words(c: dict) -> set[str]:
    return {w for _, phrase in c["names"] for w in content_words(phrase)} | {str(f[1]) for f in c["figures"]}


def _asked(r: dict) -> list[str]:
    from rag.answer.answerable_score import asking_terms
    from rag.answer.question import Question

    return asking_terms(Question(text=r["question"], terms=tuple(r["terms"]), kind=r["kind"], names=tuple(r["names"])))


def signals(r: dict) -> dict[str, float]:
    """Candidate signals of one question's evidence (0 when nothing answers)."""
    cands, idf, terms = r["candidates"], r["idf"], r["terms"]
    asked = _asked(r)

    def share(held, of) -> float:
        total = sum(idf.get(t, 1.0) for t in of) or 1.0
        return sum(idf.get(t, 1.0) for t in of if t in held) / total

    union = set().union(*(h["terms"] for h in r["hits"]))
    out = {"lead_articles": 0.0, "lead_share_top": 0.0, "lead_margin": 0.0, "lead_agreement": 0.0,
           "union_coverage": share(union, terms), "ask_union_coverage": share(union, asked),
           "lead_article_coverage": 0.0, "ask_article_coverage": 0.0, "lead_old": 0.0}
    if not cands:
        return out
    lead, top = cands[0], cands[:TOP]
    out["lead_articles"] = float(len({c["source"] for c in top}))  # distinct articles among the top answers
    out["lead_share_top"] = sum(c["source"] == lead["source"] for c in top[1:]) / max(len(top) - 1, 1)
    out["lead_margin"] = lead["score"] - (cands[1]["score"] if len(cands) > 1 else 0.0)
    article = set(r["articles"][lead["source"]]["terms"])
    out["lead_article_coverage"] = share(article, terms)
    out["ask_article_coverage"] = share(article, asked)
    out["lead_old"] = float(r["features"]["lead_age"] > np.log1p(14))
    ent = _entity_words(lead)
    others = [c for c in cands[1:] if c["source"] != lead["source"]][:TOP]
    out["lead_agreement"] = (sum(bool(ent & _entity_words(c)) for c in others) / len(others)) if others else 0.0
    return out


def augmented(rows: list[dict]) -> list[dict]:
    """The rows in bench.answerability_fit's shape, the signals added to the features."""
    out = []
    for r in rows:
        out.append({"id": r["id"], "week": r["week"], "label": r["label"], "unknown": bool(r["unknown"]),
                    "lead": bool(r["candidates"]), "support": r["support"],
                    "features": {**r["features"], **signals(r)}})
    return out


def folds(rows: list[dict], scores: np.ndarray, threshold: float) -> list[tuple[str, float, float]]:
    labels = np.array([r["label"] for r in rows])
    out = []
    for wk in sorted({r["week"] for r in rows}):
        idx = np.array([r["week"] == wk for r in rows])
        out.append((wk, *cost(scores[idx], labels[idx], threshold)))
    return out


def evaluate(rows: list[dict], names: list[str]) -> dict:
    with contextlib.redirect_stdout(io.StringIO()):
        model = fit_mode(rows, np.array([r["label"] for r in rows]), "as_of", names)
    support = np.array([0.0 if r["unknown"] or not r["lead"] else r["support"] for r in rows])
    scores = np.where(support >= model["support_floor"], cross_validated(rows, names, model["lambda"]), 0.0)
    per_fold = folds(rows, scores, model["threshold_fitted"])
    labels = np.array([r["label"] for r in rows])
    curve = {}
    for cap in CAPS:  # the fewest false refusals with at most `cap` of the unanswerable answered
        grid = [t for t in sorted(set(np.round(scores, 3)) | {1.0})
                if cost(scores, labels, t)[1] * np.sum(labels == 0) <= cap + 1e-9]
        curve[cap] = round(min(cost(scores, labels, t)[0] for t in grid), 3)
    pos, neg = scores[labels == 1], scores[labels == 0]
    auc = float(np.mean((pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])))
    return {"curve": curve, "auc": round(auc, 3),"features": names, "lambda": model["lambda"], "floor": model["support_floor"],
            "threshold": model["threshold_fitted"], **model["cross_validated"],
            "fold_false_refusals": [round(f[1], 3) for f in per_fold],
            "fold_answered_unanswerable": [round(f[2], 3) for f in per_fold],
            "weights": dict(zip(names, model["weights"]))}


def report(rows: list[dict]) -> list[dict]:
    aug = augmented(rows)
    base = list(FEATURES)
    extra = list(signals(rows[0]))
    trials = [("round 8 (fourteen features)", base), ("round 7 (no ask_lead_coverage)", [f for f in base if f != "ask_lead_coverage"])]
    trials += [(f"+ {s}", base + [s]) for s in extra]
    trials += [("+ lead_articles, lead_margin", base + ["lead_articles", "lead_margin"]),
               ("+ all", base + extra), ("round 9 (five, deployed)", SMALL), ("small + lead_old", SMALL + ["lead_old"]),
               ("small + lead_margin", SMALL + ["lead_margin"]), ("small + best_chunk_semantic", SMALL + ["best_chunk_semantic"])]
    results = []
    for label, names in trials:
        res = {"trial": label, **evaluate(aug, names)}
        results.append(res)
        print(f"{label:34s} λ {res['lambda']:<5} floor {res['floor']:<4} false refusals {res['false_refusals']:.3f} "
              f"answered unanswerable {res['answered_unanswerable']:.3f}  folds FR {res['fold_false_refusals']} "
              f"UA {res['fold_answered_unanswerable']}")
        print(f"    AUC {res['auc']}; fewest false refusals with at most 2/4/6/8/10 unanswerable answered: {list(res['curve'].values())}")
        for s in extra:
            if s in res["weights"]:
                print(f"    weight {s}: {res['weights'][s]:+.3f}")
    return results


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="bench.answers_signals", description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=Path, default=OUT / "leads-tune.json")
    p.add_argument("--out", type=Path, default=OUT / "answers-signals-tune.json")
    args = p.parse_args(argv)
    rows = json.loads(args.rows.read_text())
    print(f"tune rows: {sum(r['label'] for r in rows)} answerable, {sum(1 - r['label'] for r in rows)} unanswerable; "
          f"cap {UNANSWERED_CAP}")
    args.out.write_text(json.dumps(report(rows), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
