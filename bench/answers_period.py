"""Would the lead from the period a question names pass the gate? `python -m bench.answers_period`
(issue #12, session 10, round 11; tune only, the check half is never read).

A question that names a recent period ("this week", "died Sunday") asked as of a date is about
that period's news (rag/answer/question_period.py; the LLM engine's gate reads the period's
passages). The variant measured here: when the extractive engine's lead comes from an article
older than the period and an answering candidate from an article of the period exists, the best
of those leads. For each tune question with such a period (answerable on the full index,
unanswerable on the blind and held-out stores without the hand-checked still-answerable ones, as
of its date) it ranks once and prints the gate's score with the deployed lead and with the
period's best candidate as the lead, and whether each holds the gold string. Rows go to
bench/out/answers/period-tune.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bench.answers import OUT, isolate, question_date
from bench.answers_causes import _gate_would, holds, over_tune


def probe(store, q: dict) -> dict | None:
    """The gate's score with the lead and with the period's best answering candidate as the lead;
    None when the question names no recent period or nothing answers."""
    from rag.answer import extractive
    from rag.answer.question_period import question_period
    from rag.retrieval import Filters

    as_of = question_date(q)
    period = question_period(q["question"], as_of)
    if period is None:
        return None
    ranking = extractive.rank(store, q["question"], filters=Filters(as_of=as_of))
    answering = [c for c in ranking.candidates if extractive._answers(c, ranking.question)]
    if not answering:
        return None
    lead = answering[0]
    recent = next((c for c in answering if period.holds(c.chunk.date)), None)
    row = {"id": q["id"], "question": q["question"], "period": period.phrase,
           "lead_date": str(lead.chunk.date), "lead_in_period": period.holds(lead.chunk.date),
           "gate": _gate_would(ranking, lead, store.settings, dated=True),
           "lead_holds_gold": holds(lead.sentence.text, q["answer"])}
    if recent is not None and recent is not lead:
        row.update({"alt_date": str(recent.chunk.date), "alt_ratio": round(recent.score / lead.score, 3),
                    "alt_gate": _gate_would(ranking, recent, store.settings, dated=True),
                    "alt_holds_gold": holds(recent.sentence.text, q["answer"])})
    return row


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="bench.answers_period", description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args(argv)
    isolate(args.out)
    rows = over_tune(args.out, probe)
    (args.out / "period-tune.json").write_text(json.dumps(rows, indent=1))
    moved = [r for r in rows if "alt_gate" in r]
    for r in moved:
        print(f"{r['store']:16s} {r['id']:12s} gate {r['gate']:.3f} → {r['alt_gate']:.3f} "
              f"(ratio {r['alt_ratio']:.2f}; gold {r['lead_holds_gold']} → {r['alt_holds_gold']}) {r['question'][:60]}")
    for label, what in ((1, "answerable"), (0, "unanswerable")):
        sel = [r for r in moved if r["label"] == label]
        crossed = sum((r["gate"] >= 0.5) != (r["alt_gate"] >= 0.5) for r in sel)
        print(f"{what}: {len(sel)} with an older lead and an answering candidate of the period; "
              f"{crossed} cross the threshold 0.5 either way")
    return 0


if __name__ == "__main__":
    sys.exit(main())
