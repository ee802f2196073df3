"""Choosing the refusal score's constants on the tune half (issue 12): `python -m bench.refusal_calibration`.

The engine answers with its lead sentence when its refusal score reaches `min_support`. The score
is the best support among the candidates that answer at all (right type, on the question's topic):
support = alpha * lexical + (1 - alpha) * semantic, lexical = max(coverage, 0.8 * context), and a
candidate is on topic when it covers at least `min_topic` of the question's non-name terms. This
script ranks every tune question once on each bench-answers store (answerable questions on the
full index; the blind and held-out unanswerable questions on theirs), then replays the decision
for a grid of (alpha, min_topic, semantic floor, threshold) and reports, for each, the false
refusals, the share of unanswerable questions answered and the accuracy, so the constants are
chosen on tune alone. The check half is never read here.

Since round 3 the support threshold is a floor: the engine also needs the answerability model's
probability to reach `min_answerable` (rag/answer/answerable_score.py, fitted and its threshold
chosen by bench/answerability_fit.py).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import sys
from pathlib import Path

from bench import data as bench_data
from bench.answers import OUT, held_out_groups
from bench.metrics import contains
from bench.split import half_of, weeks

_MARKER = re.compile(r"\[\d+\]")


def collect(store_dir: Path, questions: list[dict]) -> list[dict]:
    """Per question: every candidate's features and, per candidate, the answer text the engine
    would give with it as the lead."""
    from rag.answer import extractive
    from rag.index.store import Store
    from rag.settings import Settings

    store = Store(Settings(store_dir=store_dir, corpus_dir=store_dir.parent))
    out = []
    try:
        for q in questions:
            ranking = extractive.rank(store, q["question"])
            cands = ranking.candidates
            rows = []
            for c in cands:
                rows.append({"cov": c.coverage, "ctx": c.context, "sem": c.semantic, "topic": c.topic,
                             "type_ok": c.type_ok, "score": c.score})
            # The answer text with each of the first few possible leads (the lead depends on min_topic).
            texts = {}
            for i, c in enumerate(cands[:30]):
                chosen = extractive._complete(extractive._select([c] + [x for x in cands if x is not c],
                                                                  ranking.question, store.settings.answer_max_sentences),
                                              ranking.question)
                texts[i] = contains(" ".join(x.sentence.text for x in chosen), q["answer"])
            out.append({"id": q["id"], "unknown": bool(ranking.unknown), "cands": rows, "correct_with_lead": texts,
                        "question": question_features(store, ranking)})
    finally:
        store.close()
    return out


def question_features(store, ranking) -> dict:
    """Evidence about the question as a whole: how much of it the retrieved text covers at all,
    and whether the two retrievers agree on the best chunk."""
    from rag.text.lexical import content_words

    lexical = store.lexical()
    idf = {t: 0.5 + lexical.idf(t) for t in ranking.question.terms}
    seen = set()
    for hit in ranking.result.hits:
        seen |= set(content_words(f"{hit.chunk.title or ''}\n{hit.chunk.text}"))
    total = sum(idf.values()) or 1.0
    top = ranking.result.hits[0] if ranking.result.hits else None
    return {"covered": sum(v for t, v in idf.items() if t in seen) / total,
            "agree": bool(top and top.dense_rank and top.lexical_rank and max(top.dense_rank, top.lexical_rank) <= 3),
            "terms": len(ranking.question.terms)}


def decide(row: dict, alpha: float, min_topic: float, floor: float) -> tuple[float, int | None]:
    """(refusal score, index of the lead) for one question under these constants."""
    if row["unknown"]:
        return 0.0, None
    answering = [(i, c) for i, c in enumerate(row["cands"]) if c["type_ok"] and c["topic"] >= min_topic]
    if not answering or max((c["sem"] for c in row["cands"]), default=0.0) < floor:
        return 0.0, None
    support = [alpha * max(c["cov"], 0.8 * c["ctx"]) + (1 - alpha) * max(c["sem"], 0.0) for _, c in answering]
    return max(support), answering[0][0]


def replay(sets: dict, alpha: float, min_topic: float, floor: float, threshold: float) -> dict:
    answerable, unanswerable = sets["answerable"], sets["blind"] + sets["held_out"]
    correct = refused = 0
    for row in answerable:
        score, lead = decide(row, alpha, min_topic, floor)
        if lead is None or score < threshold:
            refused += 1
        elif row["correct_with_lead"].get(str(lead), row["correct_with_lead"].get(lead, False)):
            correct += 1
    answered = sum(1 for row in unanswerable if (d := decide(row, alpha, min_topic, floor))[1] is not None
                   and d[0] >= threshold)
    return {"accuracy": correct / len(answerable), "false_refusals": refused / len(answerable),
            "answered_unanswerable": answered / len(unanswerable)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="bench.refusal_calibration", description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=OUT, help="the bench-answers run directory (its stores)")
    p.add_argument("--features", type=Path, help="reuse collected features (JSON) instead of ranking again")
    args = p.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    articles = bench_data.load_articles(bench_data.DATA)
    questions = bench_data.load_questions(bench_data.DATA)
    table = weeks()
    tune = [q for q in questions if half_of(q, table) == "tune"]
    if args.features and args.features.exists():
        sets = json.loads(args.features.read_text())
    else:
        _, blind = bench_data.unanswerable_split(articles, questions)
        sets = {"answerable": collect(args.out / "stores" / "main", tune),
                "blind": collect(args.out / "stores" / "blind", [q for q in blind if half_of(q, table) == "tune"]),
                "held_out": []}
        for g in held_out_groups(articles, questions):
            if g["half"] == "tune":
                sets["held_out"] += collect(args.out / "stores" / g["name"], g["questions"])
        (args.out / "refusal-features-tune.json").write_text(json.dumps(sets))
    grid = []
    for alpha, min_topic, floor in itertools.product((0.3, 0.4, 0.5, 0.6, 0.7), (0.0, 0.15, 0.25, 0.35, 0.5),
                                                     (0.0, 0.2, 0.3)):
        for threshold in [round(0.3 + 0.025 * i, 3) for i in range(17)]:
            grid.append({"alpha": alpha, "min_topic": min_topic, "floor": floor, "threshold": threshold,
                         **replay(sets, alpha, min_topic, floor, threshold)})
    (args.out / "refusal-calibration-tune.json").write_text(json.dumps(grid, indent=0))
    # The targets weigh a false refusal and an answered unanswerable question alike.
    best = sorted(grid, key=lambda r: (r["false_refusals"] + r["answered_unanswerable"], -r["accuracy"]))[:15]
    print(f"tune: {len(sets['answerable'])} answerable, {len(sets['blind'])} blind, {len(sets['held_out'])} held-out")
    for r in best:
        print(json.dumps(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
