"""The dense index as Chroma up to a watermark plus an exactly ranked tail (rag.index.tail):
an ingest below the threshold leaves Chroma alone, searches merge the tail with Chroma's hits
(the same hits as a store whose vectors are all in Chroma, filters included), removed chunks
wait in Chroma as tombstones, a flush moves the watermark crash-safely, and `rag status --check`
expects the tail outside Chroma while still finding damage. Hash embedder."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import numpy as np
import pytest

import rag.index.store as store_module
from rag.api import Rag
from rag.index import tail
from rag.index.repair import repair
from rag.index.status import check_index
from rag.index.vectorfile import VECTOR_DIR
from rag.retrieval import Filters

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
QUERIES = ["rockets fired at the embassy", "Trump warns Iran", "Pompeo Iraq attacks", "Green Zone Sunday"]
SCOPES = [Filters(), Filters(source="outlet1/*"), Filters(since=dt.date(2022, 5, 4), until=dt.date(2022, 5, 9)),
          Filters(source="outlet2/*", since=dt.date(2022, 5, 1), until=dt.date(2022, 5, 7)),
          Filters(source="outlet0/0-001_*"), Filters(source="*/1-*"), Filters(since=dt.date(2030, 1, 1))]


def write_copies(corpus: Path, copies: range) -> None:
    """The five articles, dated, once per copy in its own directory."""
    for n, path in enumerate(sorted(CORPUS.glob("*.txt"))):
        for copy in copies:
            folder = corpus / f"outlet{copy}"
            folder.mkdir(exist_ok=True)
            day = dt.date(2022, 5, 1) + dt.timedelta(days=3 * n + copy)
            (folder / f"{copy}-{path.stem}.md").write_text(
                f"---\ntitle: \"copy {copy} of {path.stem}\"\ndate: {day.isoformat()}\n---\n" + path.read_text())


def settings_for(hash_settings, name: str, tail_rows: int):
    return hash_settings.model_copy(update={"store_dir": hash_settings.store_dir.parent / name,
                                            "dense_tail_rows": tail_rows})


def make_pair(hash_settings):
    """Two stores of one corpus: every vector in Chroma, and the first copies in Chroma with the
    last two only in the vector file's tail."""
    corpus = hash_settings.corpus_dir
    write_copies(corpus, range(1))
    flushed = Rag(settings_for(hash_settings, "with-tail", 0))
    flushed.ingest()
    flushed.close()
    write_copies(corpus, range(3))
    with_tail = Rag(settings_for(hash_settings, "with-tail", 10_000))
    report = with_tail.ingest()
    assert report.flushed == 0
    everything = Rag(settings_for(hash_settings, "all-in-chroma", 0))
    everything.ingest()
    return with_tail, everything


@pytest.fixture
def pair(hash_settings):
    with_tail, everything = make_pair(hash_settings)
    yield with_tail, everything
    with_tail.close()
    everything.close()


@pytest.fixture(scope="module")
def shared_pair(tmp_path_factory):
    """The same two stores, for tests that only read them."""
    from rag.settings import Settings

    root = tmp_path_factory.mktemp("tail")
    (root / "corpus").mkdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RAG_CONFIG", str(root / "none.toml"))
        with_tail, everything = make_pair(Settings(store_dir=root / "store", corpus_dir=root / "corpus",
                                                   embedding_model="hash"))
        yield with_tail, everything
        with_tail.close()
        everything.close()


def dense(rag: Rag, query: str, n: int, filters: Filters):
    store = rag.store
    with store.reading():
        scope = store.scope(filters.source, filters.since, filters.until) if filters.active else None
        return store.nearest(store.embedder.embed([query])[0], n, scope)


def through_chroma(monkeypatch) -> None:
    """Past the vector file's exact ranking of every row: Chroma's index plus the tail."""
    monkeypatch.setattr(store_module, "_EXACT_ROWS", -1)
    monkeypatch.setattr(store_module, "_EXACT_SCOPE", -1)
    monkeypatch.setattr(store_module, "_DEEPEST", 10**9)


def same_ranking(got, want) -> bool:
    """The same ids and scores, where exact copies of one text (tied scores) may come in any order."""
    if not np.allclose([s for _, s in got], [s for _, s in want], atol=1e-5):
        return False
    groups = lambda hits: {round(s, 4): set() for _, s in hits}  # noqa: E731
    a, b = groups(got), groups(want)
    for hits, out in ((got, a), (want, b)):
        for chunk_id, score in hits:
            out[round(score, 4)].add(chunk_id)
    last = min(a, default=None)
    return a.keys() == b.keys() and all(a[s] == b[s] for s in a if s != last)


def test_the_tail_is_outside_chroma_and_the_watermark_says_where_it_starts(shared_pair):
    with_tail, everything = shared_pair
    state = with_tail.store.vector_state
    assert 0 < state.flushed < state.rows and state.rows == with_tail.store.committed_chunks()
    in_chroma = with_tail.store.read_vectors(lambda v: v.ids())
    file = with_tail.store.vector_file()
    assert in_chroma == {file.id_of(r) for r in range(state.flushed)}
    assert everything.store.vector_state.flushed == everything.store.vector_state.rows


@pytest.mark.parametrize("filters", SCOPES, ids=["none", "directory", "days", "directory+days", "one article",
                                                  "other glob", "nothing"])
def test_dense_hits_with_a_tail_equal_those_of_a_store_all_in_chroma(shared_pair, filters, monkeypatch):
    with_tail, everything = shared_pair
    through_chroma(monkeypatch)
    file = with_tail.store.vector_file()
    in_tail = {file.id_of(int(r)) for r in with_tail.store._tail_live(file)}
    for query in QUERIES:
        for n in (5, 40):
            got, want = dense(with_tail, query, n, filters), dense(everything, query, n, filters)
            assert same_ranking(got, want), (query, n)
            if not filters.active and n == 40:
                assert {i for i, _ in got} & in_tail and {i for i, _ in got} - in_tail  # both took part


def test_an_ingest_below_the_threshold_never_opens_chroma(pair, monkeypatch):
    with_tail, _ = pair

    def no_chroma(self):
        raise AssertionError("Chroma opened")

    monkeypatch.setattr(store_module.Store, "client", property(no_chroma))
    folder = with_tail.settings.corpus_dir / "outlet0"
    next(folder.glob("*.md")).unlink()  # a delete of flushed rows: tombstones
    extra = with_tail.settings.corpus_dir / "late"
    extra.mkdir()
    (extra / "one.md").write_text("---\ntitle: \"Late news\"\ndate: 2022-05-20\n---\nA ferry strike closed the harbour "
                                  "on Friday, the port authority said.\n")
    store = Rag(with_tail.settings)
    report = store.ingest()
    assert report.added == ["late/one.md"] and len(report.removed) == 1 and report.flushed == 0
    assert len(tail.tombstones(store.store)) > 0
    hits = store.search("ferry strike harbour", k=3).hits
    assert hits and hits[0].chunk.source == "late/one.md"
    store.close()


def test_removed_chunks_below_the_watermark_wait_as_tombstones_and_searches_skip_them(pair, monkeypatch):
    with_tail, _ = pair
    through_chroma(monkeypatch)
    removed = next((with_tail.settings.corpus_dir / "outlet0").glob("*.md"))
    gone = {c.id for c in with_tail.store.docs.chunks_of(str(removed.relative_to(with_tail.settings.corpus_dir)))}
    words = removed.read_text()[:600]
    removed.unlink()
    with_tail.ingest()
    store = with_tail.store
    assert gone <= set(tail.tombstones(store)) and gone <= store.read_vectors(lambda v: v.ids())
    found = check_index(store)
    assert found.problems == [] and found.garbage == []  # tombstones are expected, not garbage
    for query in QUERIES:
        hits = dense(with_tail, query, 60, Filters())
        assert len(hits) == min(60, store.committed_chunks()) and not {i for i, _ in hits} & gone
    # The removed article's own words: its tombstones are Chroma's nearest, more of them than the
    # few extra hits asked first, so Chroma is asked again for every leftover; still the exact best.
    asked = []
    query = store_module.ChromaStore.query
    monkeypatch.setattr(store_module.ChromaStore, "query",
                        lambda self, vector, n, *a, **k: asked.append(n) or query(self, vector, n, *a, **k))
    hits = dense(with_tail, words, 2, Filters())
    assert len(gone) > 2 and asked == [4, 2 + len(gone)]  # two more first, then every leftover
    with store.reading():
        exact = store._nearest_in_file(store.vector_file(), store.embedder.embed([words])[0], 2, None, limit=None)
    assert len(hits) == 2 and not {i for i, _ in hits} & gone and same_ranking(hits, exact)
    # The next flush deletes them and empties the tail.
    assert tail.flush(store) > 0
    assert not set(tail.tombstones(store)) and not gone & store.read_vectors(lambda v: v.ids())
    assert store.vector_state.tail == 0 and check_index(store).problems == []


def test_an_ingest_past_the_threshold_flushes_and_a_crash_before_the_watermark_loses_nothing(pair, monkeypatch):
    with_tail, everything = pair
    store = with_tail.store
    before = store.vector_state
    reference = {q: dense(with_tail, q, 40, Filters()) for q in QUERIES}

    def killed(*args):
        raise KeyboardInterrupt  # as a SIGKILL would: after Chroma's writes, before the docstore's transaction

    monkeypatch.setattr(tail, "_commit_watermark", killed)
    with pytest.raises(KeyboardInterrupt):
        tail.flush(store)
    monkeypatch.undo()
    store.refresh()
    assert store.vector_state == before  # the old watermark: Chroma holds some of the tail twice over, harmlessly
    assert check_index(store).problems == [] and check_index(store).garbage == []
    through_chroma(monkeypatch)
    for query in QUERIES:
        assert same_ranking(dense(with_tail, query, 40, Filters()), reference[query])
    # A later ingest past the threshold flushes again (idempotent upserts).
    settings = with_tail.settings.model_copy(update={"dense_tail_rows": 10})
    (settings.corpus_dir / "late.md").write_text("---\ntitle: \"Harbour\"\n---\nA ferry strike closed the harbour.\n")
    again = Rag(settings)
    report = again.ingest()
    assert report.flushed == again.store.vector_state.rows - before.flushed
    assert again.store.vector_state.tail == 0
    assert again.store.read_vectors(lambda v: v.ids()) == again.store.docs.chunk_ids()
    assert check_index(again.store).problems == []
    again.close()


def test_the_check_expects_the_tail_outside_chroma_and_still_finds_damage(pair):
    with_tail, _ = pair
    store = with_tail.store
    assert check_index(store).problems == []
    state, file = store.vector_state, store.vector_file()
    below = file.id_of(0)
    store.read_vectors(lambda v: v.delete([below]))  # a flushed chunk lost from Chroma: damage
    found = check_index(store)
    assert found.problems == ["Chroma is missing 1 chunks"]
    # A tail row whose vector is not its chunk's: the only copy a search reads of it.
    path = store.dir / VECTOR_DIR / state.name / "vectors.f32"
    data = bytearray(path.read_bytes())
    row = state.rows - 1
    data[row * 4 * state.dim:(row + 1) * 4 * state.dim] = np.roll(np.asarray(file.matrix[row]), 1).tobytes()
    path.write_bytes(bytes(data))
    store.refresh()
    found = check_index(store)
    assert any("past the watermark differ" in p for p in found.problems)
    report = repair(with_tail.settings)
    assert report.problems == [] and report.garbage == []
    store.refresh()
    assert store.vector_state.tail == 0  # repair leaves every row in Chroma
    assert check_index(store).problems == []


def test_a_compaction_keeps_the_flushed_rows_before_the_watermark(hash_settings, monkeypatch):
    write_copies(hash_settings.corpus_dir, range(3))
    rag = Rag(settings_for(hash_settings, "compacted", 0))
    rag.ingest()
    rag.close()
    settings = settings_for(hash_settings, "compacted", 10_000)
    for copy in (0, 1):  # most rows die (tombstones in Chroma) ...
        shutil.rmtree(settings.corpus_dir / f"outlet{copy}")
    rag = Rag(settings)
    rag.ingest()
    monkeypatch.setattr(store_module, "_DEAD_MIN", 10)
    write_copies(settings.corpus_dir, range(3, 4))  # ... so the next append rewrites the file first
    rag.ingest()
    store = rag.store
    state, file = store.vector_state, store.vector_file()
    assert state.rows == store.committed_chunks() and 0 < state.flushed < state.rows  # rewritten, with a tail
    in_chroma = store.read_vectors(lambda v: v.ids())
    assert {file.id_of(r) for r in range(state.flushed)} <= in_chroma
    assert not {file.id_of(r) for r in range(state.flushed, state.rows)} & in_chroma
    found = check_index(store)
    assert found.problems == [] and found.garbage == []
    rag.close()


def test_a_rebuild_after_a_killed_first_flush_leaves_no_collection_behind(hash_settings, monkeypatch):
    write_copies(hash_settings.corpus_dir, range(1))
    rag = Rag(hash_settings)
    rag.ingest()
    assert rag.store.vector_state.flushed == 0
    monkeypatch.setattr(tail, "_commit_watermark", lambda *a: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        tail.flush(rag.store)  # the collection was created and written, the watermark never moved
    monkeypatch.undo()
    assert rag.ingest(rebuild=True).chunks > 0
    found = check_index(rag.store)
    assert found.problems == [] and found.garbage == []  # the first collection was dropped with the old index
    rag.close()


def test_a_flush_that_fails_after_the_commit_says_the_articles_are_committed(hash_settings, cli, monkeypatch):
    """The ingest's articles are committed before its flush: a failing flush is an error (exit 1)
    that says so, searches read the tail from the vector file, and the next ingest flushes it."""
    from rag.index.vectorstore import ChromaStore, chroma_errors

    def disk_full(self, *args):
        with chroma_errors():
            raise OSError("No space left on device")

    write_copies(hash_settings.corpus_dir, range(1))
    settings = settings_for(hash_settings, "flush-fails", 0)
    monkeypatch.setattr(ChromaStore, "add", disk_full)
    code, _, err = cli("ingest", settings.corpus_dir, "--store-dir", settings.store_dir,
                       "--set", "embedding_model=hash", "--set", "dense_tail_rows=0")
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err, err
    assert "articles were committed" in err and "No space left on device" in err and "next `rag ingest` writes them" in err, err
    monkeypatch.undo()
    rag = Rag(settings)
    assert rag.status().documents == 5 and rag.store.vector_state.tail == rag.status().chunks
    assert rag.search("rockets fired at the embassy", k=3).hits
    assert rag.ingest().flushed == rag.status().chunks and rag.store.vector_state.tail == 0
    assert check_index(rag.store).problems == []
    rag.close()


def test_the_check_finds_a_wrong_flushed_row_of_the_vector_file_that_searches_read(pair):
    """Below the watermark Chroma holds the chunk too, but a store of fewer than _EXACT_ROWS rows
    is searched from the vector file: a wrong row there is damage, and repair rewrites it."""
    with_tail, _ = pair
    store = with_tail.store
    state, file = store.vector_state, store.vector_file()
    row = 0
    assert state.flushed > row and file.id_of(row) in store.docs.chunk_ids()
    right = np.asarray(file.matrix[row]).copy()
    path = store.dir / VECTOR_DIR / state.name / "vectors.f32"
    data = bytearray(path.read_bytes())
    data[row * 4 * state.dim:(row + 1) * 4 * state.dim] = np.roll(right, 1).tobytes()
    path.write_bytes(bytes(data))
    store.refresh()
    found = check_index(store)
    assert found.vector_file_bad and any("flushed vector-file rows" in p for p in found.problems), found.problems
    report = repair(with_tail.settings)
    assert report.problems == [] and report.garbage == [], report
    store.refresh()
    assert np.allclose(store.chunk_vectors([file.id_of(row)])[file.id_of(row)], right, atol=1e-6)
    assert check_index(store).problems == []


def test_a_search_racing_a_writer_that_replaces_the_vector_file_reads_the_new_one(hash_settings, monkeypatch):
    settings = settings_for(hash_settings, "raced", 10_000)
    write_copies(settings.corpus_dir, range(2))
    Rag(settings).ingest()
    reader, writer = Rag(settings), Rag(settings)
    original, raced = store_module.open_file, []

    def writer_between(root, state):
        # The reader has read the committed state; a rebuild commits a new file and removes this one.
        if not raced:
            raced.append(state)
            writer.ingest(rebuild=True)
        return original(root, state)

    monkeypatch.setattr(store_module, "open_file", writer_between)
    hits = dense(reader, QUERIES[0], 5, Filters())
    assert raced and not (settings.store_dir / VECTOR_DIR / raced[0].name).exists()
    assert len(hits) == 5 and reader.store.vector_file().state == writer.store.vector_state
    reader.close()
    writer.close()
