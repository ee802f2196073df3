"""What is indexed, how big it is, and whether the parts agree.

The committed index is what the docstore's last transaction says: the manifest (documents),
their chunks, the lexical statistics, and pointers to one lexical index and one Chroma
collection. The parts **agree** when
- the docstore is a sound SQLite file of the current schema, every chunk belongs to a document,
  every document has the number of chunks its article records (zero for an article with no
  text left), and the lexical statistics (document frequencies, chunk count, total length)
  are those of the chunks;
- the lexical index it points to opens and holds postings for every chunk id;
- the Chroma collection it points to opens (or, when its HNSW files are damaged by a killed
  save and the vector file is whole, it is reported as healing on the next ingest, and every
  committed row of the vector file must equal the cached embedding instead), was built with the same embedding model, holds a
  vector for every chunk id but those past the vector file's watermark (rag.index.tail: those
  rows must equal the cached embeddings instead), each equal to the cached embedding of the
  chunk's indexed text and filed under the chunk's source, and its vector index finds each
  chunk by that vector. Vectors of removed chunks listed as tombstones wait for a flush.
Vectors and postings no chunk references, other collections and lexical indexes, and an
interrupted ingest's marker are **garbage**: queries never see them (they only accept committed
chunk ids, and score with the docstore's statistics), so they are reported but are not
inconsistencies. See docs/reliability.md.
"""

from __future__ import annotations

import random
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rag.index.docstore import damaged_docstore
from rag.index.embed_cache import text_key
from rag.index.shards import dead_copies
from rag.index.store import LEXICAL_DIR, PENDING, Store
from rag.index.tail import TOMBSTONES
from rag.index.vectorfile import VECTOR_DIR, VectorFile, open_file
from rag.index.vectorstore import VectorStore, collection_names, first_line
from rag.models import Status

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
    store.sync()
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
        tail_rows=store.vector_state.tail if store.vector_state is not None else None,
        sealed_dead=dead_copies(store.sealed_dead()) if store.vector_state is not None else None,
        sizes={
            "docstore": sum(_size(p) for p in store.dir.glob("rag.db*")),
            "chroma": 0 if settings.chroma_url else _size(store.dir / "chroma"),
            "lexical": _size(store.dir / LEXICAL_DIR) + _size(store.dir / "bm25"),
            "embedding_cache": _size(store.dir / "cache"),
            "vector_file": _size(store.dir / VECTOR_DIR),
        },
    )
    if check and (fingerprint or store.docs.meta(PENDING) is not None):
        with _quiet(store, lock_wait):
            store.sync()  # an ingest may have committed while this waited for the lock
            found = check_index(store)
        report.vectors, report.problems, report.garbage = found.vectors, found.problems, found.garbage
    if (note := _sealed_dead_note(store)) and note not in report.garbage:
        report.garbage.append(note)
    return report


def _sealed_dead_note(store: Store) -> str | None:
    """Removed copies left in sealed shards past the bound flushes keep them under (a sweep that
    failed or was killed, or a store from before sweeps): garbage, swept by the next flush."""
    copies, bound = dead_copies(store.sealed_dead()), store.settings.dense_tail_rows
    if copies <= bound:
        return None
    return (f"{copies} vectors of removed chunks are left in sealed Chroma shards, more than dense_tail_rows "
            f"({bound}): the next ingest's flush deletes them a shard at a time (or `rag status --repair`)")


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
    stats_bad: bool = False
    lexical_bad: bool = False  # the lexical index must be rebuilt from the docstore
    chroma_unreadable: bool = False  # the client or the collection cannot be opened or read
    chroma_rebuild: bool = False  # the collection must be rebuilt (its vector index is damaged)
    vector_file_bad: bool = False  # the vector file must be rebuilt from the docstore and the cache
    chroma_healing: bool = False  # the collection's files are damaged, the vector file whole: the next writer rebuilds it
    missing_vectors: set[str] = field(default_factory=set)
    wrong_vectors: set[str] = field(default_factory=set)
    orphan_vectors: set[str] = field(default_factory=set)
    orphan_postings: set[str] = field(default_factory=set)
    stray_collections: list[str] = field(default_factory=list)
    stray_lexical: list[str] = field(default_factory=list)
    orphan_chunk_sources: list[str] = field(default_factory=list)
    empty_documents: list[str] = field(default_factory=list)  # chunks missing (or extra) for the article

    @property
    def consistent(self) -> bool:
        return not self.problems


def check_index(store: Store, deep: bool = True) -> Check:
    """Compare the docstore, the lexical index and Chroma (the module docstring says what must agree)."""
    found = Check()
    try:
        damage = store.docs.integrity()
    except sqlite3.DatabaseError as err:
        damage = [str(err)]
    if damage:
        found.docstore_damaged = True
        found.problems.append(damaged_docstore(store.docs.path, damage[0]))
        return found
    if store.docs.legacy:
        found.docstore_damaged = True
        found.problems.append(f"the index in {store.dir} was built by an older version of rag; "
                              "run `rag ingest --rebuild` (the embedding cache keeps the vectors)")
        return found
    with store.docs.snapshot():
        texts = store.docs.index_texts()
        sources = store.docs.chunk_sources()
        lexical = store.docs.meta("lexical")
        collection = store.docs.meta("collection")
        model = (store.stored_fingerprint or {}).get("embedding_model")
        found.orphan_chunk_sources, found.empty_documents = store.docs.orphans()
        stats = store.docs.stats_problems()
        articles = store.docs.article_ids()  # whole articles are lexical documents too (rag.index.articles)
        pending = store.docs.meta(PENDING)
        state = store.vector_state
        tombstones = [*(store.docs.meta(TOMBSTONES) or []), *store.sealed_dead()]
    live = set(texts)
    if found.orphan_chunk_sources:
        found.problems.append(f"{len(found.orphan_chunk_sources)} sources have chunks but no document")
    if found.empty_documents:
        found.problems.append(f"{len(found.empty_documents)} documents do not have the chunks their article records")
    if stats:
        found.stats_bad = True
        found.problems += stats
    _check_lexical(store, lexical, live | articles, found)
    file = _check_vector_file(store, state, live, found)
    damaged = file is not None and not found.vector_file_bad and collection is not None and store.damaged_shard()
    # Damaged collection files: every committed vector must be right in the vector file (rag.index.tail).
    in_tail = (set(live) if damaged else _tail_chunks(file, live)) if file is not None else set()
    where = "committed vector-file rows" if damaged else "vector-file rows past the watermark"
    if in_tail and model and not _file_vectors_right(store, file, model, texts, sorted(in_tail), found, where):
        in_tail = set()  # the tail is rebuilt from the cache into Chroma too (repair), so it counts as missing there
    elif file is not None and model and not damaged and (flushed := sorted(live - in_tail)):
        # Chroma holds these too, but a store of up to _EXACT_ROWS rows is searched from the file.
        _file_vectors_right(store, file, model, texts, flushed, found, "flushed vector-file rows")
    # Healing copies the vector file into Chroma: only when it is right. Otherwise `_check_chroma`
    # reports the damaged files as a problem, and repair rebuilds the collection from the cache.
    healing = damaged and not found.vector_file_bad
    if healing:
        found.chroma_healing = True
        shard, damage = damaged
        found.garbage.append(f"the Chroma shard {shard}'s vector index files are damaged ({damage}, "
                             "a save cut short): searches rank the vector file exactly, nothing is lost; "
                             "healing on next ingest (or `rag status --repair`)")
    _check_chroma(store, collection, model, texts, sources, found, deep, in_tail,
                  flushed=state.flushed if state is not None else None, tombstones=set(tombstones),
                  healing=bool(healing))
    if note := _sealed_dead_note(store):
        found.garbage.append(note)
    if pending is not None:
        found.garbage.append(f"an ingest (pid {pending.get('pid')}) was interrupted; "
                             "the next ingest or `rag status --repair` sweeps what it left")
    return found


def _check_lexical(store: Store, name: str | None, live: set[str], found: Check) -> None:
    found.stray_lexical = store.unused_lexical()
    if found.stray_lexical:
        found.garbage.append(f"{len(found.stray_lexical)} unused lexical indexes ({', '.join(found.stray_lexical[:3])})")
    if name is None:
        if live:
            found.lexical_bad = True
            found.problems.append("the docstore names no lexical index")
        return
    try:
        ids = store.lexical_index(name).ids()
    except Exception as err:  # noqa: BLE001 -- missing or damaged files: tantivy raises several types
        found.lexical_bad = True
        found.problems.append(f"the lexical index {name} is unreadable: {first_line(err)}")
        return
    missing = live - ids
    found.orphan_postings = ids - live
    if missing:
        found.lexical_bad = True
        found.problems.append(f"the lexical index is missing {len(missing)} chunks")
    if found.orphan_postings:
        found.garbage.append(f"the lexical index holds {len(found.orphan_postings)} unreferenced chunks "
                             "(left by an interrupted ingest; invisible to queries)")


def _check_vector_file(store: Store, state, live: set[str], found: Check) -> VectorFile | None:
    """The vector file the docstore names opens with its committed rows and holds every chunk
    (a store written before the vector file, or with a remote Chroma, has none: not a problem).
    Returns it when it is whole."""
    root = store.dir / VECTOR_DIR
    stray = sorted(p.name for p in root.iterdir() if p.name != (state.name if state else None)) if root.exists() else []
    if stray:
        found.garbage.append(f"{len(stray)} unused vector files ({', '.join(stray[:3])})")
    if state is None:
        return None
    file = open_file(root, state)
    if file is None or state.flushed > state.rows:
        found.vector_file_bad = True
        found.problems.append(f"the vector file {state.name} is missing or shorter than its {state.rows} committed rows")
        return None
    missing = live - set(file.row_of)
    if missing:
        found.vector_file_bad = True
        found.problems.append(f"the vector file {state.name} is missing {len(missing)} chunks")
        return None
    return file


def _tail_chunks(file: VectorFile, live: set[str]) -> set[str]:
    """The committed chunks whose last row lies past the watermark: Chroma need not hold them."""
    return {i for i in file.last_rows(file.state.flushed) if i in live}


def _file_vectors_right(store: Store, file: VectorFile, model: str, texts: dict[str, str], ids: list[str],
                        found: Check, where: str) -> bool:
    """The rows of these chunks (a sample of many) equal their chunks' cached embeddings. The
    tail's rows are the only copy searches read of those chunks; every row is, when Chroma's
    files are damaged; and a store small enough is searched from the file alone. `where`: the
    rows, as the problem names them."""
    sample = ids if len(ids) <= 2000 else random.Random(0).sample(ids, 2000)
    cached = store.cache.get_many(model, list({text_key(texts[i]) for i in sample}))
    stored = file.vectors(sample)
    wrong = [i for i in sample if (expected := cached.get(text_key(texts[i]))) is not None
             and not np.allclose(stored[i], expected, atol=1e-5)]
    if wrong:
        found.vector_file_bad = True
        found.problems.append(f"{len(wrong)} {where} differ from their chunk's embedding")
    return not wrong


def _check_chroma(store: Store, name: str | None, model: str | None, texts: dict[str, str],
                  sources: dict[str, str], found: Check, deep: bool, in_tail: set[str] = frozenset(),
                  flushed: int | None = None, tombstones: set[str] = frozenset(), healing: bool = False) -> None:
    """Chroma holds every committed chunk but those of the vector file's tail (`in_tail`); a
    store that never flushed (`flushed` 0) may have no collection yet. Vectors of removed chunks
    listed as tombstones wait for the next flush: not garbage."""
    try:
        names = collection_names(store.client)
    except BaseException as err:  # chromadb's Rust core raises PanicException, a BaseException
        if isinstance(err, (KeyboardInterrupt, SystemExit)):
            raise
        found.chroma_unreadable = True
        found.problems.append(f"the Chroma store cannot be opened: {first_line(err)}")
        return
    prefix = store.settings.collection
    shards = store.shard_names(name) if name else []
    found.stray_collections = sorted(n for n in names if n not in shards and (n == prefix or n.startswith(prefix + "-g")))
    if found.stray_collections:
        found.garbage.append(f"{len(found.stray_collections)} unused Chroma collections "
                             f"({', '.join(found.stray_collections[:3])})")
    if name is None or healing:  # healing: not opened (Chroma's loader can crash on damaged files)
        return
    if name not in names:
        if flushed == 0 and not set(texts) - in_tail:  # nothing flushed yet, and the tail holds every chunk
            found.vectors = 0
            return
        found.chroma_unreadable = True
        found.problems.append(f"the Chroma collection {name} is missing")
        return
    if missing := [n for n in shards if n not in names]:
        found.chroma_unreadable = True
        found.problems.append(f"the Chroma shards {', '.join(missing)} are missing")
        return
    if damaged := store.damaged_shard(fresh=True):  # not opened: Chroma's loader would crash this process on these files
        found.chroma_rebuild = True
        found.problems.append(f"the Chroma shard {damaged[0]} cannot be read: its vector index files are "
                              f"damaged ({damaged[1]})")
        return
    try:
        vector = store.vector
        ids = vector.ids()
        found.vectors = len(ids)
        stored_model = vector.metadata.get("embedding_model")
        if stored_model and model and stored_model != model:
            found.problems.append(f"the Chroma collection was built with {stored_model}, the docstore with {model}")
        live = set(texts)
        found.missing_vectors = live - ids - in_tail
        found.orphan_vectors = ids - live - tombstones
        if deep and live & ids:
            _check_vectors(store, vector, model, texts, sources, sorted(live & ids), found)
    except BaseException as err:
        if isinstance(err, (KeyboardInterrupt, SystemExit)):
            raise
        found.chroma_unreadable = True
        found.problems.append(f"the Chroma collection {name} cannot be read: {first_line(err)}")
        return
    if found.missing_vectors:
        found.problems.append(f"Chroma is missing {len(found.missing_vectors)} chunks")
    if found.orphan_vectors:
        found.garbage.append(f"Chroma holds {len(found.orphan_vectors)} unreferenced vectors "
                             "(left by an interrupted ingest; invisible to queries)")


def _check_vectors(store: Store, vector: VectorStore, model: str | None, texts: dict[str, str],
                   sources: dict[str, str], ids: list[str], found: Check) -> None:
    """Each vector equals its chunk's cached embedding, sits under its source, and can be found."""
    cached = store.cache.get_many(model or "", list({text_key(texts[i]) for i in ids})) if model else {}
    truth: dict[str, np.ndarray] = {}
    for start in range(0, len(ids), 1000):
        for chunk_id, (stored, meta) in vector.records(ids[start:start + 1000]).items():
            expected = cached.get(text_key(texts[chunk_id]))
            if meta.get("source") != sources[chunk_id] or (
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


def _self_query(vector: VectorStore, ids: list[str], truth: dict[str, np.ndarray]) -> int:
    """How many chunks the vector index fails to return for their own vector."""
    n = min(10, vector.count())
    lost = 0
    for start in range(0, len(ids), 200):
        batch = ids[start:start + 200]
        for chunk_id, (got, distances) in zip(batch, vector.nearest_ids(np.stack([truth[i] for i in batch]), n)):
            # Exact copies of one text tie at distance 0: any of them is the right answer.
            if chunk_id not in got and not (distances and distances[0] < _SAME):
                lost += 1
    return lost
