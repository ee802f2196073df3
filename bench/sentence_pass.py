"""Embed the statement sentences a benchmark run reads, once, into an embedding cache of its own.

An ingest with sentence vectors (rag/index/sentence_vectors.py) embeds every statement sentence
of every article. On the benchmark that is about 163,000 sentence texts, hours of model time on
a shared machine, so this pass embeds exactly the sentences the answer benchmark can read: those
of the `extractive_k` chunks each question retrieves from its own index (the full index, the
blind one, each held-out one; as of the question's date, as `make bench-answers` asks it). The
engine reads no other sentence vector, so its answers are those of a fully embedded index; a
stored vector's lookup does not depend on how many others the cache holds (an indexed key).
Tune questions go first. `make bench-answers` seeds its stores' caches from the chunk-vector
cache and this one. `python -m bench.sentence_pass [--out CACHE.sqlite] [--half tune]`.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from bench import data as bench_data
from bench.answers import OUT, _filters, held_out_groups
from bench.split import half_of, weeks

SENTENCE_CACHE = bench_data.ROOT / "bench" / "out" / "sentvec" / "embeddings.sqlite"


def question_sets() -> list[tuple[str, list[dict]]]:
    """(store name, its questions), as bench/answers.py `run` asks them."""
    articles = bench_data.load_articles(bench_data.DATA)
    questions = bench_data.load_questions(bench_data.DATA)
    _, blind = bench_data.unanswerable_split(articles, questions)
    return [("main", questions), ("blind", blind)] + [(g["name"], g["questions"]) for g in held_out_groups(articles, questions)]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="bench.sentence_pass", description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=SENTENCE_CACHE)
    p.add_argument("--stores", type=Path, default=OUT / "stores")
    p.add_argument("--half", choices=["tune", "check"], help="only this half's questions")
    args = p.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from rag.index.embed_cache import EmbeddingCache
    from rag.index.sentence_vectors import store_sentence_vectors
    from rag.index.store import Store
    from rag.retrieval import search
    from rag.settings import Settings

    table = weeks()
    cache = EmbeddingCache(args.out)
    started = time.time()
    for half in [args.half] if args.half else ["tune", "check"]:
        for name, questions in question_sets():
            store_dir = args.stores / name
            store = Store(Settings(store_dir=store_dir, corpus_dir=store_dir.parent))
            try:
                chunks = {}
                for q in questions:
                    if half_of(q, table) == half:
                        result = search(store, q["question"], store.settings.extractive_k, _filters(q))
                        chunks.update({h.chunk.id: h.chunk for h in result.hits})
                embedded = store_sentence_vectors(store.embedder, cache, list(chunks.values()))
            finally:
                store.close()
            print(f"{half} {name}: {len(chunks)} chunks, {embedded} sentences embedded, "
                  f"{time.time() - started:.0f} s", flush=True)
    cache.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
