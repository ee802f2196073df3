"""`rag status --check` and `--repair` against each kind of damage, garbage left by interrupted
ingests, the write lock between real `rag ingest` processes, and the ingest's own crash safety
(ids that bind what Chroma stores, leftovers of an interrupted attempt). Hash embedder."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from rag.api import Rag
from rag.errors import RagError
from rag.index import store as store_module
from rag.index.embed_cache import text_key
from rag.index.repair import PENDING, repair
from rag.index.status import check_index
from rag.index.store import Store

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
QUERIES = ["rockets fired at the embassy", "Trump warns Iran", "Pompeo Iraq attacks", "Green Zone Sunday"]


def hits(rag: Rag) -> list:
    rag.store.refresh()
    return [[(h.chunk.id, h.chunk.source) for h in rag.search(q, k=5).hits] for q in QUERIES]




@pytest.fixture
def hash_settings(hash_settings):
    """These tests read, damage and check Chroma: every ingest flushes its vectors into it (the
    vector file's tail, rag.index.tail, is tested in test_dense_tail.py)."""
    return hash_settings.model_copy(update={"dense_tail_rows": 0})


@pytest.fixture
def indexed(small_corpus):
    shutil.copy(CORPUS / "002_5cca6cf56978dda1.txt", small_corpus.corpus_dir)
    rag = Rag(small_corpus)
    rag.ingest()
    assert check_index(rag.store).consistent and not check_index(rag.store).garbage
    return rag, hits(rag)


def cli_args(settings) -> list[str]:
    return ["--store-dir", str(settings.store_dir), "--set", "embedding_model=hash"]


# --- damage: each is found by --check and undone by --repair -------------------------------------

def _lexical_dir(rag):
    return rag.store.dir / "lexical" / rag.store.docs.meta("lexical")


def _drop_postings(rag, n):
    ids = sorted(rag.store.docs.chunk_ids())[:n]
    with rag.store.lexical_index().writer() as writer:
        writer.delete(ids)


def _wrong_frequencies(rag):
    db = rag.store.docs.db
    with db:
        db.execute("UPDATE terms SET df = df + 1 WHERE term IN (SELECT term FROM terms ORDER BY term LIMIT 2)")


def _delete_vectors(rag, n):
    ids = sorted(rag.store.docs.chunk_ids())[:n]
    rag.store.vector.delete(ids)


def _wrong_vector(rag):
    chunk_id = min(rag.store.docs.chunk_ids())
    dim = len(rag.store.vector.vectors([chunk_id])[chunk_id])
    rag.store.vector.add([chunk_id], np.ones((1, dim), np.float32), [{"source": "elsewhere.txt", "ordinal": 0}])


def _garble(path: Path, at: int, size: int) -> None:
    data = bytearray(path.read_bytes())
    data[at:at + size] = os.urandom(size)
    path.write_bytes(bytes(data))


DAMAGE = {
    "lexical index deleted": (lambda rag: shutil.rmtree(_lexical_dir(rag)), "the lexical index t000001 is unreadable"),
    "lexical index garbled": (lambda rag: (_lexical_dir(rag) / "meta.json").write_text("{\"trunc"), "unreadable"),
    "lexical index stale": (lambda rag: _drop_postings(rag, 3), "the lexical index is missing 3 chunks"),
    "lexical statistics wrong": (_wrong_frequencies, "the document frequencies of 2 terms disagree with the chunks"),
    "collection dropped": (lambda rag: rag.store.client.delete_collection(rag.store.docs.meta("collection")),
                           "the Chroma collection rag-chunks-g1 is missing"),
    "vectors deleted": (lambda rag: _delete_vectors(rag, 4), "Chroma is missing 4 chunks"),
    "vector overwritten": (_wrong_vector, "1 Chroma vectors differ from their chunk's embedding or source"),
    "chroma sqlite garbled": (lambda rag: (rag.store.close_vectors(),
                                           _garble(rag.store.dir / "chroma" / "chroma.sqlite3", 5000, 4000)),
                              "the Chroma store cannot be opened"),
    "chroma directory deleted": (lambda rag: (rag.store.close_vectors(), shutil.rmtree(rag.store.dir / "chroma")),
                                 "the Chroma collection rag-chunks-g1 is missing"),
}


@pytest.mark.parametrize("damage", DAMAGE, ids=list(DAMAGE))
def test_check_finds_the_damage_and_repair_restores_the_same_answers(cli, indexed, damage):
    rag, before = indexed
    settings = rag.settings
    harm, says = DAMAGE[damage]
    harm(rag)
    rag.close()

    code, out, err = cli("status", "--check", *cli_args(settings))
    assert code == 1 and says in out and "check      INCONSISTENT: run `rag status --repair`" in out, out + err
    code, out, err = cli("status", "--repair", *cli_args(settings))
    assert code == 0 and "repaired   " in out and out.rstrip().split("\n")[-1].startswith("check      consistent")
    assert "Traceback" not in err

    fixed = Rag(settings)
    found = check_index(fixed.store)
    assert found.consistent and not found.garbage, found
    assert hits(fixed) == before
    code, out, _ = cli("status", "--check", *cli_args(settings))
    assert code == 0 and "check      consistent" in out


def test_docstore_rows_without_their_partners_are_dropped_and_read_again(indexed):
    rag, before = indexed
    db = rag.store.docs.db
    with db:
        db.execute("INSERT INTO chunks VALUES ('ghost', 'ghost.txt', 0, 'ghost text', 'ghost text', 2, '{}')")
        db.execute("DELETE FROM chunks WHERE source = '003_568550a85670bdb3.txt'")
    found = check_index(rag.store)
    assert "1 sources have chunks but no document" in found.problems
    assert "1 documents do not have the chunks their article records" in found.problems
    report = repair(rag.settings)
    assert report.problems == [] and report.garbage == []
    assert rag.status().documents == 2  # 003 is forgotten, so the next ingest reads it again
    assert rag.ingest().added == ["003_568550a85670bdb3.txt"]
    assert hits(rag) == before and check_index(rag.store).consistent


def test_a_damaged_docstore_cannot_be_repaired_and_says_what_to_do(cli, indexed):
    rag, _ = indexed
    rag.close()
    db = rag.settings.store_dir / "rag.db"
    sqlite3.connect(db).execute("PRAGMA wal_checkpoint(TRUNCATE)").connection.close()
    _garble(db, 4096, 8192)
    code, _, err = cli("status", "--repair", *cli_args(rag.settings))
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith("error: ") and ("damaged" in err or "malformed" in err) and "rag ingest --rebuild" in err


def _many_chunks(hash_settings):
    """Settings and a corpus past 1,000 chunks: Chroma keeps an HNSW index on disk beside its SQLite file."""
    for path in CORPUS.glob("*.txt"):
        for n in range(5):
            (hash_settings.corpus_dir / f"{n}-{path.name}").write_text(f"Copy {n}\n\n" + path.read_text())
    return hash_settings.model_copy(update={"chunk_tokens": 16, "chunk_overlap_sentences": 0})


def _search_ids(settings, opens_chroma: bool | None = None) -> list:
    rag = Rag(settings)
    try:
        found = [[(h.chunk.id, round(h.score, 5)) for h in rag.search(q, k=5).hits] for q in QUERIES]
        if opens_chroma is not None:
            assert ("client" in rag.store.__dict__) == opens_chroma
        return found
    finally:
        rag.close()


# What a kill inside Chroma's own HNSW save leaves (hnswlib's persistDirty writes in place; session 6's
# and session 8's campaigns, docs/reliability.md): a cut header, or length.bin shorter than the header's count.
SAVE_CUT_SHORT = {
    "header.bin": lambda segment: os.truncate(segment / "header.bin", 20),
    "length.bin": lambda segment: os.truncate(segment / "length.bin", (segment / "length.bin").stat().st_size * 45 // 100),
    "data_level0.bin": lambda segment: (segment / "data_level0.bin").write_bytes(b""),
}


@pytest.mark.slow
@pytest.mark.parametrize("harm", ["header.bin", "length.bin", "data_level0.bin"])
def test_a_save_cut_short_is_searched_exactly_and_healed_by_the_next_ingest(hash_settings, harm, monkeypatch):
    """Damaged HNSW files of a flushed store lose nothing (the vector file holds every committed
    vector): a search ranks the vector file exactly, answers as the undamaged store did (ranked
    exactly too) and writes nothing; the check reports the collection as healing, not as a
    problem; the next ingest (with nothing new to read) rebuilds the collection, and the check is
    clean again. The store is small, so the exact-ranking limit is lowered below its size: its
    searches would otherwise never reach Chroma."""
    settings = _many_chunks(hash_settings)
    rag = Rag(settings)
    rag.ingest()
    assert rag.status().chunks > 1000 and rag.store.vector_state.tail == 0
    rag.close()
    undamaged = _search_ids(settings, opens_chroma=False)  # every row ranked exactly
    monkeypatch.setattr(store_module, "_EXACT_ROWS", 100)
    assert _search_ids(settings, opens_chroma=True)  # so that a search asks Chroma
    SAVE_CUT_SHORT[harm](vector_segment(settings))
    generation = Store(settings).docs.meta("generation")
    assert _search_ids(settings, opens_chroma=False) == undamaged  # Chroma's loader never sees the files
    store = Store(settings)
    assert store.docs.meta("generation") == generation  # the readers wrote nothing
    found = check_index(store)
    store.close()
    assert found.problems == [] and found.chroma_healing
    assert any("healing on next ingest" in g for g in found.garbage), found.garbage
    report = Rag(settings).ingest()
    assert report.flushed == report.total_chunks > 1000
    store = Store(settings)
    found = check_index(store)
    assert found.problems == [] and found.garbage == [] and found.vectors == report.total_chunks
    assert store.vector_state.tail == 0
    store.close()
    committed = Store(settings).docs.chunk_ids()
    healed = _search_ids(settings, opens_chroma=True)  # the rebuilt collection answers (HNSW: approximate)
    assert all(len(q) == 5 and {i for i, _ in q} <= committed for q in healed)


@pytest.mark.slow
def test_damaged_vector_index_files_are_found_and_rebuilt(hash_settings):
    """A lost segment directory is damage the file sizes do not show: the check reports it and
    `--repair` rebuilds the collection. A save cut short (the sizes do show it) heals itself,
    and `--repair` heals it too. A rebuilt HNSW graph is not the same graph (its search is
    approximate), so this checks what must hold: the check passes, every committed chunk has its
    exact vector, and search answers."""
    settings = _many_chunks(hash_settings)
    rag = Rag(settings)
    rag.ingest()
    assert rag.status().chunks > 1000
    rag.close()
    for name, harm in [("segment", lambda segment: shutil.rmtree(segment)), *SAVE_CUT_SHORT.items()]:
        harm(vector_segment(settings))
        store = Store(settings)  # every handle is closed: Chroma keeps a loaded index in memory
        found = check_index(store)
        store.close()
        if name == "segment":
            assert any("cannot be read" in p for p in found.problems), found.problems
        else:
            assert found.problems == [] and any("healing on next ingest" in g for g in found.garbage), found
        report = repair(settings)
        assert report.problems == [] and report.garbage == []
        assert any("rebuilt the" in a and "Chroma collection" in a for a in report.actions), report.actions
        fixed = Rag(settings)
        committed = fixed.store.docs.chunk_ids()
        for query in QUERIES:
            result = fixed.search(query, k=5).hits
            assert len(result) == 5 and {h.chunk.id for h in result} <= committed
        fixed.close()


def _roll_rows(store: Store, rows: range) -> None:
    """These rows of the committed vector file no longer hold their chunk's vector."""
    state, file = store.vector_state, store.vector_file()
    path = store.dir / "vectors" / state.name / "vectors.f32"
    data = bytearray(path.read_bytes())
    width = 4 * state.dim
    for row in rows:
        data[row * width:(row + 1) * width] = np.roll(np.asarray(file.matrix[row]), 1).tobytes()
    path.write_bytes(bytes(data))


@pytest.mark.slow
def test_damaged_collection_files_beside_a_wrong_vector_file_are_rebuilt_from_the_cache(hash_settings):
    """Healing copies the vector file into Chroma, so it must not heal from a wrong one: the check
    reports both as problems, and one `--repair` rebuilds the collection and the file from the
    embedding cache (not Chroma from the wrong rows, which a second repair would have mended)."""
    settings = _many_chunks(hash_settings)
    rag = Rag(settings)
    rag.ingest()
    rag.close()
    store = Store(settings)
    assert store.vector_state.rows > 1000 and store.vector_state.tail == 0
    _roll_rows(store, range(0, store.vector_state.rows, 10))
    store.close()
    SAVE_CUT_SHORT["length.bin"](vector_segment(settings))
    store = Store(settings)
    found = check_index(store)
    store.close()
    assert found.vector_file_bad and found.chroma_rebuild and not found.chroma_healing, found
    assert any("committed vector-file rows differ" in p for p in found.problems), found.problems
    assert not any("healing on next ingest" in g for g in found.garbage), found.garbage
    report = repair(settings)
    assert report.problems == [] and report.garbage == [], report
    store = Store(settings)
    found = check_index(store)
    assert found.problems == [] and found.garbage == [], found
    model, texts = store.stored_fingerprint["embedding_model"], store.docs.index_texts()
    cached = store.cache.get_many(model, [text_key(t) for t in texts.values()])
    in_chroma = store.read_vectors(lambda v: v.vectors(sorted(texts)))
    in_file = store.vector_file().vectors(sorted(texts))
    assert in_chroma.keys() == in_file.keys() == texts.keys()
    for chunk_id, text in texts.items():
        assert np.allclose(in_chroma[chunk_id], cached[text_key(text)], atol=1e-5)
        assert np.allclose(in_file[chunk_id], cached[text_key(text)], atol=1e-5)
    store.close()


@pytest.mark.slow
def test_a_reader_that_saw_whole_files_looks_again_before_it_first_opens_chroma(hash_settings, monkeypatch):
    """A flush killed inside Chroma's save damages the files without a commit: a reader that
    checked them before must not trust that check when it first opens the collection (Chroma's
    loader can crash the process on them), in a search or in a read of vectors by id."""
    settings = _many_chunks(hash_settings)
    rag = Rag(settings)
    rag.ingest()
    rag.close()
    undamaged = _search_ids(settings, opens_chroma=False)  # every row ranked exactly
    monkeypatch.setattr(store_module, "_EXACT_ROWS", 100)  # so that a search asks Chroma
    reader = Rag(settings)
    assert reader.store.chroma_damage() is None  # checked, and remembered for this commit
    SAVE_CUT_SHORT["length.bin"](vector_segment(settings))

    def opened(*args, **kwargs):
        raise AssertionError("Chroma opened on damaged files")

    monkeypatch.setattr(Store, "vectors", opened)
    assert [[(h.chunk.id, round(h.score, 5)) for h in reader.search(q, k=5).hits] for q in QUERIES] == undamaged
    some = sorted(reader.store.docs.chunk_ids())[:3]
    assert reader.store.chunk_vectors([*some, "not-a-chunk"]).keys() == set(some)
    reader.close()


def vector_segment(settings) -> Path:
    """The HNSW directory of the live collection (a dropped collection's may linger beside it)."""
    name = Store(settings).docs.meta("collection")
    db = sqlite3.connect(settings.store_dir / "chroma" / "chroma.sqlite3")
    [(segment,)] = db.execute("SELECT s.id FROM segments s JOIN collections c ON s.collection = c.id "
                              "WHERE c.name = ? AND s.scope = 'VECTOR'", (name,)).fetchall()
    db.close()
    return settings.store_dir / "chroma" / segment


# --- garbage: reported, harmless, swept ------------------------------------------------------------

def test_garbage_is_reported_without_failing_the_check_and_swept_by_repair(cli, indexed):
    rag, before = indexed
    store = rag.store
    store.vector.add(["orphan-1", "orphan-2"], np.ones((2, len(store.embedder.embed(["x"])[0])), np.float32),
                     [{"source": "gone.txt", "ordinal": 0}] * 2)
    (store.dir / "lexical" / "t000009").mkdir()
    store.vectors("rag-chunks-g7")  # an interrupted --rebuild's collection
    store.docs.set_meta({PENDING: {"pid": 4242, "generation": 2, "collection": "rag-chunks-g1"}})
    rag.close()

    code, out, _ = cli("status", "--check", *cli_args(rag.settings))
    assert code == 0 and "check      consistent" in out
    for says in ("Chroma holds 2 unreferenced vectors", "1 unused lexical indexes (t000009)",
                 "1 unused Chroma collections (rag-chunks-g7)", "an ingest (pid 4242) was interrupted"):
        assert says in out
    assert hits(Rag(rag.settings)) == before  # queries never see garbage

    report = repair(rag.settings)
    assert report.found and report.problems == [] and report.garbage == []
    assert "deleted 2 unreferenced vectors" in report.actions
    assert hits(Rag(rag.settings)) == before


def test_the_next_ingest_sweeps_what_an_interrupted_one_left(indexed, monkeypatch):
    rag, _ = indexed
    shutil.copy(CORPUS / "004_bd0859deabb9f25c.txt", rag.settings.corpus_dir)
    from rag.index.docstore import DocStore

    # The docstore's commit fails: the postings are written, the vectors appended past the
    # committed rows (Chroma is written only by a flush after a commit, rag.index.tail).
    monkeypatch.setattr(DocStore, "commit", lambda *a, **k: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError):
        Rag(rag.settings).ingest()
    monkeypatch.undo()
    left = check_index(Store(rag.settings))
    assert left.consistent and left.orphan_postings and any("interrupted" in g for g in left.garbage)
    (rag.settings.corpus_dir / "004_bd0859deabb9f25c.txt").unlink()  # the interrupted work is never redone

    assert Rag(rag.settings).ingest().added == []
    after = check_index(Store(rag.settings))
    assert after.consistent and after.garbage == []


def test_whole_article_postings_of_an_interrupted_ingest_stay_invisible_and_are_swept(indexed, monkeypatch):
    """A kill between the lexical commit and the docstore's leaves whole-article documents
    (rag.index.articles) of uncommitted articles: the whole-article list never returns them, the
    check reports them as garbage, and the next ingest deletes them."""
    rag, _ = indexed
    shutil.copy(CORPUS / "004_bd0859deabb9f25c.txt", rag.settings.corpus_dir)
    from rag.index.articles import is_article_id
    from rag.index.docstore import DocStore

    monkeypatch.setattr(DocStore, "commit", lambda *a, **k: (_ for _ in ()).throw(OSError("killed")))
    with pytest.raises(OSError):
        Rag(rag.settings).ingest()
    monkeypatch.undo()
    store = Store(rag.settings)
    postings = {i for i in store.lexical_index().ids() if is_article_id(i)}
    assert len(postings) == len(store.docs.article_ids()) + 1  # the uncommitted article's document
    with store.reading():
        listed = store.lexical().articles("Iraq will not tolerate attacks on Americans", 10)
    assert "004_bd0859deabb9f25c.txt" not in {s for s, _ in listed} and listed
    left = check_index(store)
    assert left.consistent and any("unreferenced" in g for g in left.garbage)
    (rag.settings.corpus_dir / "004_bd0859deabb9f25c.txt").unlink()

    Rag(rag.settings).ingest()
    store = Store(rag.settings)
    assert {i for i in store.lexical_index().ids() if is_article_id(i)} == store.docs.article_ids()
    assert check_index(store).garbage == []


# --- the ingest's own crash safety ----------------------------------------------------------------

def test_a_changed_title_gives_new_ids_so_committed_vectors_are_never_rewritten(hash_settings, monkeypatch):
    """Same text at the same place under another title: the vectors change (the title is embedded
    with the text), so the chunk ids must too, or an interrupted ingest would have rewritten the
    committed index's vectors."""
    path = hash_settings.corpus_dir / "notes.md"
    body = (CORPUS / "003_568550a85670bdb3.txt").read_text()
    path.write_text("---\ntitle: Rockets hit the Baghdad embassy\n---\n" + body)
    rag = Rag(hash_settings)
    rag.ingest()
    old = {c.id: c for c in rag.store.docs.chunks_of("notes.md")}
    old_vectors = rag.store.vector.vectors(sorted(old))

    path.write_text("---\ntitle: Rockets hit the Baghdad embassx\n---\n" + body)
    from rag.index import ingest as ingest_module

    monkeypatch.setattr(ingest_module, "_write_postings", lambda *a: (_ for _ in ()).throw(OSError("killed")))
    with pytest.raises(OSError):
        Rag(hash_settings).ingest()
    monkeypatch.undo()
    store = Store(hash_settings)
    assert check_index(store).consistent
    kept = store.vector.vectors(sorted(old))
    assert all(np.array_equal(kept[i], old_vectors[i]) for i in old)  # untouched before the commit

    Rag(hash_settings).ingest()
    new = {c.id: c for c in Store(hash_settings).docs.chunks_of("notes.md")}
    assert [c.text for c in new.values()] == [c.text for c in old.values()]
    assert not set(new) & set(old)
    cache = Store(hash_settings).cache
    texts = Store(hash_settings).docs.index_texts()
    for chunk_id in new:
        assert "embassx" in texts[chunk_id]
        expected = cache.get_many("hash", [text_key(texts[chunk_id])])[text_key(texts[chunk_id])]
        assert np.allclose(Store(hash_settings).vector.vectors([chunk_id])[chunk_id], expected)


def test_leftovers_of_an_interrupted_attempt_do_not_break_the_next_one(small_corpus):
    rag = Rag(small_corpus)
    rag.ingest()
    store = rag.store
    # A rebuild's lexical index, killed before the commit (its marker lost too): the next
    # generation's directory already exists.
    (store.dir / "lexical" / "t000002").mkdir()
    (store.dir / "lexical" / "t000002" / "meta.json").write_text("{}")
    shutil.copy(CORPUS / "004_bd0859deabb9f25c.txt", small_corpus.corpus_dir)
    assert Rag(small_corpus).ingest().added == ["004_bd0859deabb9f25c.txt"]
    assert check_index(Store(small_corpus)).consistent

    # An interrupted --rebuild with other settings: its collection and its marker are left.
    generation = store.next_generation()  # the rebuild's: its collection is named after it
    name = f"rag-chunks-g{generation}"
    junk = store.vectors(name, metadata={"embedding_model": "other"})
    junk.add(["junk"], np.ones((1, 256), np.float32), [{"source": "junk.txt", "ordinal": 0}])
    store.docs.set_meta({PENDING: {"pid": 1, "generation": generation, "collection": name}})
    assert Rag(small_corpus).ingest(rebuild=True).chunks > 0
    found = check_index(Store(small_corpus))
    assert found.consistent and found.garbage == []
    fresh = Store(small_corpus)
    assert fresh.docs.meta("collection") == name and "junk" not in fresh.vector.ids()
    assert fresh.vector.metadata["embedding_model"] == "hash"


# --- two `rag ingest` processes -------------------------------------------------------------------

def rag_process(settings, *args: str, wait: float | None = None) -> subprocess.Popen:
    extra = ["--wait", str(wait)] if wait is not None else []
    return subprocess.Popen([sys.executable, "-m", "rag", *args, *extra, *cli_args(settings),
                             "--set", f"corpus_dir={settings.corpus_dir}"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)


def hold_lock(settings) -> subprocess.Popen:
    """A real `rag ingest`, frozen (SIGSTOP) while it holds the write lock."""
    first = rag_process(settings, "ingest", str(settings.corpus_dir))
    lock = Path(settings.store_dir) / "lock"
    deadline = time.monotonic() + 180
    while not (lock.exists() and f"pid {first.pid} (ingest)" in lock.read_text()):
        assert first.poll() is None and time.monotonic() < deadline, first.communicate()
        time.sleep(0.005)
    os.kill(first.pid, signal.SIGSTOP)
    return first


def test_a_second_ingest_refuses_or_waits_and_nothing_is_corrupted(small_corpus):
    Rag(small_corpus).ingest()
    shutil.copy(CORPUS / "002_5cca6cf56978dda1.txt", small_corpus.corpus_dir)
    first = hold_lock(small_corpus)
    try:
        refused = rag_process(small_corpus, "ingest", str(small_corpus.corpus_dir), wait=0)
        _, err = refused.communicate(timeout=120)
        assert refused.returncode == 1 and err.count("\n") == 1, err
        assert err == (f"error: the index in {small_corpus.store_dir} is being written by pid {first.pid} (ingest); "
                       "waited 0s, try again when it finishes\n")
        check = rag_process(small_corpus, "status", "--check", wait=0)
        _, err = check.communicate(timeout=120)
        assert check.returncode == 1 and f"being written by pid {first.pid} (ingest)" in err
        waiter = rag_process(small_corpus, "ingest", str(small_corpus.corpus_dir), wait=300)
        time.sleep(8)
        assert waiter.poll() is None  # blocked on the lock, not failed
    finally:
        os.kill(first.pid, signal.SIGCONT)
    assert first.wait(120) == 0
    out, err = waiter.communicate(timeout=300)
    assert waiter.returncode == 0, err
    assert out.startswith("added 0, updated 0, removed 0, skipped 3 unchanged")
    found = check_index(Store(small_corpus))
    assert found.consistent and found.garbage == [] and Rag(small_corpus).status().documents == 3


def test_a_killed_lock_holder_frees_the_lock_at_once(small_corpus):
    first = hold_lock(small_corpus)
    os.kill(first.pid, signal.SIGKILL)
    first.wait(60)
    second = rag_process(small_corpus, "ingest", str(small_corpus.corpus_dir), wait=0)
    _, err = second.communicate(timeout=300)
    assert second.returncode == 0, err
    found = check_index(Store(small_corpus))
    assert found.consistent and found.garbage == [] and Rag(small_corpus).status().documents == 2


def test_two_ingests_started_together_both_land(small_corpus):
    corpus = small_corpus.corpus_dir
    shutil.copy(CORPUS / "002_5cca6cf56978dda1.txt", corpus)
    shutil.copy(CORPUS / "004_bd0859deabb9f25c.txt", corpus)
    a = rag_process(small_corpus, "ingest", str(corpus / "002_5cca6cf56978dda1.txt"), wait=300)
    b = rag_process(small_corpus, "ingest", str(corpus / "004_bd0859deabb9f25c.txt"), wait=300)
    for proc in (a, b):
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0 and out.startswith("added 1,"), err
    found = check_index(Store(small_corpus))
    assert found.consistent and found.garbage == []
    assert set(Store(small_corpus).docs.manifest()) == {"002_5cca6cf56978dda1.txt", "004_bd0859deabb9f25c.txt"}


def test_repair_takes_the_lock_too(indexed):
    rag, _ = indexed
    with rag.store.write_lock(0), pytest.raises(RagError, match=r"being written by pid \d+ \(ingest\); waited 0s"):
        repair(rag.settings, lock_wait=0)


def test_postings_an_interrupted_ingest_left_change_no_score(indexed):
    """Postings of uncommitted chunks (a kill between the lexical commit and the docstore's) stay
    invisible, and do not move a committed chunk's BM25 score: scores use the docstore's statistics."""
    rag, before = indexed
    lexical = rag.store.lexical()
    query = QUERIES[0]
    scored = lexical.search(query, 10)
    from rag.index.lexical import LexicalDoc

    with rag.store.lexical_index().writer() as writer:
        writer.add(LexicalDoc(f"leftover-{n}", "gone.txt", "rocket fire embassi " * 5, None) for n in range(20))
    rag.store.refresh()
    assert rag.store.lexical().search(query, 10) == scored
    assert check_index(rag.store).garbage and check_index(rag.store).consistent
    assert hits(rag) == before


def test_vectors_an_interrupted_ingest_left_do_not_crowd_out_live_candidates(indexed):
    """Leftover vectors nearest the query would fill every dense candidate slot, then be dropped
    as not committed; the search fetches as many more candidates as there are leftovers."""
    rag, _ = indexed
    narrow = Rag(rag.settings.model_copy(update={"candidates": 3}))
    query = QUERIES[0]
    before = [(h.chunk.id, h.dense_rank) for h in narrow.search(query, k=5).hits]
    vector = narrow.store.embedder.embed([query])[0]
    leftovers = [f"leftover-{n}" for n in range(6)]
    narrow.store.vector.add(leftovers, np.tile(vector, (6, 1)), [{"source": "gone.txt", "ordinal": n} for n in range(6)])
    assert check_index(narrow.store).garbage  # reported as garbage, not a problem
    after = [(h.chunk.id, h.dense_rank) for h in narrow.search(query, k=5).hits]
    assert after == before and any(rank for _, rank in after)
