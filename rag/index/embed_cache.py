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
                [(model, key, np.asarray(v, dtype=np.float32).tobytes()) for key, v in items.items()],
            )

    def close(self) -> None:
        self.db.close()


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
    for start in range(0, len(missing), batch):
        part = missing[start:start + batch]
        vectors = embedder.embed([by_key[k] for k in part], bulk=bulk)
        fresh = dict(zip(part, vectors))
        cache.put_many(embedder.name, fresh)
        found.update(fresh)
        done += sum(counts[k] for k in part)
        if on_batch:
            on_batch(done, len(texts))
    return np.stack([found[k] for k in keys]) if keys else np.zeros((0, 0), np.float32), len(missing)
