"""Follow-up questions (issue 17): the multi-turn cases of evals/bench/followups.yaml answered as
follow-ups (after their conversation) and as the same questions asked standalone, scored alike;
and the rewrite gate on every single question (all eval cases and the 193 benchmark questions)
asked after an unrelated question, where any rewrite is a false one.

    python -m bench.followups --store STORE [--engine extractive] [--out bench/out/followups.json]

STORE is a store of the 2,210 benchmark articles (`python -m bench.eval_corpus --store STORE`).
Targets: follow-up fact recall within 0.05 of standalone; 0 rewrites of single questions.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from bench import data as bench_data
from rag.chat import standalone_question
from rag.models import Turn

ROOT = Path(__file__).resolve().parent.parent
FOLLOWUPS = ROOT / "evals" / "bench" / "followups.yaml"


def false_rewrites() -> dict:
    """Every single question asked as if it followed another (the previous one in its list): the
    gate must leave each alone. Needs no index: the gate and the rewrite read only the question."""
    from rag.eval.cases import load_cases

    singles = [c.question for c in load_cases([ROOT / "evals"]) if getattr(c, "question", None) and not c.history]
    bench = [q["question"] for q in bench_data.load_questions(bench_data.DATA)]
    out = {}
    for name, questions in (("eval_cases", singles), ("benchmark_questions", bench)):
        rewritten = []
        for previous, question in zip([questions[-1], *questions[:-1]], questions):
            history = [Turn(question=previous, answer="An earlier answer naming Joe Biden and the Senate. [1]")]
            if (r := standalone_question(question, history)) is not None:
                rewritten.append({"question": question, "rewritten": r})
        out[name] = {"questions": len(questions), "rewritten": len(rewritten), "examples": rewritten[:10]}
    return out


def followup_accuracy(store: Path, engine: str) -> dict:
    from rag.api import Rag
    from rag.eval.cases import load_case_file
    from rag.eval.entail import lexical_entails
    from rag.eval.runner import ask_case, store_lookup
    from rag.eval.scorers import score_answer
    from rag.settings import Settings

    cases = load_case_file(FOLLOWUPS)
    rag = Rag(Settings(store_dir=store, engine=engine))
    lookup = store_lookup(rag)
    rows = []
    try:
        for case in cases:
            started = time.perf_counter()
            follow = ask_case(rag, case)
            seconds = time.perf_counter() - started
            alone = rag.ask(case.standalone)
            f_scores = score_answer(case, follow, seconds, lookup, lexical_entails)
            s_scores = score_answer(case.model_copy(update={"question": case.standalone, "history": []}), alone,
                                    seconds, lookup, lexical_entails)
            rows.append({"id": case.id, "question": case.question, "rewritten": follow.rewritten,
                         "standalone": case.standalone,
                         "followup_fact_recall": f_scores["fact_recall"].value,
                         "standalone_fact_recall": s_scores["fact_recall"].value,
                         "followup_refused": follow.refused, "standalone_refused": alone.refused})
    finally:
        rag.close()
    mean = lambda key: round(sum(r[key] or 0.0 for r in rows) / len(rows), 3)
    return {"conversations": len(rows), "engine": engine,
            "followup_fact_recall": mean("followup_fact_recall"),
            "standalone_fact_recall": mean("standalone_fact_recall"),
            "rewritten": sum(r["rewritten"] is not None for r in rows), "cases": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--engine", default="extractive")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "followups.json")
    args = parser.parse_args()
    started = time.perf_counter()
    result = {"gate": false_rewrites(), "followups": followup_accuracy(args.store, args.engine),
              "load_average": round(os.getloadavg()[0], 1)}
    result["seconds"] = round(time.perf_counter() - started, 1)
    f = result["followups"]
    result["target_met"] = (f["standalone_fact_recall"] - f["followup_fact_recall"] <= 0.05
                            and all(g["rewritten"] == 0 for g in result["gate"].values()))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps({k: v for k, v in result.items() if k != "followups"} | {
        "followups": {k: v for k, v in f.items() if k != "cases"}}, indent=2))
    for row in f["cases"]:
        print(f"{row['id']:32} follow {row['followup_fact_recall']} alone {row['standalone_fact_recall']}  "
              f"as: {row['rewritten']}")


if __name__ == "__main__":
    main()
