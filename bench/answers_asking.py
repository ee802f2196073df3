"""Does the asking sentence's coverage, used harder, refuse more unanswerable tune questions?
`python -m bench.answers_asking` (issue #12, round 8b; tune rows only, the check half is never read).

Round 8 added `ask_lead_coverage` (the IDF-weighted share of the question's asking sentence, its
last, that the lead sentence with its neighbours covers) to the answerability model; its fitted
weight is small, and a blind question whose asking sentence the lead misses entirely is still
answered. Two general mechanisms are tried on the rows of bench/answerability_fit.py:
- a floor: an answer whose lead and neighbours cover less than F of the asking sentence is
  refused, over the deployed model's scores and over the cross-validated ones;
- a refit with an indicator the logistic model can use, "asking sentence covered under T"
  (T = 0 means none of it), L2 strength, support floor and operating point chosen by
  leave-one-quiz-week-out cross-validation as in bench/answerability_fit.py.
A variant is worth keeping only if unanswerable answered falls while false refusals do not rise.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
from pathlib import Path

import numpy as np

from bench.answerability_fit import cost, cross_validated, fit_mode
from bench.answers import OUT
from rag.answer.answerable_score import FEATURES, load_model
from rag.answer.logistic import predict

FLOOR_GRID = (0.0001, 0.1, 0.2, 0.3, 0.4, 0.5)
INDICATOR_GRID = (0.0, 0.2, 0.3, 0.5)


def deployed_scores(rows: list[dict]) -> np.ndarray:
    model = load_model()
    return np.array([0.0 if r["unknown"] or not r["lead"] else predict(r["features"], model) for r in rows])


def floor_sweep(rows: list[dict], scores: np.ndarray, labels: np.ndarray, threshold: float) -> list[dict]:
    ask = np.array([r["features"]["ask_lead_coverage"] for r in rows])
    out = [
        {
            "floor": 0.0,
            "false_refusals": cost(scores, labels, threshold)[0],
            "answered_unanswerable": cost(scores, labels, threshold)[1],
        }
    ]
    for floor in FLOOR_GRID:
        fr, ua = cost(np.where(ask >= floor, scores, 0.0), labels, threshold)
        out.append({"floor": floor, "false_refusals": fr, "answered_unanswerable": ua})
    return out


def in_sample(rows: list[dict], labels: np.ndarray, model: dict) -> dict:
    """The refitted model as it would be deployed (score 0.5, its support floor) on the tune rows."""
    scores = np.array(
        [
            0.0
            if r["unknown"] or not r["lead"] or r["support"] < model["support_floor"]
            else predict(r["features"], model)
            for r in rows
        ]
    )
    fr, ua = cost(scores, labels, 0.5)
    return {
        "false_refusals": round(fr, 4),
        "answered_unanswerable": round(ua, 4),
        "unanswerable_answered_ids": sorted(r["id"] for r, s in zip(rows, scores) if r["label"] == 0 and s >= 0.5),
    }


def with_indicator(rows: list[dict], t: float) -> list[dict]:
    def flag(f):
        return float(f["ask_lead_coverage"] <= t if t == 0.0 else f["ask_lead_coverage"] < t)

    return [{**r, "features": {**r["features"], "ask_uncovered": flag(r["features"])}} for r in rows]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="bench.answers_asking", description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=Path, default=OUT / "answerability-rows-tune-r8b.json")
    p.add_argument("--out", type=Path, default=OUT / "answers-asking-tune.json")
    args = p.parse_args(argv)
    rows = json.loads(args.rows.read_text())
    labels = np.array([r["label"] for r in rows])
    base_model = load_model()
    report = {"rows": str(args.rows), "answerable": int(labels.sum()), "unanswerable": int((1 - labels).sum())}
    report["floor_on_deployed_model"] = floor_sweep(rows, deployed_scores(rows), labels, 0.5)
    cv = cross_validated(rows, list(FEATURES), base_model["lambda"])
    report["floor_on_cross_validated"] = floor_sweep(rows, cv, labels, base_model["threshold_fitted"])
    refits = []
    for t in [None, *INDICATOR_GRID]:
        names = list(FEATURES) + ([] if t is None else ["ask_uncovered"])
        data = rows if t is None else with_indicator(rows, t)
        with contextlib.redirect_stdout(io.StringIO()):
            model = fit_mode(data, labels, "indicator", names)
        entry = {
            "indicator_under": t,
            "lambda": model["lambda"],
            "support_floor": model["support_floor"],
            **model["cross_validated"],
        }
        if t is not None:
            entry["indicator_weight"] = model["weights"][-1]
        entry["in_sample"] = in_sample(data, labels, model)
        refits.append(entry)
    report["refit_with_indicator"] = refits
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    for key in ("floor_on_deployed_model", "floor_on_cross_validated", "refit_with_indicator"):
        print(key)
        for e in report[key]:
            print("  ", {k: round(v, 4) if isinstance(v, float) else v for k, v in e.items()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
