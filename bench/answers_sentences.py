"""The sentence vectors of the answer benchmark: embedded once, for the sentences it reads.

An ingest with sentence vectors (rag/index/sentence_vectors.py) embeds every statement sentence
of every article: on the benchmark about 163,000 sentence texts, hours of model time on a shared
machine. The benchmark's stores are built from the cache of chunk vectors with
`sentence_vectors` off, and this module embeds exactly the sentences the answer benchmark can
read: those of the `extractive_k` chunks each question retrieves from its own index (the full
index, the blind one, each held-out one; with the filters it is asked with), tune questions
first. They go into a cache of their own (keyed by text, so a re-run embeds nothing), copied
into every store's cache before it is asked. The engine reads no other sentence vector, so its
answers are those of a fully embedded index, and a stored vector is found by an indexed key
whatever else the cache holds.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from bench import data as bench_data

SENTENCE_CACHE = bench_data.ROOT / "bench" / "out" / "sentvec" / "embeddings.sqlite"


def embed_read(sets: list[tuple[Path, list[dict]]], filters, half_of, cache_path: Path = SENTENCE_CACHE,
               halves: tuple[str, ...] = ("tune", "check"), log=print) -> int:
    """Embed the statement sentences of the chunks each question of `sets` ((store, questions))
    retrieves, `halves` in order; returns how many texts were embedded."""
    from rag.index.embed_cache import EmbeddingCache
    from rag.index.sentence_vectors import store_sentence_vectors
    from rag.index.store import Store
    from rag.retrieval import search
    from rag.settings import Settings

    cache = EmbeddingCache(cache_path)
    started, total = time.time(), 0
    try:
        for half in halves:
            for store_dir, questions in sets:
                store = Store(Settings(store_dir=store_dir, corpus_dir=store_dir.parent))
                try:
                    chunks = {}
                    for q in questions:
                        if half_of(q) == half:
                            result = search(store, q["question"], store.settings.extractive_k, filters(q))
                            chunks.update({h.chunk.id: h.chunk for h in result.hits})
                    embedded = store_sentence_vectors(store.embedder, cache, list(chunks.values()))
                finally:
                    store.close()
                total += embedded
                log(f"sentence vectors, {half} {store_dir.name}: {len(chunks)} chunks read, {embedded} sentences "
                    f"embedded ({time.time() - started:.0f} s)")
    finally:
        cache.close()
    return total


def seed_sentences(store: Path, cache_path: Path = SENTENCE_CACHE) -> None:
    """Copy the sentence vectors into the store's embedding cache (beside its chunk vectors)."""
    if not cache_path.is_file():
        return
    db = sqlite3.connect(store / "cache" / "embeddings.sqlite", timeout=60)
    try:
        db.execute("CREATE TABLE IF NOT EXISTS embedding (model TEXT, key TEXT, vector BLOB, PRIMARY KEY (model, key))")
        db.execute("ATTACH DATABASE ? AS sentences", (str(cache_path),))
        with db:
            db.execute("INSERT OR IGNORE INTO embedding SELECT model, key, vector FROM sentences.embedding")
        db.execute("DETACH DATABASE sentences")
    finally:
        db.close()
