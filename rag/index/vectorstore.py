"""VectorStore protocol and the Chroma implementation (embedded or server).

We always pass our own vectors and `embedding_function=None`: Chroma's default embedding
function downloads a model, which fails offline.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol
from urllib.parse import urlparse

import numpy as np

from rag.errors import ConfigError, StoreUnavailableError

_BATCH = 2000


class VectorStore(Protocol):
    def add(self, ids: list[str], vectors: np.ndarray, metadatas: list[dict]) -> None: ...
    def delete(self, ids: list[str]) -> None: ...
    def query(self, vector: np.ndarray, n: int, sources: list[str] | None = None,
              committed: int | None = None) -> list[tuple[str, float]]: ...
    def vectors(self, ids: list[str]) -> dict[str, np.ndarray]: ...
    def ids(self) -> set[str]: ...
    def count(self) -> int: ...
    def drop(self) -> None: ...


def chroma_client(store_dir: Path, chroma_url: str | None):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    options = ChromaSettings(anonymized_telemetry=False)
    if chroma_url:
        url = urlparse(chroma_url if "//" in chroma_url else f"http://{chroma_url}")
        if not url.hostname:
            raise ConfigError(f"invalid --chroma-url {chroma_url!r}; expected http://host:port")
        try:
            client = chromadb.HttpClient(
                host=url.hostname, port=url.port or 8000, ssl=url.scheme == "https", settings=options
            )
            client.heartbeat()
        except Exception as err:  # chromadb raises several unrelated types here
            raise StoreUnavailableError(f"cannot reach the Chroma server at {chroma_url}: {_first_line(err)}") from None
        return client
    return chromadb.PersistentClient(path=str(store_dir / "chroma"), settings=options)


def _first_line(err: Exception) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0][:200]


class ChromaStore:
    def __init__(self, client, name: str, metadata: dict | None = None):
        self.client = client
        self.name = name
        self.collection = client.get_or_create_collection(
            name, embedding_function=None, metadata=metadata or None, configuration={"hnsw": {"space": "cosine"}}
        )

    @property
    def metadata(self) -> dict:
        return dict(self.collection.metadata or {})

    def add(self, ids: list[str], vectors: np.ndarray, metadatas: list[dict]) -> None:
        for start in range(0, len(ids), _BATCH):
            end = start + _BATCH
            self.collection.upsert(ids=ids[start:end], embeddings=vectors[start:end], metadatas=metadatas[start:end])

    def delete(self, ids: list[str]) -> None:
        for start in range(0, len(ids), _BATCH):
            self.collection.delete(ids=ids[start:start + _BATCH])

    def query(self, vector: np.ndarray, n: int, sources: list[str] | None = None,
              committed: int | None = None) -> list[tuple[str, float]]:
        """The n nearest, plus, given how many vectors are `committed`, one more for each vector
        beyond them (leftovers of an interrupted ingest, which the caller filters out)."""
        count = self.collection.count()
        if count == 0 or (sources is not None and not sources):
            return []
        if committed is not None:
            n += max(0, count - committed)
        where = {"source": {"$in": sources}} if sources is not None else None
        result = self.collection.query(
            query_embeddings=[vector], n_results=min(n, count), where=where, include=["distances"]
        )
        return [(i, 1.0 - float(d)) for i, d in zip(result["ids"][0], result["distances"][0])]

    def vectors(self, ids: list[str]) -> dict[str, np.ndarray]:
        out = {}
        for start in range(0, len(ids), _BATCH):
            got = self.collection.get(ids=ids[start:start + _BATCH], include=["embeddings"])
            out.update({i: np.asarray(v, dtype=np.float32) for i, v in zip(got["ids"], got["embeddings"])})
        return out

    def ids(self) -> set[str]:
        out: set[str] = set()
        offset = 0
        while True:
            got = self.collection.get(include=[], limit=10_000, offset=offset)
            out.update(got["ids"])
            if len(got["ids"]) < 10_000:
                return out
            offset += 10_000

    def count(self) -> int:
        return self.collection.count()

    def drop(self) -> None:
        self.client.delete_collection(self.name)
