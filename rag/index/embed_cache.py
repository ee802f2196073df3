"""Embeddings cached by model and text hash, so re-ingest and --rebuild never embed a text twice."""

from __future__ import annotations

import hashlib
import sqlite3
from collections import Counter
from pathlib import Path

import numpy as np

from rag.index.embedders import BULK, Embedder


def text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


class EmbeddingCache:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, timeout=60, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        # A cache: a power cut may lose its last transactions (they are embedded again), never its
        # consistency; no fsync per transaction (WAL mode keeps the file whole either way).
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS embedding (model TEXT, key TEXT, vector BLOB, PRIMARY KEY (model, key))"
        )

    def get_many(self, model: str, keys: list[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(keys), 500):
            batch = keys[start:start + 500]
            rows = self.db.execute(
                f"SELECT key, vector FROM embedding WHERE model = ? AND key IN ({','.join('?' * len(batch))})",
                [model, *batch],
            )
            for key, blob in rows:
                found[key] = np.frombuffer(blob, dtype=np.float32)
        return found

    def put_many(self, model: str, items: dict[str, np.ndarray]) -> None:
        with self.db:
            self.db.executemany(
                "INSERT OR REPLACE INTO embedding VALUES (?, ?, ?)",
                # in key order: neighbouring inserts land on the same pages of the key index
                [(model, key, np.asarray(v, dtype=np.float32).tobytes()) for key, v in sorted(items.items())],
            )

    def close(self) -> None:
        self.db.close()


# Vectors are written to the cache this many at a time: their keys are random, so each insert
# touches a random page of the key index, and a transaction of 256 wrote ~4 KB of WAL per vector
# (plus as much again at the checkpoint). Large enough to share pages, small enough that a killed
# embedding run keeps most of its work.
_PUT_EVERY = 8192


def embed_cached(embedder: Embedder, cache: EmbeddingCache, texts: list[str], on_batch=None, batch: int = 256) -> tuple[np.ndarray, int]:
    """Vectors for `texts`, computing only those missing from the cache. Returns (vectors, computed)."""
    keys = [text_key(t) for t in texts]
    found = cache.get_many(embedder.name, list(dict.fromkeys(keys)))
    missing = list(dict.fromkeys(k for k in keys if k not in found))
    by_key = {k: t for k, t in zip(keys, texts)}
    counts = Counter(keys)
    done = len(texts) - sum(counts[k] for k in missing)
    if on_batch:
        on_batch(done, len(texts))
    bulk = len(missing) >= BULK  # one backend for all the batches of this call
    unsaved: dict[str, np.ndarray] = {}
    for start in range(0, len(missing), batch):
        part = missing[start:start + batch]
        vectors = embedder.embed([by_key[k] for k in part], bulk=bulk)
        fresh = dict(zip(part, vectors))
        unsaved.update(fresh)
        if len(unsaved) >= _PUT_EVERY:
            cache.put_many(embedder.name, unsaved)
            unsaved = {}
        found.update(fresh)
        done += sum(counts[k] for k in part)
        if on_batch:
            on_batch(done, len(texts))
    if unsaved:
        cache.put_many(embedder.name, unsaved)
    return np.stack([found[k] for k in keys]) if keys else np.zeros((0, 0), np.float32), len(missing)
