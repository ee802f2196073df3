"""Why the right sentence loses: every candidate sentence of the tune questions, with its features.

`python -m bench.sentence_features [--half tune]` ranks each question of the half on the
bench-answers full index as the engine does (as of the question's date, as bench-answers asks
it), and writes one row per
candidate (the features rag/answer/sentence_score.py reads, the engine's current score, and
whether the sentence, or it with its next sentence, holds the gold answer) to
bench/out/answers/sentence-features-<half>.json. `--report` prints where the first gold
sentence ranks, by question type. bench/sentence_model.py fits the scorer on these rows.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from pathlib import Path

from bench import data as bench_data
from bench.answers import OUT, _filters, held_out_groups
from bench.metrics import contains
from bench.qtypes import question_type
from bench.split import half_of, weeks


def collect(store_dir: Path, questions: list[dict], **overrides) -> list[dict]:
    from rag.answer import extractive
    from rag.answer.sentence_score import best_values, features
    from rag.index.store import Store
    from rag.settings import Settings

    settings = Settings(store_dir=store_dir, corpus_dir=store_dir.parent, **overrides)
    store = Store(settings)
    out = []
    try:
        for q in questions:
            ranking = extractive.rank(store, q["question"], filters=_filters(q))  # as bench-answers asks it
            chunk_text = " ".join(h.chunk.text for h in ranking.result.hits)
            rows = []
            best = best_values(ranking.candidates)
            for c in ranking.candidates:
                nxt = c.following.sentence.text if c.following else ""
                rows.append({
                    "f": features(c, ranking.question, best),
                    "score": c.score, "support": extractive._support(c),
                    "gold": contains(c.sentence.text, q["answer"]),
                    "gold_next": bool(nxt) and contains(f"{c.sentence.text} {nxt}", q["answer"]),
                    "text": c.sentence.text[:300], "rank": c.rank,
                })
            out.append({"id": q["id"], "type": question_type(q), "kind": ranking.question.kind,
                        "question": q["question"], "answer": q["answer"], "unknown": bool(ranking.unknown),
                        "in_chunks": contains(chunk_text, q["answer"]), "cands": rows})
    finally:
        store.close()
    return out


def collect_half(out: Path, half: str, **overrides) -> dict:
    """The half's answerable questions on the full index, and its unanswerable ones (blind and
    held-out, bench/answers.py) on their stores."""
    articles = bench_data.load_articles(bench_data.DATA)
    questions = bench_data.load_questions(bench_data.DATA)
    table = weeks()
    _, blind = bench_data.unanswerable_split(articles, questions)
    sets = {"answerable": collect(out / "stores" / "main", [q for q in questions if half_of(q, table) == half], **overrides),
            "blind": collect(out / "stores" / "blind", [q for q in blind if half_of(q, table) == half], **overrides),
            "held_out": []}
    for g in held_out_groups(articles, questions):
        if g["half"] == half:
            sets["held_out"] += collect(out / "stores" / g["name"], g["questions"], **overrides)
    return sets


def report(rows: list[dict]) -> None:
    by_type: dict[str, Counter] = {}
    for r in rows:
        order = sorted(range(len(r["cands"])), key=lambda i: -r["cands"][i]["score"])
        first = next((n for n, i in enumerate(order, 1) if r["cands"][i]["gold"]), None)
        bucket = ("not retrieved" if not r["in_chunks"] else "not a candidate" if first is None
                  else "1" if first == 1 else "2-3" if first <= 3 else "4-10" if first <= 10 else ">10")
        by_type.setdefault(r["type"], Counter())[bucket] += 1
    for t, counts in by_type.items():
        print(t, dict(counts))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="bench.sentence_features", description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=OUT)
    p.add_argument("--half", default="tune")
    p.add_argument("--rerank", type=int, help="rerank_sentences (default: the setting's)")
    p.add_argument("--report", action="store_true", help="only print the rank of the first gold sentence")
    args = p.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    path = args.out / f"sentence-features-{args.half}.json"
    if not args.report:
        overrides = {} if args.rerank is None else {"rerank_sentences": args.rerank}
        path.write_text(json.dumps(collect_half(args.out, args.half, **overrides)))
    report(json.loads(path.read_text())["answerable"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
