"""What is indexed, how big it is, and whether the parts agree.

The committed index is what the docstore's last transaction says: the manifest (documents),
their chunks, and pointers to one BM25 generation and one Chroma collection. The parts
**agree** when
- the docstore is a sound SQLite file, every chunk belongs to a document and every document
  has the number of chunks its article records (zero for an article with no text left);
- the BM25 generation it points to loads, and indexes exactly the docstore's chunk ids;
- the Chroma collection it points to opens, was built with the same embedding model, holds a
  vector for every chunk id, each equal to the cached embedding of the chunk's indexed text
  and filed under the chunk's source, and its vector index finds each chunk by that vector.
Vectors no chunk references, other collections and BM25 generations, and an interrupted
ingest's marker are **garbage**: queries never see them (they only accept committed chunk
ids), so they are reported but are not inconsistencies. See docs/reliability.md.
"""

from __future__ import annotations

import random
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rag.index.embed_cache import text_key
from rag.index.lexical import LexicalIndex
from rag.index.store import Store
from rag.models import Status

PENDING = "pending_ingest"  # docstore meta key: set while an ingest writes, cleared when it is done
SELF_QUERY_SAMPLE = 500  # chunks looked up by their own vector (all of them in a smaller index)
# HNSW search is approximate. On real embeddings it finds nearly every chunk by its own vector;
# on near-orthogonal vectors (the bag-of-words test embedder over 1,200 random-word sentences)
# it misses up to 15%. Damaged index files fail outright (an error) or miss most: a majority
# of misses is damage, anything less is the approximation.
SELF_QUERY_MISSES = 0.5
_SAME = 1e-4  # cosine distance under which two vectors are the same vector


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


def status(store: Store, check: bool = False, lock_wait: float = 10.0) -> Status:
    documents, chunks = store.docs.counts()
    fingerprint = store.stored_fingerprint
    settings = store.settings
    report = Status(
        store_dir=str(store.dir.absolute()),
        chroma=settings.chroma_url or f"embedded at {store.dir.absolute() / 'chroma'}",
        documents=documents,
        chunks=chunks,
        embedding_model=(fingerprint or {}).get("embedding_model"),
        fingerprint=fingerprint,
        generation=store.docs.meta("generation"),
        sizes={
            "docstore": _size(store.dir / "rag.db"),
            "chroma": 0 if settings.chroma_url else _size(store.dir / "chroma"),
            "bm25": _size(store.dir / "bm25"),
            "embedding_cache": _size(store.dir / "cache"),
        },
    )
    if check and (fingerprint or store.docs.meta(PENDING) is not None):
        with _quiet(store, lock_wait):
            found = check_index(store)
        report.vectors, report.problems, report.garbage = found.vectors, found.problems, found.garbage
    return report


@contextmanager
def _quiet(store: Store, wait: float):
    """Hold the write lock while checking: an ingest committing mid-check would look like damage.
    A store this process cannot write (a read-only mount) is checked without it."""
    try:
        lock = store.write_lock(wait, purpose="check")
        lock.__enter__()
    except OSError:
        yield
        return
    try:
        yield
    finally:
        lock.__exit__(None, None, None)


def consistency(store: Store) -> tuple[int, list[str]]:
    """(vectors in the live collection, problems): the short form of `check_index`."""
    found = check_index(store)
    return found.vectors or 0, found.problems


@dataclass
class Check:
    """What `check_index` found; `repair` acts on the details."""

    problems: list[str] = field(default_factory=list)
    garbage: list[str] = field(default_factory=list)
    vectors: int | None = None
    docstore_damaged: bool = False
    bm25_bad: bool = False
    chroma_unreadable: bool = False  # the client or the collection cannot be opened or read
    chroma_rebuild: bool = False  # the collection must be rebuilt (its vector index is damaged)
    missing_vectors: set[str] = field(default_factory=set)
    wrong_vectors: set[str] = field(default_factory=set)
    orphan_vectors: set[str] = field(default_factory=set)
    stray_collections: list[str] = field(default_factory=list)
    stray_bm25: list[str] = field(default_factory=list)
    orphan_chunk_sources: list[str] = field(default_factory=list)
    empty_documents: list[str] = field(default_factory=list)  # chunks missing (or extra) for the article

    @property
    def consistent(self) -> bool:
        return not self.problems


def check_index(store: Store, deep: bool = True) -> Check:
    """Compare the docstore, BM25 and Chroma (see the module docstring for what must agree)."""
    found = Check()
    try:
        damage = store.docs.integrity()
    except sqlite3.DatabaseError as err:
        damage = [str(err)]
    if damage:
        found.docstore_damaged = True
        found.problems.append(damaged_docstore(store.docs.path, damage[0]))
        return found
    with store.docs.snapshot():
        texts = store.docs.chunk_index_texts()
        sources = dict(store.docs.db.execute("SELECT id, source FROM chunks"))
        bm25 = store.docs.meta("bm25")
        collection = store.docs.meta("collection")
        model = (store.stored_fingerprint or {}).get("embedding_model")
        found.orphan_chunk_sources, found.empty_documents = store.docs.orphans()
        pending = store.docs.meta(PENDING)
    live = set(texts)
    if found.orphan_chunk_sources:
        found.problems.append(f"{len(found.orphan_chunk_sources)} sources have chunks but no document")
    if found.empty_documents:
        found.problems.append(f"{len(found.empty_documents)} documents do not have the chunks their article records")
    _check_bm25(store, bm25, live, found)
    _check_chroma(store, collection, model, texts, sources, found, deep)
    if pending is not None:
        found.garbage.append(f"an ingest (pid {pending.get('pid')}) was interrupted; "
                             "the next ingest or `rag status --repair` sweeps what it left")
    return found


def damaged_docstore(path: Path, detail: str) -> str:
    return (f"the docstore {path} is damaged ({detail[:200]}); move it away, then run `rag ingest --rebuild` "
            "(the embedding cache keeps the vectors)")


def _check_bm25(store: Store, name: str | None, live: set[str], found: Check) -> None:
    root = store.dir / "bm25"
    found.stray_bm25 = sorted(p.name for p in root.iterdir() if p.name != name) if root.exists() else []
    if found.stray_bm25:
        found.garbage.append(f"{len(found.stray_bm25)} unused BM25 directories ({', '.join(found.stray_bm25[:3])})")
    if name is None:
        if live:
            found.bm25_bad = True
            found.problems.append("the docstore names no BM25 generation")
        return
    try:
        ids = LexicalIndex.load(root / name).ids
    except Exception as err:  # noqa: BLE001 -- missing or damaged files: bm25s and json raise many types
        found.bm25_bad = True
        found.problems.append(f"BM25 index {name} unreadable: {_first_line(err)}")
        return
    extra, missing = set(ids) - live, live - set(ids)
    if extra or missing or len(ids) != len(set(ids)):
        found.bm25_bad = True
        found.problems.append(f"BM25 has {len(extra)} extra and {len(missing)} missing chunks")


def _check_chroma(store: Store, name: str | None, model: str | None, texts: dict[str, str],
                  sources: dict[str, str], found: Check, deep: bool) -> None:
    try:
        names = collection_names(store)
    except BaseException as err:  # chromadb's Rust core raises PanicException, a BaseException
        if isinstance(err, (KeyboardInterrupt, SystemExit)):
            raise
        found.chroma_unreadable = True
        found.problems.append(f"the Chroma store cannot be opened: {_first_line(err)}")
        return
    prefix = store.settings.collection
    found.stray_collections = sorted(n for n in names if n != name and (n == prefix or n.startswith(prefix + "-g")))
    if found.stray_collections:
        found.garbage.append(f"{len(found.stray_collections)} unused Chroma collections "
                             f"({', '.join(found.stray_collections[:3])})")
    if name is None:
        return
    if name not in names:
        found.chroma_unreadable = True
        found.problems.append(f"the Chroma collection {name} is missing")
        return
    try:
        vector = store.vectors(name)
        ids = vector.ids()
        found.vectors = len(ids)
        stored_model = vector.metadata.get("embedding_model")
        if stored_model and model and stored_model != model:
            found.problems.append(f"the Chroma collection was built with {stored_model}, the docstore with {model}")
        live = set(texts)
        found.missing_vectors = live - ids
        found.orphan_vectors = ids - live
        if deep and live & ids:
            _check_vectors(store, vector, model, texts, sources, sorted(live & ids), found)
    except BaseException as err:
        if isinstance(err, (KeyboardInterrupt, SystemExit)):
            raise
        found.chroma_unreadable = True
        found.problems.append(f"the Chroma collection {name} cannot be read: {_first_line(err)}")
        return
    if found.missing_vectors:
        found.problems.append(f"Chroma is missing {len(found.missing_vectors)} chunks")
    if found.orphan_vectors:
        found.garbage.append(f"Chroma holds {len(found.orphan_vectors)} unreferenced vectors "
                             "(left by an interrupted ingest; invisible to queries)")


def _check_vectors(store: Store, vector, model: str | None, texts: dict[str, str], sources: dict[str, str],
                   ids: list[str], found: Check) -> None:
    """Each vector equals its chunk's cached embedding, sits under its source, and can be found."""
    cached = store.cache.get_many(model or "", list({text_key(texts[i]) for i in ids})) if model else {}
    truth: dict[str, np.ndarray] = {}
    for start in range(0, len(ids), 1000):
        batch = ids[start:start + 1000]
        got = vector.collection.get(ids=batch, include=["embeddings", "metadatas"])
        for chunk_id, embedding, meta in zip(got["ids"], got["embeddings"], got["metadatas"]):
            expected = cached.get(text_key(texts[chunk_id]))
            stored = np.asarray(embedding, dtype=np.float32)
            if (meta or {}).get("source") != sources[chunk_id] or (
                    expected is not None and not np.allclose(stored, expected, atol=1e-5)):
                found.wrong_vectors.add(chunk_id)
            truth[chunk_id] = expected if expected is not None else stored
    if found.wrong_vectors:
        found.problems.append(f"{len(found.wrong_vectors)} Chroma vectors differ from their chunk's "
                              "embedding or source")
    sample = ids if len(ids) <= SELF_QUERY_SAMPLE else random.Random(0).sample(ids, SELF_QUERY_SAMPLE)
    lost = _self_query(vector, sample, truth)
    if lost > SELF_QUERY_MISSES * len(sample):
        found.chroma_rebuild = True
        found.problems.append(f"Chroma's vector index does not find {lost} of {len(sample)} chunks by their "
                              "own vectors (its index files are damaged)")


def _self_query(vector, ids: list[str], truth: dict[str, np.ndarray]) -> int:
    """How many chunks the vector index fails to return for their own vector."""
    n = min(10, vector.count())
    lost = 0
    for start in range(0, len(ids), 200):
        batch = ids[start:start + 200]
        result = vector.collection.query(query_embeddings=np.stack([truth[i] for i in batch]), n_results=n,
                                         include=["distances"])
        for chunk_id, got, distances in zip(batch, result["ids"], result["distances"]):
            # Exact copies of one text tie at distance 0: any of them is the right answer.
            if chunk_id not in got and not (distances and distances[0] < _SAME):
                lost += 1
    return lost


def collection_names(store: Store) -> list[str]:
    return [c if isinstance(c, str) else c.name for c in store.client.list_collections()]


def _first_line(err: BaseException) -> str:
    if detail := getattr(err, "detail", None):  # already one line, without the advice to run a check
        return detail
    return (str(err).strip().splitlines() or [type(err).__name__])[0][:200]
