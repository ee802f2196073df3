"""Chroma as sealed shards of bounded size, so that a flush's cost does not grow with the store.

Chroma loads a collection's whole HNSW segment on its first read or write (count, get, query,
upsert alike; on 60,000 MiniLM-sized vectors 126 MB, measured in session 9), and keeps it until
the client closes. One collection for the whole store made the flush of the tail into Chroma
(rag.index.tail) load every vector ever flushed: about 2.9 GB at 100,000 articles. So the
flushed rows are split into shards of at most `settings.chroma_shard_rows` rows:

- shard 0 is the collection the docstore names (`collection`); shard k >= 1 is
  `<collection>-s<k>`. Where each later shard begins is part of the committed vector-file state
  (`FileState.shards`, rows of the vector file), so a shard is sealed in the same docstore
  transaction that moves the watermark past its first rows: old or new state, never a mix.
- A flush writes only the newest shard; when the rows to write would take it past the bound, it
  seals it (closes the client, which frees its segment) and starts the next. Its memory is one
  shard's, however many are sealed. A store from before shards reads as one shard 0, however
  large: its next flush starts shard 1 and never opens shard 0 again.
- A search asks every shard for its n nearest (with the same filter, which each shard
  evaluates from its own metadata index) and keeps the n best of them by distance: exactly the
  n best of the union, as one collection holding them all would return.
- A removed chunk flushed into a sealed shard stays there (deleting it at once would load the
  shard): searches skip it as they skip every id that is not a committed chunk, and the docstore
  lists it with the shard that holds it (`SEALED_DEAD`), so that checks know it is expected. A
  listed id stays listed when the same chunk is committed again (its new copy goes to the
  writable shard; the old one is still where it was). Once the listed copies number more than
  `dense_tail_rows`, a flush deletes them shard by shard, the one holding most first, loading
  one shard at a time (rag.index.tail.sweep); `rag status --repair` deletes them all.
"""

from __future__ import annotations

import re

import numpy as np

from rag.index.scope import Scope
from rag.index.vectorstore import VectorStore

SEALED_DEAD = "chroma_sealed_dead"  # docstore meta: id → the sealed shards holding a removed copy of it


def shard_name(collection: str, index: int) -> str:
    return collection if index == 0 else f"{collection}-s{index}"


def shard_names(collection: str, starts: tuple[int, ...]) -> list[str]:
    """The committed shards of `collection`, oldest first (`starts`: FileState.shards)."""
    return [shard_name(collection, k) for k in range(len(starts) + 1)]


def is_shard_of(name: str, collection: str) -> bool:
    """Whether `name` is `collection` or one of its shards (committed or an interrupted flush's)."""
    return name == collection or re.fullmatch(re.escape(collection) + r"-s\d+", name) is not None


def shard_of_row(row: int, starts: tuple[int, ...]) -> int:
    """The shard a flushed row of the vector file was written into."""
    return sum(1 for start in starts if row >= start)


def sealed_dead(value, sealed: int) -> dict[str, list[int]]:
    """SEALED_DEAD as id → the sealed shards that hold a removed copy of it. A list of ids (as
    stores recorded it before the shards were named) may be in any of the `sealed` shards."""
    if isinstance(value, dict):
        return {i: [int(k) for k in shards] for i, shards in value.items() if shards}
    return {i: list(range(sealed)) for i in value or ()} if sealed else {}


def dead_copies(listed: dict[str, list[int]]) -> int:
    """The removed copies `sealed_dead` lists (one id may sit in several sealed shards)."""
    return sum(len(shards) for shards in listed.values())


class ShardedStore:
    """Several collections read as one (the VectorStore protocol): reads ask every shard and
    merge exactly; writes go to the newest shard."""

    def __init__(self, shards: list[VectorStore]):
        self.shards = shards
        self.name = shards[0].name
        self.newest = shards[-1]
        self._counts: list[int] = []

    @property
    def metadata(self) -> dict:
        return self.shards[0].metadata

    def add(self, ids: list[str], vectors: np.ndarray, metadatas: list[dict]) -> None:
        self.newest.add(ids, vectors, metadatas)

    def delete(self, ids: list[str]) -> None:
        for shard in self.shards:
            shard.delete(ids)

    def query(self, vector: np.ndarray, n: int, scope: Scope | None = None,
              count: int | None = None) -> list[tuple[str, float]]:
        """The n nearest of every shard, best first. `count`: the whole store's, just read by
        `count()`, which kept each shard's for this."""
        counts = self._counts if count is not None and self._counts else [None] * len(self.shards)
        return best([shard.query(vector, n, scope, count=c) for shard, c in zip(self.shards, counts)], n)

    def vectors(self, ids: list[str]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for shard in self.shards:
            if missing := [i for i in ids if i not in out]:
                out.update(shard.vectors(missing))
        return out

    def records(self, ids: list[str]) -> dict[str, tuple[np.ndarray, dict]]:
        out: dict[str, tuple[np.ndarray, dict]] = {}
        for shard in self.shards:
            if missing := [i for i in ids if i not in out]:
                out.update(shard.records(missing))
        return out

    def nearest_ids(self, vectors: np.ndarray, n: int) -> list[tuple[list[str], list[float]]]:
        per_shard = [shard.nearest_ids(vectors, n) for shard in self.shards if shard.count()]
        out = []
        for answers in zip(*per_shard):
            # cosine distances: the smallest first, each id once
            hits = best([[(i, -d) for i, d in zip(ids, dists)] for ids, dists in answers], n)
            out.append(([i for i, _ in hits], [-s for _, s in hits]))
        return out

    def ids(self) -> set[str]:
        return set().union(*(shard.ids() for shard in self.shards))

    def count(self) -> int:
        """All shards' vectors; each shard's count is kept for a query that follows (the caller
        passes `count` when it has just read it: Chroma counts 410,919 vectors in 50-85 ms)."""
        self._counts = [shard.count() for shard in self.shards]
        return sum(self._counts)


def best(lists: list[list[tuple[str, float]]], n: int) -> list[tuple[str, float]]:
    """The n best (id, score) of several ranked lists, each id once at its best score."""
    top: dict[str, float] = {}
    for hits in lists:
        for chunk_id, score in hits:
            if score > top.get(chunk_id, -np.inf):
                top[chunk_id] = score
    return sorted(top.items(), key=lambda hit: (-hit[1], hit[0]))[:n]
