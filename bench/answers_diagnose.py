"""Why the extractive engine misses on tune: `python -m bench.answers_diagnose`.

For every answerable tune question asked of the full benchmark index (as of its date, as
`make bench-answers` asks), one cause, in the engine's own order of decisions:
- retrieval: no retrieved chunk holds the gold answer (nothing the answer stage can do);
- for a refusal with the gold in a retrieved chunk, the gate that refused: a question name the
  corpus never mentions (`unknown`), no candidate that answers at all (`no lead`, split by the
  gold sentence's own failing test: not a statement sentence, wrong type, off topic, no entity
  of the asked type), the support floor (the answerability model's, or `min_support`), or the
  answerability score (`min_answerable`);
- for a wrong answer with the gold in a retrieved chunk, why the ranker chose another sentence:
  the gold sentence is no candidate (furniture, or the gold only in a title), fails the same
  tests, is outranked (by how far), or is ranked high enough but left out by the selection.

Only the tune half is read. The counts go into bench/answers.md's notes; `--json` keeps the
per-question rows.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
from pathlib import Path

from bench import data as bench_data
from bench.answers import OUT, isolate, question_date
from bench.metrics import contains
from bench.split import half_of, weeks


def diagnose(store, q: dict) -> dict:
    from rag.answer import extractive
    from rag.answer.answerable_score import answerable, evidence, support_floor
    from rag.retrieval import Filters

    settings = store.settings
    filters = Filters(as_of=question_date(q))
    answer = extractive.answer_extractive(store, q["question"], filters=filters)
    ranking = extractive.rank(store, q["question"], filters=filters)
    gold = q["answer"]
    row = {"id": q["id"], "question": q["question"], "gold": gold, "refused": answer.refused,
           "correct": not answer.refused and contains(answer.answer, gold), "reason": answer.refusal_reason,
           "confidence": answer.confidence}
    in_chunks = [h for h in ranking.result.hits if contains(f"{h.chunk.title or ''}\n{h.chunk.text}", gold)]
    row["gold_retrieved"] = bool(in_chunks)
    if row["correct"]:
        row["cause"] = "correct"
        return row
    if not in_chunks:
        row["cause"] = "retrieval: gold in no retrieved chunk"
        return row
    q_an = ranking.question
    answering = [c for c in ranking.candidates if extractive._answers(c, q_an)]
    lead = answering[0] if answering else None
    support = max((extractive._support(c) for c in answering), default=0.0)
    gold_cands = [c for c in ranking.candidates if contains(c.sentence.text, gold)]
    gold_sentences = [s for h in in_chunks for s in h.chunk.sentences if contains(s.text, gold)]
    row.update({"support": round(support, 3), "lead": lead.sentence.text[:200] if lead else None,
                "lead_score": round(lead.score, 3) if lead else None,
                "gold_kinds": sorted({s.kind for s in gold_sentences})})
    best_gold = max(gold_cands, key=lambda c: c.score) if gold_cands else None
    if best_gold is not None:
        position = ranking.candidates.index(best_gold) + 1
        among = answering.index(best_gold) + 1 if best_gold in answering else None
        row.update({"gold_sentence": best_gold.sentence.text[:200], "gold_score": round(best_gold.score, 3),
                    "gold_position": position, "gold_answering_position": among,
                    "gold_type_ok": best_gold.type_ok, "gold_topic": round(best_gold.topic, 3),
                    "gold_asked": best_gold.asked, "gold_support": round(extractive._support(best_gold), 3)})

    def gold_test() -> str:
        if best_gold is None:
            return "gold only in furniture/title (no candidate)" if gold_sentences or in_chunks else "no gold sentence"
        if not best_gold.type_ok:
            return "gold sentence fails the type test"
        if best_gold.topic < extractive._MIN_TOPIC:
            return "gold sentence off topic (_MIN_TOPIC)"
        if not best_gold.asked and q_an.kind in extractive._TYPED:
            return "gold sentence lacks an entity of the asked type"
        return ""

    if answer.refused:
        if ranking.unknown:
            row["cause"] = "refused: unknown question name"
        elif lead is None:
            row["cause"] = f"refused: no lead ({gold_test() or 'gold answers but...'})"
        elif support < max(settings.min_support, support_floor(dated=True)):
            row["cause"] = "refused: support floor"
            row["answerable_if_floor_off"] = round(answerable(evidence(ranking, lead, extractive._support(lead))), 3)
        else:
            row["cause"] = "refused: min_answerable"
        return row
    test = gold_test()
    if test:
        row["cause"] = f"wrong: {test}"
    elif row.get("gold_answering_position") == 1:
        row["cause"] = "wrong: gold is the lead but the answer text lacks it (partial match)"
    else:
        gap = (lead.score - best_gold.score) if lead else 0.0
        row["cause"] = f"wrong: outranked ({'close, gap < 0.1' if gap < 0.1 else 'far, gap >= 0.1'})"
        row["gap"] = round(gap, 3)
    return row


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="bench.answers_diagnose", description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=OUT)
    p.add_argument("--json", type=Path, help="write the per-question rows here")
    args = p.parse_args(argv)
    isolate(args.out)
    from rag.index.store import Store
    from rag.settings import Settings

    questions = bench_data.load_questions(bench_data.DATA)
    table = weeks()
    tune = [q for q in questions if half_of(q, table) == "tune"]
    store_dir = args.out / "stores" / "main"
    store = Store(Settings(store_dir=store_dir, corpus_dir=(args.out / "corpus")))
    try:
        rows = [diagnose(store, q) for q in tune]
    finally:
        store.close()
    counts = collections.Counter(r["cause"] for r in rows)
    print(f"tune: {len(rows)} answerable questions")
    for cause, n in sorted(counts.items(), key=lambda t: (-t[1], t[0])):
        print(f"  {n:3d}  {cause}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
