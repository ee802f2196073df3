"""BM25 over chunk texts (bm25s), saved as an immutable directory per index generation."""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path

import numpy as np

from rag.text.lexical import content_words


class LexicalIndex:
    def __init__(self, path: Path, retriever, ids: list[str], df: dict[str, int]):
        self.path = path
        self.retriever = retriever
        self.ids = ids
        self.position = {chunk_id: i for i, chunk_id in enumerate(ids)}
        self.df = df
        self.n = len(ids)

    @staticmethod
    def build(path: Path, ids: list[str], texts: list[str]) -> None:
        """Write a complete index into `path` (a fresh directory)."""
        import bm25s

        tokens = [content_words(t) or [""] for t in texts]
        df = Counter(term for doc in tokens for term in set(doc) if term)
        path.mkdir(parents=True)
        if ids:
            retriever = bm25s.BM25()
            retriever.index(tokens, show_progress=False)
            retriever.save(str(path), show_progress=False)
        (path / "ids.json").write_text(json.dumps(ids))
        (path / "df.json").write_text(json.dumps(df))

    @classmethod
    def load(cls, path: Path) -> "LexicalIndex":
        import bm25s

        ids = json.loads((path / "ids.json").read_text())
        df = json.loads((path / "df.json").read_text())
        retriever = bm25s.BM25.load(str(path), mmap=False, show_progress=False) if ids else None
        return cls(path, retriever, ids, df)

    def idf(self, term: str) -> float:
        return math.log(1 + (self.n - self.df.get(term, 0) + 0.5) / (self.df.get(term, 0) + 0.5))

    def search(self, query: str, n: int, allowed: set[str] | None = None) -> list[tuple[str, float]]:
        terms = content_words(query)
        if not self.ids or not terms or (allowed is not None and not allowed):
            return []
        mask = None
        if allowed is not None:
            mask = np.zeros(self.n, dtype=np.float32)
            mask[[self.position[i] for i in allowed if i in self.position]] = 1
        docs, scores = self.retriever.retrieve(
            [terms], k=min(n, self.n), show_progress=False, weight_mask=mask, n_threads=0
        )
        return [(self.ids[d], float(s)) for d, s in zip(docs[0], scores[0]) if s > 0]
