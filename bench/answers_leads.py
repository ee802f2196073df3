"""What the leads of answered unanswerable questions look like, against correct answers:
`python -m bench.answers_leads` (issue #12, round 9; tune only, the check half is never read).

For every tune question (answerable ones on the full index, unanswerable ones on the blind and
held-out stores), asked as of its date, this ranks once (rag.answer.extractive.rank) and keeps
what the engine read: the answerability features (rag.answer.answerable_score.evidence), the
question's kind and terms with their IDF, the retrieved articles' dates, and the best answering
candidates with their scores, texts and the names and figures they give. The rows go to
bench/out/answers/leads-tune.json; `--report` reads them back and prints, for answered
unanswerable, correct and wrong answered and refused answerable questions, the distribution of
candidate signals (bench.answers_signals computes them).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from bench import data as bench_data
from bench.answers import OUT, held_out_groups, question_date
from bench.split import half_of, weeks

TOP = 12  # answering candidates kept per question


def _candidate(c, q) -> dict:
    from rag.answer.figures import figures
    from rag.answer.sentence_score import _names, _words, written_as_names

    text = c.sentence.text
    return {
        "text": text, "source": c.chunk.source, "chunk": c.chunk.id, "date": c.chunk.date.isoformat() if c.chunk.date else None,
        "rank": c.rank, "score": c.score, "semantic": c.semantic, "coverage": c.coverage, "context": c.context,
        "topic": c.topic, "chunk_semantic": c.chunk_semantic, "novelty": c.novelty, "asked": c.asked,
        "type_ok": c.type_ok, "terms": sorted(set(q.terms) & c.terms),
        "names": [list(n) for n in _names(text, set(_words(q.text)), written_as_names(c.chunk.text))],
        "figures": [[f.value, f.number, f.unit, f.unit_word] for f in figures(text, set(q.terms))],
        "near_terms": sorted(set(q.terms) & set(c.terms).union(
            *(n.terms for n in (c.preceding, c.following) if n is not None))),
    }


def collect(store_dir: Path, questions: list[dict], label: int) -> list[dict]:
    from rag.answer import extractive
    from rag.answer.answerable_score import answerable, evidence, support_floor
    from rag.index.store import Store
    from rag.retrieval import Filters
    from rag.settings import Settings

    store = Store(Settings(store_dir=store_dir, corpus_dir=store_dir.parent))
    out = []
    try:
        for q in questions:
            as_of = question_date(q)
            ranking = extractive.rank(store, q["question"], filters=Filters(as_of=as_of))
            qa = ranking.question
            answering = [c for c in ranking.candidates if extractive._answers(c, qa)]
            lead = answering[0] if answering else None
            support = max((extractive._support(c) for c in answering), default=0.0)
            feats = evidence(ranking, lead, extractive._support(lead) if lead else 0.0)
            score = 0.0 if ranking.unknown or lead is None or support < support_floor() else answerable(feats)
            articles = {}
            for h in ranking.result.hits:
                if h.chunk.source not in articles:
                    terms = set().union(*(extractive.chunk_terms(ch) for ch in store.docs.chunks_of(h.chunk.source)))
                    articles[h.chunk.source] = {"date": h.chunk.date.isoformat() if h.chunk.date else None,
                                                "rank": h.rank, "terms": sorted(set(qa.terms) & terms)}
            out.append({
                "id": q["id"], "week": q["id"].split("_")[0], "label": label, "store": store_dir.name,
                "question": q["question"], "gold": q["answer"], "as_of": as_of.isoformat() if as_of else None,
                "kind": qa.kind, "unit": qa.unit, "terms": list(qa.terms), "names": list(qa.names),
                "idf": {t: ranking.idf.get(t, 1.0) for t in qa.terms}, "unknown": list(ranking.unknown),
                "support": support, "score": score, "answered": bool(score >= 0.5), "features": feats,
                "hits": [{"chunk": h.chunk.id, "source": h.chunk.source, "rank": h.rank,
                          "terms": sorted(set(qa.terms) & ranking.chunk_terms[h.chunk.id])} for h in ranking.result.hits],
                "articles": articles,
                "candidates": [_candidate(c, qa) for c in answering[:TOP]],
                "all_top": [_candidate(c, qa) for c in ranking.candidates[:5]],
            })
    finally:
        store.close()
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="bench.answers_leads", description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=OUT)
    p.add_argument("--rows", type=Path, default=None)
    args = p.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    path = args.rows or args.out / "leads-tune.json"
    articles = bench_data.load_articles(bench_data.DATA)
    questions = bench_data.load_questions(bench_data.DATA)
    table = weeks()
    tune = [q for q in questions if half_of(q, table) == "tune"]
    _, blind = bench_data.unanswerable_split(articles, questions)
    rows = collect(args.out / "stores" / "main", tune, 1)
    rows += collect(args.out / "stores" / "blind", [q for q in blind if half_of(q, table) == "tune"], 0)
    for g in held_out_groups(articles, questions):
        if g["half"] == "tune":
            rows += collect(args.out / "stores" / g["name"], g["questions"], 0)
    path.write_text(json.dumps(rows))
    print(f"{len(rows)} rows -> {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
