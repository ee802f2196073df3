"""Where the tune misses at 5 are lost (issue 14 round 7), chunk by chunk, without as_of.

Two kinds of miss: the gold article ranked 6th or lower, and the gold article in the first five
without the answer string in the first five chunks. For each, the *gold chunk* (the gold
article's chunk holding the answer string; the gold article's best-by-cosine chunk when none
does) and its place in every list the ranking reads or could read:
- `dense`: its exact rank among all chunks by cosine (the dense list reads the first 50);
- `lex`: its rank in a deep BM25 chunk list (the lexical list reads the first 50);
- `art`: the gold article's rank in the whole-article BM25 list (the ranking credits the first 20);
- `sent`: its rank among the pool (the dense and lexical candidates and the gold chunks) by its
  best sentence's cosine to the question (stored sentence vectors, rag.index.sentence_vectors);
- `fused`: its place in the final ranking of candidate chunks (None: not a candidate);
and the articles ahead of the gold one (how many, and how many of them share the gold article's
title words: the same story from another outlet).

    python -m bench.retrieval_misses [--run bench/out/art] [--half tune] [--sentences CACHE]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from bench import data as bench_data
from bench.data import article_id
from bench.metrics import contains
from bench.phases import deep, questions, settings
from bench.split import select

DEEP_LEXICAL = 2000


def place(ids, wanted: set) -> int | None:
    return next((r for r, i in enumerate(ids, 1) if i in wanted), None)


def sentence_best(store, cache_path: Path | None, chunks: dict, vector: np.ndarray) -> dict[str, float]:
    """Each chunk's best statement sentence cosine to the question (chunks with no stored vector: absent)."""
    if cache_path is None:
        return {}
    from rag.index.embed_cache import EmbeddingCache
    from rag.index.sentence_vectors import sentence_text, stored_vectors

    cache = EmbeddingCache(cache_path)
    texts = {i: [sentence_text(s) for s in c.sentences if s.kind == "sentence"] for i, c in chunks.items()}
    found = stored_vectors(store.embedder, cache, list({t for ts in texts.values() for t in ts}))
    out = {}
    for i, ts in texts.items():
        vs = [found[t] for t in ts if t in found]
        if vs:
            out[i] = float(max(np.stack(vs) @ vector))
    return out


def diagnose(store, q: dict, sources_of: dict[str, list[str]], all_ids: list[str], all_vectors: np.ndarray,
             cache_path: Path | None) -> dict | None:
    from rag.retrieval import Filters, gather, rank, search

    def units(text: str, n: int):
        return [(article_id(x), h.chunk.text) for h in search(store, text, n).hits
                for x in [h.chunk.source, *h.duplicates]]

    gold = set(q["gold_ids"])
    ranked_units = deep(units, q["question"])
    docs = list(dict.fromkeys(d for d, _ in ranked_units))
    rank_doc = place(docs, gold)
    recall5 = any(contains(t, q["answer"]) for _, t in ranked_units[:5])
    if rank_doc is not None and rank_doc <= 5 and recall5:
        return None
    gold_sources = sorted(s for g in gold for s in sources_of.get(g, []))
    with store.reading():
        ev = gather(store, q["question"], Filters(), store.settings, heads=True)
        ranked = rank(ev, store.settings, None)
        heads = store.docs.heads_of_sources(gold_sources, False)
        gold_chunks = store.docs.chunks(list(heads))
        deep_lex = store.lexical().search(q["question"], DEEP_LEXICAL)
        pool_ids = list(dict.fromkeys([*(i for i, _ in ev.dense), *(i for i, _ in ev.sparse), *gold_chunks]))
        pool = store.docs.chunks(pool_ids)
    vector = np.asarray(ev.vector, dtype=np.float32)
    cosine = all_vectors @ vector
    order = np.argsort(-cosine)
    dense_rank = {all_ids[j]: r for r, j in enumerate(order, 1)}
    answering = [i for i, c in gold_chunks.items() if contains(c.text, q["answer"])]
    chosen = answering or sorted(gold_chunks, key=lambda i: dense_rank.get(i, 10**9))[:1]
    targets = set(chosen)
    sent = sentence_best(store, cache_path, pool, vector)
    by_sent = sorted(sent, key=lambda i: -sent[i])
    of = {i: article_id(h.source) for i, h in ev.heads.items()}
    ahead = docs[: (rank_doc or 11) - 1][:10]
    gold_title = next((c.title for c in gold_chunks.values() if c.title), "") or ""
    title_words = {w for w in gold_title.lower().split() if len(w) > 3}
    same_story = 0
    for d in ahead:
        srcs = sources_of.get(d, [])
        if not srcs:
            continue
        t = (store.docs.chunks(list(store.docs.heads_of_sources(srcs[:1], False))[:1]) or {})
        title = next((c.title for c in t.values() if c.title), "") or ""
        if title_words and len(title_words & {w for w in title.lower().split() if len(w) > 3}) >= 2:
            same_story += 1
    return {"id": q["id"], "question": q["question"], "answer": q["answer"], "doc_rank": rank_doc,
            "kind": "article 6+" if not (rank_doc and rank_doc <= 5) else "answer not shown",
            "gold_chunks": len(gold_chunks), "answering": len(answering),
            "lead_answers": any(gold_chunks[i].ordinal == 0 for i in answering),
            "dense": min((dense_rank.get(i, 10**9) for i in targets), default=None),
            "lex": place([i for i, _ in deep_lex], targets),
            "art": place([article_id(a) for a, _ in ev.articles], gold),
            "art_dense": place([of[i] for i, _ in ev.dense if i in of], gold),
            "art_lex": place([of[i] for i, _ in ev.sparse if i in of], gold),
            "sent": place(by_sent, targets), "sent_pool": len(by_sent),
            "fused": place([i for i, _ in ranked], targets),
            "fused_article": place(list(dict.fromkeys(of.get(i) for i, _ in ranked)), gold),
            "same_story_ahead": same_story}


def main(argv: list[str] | None = None) -> int:
    from rag.index.store import Store

    p = argparse.ArgumentParser(prog="bench.retrieval_misses", description=__doc__.splitlines()[0])
    p.add_argument("--run", type=Path, default=bench_data.ROOT / "bench" / "out" / "art")
    p.add_argument("--half", default="tune")
    p.add_argument("--sentences", type=Path, help="an embedding cache holding the sentence vectors")
    p.add_argument("--rows", type=Path, help="write every miss's row here (JSONL)")
    args = p.parse_args(argv)
    config = json.loads((args.run / "config.json").read_text())
    store = Store(settings(args.run / "stores" / "main", Path(config["corpus"])))
    try:
        sources_of: dict[str, list[str]] = {}
        for source in store.docs.all_sources():
            sources_of.setdefault(article_id(source), []).append(source)
        with store.reading():
            ids = list(store.docs.heads_of_sources(store.docs.all_sources(), False))
            vecs = store.chunk_vectors(ids)
        all_ids = [i for i in ids if i in vecs]
        all_vectors = np.stack([vecs[i] for i in all_ids]).astype(np.float32)
        rows = [r for q in select(questions(args.run), args.half)
                if (r := diagnose(store, q, sources_of, all_ids, all_vectors, args.sentences))]
    finally:
        store.close()
    if args.rows:
        args.rows.write_text("".join(json.dumps(r) + "\n" for r in rows))
    cols = ["id", "kind", "doc_rank", "answering", "lead_answers", "dense", "lex", "art", "art_dense", "art_lex",
            "sent", "sent_pool", "fused", "fused_article", "same_story_ahead"]
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for r in rows:
        print("| " + " | ".join(str(r[c]) for c in cols) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
