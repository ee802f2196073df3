"""The dense index as Chroma up to a watermark, plus a tail that only the vector file holds.

Opening a Chroma collection loads its whole HNSW segment (at 513,000 vectors 1.7 s of CPU and
830 MB; BENCHMARKS.md "Scale", session 7), so an ingest that writes Chroma for every article
costs more the bigger the store is. Instead, each commit records a watermark in the vector
file's state (`FileState.flushed`): rows before it are in Chroma, rows from it on are only in
the vector file, and searches rank those exactly and merge them with Chroma's hits
(`Store.nearest`). An ingest appends to the vector file and leaves Chroma alone while the tail
holds at most `settings.dense_tail_rows` rows; past that it flushes.

Removed and replaced chunks below the watermark stay in Chroma as tombstones (listed in the
docstore, committed with the ingest that removed them): searches already skip ids that are not
committed chunks, so deleting them at once would load the HNSW segment for a one-article
delete. A flush deletes them.

A flush runs after the ingest's own commit, under its write lock: it deletes the tombstones
that are still not committed chunks, upserts the tail's committed rows (in steps), and moves the
watermark in one docstore transaction per step. Killed before a step's transaction, it leaves
the previous watermark and Chroma holding some committed chunks of the tail: searches merge by
id, so they answer the same, `rag status --check` finds nothing wrong, and the next flush
upserts those rows again (Chroma upserts by id are idempotent).

Killed inside Chroma's save of its HNSW segment (hnswlib's persistDirty writes the header, then
the element files, in place), a flush leaves the collection's files damaged. Nothing committed
is lost: every committed vector is in the vector file. Readers detect it (`Store.chroma_damage`,
the check `rag status --check` makes, a few small reads) and take the watermark as 0: every row
ranked exactly, Chroma never opened. The next writer heals (`heal`, at the start of every
ingest, of every flush and of `rag status --repair`): it commits the watermark 0 first, so the
damaged collection holds nothing a reader trusts, then flushes as above, which drops the
collection and writes it anew from the vector file, moving the watermark step by step. Killed
again, it leaves the same state, healed by the next writer. docs/reliability.md says why the
heal is recorded by the writer.
"""

from __future__ import annotations

import bisect
import dataclasses
import os
from collections import Counter

from rag.index.shards import SEALED_DEAD, dead_copies, shard_name, shard_of_row
from rag.index.store import Store, chroma_errors
from rag.index.vectorfile import FileState
from rag.index.vectorstore import vector_meta

TOMBSTONES = "chroma_tombstones"  # docstore meta: ids removed from the docstore, maybe still in Chroma
STARTING = "chroma_starting_shard"  # docstore meta: the shard a flush creates before a commit names it
_STEP = 20_000  # rows upserted per watermark commit: a killed flush of a large tail keeps its earlier steps


def tombstones(store: Store) -> list[str]:
    return list(store.docs.meta(TOMBSTONES) or [])


def with_tombstones(store: Store, stale: list[str]) -> list[str]:
    """The tombstone list after an ingest removes `stale` chunk ids."""
    return sorted(set(tombstones(store)) | set(stale))


def due(store: Store, threshold: int) -> bool:
    """Does the committed tail (with the tombstones searches skip in Chroma), or do the removed
    copies left in sealed shards, exceed the threshold?"""
    state = store.vector_state
    return state is not None and (state.tail + len(tombstones(store)) > threshold
                                  or dead_copies(store.sealed_dead()) > threshold)


def flush(store: Store, progress=None) -> int:
    """Write the tail into Chroma's newest shard (rag.index.shards), sealing it and starting the
    next when it would pass `chroma_shard_rows`, and move the watermark to the end of the vector
    file; returns the rows written. The caller holds the write lock."""
    state, file = store.vector_state, store.vector_file()
    if state is None or file is None:
        return 0
    if state.flushed and store.chroma_damage():
        state = dataclasses.replace(state, flushed=0, shards=())
        _commit_watermark(store, state)  # before the drop: readers stop trusting the collection first
    collection = store.docs.meta("collection")
    limit = store.settings.chroma_shard_rows
    if state.flushed - _newest_start(state) >= limit:
        # Full (a store from before shards may hold any number): sealed unopened, committed with the first step.
        state = dataclasses.replace(state, shards=(*state.shards, state.flushed))
    newest, sealed_dead = _located(store, file, state)
    written = 0
    with chroma_errors():
        if state.flushed == 0:
            store.drop_collection(collection)  # nothing committed is in it: anything there is an earlier try's
            state = dataclasses.replace(state, shards=())
        target = _start_shard(store, collection, state)
        if newest:
            target.delete(newest)
        last = sorted(file.last_rows(state.flushed).items(), key=lambda item: item[1])  # each id at its last row
        last_row = [row for _, row in last]
        start, first = state.flushed, True
        while start < state.rows or first:
            end = min(state.rows, start + min(_STEP, limit))
            if start > _newest_start(state) and start - _newest_start(state) + (end - start) > limit:
                state = dataclasses.replace(state, shards=(*state.shards, start))  # committed with this step
                store.close_vectors()  # frees the sealed shard's segment: one shard in memory at a time
                target = _start_shard(store, collection, state)
            step = last[bisect.bisect_left(last_row, start):bisect.bisect_left(last_row, end)]
            chunks = store.docs.chunks([i for i, _ in step])  # committed chunks only: dead rows stay out of Chroma
            rows = {i: row for i, row in step if i in chunks}
            if rows:
                target.add(list(rows), file.matrix[list(rows.values())], [vector_meta(chunks[i]) for i in rows])
            written += len(rows)
            _commit_watermark(store, dataclasses.replace(state, flushed=end), sealed_dead)
            first, start = False, end
            if progress:
                progress("flush", end - state.flushed, state.tail)
        sweep(store, store.settings.dense_tail_rows)
    return written


def sweep(store: Store, limit: int) -> int:
    """While the removed copies left in sealed shards number more than `limit`, delete those of
    the shard holding most, one shard loaded at a time (Store.sweep_sealed); returns how many."""
    swept = 0
    while dead_copies(listed := store.sealed_dead()) > limit:
        held = Counter(k for shards in listed.values() for k in shards)
        swept += store.sweep_sealed(max(held, key=lambda k: (held[k], -k)))
    return swept


def _start_shard(store: Store, collection: str, state: FileState):
    """The newest shard of `state`, to write; one the committed state does not name yet is
    created empty (anything there is an interrupted flush's, never committed), and recorded as
    starting first: killed before the commit that names it, the flush leaves a collection that
    the next flush may never start again (its tail can be under the threshold), so the next
    writer drops it (`drop_unnamed_shard`)."""
    name = shard_name(collection, len(state.shards))
    committed = store.vector_state
    if state.shards and (committed is None or len(committed.shards) < len(state.shards)):
        store.docs.set_meta({STARTING: name})
        store.drop_only(name)
    return store.collection_for_writing(name)


def drop_unnamed_shard(store: Store) -> str | None:
    """Drop the shard an interrupted flush started that no commit names; returns its name. Only
    after such a flush does this open Chroma. The caller holds the write lock."""
    name = store.docs.meta(STARTING)
    if name is None:
        return None
    if name not in store.shard_names():
        store.drop_only(name)
    store.docs.set_meta({STARTING: None})
    return name


def _newest_start(state: FileState) -> int:
    return state.shards[-1] if state.shards else 0


def _located(store: Store, file, state: FileState) -> tuple[list[str], dict[str, list[int]]]:
    """The tombstones that are still not committed chunks, as (those the writable shard may hold:
    a flush deletes them there, and the removed copies sealed shards hold: left, each listed with
    its shard beside those listed before). A listed id stays listed when it is committed again:
    its old copy is still in the sealed shard (a search would find it unlisted, and no sweep
    would delete it). Reading a shard to find out would load it, so each is placed by its row in
    the vector file; one a compaction dropped from the file may be in any sealed shard."""
    dead = tombstones(store)
    dead = sorted(set(dead) - store.docs.known(dead))
    if state.flushed == 0:  # every shard is written anew
        return dead, {}
    listed = store.sealed_dead()
    # Only the dead ids' rows, by bisection (file.row_of would map every row: at 1.7M rows most of
    # a flush's memory, measured at 100,000 articles).
    row_of = file.rows_of(dead) if dead else {}
    writable = []
    for chunk_id in dead:
        row = row_of.get(chunk_id)
        if row is None or row >= _newest_start(state):
            writable.append(chunk_id)
        shards = range(len(state.shards)) if row is None else [shard_of_row(row, state.shards)]
        if sealed := {k for k in shards if k < len(state.shards)}:
            listed[chunk_id] = sorted(sealed | set(listed.get(chunk_id, ())))
    return writable, listed


def heal(store: Store, progress=None) -> int:
    """Drop a shard an interrupted flush started, then rebuild a damaged collection from the
    vector file (a flush from watermark 0); returns the rows written, 0 when there was nothing to
    heal. The caller holds the write lock."""
    drop_unnamed_shard(store)
    if store.vector_state is None or store.vector_file() is None or not store.chroma_damage():
        return 0
    return flush(store, progress)


def _commit_watermark(store: Store, state: FileState, sealed_dead: dict[str, list[int]] | None = None) -> None:
    """One transaction: the new watermark (and shards), no tombstones (those left in sealed
    shards listed apart), as a commit readers reopen on."""
    store.docs.set_meta({"vector_file": state.as_meta(), TOMBSTONES: None, SEALED_DEAD: sealed_dead or None,
                         STARTING: None, "generation": store.next_generation(), "committed_by": os.getpid()})
    store.refresh()
