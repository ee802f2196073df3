"""Chroma as sealed shards of bounded size (rag.index.shards): a flush opens only the newest
shard however many are sealed, searches merge every shard exactly (filters included), a store
from before shards reads as shard 0 and is never opened again by a flush, removed chunks left in
sealed shards are expected by the check, and damage in any shard heals. Hash embedder, a shard
bound of a few dozen rows."""

from __future__ import annotations

import numpy as np
import pytest
from test_dense_tail import QUERIES, SCOPES, dense, same_ranking, through_chroma, write_copies

import rag.index.store as store_module
import rag.index.vectorstore as vectorstore
from rag.api import Rag
from rag.errors import StoreUnavailableError
from rag.index import tail
from rag.index.repair import repair
from rag.index.shards import dead_copies, shard_names
from rag.index.status import check_index
from rag.index.status import status as index_status
from rag.index.vectorstore import vector_meta
from rag.retrieval import Filters

SHARD_ROWS = 40
DEAD_ROWS = 10  # dense_tail_rows: below a copy of the corpus (35 rows), above its smallest article


def settings(hash_settings, name: str, shard_rows: int, tail_rows: int = 0):
    return hash_settings.model_copy(update={"store_dir": hash_settings.store_dir.parent / name,
                                            "dense_tail_rows": tail_rows, "chroma_shard_rows": shard_rows})


class Opened:
    """Which collections Chroma was asked to read or write (all told, and per client: closing a
    client frees the segments it loaded), and how many rows were added."""

    def __init__(self, monkeypatch):
        self.reset()
        for method in ("add", "delete", "query", "vectors", "records", "nearest_ids", "ids", "count"):
            original = getattr(vectorstore.ChromaStore, method)
            monkeypatch.setattr(vectorstore.ChromaStore, method, self._spy(method, original))
        close = store_module.close_client
        monkeypatch.setattr(store_module, "close_client", lambda client: (self.per_client.append(set()), close(client)))

    def _spy(self, method, original):
        def spy(store, *args, **kwargs):
            self.names.add(store.name)
            self.per_client[-1].add(store.name)
            if method == "add":
                self.rows += len(args[0])
            return original(store, *args, **kwargs)
        return spy

    def reset(self) -> None:
        self.names, self.rows, self.per_client = set(), 0, [set()]


def grow(rag: Rag, copies: range, only: bool = False) -> None:
    """One ingest (and so one flush) per copy of the corpus (`only`: the earlier copies are left as
    they are, articles removed from them included)."""
    for copy in copies:
        write_copies(rag.settings.corpus_dir, range(copy, copy + 1) if only else range(copy + 1))
        rag.ingest()


def smallest_article(rag: Rag, outlet: str):
    """The article of `outlet` with the fewest chunks (at most DEAD_ROWS)."""
    corpus = rag.settings.corpus_dir
    return min(sorted((corpus / outlet).glob("*.md")),
               key=lambda p: len(rag.store.docs.chunks_of(str(p.relative_to(corpus)))))


@pytest.fixture
def bounded(hash_settings):
    """Shards of SHARD_ROWS, and a flush when the tail passes DEAD_ROWS (a copy of the corpus does):
    removed copies in sealed shards are swept past DEAD_ROWS."""
    rag = Rag(settings(hash_settings, "bounded", SHARD_ROWS, tail_rows=DEAD_ROWS))
    yield rag
    rag.close()


@pytest.fixture
def sharded(hash_settings):
    rag = Rag(settings(hash_settings, "sharded", SHARD_ROWS))
    yield rag
    rag.close()


def test_a_flush_opens_only_the_newest_shard_however_many_are_sealed(sharded, monkeypatch):
    opened = Opened(monkeypatch)
    touched = []
    for copy in range(6):
        opened.reset()
        before = sharded.store.vector_state
        grow(sharded, range(copy, copy + 1))
        state = sharded.store.vector_state
        names = shard_names(sharded.store.docs.meta("collection"), state.shards)
        touched.append((len(names), sorted(opened.names), opened.rows))
        if before is not None:
            # Only the shards this flush wrote: the newest before it, and one it started.
            assert opened.names <= set(names[len(before.shards):]), touched[-1]
            assert opened.rows == state.flushed - before.flushed  # the tail's rows, none read back
    shard_counts = [n for n, _, _ in touched]
    assert shard_counts[-1] >= 4 and shard_counts == sorted(shard_counts)
    # The work of a flush does not grow with the sealed shards: at most two shards per flush.
    assert all(len(names) <= 2 for _, names, _ in touched[1:])
    state = sharded.store.vector_state
    starts = (0, *state.shards, state.flushed)
    assert all(b - a <= SHARD_ROWS for a, b in zip(starts, starts[1:]))  # every shard within the bound
    found = check_index(sharded.store)
    assert found.problems == [] and found.garbage == []


@pytest.mark.parametrize("filters", SCOPES, ids=["none", "directory", "days", "directory+days", "one article",
                                                  "other glob", "nothing"])
def test_searches_merge_every_shard_exactly(hash_settings, filters, monkeypatch):
    sharded = Rag(settings(hash_settings, "sharded", SHARD_ROWS))
    single = Rag(settings(hash_settings, "single", 10**6))
    grow(sharded, range(4))
    single.ingest()
    assert len(sharded.store.vector_state.shards) >= 2 and single.store.vector_state.shards == ()
    through_chroma(monkeypatch)
    for query in QUERIES:
        for n in (5, 40):
            assert same_ranking(dense(sharded, query, n, filters), dense(single, query, n, filters)), (query, n)
    sharded.close()
    single.close()


def test_a_store_from_before_shards_reads_as_shard_0_and_a_flush_never_opens_it(hash_settings, monkeypatch):
    write_copies(hash_settings.corpus_dir, range(3))
    old = Rag(settings(hash_settings, "old", 10**6))
    old.ingest()
    state = old.store.vector_state
    meta = {k: v for k, v in state.as_meta().items() if k != "shards"}  # as a store before shards wrote it
    old.store.docs.set_meta({"vector_file": meta})
    old.close()
    assert state.flushed > SHARD_ROWS
    reopened = Rag(settings(hash_settings, "old", SHARD_ROWS))
    reference = {q: dense(reopened, q, 10, Filters()) for q in QUERIES}
    opened = Opened(monkeypatch)
    grow(reopened, range(3, 4))
    collection = reopened.store.docs.meta("collection")
    assert collection not in opened.names and opened.names  # shard 0 is sealed unopened
    assert reopened.store.vector_state.shards[0] == state.flushed
    through_chroma(monkeypatch)
    for query in QUERIES:
        assert {i for i, _ in dense(reopened, query, 40, Filters())} >= {i for i, _ in reference[query]}
    assert check_index(reopened.store).problems == []
    reopened.close()


def test_removed_chunks_in_sealed_shards_are_left_listed_and_skipped(bounded, monkeypatch):
    grow(bounded, range(4))
    store = bounded.store
    first = smallest_article(bounded, "outlet0")
    gone = {c.id for c in store.docs.chunks_of(str(first.relative_to(bounded.settings.corpus_dir)))}
    assert len(gone) <= DEAD_ROWS
    first.unlink()
    opened = Opened(monkeypatch)
    grow(bounded, range(4, 5), only=True)  # removed beside a new copy: the tail is flushed, the removed copies stay
    shard0 = store.docs.meta("collection")
    assert shard0 not in opened.names  # the removed article's vectors were flushed there: not opened
    assert gone <= set(store.sealed_dead()) and not tail.tombstones(store)
    assert all(store.sealed_dead()[i] == [0] for i in gone)  # listed with the shard that holds them
    found = check_index(store)
    assert found.problems == [] and found.garbage == []  # expected, not garbage
    through_chroma(monkeypatch)
    for query in QUERIES:
        hits = dense(bounded, query, 40, Filters())
        assert len(hits) == min(40, store.committed_chunks()) and not {i for i, _ in hits} & gone


def test_damage_in_a_sealed_shard_heals_on_the_next_ingest(sharded, monkeypatch):
    grow(sharded, range(3))
    store = sharded.store
    state = store.vector_state
    assert state.shards
    # Chroma keeps fewer than 1,000 vectors in SQLite (no HNSW files to damage), so stand in for
    # a killed save in shard 0 by what readers and writers look at.
    damaged = shard_names(store.docs.meta("collection"), state.shards)[0]
    original = store_module.hnsw_damage
    monkeypatch.setattr(store_module, "hnsw_damage",
                        lambda path, name: "header.bin is truncated" if name == damaged else original(path, name))
    store.refresh()
    assert store.chroma_damage(fresh=True)
    assert len(dense(sharded, QUERIES[0], 5, Filters())) == 5  # every row ranked from the vector file
    assert tail.heal(store) == store.committed_chunks()
    monkeypatch.setattr(store_module, "hnsw_damage", original)
    store.refresh()
    assert store.chroma_damage(fresh=True) is None
    after = store.vector_state
    starts = (0, *after.shards, after.flushed)
    assert after.flushed == after.rows and all(b - a <= SHARD_ROWS for a, b in zip(starts, starts[1:]))
    assert check_index(store).problems == []


def test_repair_rewrites_a_wrong_vector_in_the_sealed_shard_that_holds_it(sharded):
    grow(sharded, range(3))
    store = sharded.store
    names = shard_names(store.docs.meta("collection"), store.vector_state.shards)
    assert len(names) >= 3
    victim = sorted(store.vectors(names[0]).ids() & store.docs.chunk_ids())[0]
    right = store.chunk_vectors([victim])[victim]
    chunk = store.docs.chunks([victim])[victim]
    store.vectors(names[0]).add([victim], -right[None, :], [vector_meta(chunk)])  # a wrong copy, sealed
    store.close_vectors()
    store.refresh()
    assert victim in check_index(store).wrong_vectors
    report = repair(sharded.settings)
    assert report.problems == [], report
    store.close_vectors()
    store.refresh()
    held = {name: store.vectors(name).vectors([victim]).get(victim) for name in names}
    copies = [v for v in held.values() if v is not None]
    assert len(copies) == 1 and np.allclose(copies[0], right, atol=1e-5), held  # rewritten where it was
    assert held[names[0]] is not None
    found = check_index(store)
    assert found.problems == [] and found.garbage == []


def test_an_article_removed_from_a_sealed_shard_and_added_again_is_found_once_and_its_old_copy_stays_listed(
        bounded, monkeypatch):
    grow(bounded, range(4))
    store = bounded.store
    path = smallest_article(bounded, "outlet0")
    text, source = path.read_text(), str(path.relative_to(bounded.settings.corpus_dir))
    ids = {c.id for c in store.docs.chunks_of(source)}
    assert ids <= store.vectors(store.docs.meta("collection")).ids() and store.vector_state.shards  # sealed
    path.unlink()
    grow(bounded, range(4, 5), only=True)
    assert ids <= set(store.sealed_dead())
    path.write_text(text)
    grow(bounded, range(5, 6), only=True)  # the same chunks again (ids bind their text), flushed into the writable shard
    assert {c.id for c in store.docs.chunks_of(source)} == ids
    assert all(0 in store.sealed_dead().get(i, ()) for i in ids)  # shard 0 still holds the old copies
    through_chroma(monkeypatch)
    hits = [i for i, _ in dense(bounded, text[:200], store.committed_chunks(), Filters())]
    assert sorted(hits) == sorted(store.docs.chunk_ids())  # each committed chunk once
    found = check_index(store)
    assert found.problems == [] and found.garbage == []
    path.unlink()
    grow(bounded, range(6, 7), only=True)  # removed again: both copies expected leftovers (or swept), none unlisted garbage
    found = check_index(store)
    assert found.problems == [] and found.garbage == [], found.garbage
    hits = [i for i, _ in dense(bounded, text[:200], store.committed_chunks(), Filters())]
    assert sorted(hits) == sorted(store.docs.chunk_ids())


def test_removed_copies_past_the_bound_are_swept_one_sealed_shard_at_a_time(bounded, monkeypatch):
    grow(bounded, range(5))
    store = bounded.store
    assert len(store.vector_state.shards) >= 3
    opened = Opened(monkeypatch)
    removed: set[str] = set()
    for outlet in ("outlet0", "outlet1"):  # their articles were flushed into the first shards
        for path in sorted((bounded.settings.corpus_dir / outlet).glob("*.md")):
            removed |= {c.id for c in store.docs.chunks_of(str(path.relative_to(bounded.settings.corpus_dir)))}
            path.unlink()
    assert len(removed) > DEAD_ROWS
    opened.reset()
    bounded.ingest()
    assert dead_copies(store.sealed_dead()) <= DEAD_ROWS
    assert len(opened.names) >= 2 and all(len(names) <= 1 for names in opened.per_client), opened.per_client
    store.close_vectors()
    store.refresh()
    left = set(store.sealed_dead())
    for name in shard_names(store.docs.meta("collection"), store.vector_state.shards):
        assert not (store.vectors(name).ids() & removed) - left  # every removed copy still held is listed
    found = check_index(store)
    assert found.problems == [] and found.garbage == []


def test_status_reports_removed_copies_past_the_bound(bounded, hash_settings):
    grow(bounded, range(4))
    path = smallest_article(bounded, "outlet0")
    path.unlink()
    grow(bounded, range(4, 5), only=True)
    listed = dead_copies(bounded.store.sealed_dead())
    assert 0 < listed <= DEAD_ROWS
    assert not [g for g in index_status(bounded.store).garbage if "sealed" in g]
    stricter = Rag(settings(hash_settings, "bounded", SHARD_ROWS, tail_rows=listed - 1))
    notes = [g for g in index_status(stricter.store).garbage if "sealed" in g]
    assert len(notes) == 1 and f"{listed} " in notes[0] and "dense_tail_rows" in notes[0], notes
    assert index_status(stricter.store).sealed_dead == listed
    stricter.close()


def test_a_repair_rebuilds_a_lost_collection_into_bounded_shards(sharded):
    grow(sharded, range(4))
    store = sharded.store
    answers = {q: dense(sharded, q, 10, Filters()) for q in QUERIES}
    store.drop_collection(store.docs.meta("collection"))  # every shard gone
    store.close_vectors()
    store.refresh()
    assert check_index(store).chroma_unreadable
    report = repair(sharded.settings)
    assert report.problems == [] and any("rebuilt the Chroma collection" in a for a in report.actions), report
    store.close_vectors()
    store.refresh()
    state = store.vector_state
    starts = (0, *state.shards, state.flushed)
    assert state.flushed == state.rows == store.committed_chunks() and len(state.shards) >= 3
    assert all(b - a <= SHARD_ROWS for a, b in zip(starts, starts[1:]))  # every shard within the bound
    names = shard_names(store.docs.meta("collection"), state.shards)
    assert all(0 < store.vectors(name).count() <= SHARD_ROWS for name in names)
    found = check_index(store)
    assert found.problems == [] and found.garbage == []
    assert all(same_ranking(dense(sharded, q, 10, Filters()), answers[q]) for q in QUERIES)


def test_damage_is_reported_in_the_shard_that_holds_it(sharded, monkeypatch):
    grow(sharded, range(3))
    store = sharded.store
    names = shard_names(store.docs.meta("collection"), store.vector_state.shards)
    damaged = names[1]
    original = store_module.hnsw_damage
    monkeypatch.setattr(store_module, "hnsw_damage",
                        lambda path, name: "header.bin is truncated" if name == damaged else original(path, name))
    store.close_vectors()
    store.refresh()
    (note,) = [g for g in check_index(store).garbage if "damaged" in g]
    assert f"{damaged}'s" in note and "(header.bin is truncated" in note and "True" not in note, note
    with pytest.raises(StoreUnavailableError, match=f"{damaged}'s"):
        store.vector  # noqa: B018 -- opening the shards is what refuses


class Killed(BaseException):
    """Stands in for SIGKILL: nothing after it in the flush runs."""


def test_a_shard_an_interrupted_flush_started_is_dropped_by_the_next_writer(hash_settings, monkeypatch):
    rag = Rag(settings(hash_settings, "interrupted", SHARD_ROWS))
    grow(rag, range(2))
    committed = len(rag.store.vector_state.shards)
    original = tail._commit_watermark

    def die_naming_a_new_shard(store, state, *args):
        if len(state.shards) > committed:  # the step whose commit would name the shard it started
            raise Killed
        return original(store, state, *args)

    monkeypatch.setattr(tail, "_commit_watermark", die_naming_a_new_shard)
    write_copies(rag.settings.corpus_dir, range(3))
    with pytest.raises(StoreUnavailableError, match="Killed"):  # chroma_errors reports it as Chroma's failure
        rag.ingest()
    monkeypatch.setattr(tail, "_commit_watermark", original)
    rag.close()
    store_dir = rag.settings.store_dir
    started = shard_names(rag.store.docs.meta("collection"), (0,) * (committed + 1))[-1]
    assert started in rag.store.collections()  # created, named by no commit
    # The next writer's tail is under its flush threshold, so no flush starts that shard again.
    after = Rag(rag.settings.model_copy(update={"store_dir": store_dir, "dense_tail_rows": 10_000}))
    after.ingest()
    assert started not in after.store.collections()
    found = check_index(after.store)
    assert found.problems == [] and found.garbage == []
    assert len(dense(after, QUERIES[0], 5, Filters())) == 5
    after.close()
