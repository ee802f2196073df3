"""Choosing the LLM engine's answerability gate on the tune half: `python -m bench.llm_gate`.

The gate (rag.answer.answerability) refuses before the model is asked when no window of the
context holds `llm_min_question_coverage` of the question's key terms. It depends on retrieval
and the question alone, not on the model, so it is measured without one: every benchmark
question of a half is retrieved and packed as the LLM engine does, answerable questions on the
full corpus and the unanswerable variant's questions (bench.data.unanswerable_split) on the corpus
without any gold article, and the best window's coverage is recorded. Then, for each threshold:
- refused when unanswerable: the share of the variant's questions the gate refuses;
- answerable lost: the share of answerable questions whose context holds the gold answer (so a
  grounded answer was possible) that the gate refuses: the most accuracy the gate can cost.
The threshold is the highest with answerable lost <= MAX_LOST on tune (the target allows 0.02
of accuracy); the check half is computed with it and only reported. Each question is asked as
of its date (as `make bench-llm` asks it), and the gate as shipped also applies the question's
recent period (rag.answer.question_period: "this week" needs a covering passage of that week's
articles); both are reported, with and without the period rule.

    python -m bench.llm_gate [RUN_DIR]     # RUN_DIR: a bench-llm run with stores/after/{main,unanswerable}
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from bench import data as bench_data
from bench import split
from bench.metrics import contains

MAX_LOST = 0.02
GRID = [round(0.05 * i, 2) for i in range(21)]


def features(run: Path, half: str) -> list[dict]:
    from bench.llm_phases import as_of
    from rag.answer.answerability import question_coverage
    from rag.answer.context import pack_sources
    from rag.answer.llm_engine import gate
    from rag.answer.question_period import period_coverage, question_period
    from rag.api import Rag
    from rag.prompts import load_prompt
    from rag.settings import Settings

    articles = bench_data.load_articles(bench_data.DATA)
    questions = bench_data.load_questions(bench_data.DATA)
    _, blind = bench_data.unanswerable_split(articles, questions)
    chosen = {q["id"] for q in split.select(questions, half)}
    asked = {"main": [q for q in questions if q["id"] in chosen],
             "unanswerable": [q for q in blind if q["id"] in chosen]}
    out = []
    for name, rows in asked.items():
        store = run / "stores" / "after" / name
        rag = Rag(Settings(store_dir=store, corpus_dir=run / "corpus" / name, engine="llm"))
        try:
            prompt = load_prompt(rag.settings.llm_prompt)
            for q in rows:
                filters = as_of(q)
                result = rag.search(q["question"], rag.settings.answer_k, filters)
                context = pack_sources(result.hits, prompt, result.query, rag.settings)
                cover = question_coverage(q["question"], context)
                period = question_period(q["question"], filters.as_of)
                recent = period_coverage(q["question"], context, period).share if period else None
                shipped = gate(rag.store, q["question"], rag.settings.answer_k, filters, prompt)
                text = "\n".join(s.chunk.text for s in context.sources)
                out.append({"half": half, "set": name, "id": q["id"], "coverage": cover.share,
                            "period_coverage": recent, "period": period.phrase if period else None,
                            "shipped_refused": shipped.context is None or bool(shipped.why),
                            "searched_again": any(n.startswith("searched again") for n in shipped.notes),
                            "gold_in_context": contains(text, q["answer"]), "missing": list(cover.missing)})
        finally:
            rag.close()
    return out


def rates(rows: list[dict], threshold: float, period: bool = False) -> dict:
    """The gate's rates at `threshold`: coverage alone, or (`period`) with the period rule too."""
    unanswerable = [r for r in rows if r["set"] == "unanswerable"]
    possible = [r for r in rows if r["set"] == "main" and r["gold_in_context"]]
    answerable = [r for r in rows if r["set"] == "main"]
    return {"threshold": threshold,
            "refused_unanswerable": _share(unanswerable, threshold, period), "n_unanswerable": len(unanswerable),
            "lost": _share(possible, threshold, period), "n_possible": len(possible),
            "refused_answerable": _share(answerable, threshold, period), "n_answerable": len(answerable)}


def refused(row: dict, threshold: float, period: bool = False) -> bool:
    """`period`: the gate as shipped at the configured threshold (period rule, search again within it)."""
    return row["shipped_refused"] if period else row["coverage"] < threshold


def _share(rows: list[dict], threshold: float, period: bool = False) -> float | None:
    return sum(refused(r, threshold, period) for r in rows) / len(rows) if rows else None


def choose(rows: list[dict]) -> float:
    ok = [t for t in GRID if (rates(rows, t)["lost"] or 0.0) <= MAX_LOST]
    return max(ok) if ok else 0.0


def main() -> int:
    run = Path(sys.argv[1]) if len(sys.argv) > 1 else bench_data.ROOT / "bench" / "out" / "llm"
    rows = {half: features(run, half) for half in ("tune", "check")}
    chosen = choose(rows["tune"])
    result = {"chosen": chosen, "max_lost": MAX_LOST,
              "grid": {half: [rates(r, t) for t in GRID] for half, r in rows.items()},
              "at_chosen": {half: rates(r, chosen) for half, r in rows.items()},
              "with_period": {half: rates(r, chosen, period=True) for half, r in rows.items()},
              "searched_again": {half: sum(x["searched_again"] for x in r) for half, r in rows.items()}, "rows": rows}
    (run / "results").mkdir(parents=True, exist_ok=True)
    (run / "results" / "gate.json").write_text(json.dumps(result, indent=1))
    for half in ("tune", "check"):
        for line in result["grid"][half]:
            print(half, json.dumps(line))
    print("chosen", chosen, json.dumps(result["at_chosen"]))
    print("with the period rule", json.dumps(result["with_period"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
