"""Restore agreement between the docstore, the lexical index and Chroma (`rag status --repair`).

The docstore is the source of truth: it holds every committed article and chunk with the text
each chunk was indexed by and its lexical terms, and the embedding cache holds their vectors.
So the lexical index and its statistics can always be rebuilt from the docstore, and Chroma
from the docstore plus the cache (re-embedding only what the cache lacks). Garbage (vectors,
postings, collections and lexical indexes no commit refers to) is removed. A damaged docstore
cannot be repaired from the other parts: the articles must be ingested again.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import time

from rag.errors import RagError, StoreUnavailableError
from rag.index import tail
from rag.index.docstore import damaged_docstore
from rag.index.shards import SEALED_DEAD
from rag.index.status import Check, check_index
from rag.index.store import PENDING, Store, chroma_errors, collection_name, lexical_name
from rag.index.tail import TOMBSTONES
from rag.models import RepairReport
from rag.settings import Settings


def repair(settings: Settings, lock_wait: float = 10.0) -> RepairReport:
    started = time.perf_counter()
    store = Store(as_built(settings))
    report = RepairReport(store_dir=str(store.dir.absolute()))
    try:
        with store.write_lock(lock_wait, purpose="repair"):
            before = check_index(store)
            report.found = before.problems + before.garbage
            if before.docstore_damaged:
                raise RagError(before.problems[0])
            if before.chroma_healing:
                written = tail.heal(store)
                report.actions.append(f"rebuilt the damaged Chroma collection from the vector file ({written} rows)")
            if before.problems:
                store.docs.set_meta({PENDING: {"pid": os.getpid(), "repair": True}})
                _fix(store, before, report.actions)
            if before.problems or before.garbage:
                report.actions += store.sweep_garbage()
            after = check_index(store)
            report.problems, report.garbage = after.problems, after.garbage
    finally:
        store.close()
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def as_built(settings: Settings) -> Settings:
    """The settings the index in `settings.store_dir` was built with: a repair restores that index,
    whatever embedding model or chunking the current settings would pick for a new one."""
    probe = Store(settings)
    try:
        built = probe.stored_fingerprint or {}
    except sqlite3.DatabaseError as err:
        raise RagError(damaged_docstore(probe.docs.path, str(err))) from None
    finally:
        probe.close()
    keys = ("embedding_model", "chunk_tokens", "chunk_overlap_sentences", "embed_title")
    return settings.model_copy(update={k: built[k] for k in keys if k in built})


def _fix(store: Store, found: Check, actions: list[str]) -> None:
    if found.orphan_chunk_sources or found.empty_documents:
        _fix_docstore(store, found, actions)
        found.stats_bad = True  # the chunk set changed; the sweep drops the deleted chunks' vectors
    if found.stats_bad:
        store.docs.recount_stats()
        _committed(store)
        actions.append("recounted the lexical statistics from the docstore's chunks")
    if found.lexical_bad:
        _rebuild_lexical(store, actions)
    if found.chroma_unreadable or found.chroma_rebuild:
        _rebuild_chroma(store, actions)
        return  # the vector file was written anew with the collection
    elif found.missing_vectors or found.wrong_vectors:
        ids = sorted(store.docs.known(sorted(found.missing_vectors | found.wrong_vectors)))
        chunks, vectors, _ = store.embed_chunks(ids)
        with chroma_errors():
            store.rewrite_vectors(chunks, vectors)
        _committed(store)
        actions.append(f"wrote {len(ids)} missing or wrong vectors from the embedding cache")
    if found.vector_file_bad:
        _rebuild_vector_file(store, actions)


def _rebuild_vector_file(store: Store, actions: list[str]) -> None:
    """The vector file anew from the docstore's chunks and the embedding cache, committed with its
    watermark at 0, then flushed into Chroma from row 0 (rag.index.tail): which rows Chroma holds,
    and in which shard, is not known of a new file (the old one's tail may be right, and in no
    collection), so every shard is written anew, each within `chroma_shard_rows`."""
    generation = store.next_generation()
    chunks, vectors, embedded = store.embed_chunks(sorted(store.docs.chunk_ids()))
    state = store.write_vector_file(store.docs.meta("collection"), generation, chunks, vectors)
    _committed(store, vector_file=state.as_meta() if state else None)
    if state is not None:
        tail.flush(store)
    actions.append(f"rebuilt the vector file from {len(chunks)} chunks ({embedded} embedded again)")


def _committed(store: Store, **meta) -> None:
    """Record a repair's change as a commit, so readers in other processes reopen what changed."""
    store.docs.set_meta({**meta, "generation": store.next_generation(), "committed_by": os.getpid()})
    store.refresh()


def _fix_docstore(store: Store, found: Check, actions: list[str]) -> None:
    store.docs.forget(found.empty_documents, found.orphan_chunk_sources)
    if found.orphan_chunk_sources:
        actions.append(f"deleted the chunks of {len(found.orphan_chunk_sources)} sources with no document")
    if found.empty_documents:
        actions.append(f"forgot {len(found.empty_documents)} documents whose chunks were not those their article "
                       "records (the next ingest reads them again)")


def _rebuild_lexical(store: Store, actions: list[str]) -> None:
    name = lexical_name(store.next_generation())
    total = store.build_lexical(name)
    _committed(store, lexical=name)
    actions.append(f"rebuilt the lexical index from the docstore's {total} chunks ({name})")


def _rebuild_chroma(store: Store, actions: list[str]) -> None:
    """A fresh collection from the docstore's chunks and the embedding cache, swapped in by one
    commit. With a vector file (an embedded Chroma), the file is written anew and committed with
    its watermark at 0 (searches rank it exactly meanwhile), then flushed as any tail is
    (rag.index.tail): into shards of `chroma_shard_rows`, one in memory at a time, not one
    collection as large as the store. Killed in the flush, the next writer flushes the rest."""
    if not _chroma_opens(store):
        if store.settings.chroma_url:
            raise StoreUnavailableError("the Chroma server cannot list its collections; check the server")
        actions.append(_move_aside(store))
    name = collection_name(store.settings, store.next_generation())
    store.drop_collection(name)
    ids = sorted(store.docs.chunk_ids())
    chunks, vectors, embedded = store.embed_chunks(ids)
    state = store.write_vector_file(name, store.next_generation(), chunks, vectors)
    if state is None:  # a remote Chroma: no vector file to flush from
        with chroma_errors():
            store.write_vectors(name, chunks, vectors)
    _committed(store, collection=name, vector_file=state.as_meta() if state else None,
               **{TOMBSTONES: None, SEALED_DEAD: None})
    if state is not None:
        tail.flush(store)
    actions.append(f"rebuilt the Chroma collection {name} from {len(ids)} chunks "
                   f"({len(ids) - embedded} vectors from the embedding cache, {embedded} embedded again)")


def _chroma_opens(store: Store) -> bool:
    try:
        store.collections()
        return True
    except BaseException as err:  # chromadb's Rust core raises PanicException, a BaseException
        if isinstance(err, (KeyboardInterrupt, SystemExit)):
            raise
        return False


def _move_aside(store: Store) -> str:
    """Keep the unreadable files for inspection (only the latest copy) and start an empty store."""
    store.close_vectors()
    chroma = store.dir / "chroma"
    for old in store.dir.glob("chroma.damaged-*"):
        shutil.rmtree(old, ignore_errors=True)
    aside = store.dir / f"chroma.damaged-{time.strftime('%Y%m%dT%H%M%S')}"
    if chroma.exists():
        chroma.rename(aside)
    return f"moved the unreadable Chroma store to {aside.name} (delete it when you no longer need it)"
