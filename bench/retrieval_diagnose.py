"""Where the gold article is lost (issue 14 round 5), on one half of the benchmark, without as_of.

For each question: the gold article's place in each candidate list the ranking reads (dense
chunks, lexical chunks, the whole-article BM25 list) and in the final ranking (as the benchmark
reads it, bench.phases.deep); for a miss of the first five, whether the quiz date as `as_of` finds
it (the question is ambiguous without a date) and whether the gold "article" is a story at all;
for a hit, whether the chunk shown for it holds the answer string and whether any of its chunks
does (what a better choice of representative chunk could gain).

    python -m bench.retrieval_diagnose [--run bench/out/art] [--half tune] [--rows rows.jsonl]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from collections import Counter
from pathlib import Path

from bench import data as bench_data
from bench.data import article_id
from bench.metrics import contains
from bench.phases import deep, questions, settings
from bench.split import select

_STUB = 400  # characters: a gold "article" this short is a scrape of page furniture (an ad survey), not a story
_LISTS = ("dense", "sparse", "articles")


def first_place(docs, gold: set[str]) -> int | None:
    """The 1-based place of the first gold document among the distinct `docs`."""
    return next((r for r, d in enumerate(dict.fromkeys(docs), 1) if d in gold), None)


def diagnose(store, q: dict, sources_of: dict[str, list[str]]) -> dict:
    from rag.retrieval import Filters, gather, search

    def units(text: str, n: int, filters: Filters = Filters()):
        return [(article_id(x), h.chunk.text) for h in search(store, text, n, filters).hits
                for x in [h.chunk.source, *h.duplicates]]

    gold = set(q["gold_ids"])
    with store.reading():
        ev = gather(store, q["question"], Filters(), store.settings, heads=True)
    of = {i: article_id(h.source) for i, h in ev.heads.items()}
    ranked = deep(units, q["question"])
    rank = first_place([d for d, _ in ranked], gold)
    row = {"id": q["id"], "rank": rank, "dense": first_place([of[i] for i, _ in ev.dense if i in of], gold),
           "sparse": first_place([of[i] for i, _ in ev.sparse if i in of], gold),
           "articles": first_place([article_id(a) for a, _ in ev.articles], gold),
           "recall5": any(contains(t, q["answer"]) for _, t in ranked[:5])}
    if rank and rank <= 5:
        row["shown_has_answer"] = any(contains(t, q["answer"]) for d, t in ranked[:5] if d in gold)
        heads = store.docs.heads_of_sources(sorted(s for g in gold for s in sources_of.get(g, [])), False)
        row["article_has_answer"] = any(contains(c.text, q["answer"]) for c in store.docs.chunks(list(heads)).values())
    else:
        dated = units(q["question"], 20, Filters(as_of=dt.date.fromisoformat(q["date"])))
        row["top5_as_of"] = (first_place([d for d, _ in dated], gold) or 99) <= 5
    return row


def gold_text(q: dict, texts: dict[str, str]) -> dict:
    """Whether every gold article is a page stub, and whether any gold text holds the answer."""
    gold = [texts.get(g, "") for g in q["gold_ids"]]
    return {"gold_stub": all(len(t) < _STUB for t in gold), "gold_has_answer": any(contains(t, q["answer"]) for t in gold)}


def summarise(rows: list[dict]) -> dict:
    """Counts of questions: found in the first five, or where the gold article was lost."""
    top5 = [r for r in rows if r["rank"] and r["rank"] <= 5]
    missed = [r for r in rows if not (r["rank"] and r["rank"] <= 5)]
    lost = Counter()
    for r in missed:
        if not any(r[k] for k in _LISTS):
            lost["in no candidate list"] += 1
        else:
            lost["a candidate, ranked " + ("6-10" if r["rank"] and r["rank"] <= 10 else "below 10")] += 1
        lost.update(f"in the {k} list" for k in _LISTS if r[k])
        lost["every gold article a page stub"] += r["gold_stub"]
        lost["no gold text holds the answer"] += not r["gold_has_answer"]
        lost["a story found in the first 5 as of the quiz date"] += r["top5_as_of"] and not r["gold_stub"]
    return {"questions": len(rows), "top5": len(top5), "missed_top5": dict(lost),
            "top5_shown_chunk_has_answer": sum(r["shown_has_answer"] for r in top5),
            "top5_shown_lacks_answer_article_has_it": sum(not r["shown_has_answer"] and r["article_has_answer"] for r in top5),
            "top5_no_chunk_of_gold_has_answer": sum(not r["article_has_answer"] for r in top5),
            "answer_recall@5": round(sum(r["recall5"] for r in rows) / max(1, len(rows)), 3)}


def main(argv: list[str] | None = None) -> int:
    from rag.index.store import Store

    p = argparse.ArgumentParser(prog="bench.retrieval_diagnose", description=__doc__.splitlines()[0])
    p.add_argument("--run", type=Path, default=bench_data.ROOT / "bench" / "out" / "art")
    p.add_argument("--half", default="tune")
    p.add_argument("--rows", type=Path, help="write every question's row here (JSONL)")
    args = p.parse_args(argv)
    config = json.loads((args.run / "config.json").read_text())
    articles = [json.loads(line) for line in Path(config["corpus"]).read_text(encoding="utf-8").splitlines()]
    texts = {a["id"]: a["text"] for a in articles}
    store = Store(settings(args.run / "stores" / "main", Path(config["corpus"])))
    try:
        sources_of: dict[str, list[str]] = {}
        for source in store.docs.all_sources():
            sources_of.setdefault(article_id(source), []).append(source)
        rows = [diagnose(store, q, sources_of) | gold_text(q, texts) for q in select(questions(args.run), args.half)]
    finally:
        store.close()
    if args.rows:
        args.rows.write_text("".join(json.dumps(r) + "\n" for r in rows))
    print(json.dumps(summarise(rows), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
