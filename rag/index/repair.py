"""Restore agreement between the docstore, BM25 and Chroma (`rag status --repair`).

The docstore is the source of truth: it holds every committed article and chunk with the text
each chunk was indexed by, and the embedding cache holds their vectors. So BM25 can always be
rebuilt from the docstore, and Chroma from the docstore plus the cache (re-embedding only
what the cache lacks). Garbage (vectors, collections and BM25 generations no commit refers
to) is removed. A damaged docstore cannot be repaired from the other parts: the articles must
be ingested again.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import time

from rag.errors import RagError, StoreUnavailableError
from rag.index.embed_cache import embed_cached
from rag.index.lexical import LexicalIndex
from rag.index.status import PENDING, Check, check_index, collection_names, damaged_docstore
from rag.index.store import Store, chroma_errors, fingerprint
from rag.models import RepairReport
from rag.settings import Settings

__all__ = ["PENDING", "repair", "sweep_garbage"]


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
            if before.problems:
                store.docs.set_meta({PENDING: {"pid": os.getpid(), "repair": True}})
                _fix(store, before, report.actions)
            if before.problems or before.garbage:
                report.actions += sweep_garbage(store)
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
        found.bm25_bad = True  # the chunk set changed; the sweep drops the deleted chunks' vectors
    if found.bm25_bad:
        _rebuild_bm25(store, actions)
    if found.chroma_unreadable or found.chroma_rebuild:
        _rebuild_chroma(store, actions)
    elif found.missing_vectors or found.wrong_vectors:
        ids = sorted((found.missing_vectors | found.wrong_vectors) & store.docs.chunk_ids())
        _write_vectors(store, store.docs.meta("collection"), ids)
        actions.append(f"wrote {len(ids)} missing or wrong vectors from the embedding cache")


def _fix_docstore(store: Store, found: Check, actions: list[str]) -> None:
    with store.docs.db:
        for source in found.orphan_chunk_sources + found.empty_documents:
            store.docs.db.execute("DELETE FROM chunks WHERE source = ?", (source,))
        for source in found.empty_documents:
            store.docs.db.execute("DELETE FROM documents WHERE source = ?", (source,))
    if found.orphan_chunk_sources:
        actions.append(f"deleted the chunks of {len(found.orphan_chunk_sources)} sources with no document")
    if found.empty_documents:
        actions.append(f"forgot {len(found.empty_documents)} documents whose chunks were not those their article "
                       "records (the next ingest reads them again)")


def _next_generation(store: Store) -> int:
    return int(store.docs.meta("generation", 0)) + 1


def _rebuild_bm25(store: Store, actions: list[str]) -> None:
    generation = _next_generation(store)
    name = f"g{generation:06d}"
    target = store.dir / "bm25" / name
    tmp = target.with_suffix(".tmp")
    for leftover in (tmp, target):
        shutil.rmtree(leftover, ignore_errors=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    ids, texts = store.docs.index_texts(set())
    LexicalIndex.build(tmp, ids, texts)
    tmp.rename(target)
    store.docs.set_meta({"bm25": name, "generation": generation})
    store.refresh()
    actions.append(f"rebuilt the BM25 index from the docstore's {len(ids)} chunks (generation {name})")


def _rebuild_chroma(store: Store, actions: list[str]) -> None:
    """A fresh collection from the docstore's chunks and the embedding cache, swapped in by one commit."""
    if not _chroma_opens(store):
        if store.settings.chroma_url:
            raise StoreUnavailableError("the Chroma server cannot list its collections; check the server")
        actions.append(_move_aside(store))
    generation = _next_generation(store)
    name = f"{store.settings.collection}-g{generation}"
    with chroma_errors():
        if name in collection_names(store):
            store.client.delete_collection(name)
    ids = sorted(store.docs.chunk_ids())
    embedded = _write_vectors(store, name, ids)
    store.docs.set_meta({"collection": name, "generation": generation})
    store.refresh()
    actions.append(f"rebuilt the Chroma collection {name} from {len(ids)} chunks "
                   f"({len(ids) - embedded} vectors from the embedding cache, {embedded} embedded again)")


def _chroma_opens(store: Store) -> bool:
    try:
        collection_names(store)
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


def _write_vectors(store: Store, collection: str, ids: list[str]) -> int:
    """Upsert the vectors of `ids` (chunk ids) into `collection`; returns how many had to be embedded."""
    from rag.index.ingest import flat_metadata, vector_meta

    chunks = store.docs.chunks(ids)
    texts = store.docs.chunk_index_texts()
    ordered = [chunks[i] for i in ids]
    vectors, embedded = embed_cached(store.embedder, store.cache, [texts[c.id] for c in ordered])
    with chroma_errors():
        target = store.vectors(collection, metadata=flat_metadata(fingerprint(store.settings)))
        if ordered:
            target.add([c.id for c in ordered], vectors, [vector_meta(c) for c in ordered])
    return embedded


def sweep_garbage(store: Store) -> list[str]:
    """Remove what no commit refers to: other collections, unreferenced vectors, other BM25 dirs."""
    actions = []
    committed = store.docs.meta("collection")
    prefix = store.settings.collection
    with chroma_errors():
        for name in collection_names(store):
            if name != committed and (name == prefix or name.startswith(prefix + "-g")):
                store.client.delete_collection(name)
                actions.append(f"dropped the unused Chroma collection {name}")
        if committed and committed in collection_names(store):
            vector = store.vectors(committed)
            orphans = sorted(vector.ids() - store.docs.chunk_ids())
            if orphans:
                vector.delete(orphans)
                actions.append(f"deleted {len(orphans)} unreferenced vectors")
    current = store.docs.meta("bm25")
    root = store.dir / "bm25"
    for path in sorted(root.iterdir()) if root.exists() else []:
        if path.name != current:
            shutil.rmtree(path, ignore_errors=True)
            actions.append(f"deleted the unused BM25 directory {path.name}")
    store.docs.set_meta({PENDING: None})
    store.refresh()
    return actions
