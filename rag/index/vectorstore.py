"""VectorStore protocol and the Chroma implementation (embedded or server).

We always pass our own vectors and `embedding_function=None`: Chroma's default embedding
function downloads a model, which fails offline. Every chunk's vector carries the metadata a
`Scope` filters on (source, file, directory prefixes, day number), so Chroma evaluates filters
itself from its metadata index.
"""

from __future__ import annotations

import sqlite3
import struct
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol
from urllib.parse import urlparse

import numpy as np

from rag.errors import ConfigError, RagError, StoreUnavailableError
from rag.errors import first_line as _first_line
from rag.index.scope import Scope, day_number, directory_prefixes, file_of
from rag.models import Chunk

_BATCH = 2000
# On 37,910 chunks a 7-day range took Chroma 150 ms as a range and 21 ms as a set of days.
_DAYS_AS_SET = 400


class VectorStore(Protocol):
    name: str

    def add(self, ids: list[str], vectors: np.ndarray, metadatas: list[dict]) -> None: ...
    def delete(self, ids: list[str]) -> None: ...
    def query(self, vector: np.ndarray, n: int, scope: Scope | None = None,
              count: int | None = None) -> list[tuple[str, float]]: ...
    def vectors(self, ids: list[str]) -> dict[str, np.ndarray]: ...
    def records(self, ids: list[str]) -> dict[str, tuple[np.ndarray, dict]]: ...
    def nearest_ids(self, vectors: np.ndarray, n: int) -> list[tuple[list[str], list[float]]]: ...
    def ids(self) -> set[str]: ...
    def count(self) -> int: ...
    @property
    def metadata(self) -> dict: ...


def vector_meta(chunk: Chunk) -> dict:
    """What Chroma stores beside a chunk's vector: what filters and checks read."""
    meta: dict = {"source": chunk.source, "ordinal": chunk.ordinal, "file": file_of(chunk.source)}
    if dirs := directory_prefixes(chunk.source):
        meta["dirs"] = dirs
    if chunk.date:
        meta["day"] = day_number(chunk.date)
    return meta


def flat_metadata(data: dict) -> dict:
    return {k: v if isinstance(v, (str, int, float, bool)) else str(v) for k, v in data.items()}


def where(scope: Scope | None) -> dict | None:
    """A scope as a Chroma `where` on the chunk metadata."""
    if scope is None:
        return None
    conditions: list[dict] = []
    if scope.day_from is not None and scope.day_to is not None and scope.day_to - scope.day_from < _DAYS_AS_SET:
        # Chroma answers a set of values from its metadata index, a range by reading far more.
        conditions.append({"day": {"$in": list(range(scope.day_from, scope.day_to + 1))}})
    else:
        if scope.day_from is not None:
            conditions.append({"day": {"$gte": scope.day_from}})
        if scope.day_to is not None:
            conditions.append({"day": {"$lte": scope.day_to}})
    if scope.names:
        names = [{key: name} for name in scope.names for key in ("source", "file")]
        conditions.append({"$or": names} if len(names) > 1 else names[0])
    if scope.dir_prefix:
        conditions.append({"dirs": {"$contains": scope.dir_prefix}})
    if scope.feed:
        conditions.append({"file": scope.feed})
    if scope.sources is not None:
        conditions.append({"source": {"$in": list(scope.sources)}})
    if not conditions:
        return None
    return conditions[0] if len(conditions) == 1 else {"$and": conditions}


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
            raise StoreUnavailableError(f"cannot reach the Chroma server at {chroma_url}: {first_line(err)}") from None
        return client
    try:
        return chromadb.PersistentClient(path=str(store_dir / "chroma"), settings=options)
    except BaseException:
        forget_chroma_system(store_dir / "chroma")
        raise


def hnsw_damage(chroma_dir: Path, collection: str) -> str | None:
    """What is wrong with the HNSW files of `collection` in an embedded store, read without
    Chroma; None when they look whole (or there are none yet: under 1,000 vectors Chroma keeps
    them in SQLite). Chroma's native loader crashes the whole process (SIGSEGV, not an
    exception) on a truncated data_level0.bin (chroma-core/chroma#7238), so `rag status --check`
    looks at the sizes its header promises before letting Chroma open them."""
    try:
        db = sqlite3.connect(f"file:{chroma_dir / 'chroma.sqlite3'}?mode=ro", uri=True)
        try:
            rows = db.execute("SELECT s.id FROM segments s JOIN collections c ON s.collection = c.id "
                              "WHERE c.name = ? AND s.scope = 'VECTOR'", (collection,)).fetchall()
        finally:
            db.close()
    except sqlite3.Error:
        return None  # Chroma's own open reports an unreadable store
    for (segment,) in rows:
        path = chroma_dir / segment
        header = path / "header.bin"
        if not header.exists():
            continue
        data = header.read_bytes()
        if len(data) < 36:
            return f"{segment}/header.bin is truncated"
        # hnswlib's header: a version, then offsetLevel0, max_elements, cur_element_count and
        # size_data_per_element, each 8 bytes.
        count, per_element = struct.unpack_from("<QQ", data, 20)
        for name, needed in (("data_level0.bin", count * per_element), ("length.bin", 4 * count)):
            size = (path / name).stat().st_size if (path / name).exists() else 0
            if size < needed:
                return f"{segment}/{name} holds {size:,} bytes of the {needed:,} its header names"
    return None


def on_disk(chroma_dir: Path, collection: str) -> bool:
    """Whether an embedded store's files hold `collection`, read without importing chromadb
    (a rebuild of a store whose vectors never left the tail need not open Chroma)."""
    path = chroma_dir / "chroma.sqlite3"
    if not path.exists():
        return False
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return db.execute("SELECT 1 FROM collections WHERE name = ?", (collection,)).fetchone() is not None
        finally:
            db.close()
    except sqlite3.Error:
        return True  # unreadable here: let Chroma's own open decide


def collection_names(client) -> list[str]:
    return [c if isinstance(c, str) else c.name for c in client.list_collections()]


def drop_collection(client, name: str) -> bool:
    if name in collection_names(client):
        client.delete_collection(name)
        return True
    return False


def close_client(client) -> None:
    """Release a client. Once no other client of this process holds the embedded store, chromadb
    stops its System, so the next client reads the files afresh (another process may have
    written them)."""
    if client is not None and hasattr(client, "close"):
        client.close()


def forget_chroma_system(path: Path) -> None:
    """chromadb caches one System per directory before starting it; when the start fails (damaged
    files) the broken System stays cached and every later client in this process gets it."""
    try:
        from chromadb.api.shared_system_client import SharedSystemClient

        SharedSystemClient._identifier_to_system.pop(str(path), None)
        SharedSystemClient._identifier_to_refcount.pop(str(path), None)
    except ImportError:  # another chromadb layout: nothing cached the same way
        pass


def first_line(err: BaseException) -> str:
    if detail := getattr(err, "detail", None):  # already one line, without the advice to run a check
        return detail
    return _first_line(err, type(err).__name__)[:200]


@contextmanager
def chroma_errors():
    """Chroma's failures as one clear line. Its Rust core raises PanicException, a BaseException
    that `except Exception` misses, when its files are damaged."""
    try:
        yield
    except RagError:
        raise
    except BaseException as err:
        if isinstance(err, (KeyboardInterrupt, SystemExit, GeneratorExit)):
            raise
        line = first_line(err)
        failure = StoreUnavailableError(f"the Chroma store failed ({line}); "
                                        "`rag status --check` tells whether it needs `rag status --repair`")
        failure.detail = line
        raise failure from None


class ChromaStore:
    def __init__(self, client, name: str, metadata: dict | None = None):
        self.client = client
        self.name = name
        with chroma_errors():
            self.collection = client.get_or_create_collection(
                name, embedding_function=None, metadata=metadata or None, configuration={"hnsw": {"space": "cosine"}}
            )

    @property
    def metadata(self) -> dict:
        return dict(self.collection.metadata or {})

    def add(self, ids: list[str], vectors: np.ndarray, metadatas: list[dict]) -> None:
        with chroma_errors():
            for start in range(0, len(ids), _BATCH):
                end = start + _BATCH
                self.collection.upsert(ids=ids[start:end], embeddings=vectors[start:end],
                                       metadatas=metadatas[start:end])

    def delete(self, ids: list[str]) -> None:
        with chroma_errors():
            for start in range(0, len(ids), _BATCH):
                self.collection.delete(ids=ids[start:start + _BATCH])

    def query(self, vector: np.ndarray, n: int, scope: Scope | None = None,
              count: int | None = None) -> list[tuple[str, float]]:
        """The n nearest within `scope` (the caller asks for more to skip leftovers: Store._nearest).
        `count`: the collection's size, when the caller has just read it (on 410,919 vectors
        Chroma counts them in 50-85 ms)."""
        if scope is not None and scope.empty:
            return []
        with chroma_errors():
            count = self.collection.count() if count is None else count
            if count == 0:
                return []
            result = self.collection.query(
                query_embeddings=[vector], n_results=min(n, count), where=where(scope), include=["distances"]
            )
        return [(i, 1.0 - float(d)) for i, d in zip(result["ids"][0], result["distances"][0])]

    def vectors(self, ids: list[str]) -> dict[str, np.ndarray]:
        return {i: v for i, (v, _) in self.records(ids, metadata=False).items()}

    def records(self, ids: list[str], metadata: bool = True) -> dict[str, tuple[np.ndarray, dict]]:
        """id → (vector, metadata) of the ids Chroma holds."""
        include = ["embeddings", "metadatas"] if metadata else ["embeddings"]
        out = {}
        with chroma_errors():
            for start in range(0, len(ids), _BATCH):
                got = self.collection.get(ids=ids[start:start + _BATCH], include=include)
                metas = got["metadatas"] if metadata else [None] * len(got["ids"])
                out.update({i: (np.asarray(v, dtype=np.float32), m or {})
                            for i, v, m in zip(got["ids"], got["embeddings"], metas)})
        return out

    def nearest_ids(self, vectors: np.ndarray, n: int) -> list[tuple[list[str], list[float]]]:
        """For each vector, the ids of its n nearest and their cosine distances (no filter)."""
        with chroma_errors():
            result = self.collection.query(query_embeddings=vectors, n_results=min(n, self.collection.count()),
                                           include=["distances"])
        return list(zip(result["ids"], result["distances"]))

    def ids(self) -> set[str]:
        out: set[str] = set()
        offset = 0
        with chroma_errors():
            while True:
                got = self.collection.get(include=[], limit=10_000, offset=offset)
                out.update(got["ids"])
                if len(got["ids"]) < 10_000:
                    return out
                offset += 10_000

    def count(self) -> int:
        with chroma_errors():
            return self.collection.count()
