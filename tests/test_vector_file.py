"""The vector file beside Chroma (rag.index.vectorfile): what queries rank exactly, without
importing chromadb; appended inside the commit, cut back after an interrupted append, written
from Chroma for a store that predates it, checked and rebuilt by `rag status`. Hash embedder."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rag.api import Rag
from rag.index.repair import repair
from rag.index.scope import Scope
from rag.index.status import check_index
from rag.index.vectorfile import VECTOR_DIR, FileState, append, open_file
from rag.retrieval import Filters

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
QUERIES = ["rockets fired at the embassy", "Trump warns Iran", "Pompeo Iraq attacks", "Green Zone Sunday"]


@pytest.fixture
def hash_settings(hash_settings):
    """These tests read, damage and check Chroma: every ingest flushes its vectors into it (the
    vector file's tail, rag.index.tail, is tested in test_dense_tail.py)."""
    return hash_settings.model_copy(update={"dense_tail_rows": 0})


@pytest.fixture
def many(hash_settings):
    """The five articles in three directories, with dates, three copies each (45 articles)."""
    for n, path in enumerate(sorted(CORPUS.glob("*.txt"))):
        for copy in range(3):
            folder = hash_settings.corpus_dir / f"outlet{copy}"
            folder.mkdir(exist_ok=True)
            day = dt.date(2022, 5, 1) + dt.timedelta(days=3 * n + copy)
            (folder / f"{copy}-{path.stem}.md").write_text(
                f"---\ntitle: \"copy {copy} of {path.stem}\"\ndate: {day.isoformat()}\n---\n" + path.read_text())
    rag = Rag(hash_settings)
    rag.ingest()
    return rag


def chroma_nearest(rag: Rag, query: str, n: int, scope: Scope | None):
    store = rag.store
    vector = store.embedder.embed([query])[0]
    return store.read_vectors(lambda v: store._nearest(v, vector, n, scope))


def file_nearest(rag: Rag, query: str, n: int, scope: Scope | None):
    store = rag.store
    vector = store.embedder.embed([query])[0]
    found = store._nearest_in_file(store.vector_file(), vector, n, scope)
    assert found is not None
    return found


def same_but_ties(got, want) -> bool:
    """The same ids, where copies of one text that tie in score may come in any order (and the
    last tied group may be cut at another member)."""
    def groups(ranked):
        out: dict[float, set[str]] = {}
        for chunk_id, score in ranked:
            out.setdefault(round(score, 5), set()).add(chunk_id)
        return out
    a, b = groups(got), groups(want)
    last = min(a, default=None)
    return a.keys() == b.keys() and all(a[s] == b[s] for s in a if s != last)


def test_every_commit_appends_the_new_rows_and_records_them(many):
    store = many.store
    state = store.vector_state
    assert state is not None and state.rows == store.committed_chunks() and state.dim == store.embedder.dim
    file = store.vector_file()
    ids = sorted(store.docs.chunk_ids())
    stored = store.read_vectors(lambda v: v.vectors(ids))
    mirrored = file.vectors(ids)
    assert set(mirrored) == set(ids)
    assert all(np.allclose(mirrored[i], stored[i], atol=1e-6) for i in ids)  # Chroma re-normalises


@pytest.mark.parametrize("filters", [
    Filters(), Filters(source="outlet1/*"), Filters(since=dt.date(2022, 5, 4), until=dt.date(2022, 5, 9)),
    Filters(source="outlet2/*", since=dt.date(2022, 5, 1), until=dt.date(2022, 5, 7)),
    Filters(source="outlet0/0-001_*"), Filters(source="*/1-*"), Filters(since=dt.date(2030, 1, 1)),
], ids=["none", "directory", "days", "directory+days", "one article", "other glob", "nothing"])
def test_the_file_ranks_the_same_chunks_as_chroma_for_every_kind_of_scope(many, filters):
    """Exact ranking over the rows in scope agrees with Chroma's (exact at this size) search."""
    store = many.store
    with store.reading():
        scope = store.scope(filters.source, filters.since, filters.until) if filters.active else None
        for query in QUERIES:
            got, want = file_nearest(many, query, 10, scope), chroma_nearest(many, query, 10, scope)
            assert np.allclose([s for _, s in got], [s for _, s in want], atol=1e-5), query
            assert same_but_ties(got, want), query
            if scope is not None:
                assert store.docs.known_in([i for i, _ in got], scope) == {i for i, _ in got}


def test_replaced_and_removed_articles_leave_dead_rows_that_no_search_returns(many):
    store = many.store
    path = next(many.settings.corpus_dir.glob("outlet0/*.md"))
    path.write_text(path.read_text() + "\nA new closing paragraph about rockets and the embassy.\n")
    next(many.settings.corpus_dir.glob("outlet1/*.md")).unlink()
    many.ingest()
    store.refresh()
    assert store.vector_state.rows > store.committed_chunks()  # the old rows stay until a compaction
    committed = store.docs.chunk_ids()
    for query in QUERIES:
        got = file_nearest(many, query, 20, None)
        assert len(got) == 20 and {i for i, _ in got} <= committed and len({i for i, _ in got}) == 20


def test_an_interrupted_append_is_cut_off_by_the_next_commit(many):
    store = many.store
    state = store.vector_state
    root = store.dir / VECTOR_DIR
    # An ingest killed after appending, before its commit: rows past the committed count.
    append(root, state, ["x" * 20] * 3, np.ones((3, state.dim), np.float32), [None] * 3, ["gone.md"] * 3)
    assert open_file(root, state).rows == state.rows  # readers map the committed rows only
    (many.settings.corpus_dir / "outlet0" / "extra.md").write_text("---\ntitle: extra\n---\nRockets hit the Green Zone.\n")
    many.ingest()
    after = store.vector_state
    assert after.name == state.name and after.rows == state.rows + (store.committed_chunks() - state.rows)
    assert (root / after.name / "ids").stat().st_size == after.rows * 20
    assert b"x" * 20 not in (root / after.name / "ids").read_bytes()
    assert b"gone.md" not in (root / after.name / "sources").read_bytes()
    assert (root / after.name / "sources").stat().st_size == after.names_bytes


def test_a_store_from_before_the_vector_file_is_searched_through_chroma_then_given_one(many):
    store = many.store
    before = [[i for i, _ in file_nearest(many, q, 10, None)] for q in QUERIES]
    shutil.rmtree(store.dir / VECTOR_DIR)
    store.docs.set_meta({"vector_file": None})
    store.refresh()
    assert store.vector_file() is None
    assert [[h.chunk.id for h in many.search(q, k=5).hits] for q in QUERIES]  # answered by Chroma
    report = many.ingest()  # nothing changed: it writes the vector file all the same
    assert report.added == [] and report.updated == []
    store.refresh()
    assert store.vector_state.rows == store.committed_chunks()
    again = [[i for i, _ in file_nearest(many, q, 10, None)] for q in QUERIES]
    committed = store.docs.chunk_ids()
    assert all(set(a) <= committed for a in again) and again != [] and before != []


@pytest.mark.parametrize("harm", ["deleted", "truncated"])
def test_check_finds_a_damaged_vector_file_and_repair_rebuilds_it(hash_settings, harm):
    for path in CORPUS.glob("*.txt"):  # no copies: no equal scores whose order float noise could flip
        shutil.copy(path, hash_settings.corpus_dir)
    many = Rag(hash_settings)
    many.ingest()
    store = many.store
    answers = [[h.chunk.id for h in many.search(q, k=5).hits] for q in QUERIES]
    path = store.dir / VECTOR_DIR / store.vector_state.name
    if harm == "deleted":
        shutil.rmtree(path)
    else:
        os.truncate(path / "vectors.f32", 100)
    store.refresh()
    found = check_index(store)
    assert found.vector_file_bad and any("vector file" in p for p in found.problems), found.problems
    assert [[h.chunk.id for h in many.search(q, k=5).hits] for q in QUERIES] == answers  # Chroma answers meanwhile
    report = repair(many.settings)
    assert report.problems == [] and any("rebuilt the vector file" in a for a in report.actions), report
    store.refresh()
    assert check_index(store).consistent and not check_index(store).garbage
    assert [[h.chunk.id for h in many.search(q, k=5).hits] for q in QUERIES] == answers


@pytest.mark.parametrize("call, count", [
    ("len(rag.search('rockets fired at the embassy', k=3).hits)", 3),
    # the extractive engine reads candidate vectors too: through the file, or a cold ask opens Chroma
    ("len(rag.ask('How many rockets were fired at the embassy?').citations) > 0", True),
], ids=["search", "ask"])
def test_a_search_or_an_ask_imports_neither_chromadb_nor_torch(many, call, count):
    script = ("import sys, json\nfrom rag.api import Rag\nfrom rag.settings import Settings\n"
              "rag = Rag(Settings(store_dir=sys.argv[1], embedding_model='hash'))\n"
              f"found = {call}\n"
              "print(json.dumps([found, [m for m in ('chromadb', 'torch') if m in sys.modules]]))\n")
    env = {**os.environ, "RAG_CONFIG": os.devnull}
    out = subprocess.run([sys.executable, "-c", script, str(many.settings.store_dir)], capture_output=True,
                         text=True, check=True, env=env).stdout
    assert json.loads(out) == [count, []]


def test_file_states_read_back_from_the_docstore_meta():
    state = FileState("rag-chunks-g1~1", 12, 256)
    assert FileState.from_meta(state.as_meta()) == state
    assert FileState.from_meta(None) is None and FileState.from_meta({"name": "x"}) is None


def test_a_file_of_mostly_dead_rows_is_rewritten_with_the_live_ones(many, monkeypatch):
    from rag.index import store as store_module

    monkeypatch.setattr(store_module, "_DEAD_MIN", 0)
    store = many.store
    before = store.vector_state
    for path in list(many.settings.corpus_dir.glob("outlet1/*.md")) + list(many.settings.corpus_dir.glob("outlet2/*.md")):
        path.unlink()
    many.ingest()  # two thirds of the rows die: this commit still appends to the file
    (many.settings.corpus_dir / "outlet0" / "extra.md").write_text("---\ntitle: extra\n---\nRockets hit the Green Zone.\n")
    many.ingest()  # the next one rewrites it
    store.refresh()
    after = store.vector_state
    assert after.name != before.name and after.rows == store.committed_chunks()
    assert sorted(p.name for p in (store.dir / VECTOR_DIR).iterdir()) == [after.name]
    assert check_index(store).consistent and not check_index(store).garbage
    committed = store.docs.chunk_ids()
    for query in QUERIES:
        got = file_nearest(many, query, 10, None)
        assert len(got) == 10 and {i for i, _ in got} <= committed


def test_ids_are_found_by_their_sorted_keys_last_row_first_whatever_prefix_they_share(tmp_path):
    """A search's candidates are looked up by bisecting the ids' sorted 8-byte keys: ids that
    share those 8 bytes stay apart, an id appended again (a replaced chunk) is found in its last
    row, and ids the file does not hold are absent."""
    ids = ["aaaaaaaa" + f"{n:012d}" for n in range(5)] + ["bbbbbbbb" + "0" * 12, "aaaaaaaa" + f"{2:012d}"]
    vectors = np.eye(7, 4, dtype=np.float32)
    state = append(tmp_path, FileState("f", 0, 4), ids, vectors, [None] * 7, ["s"] * 7)
    file = open_file(tmp_path, state)
    wanted = [ids[0], ids[2], ids[5], "aaaaaaaa" + "9" * 12, "cccccccc" + "0" * 12]
    assert file.rows_of(wanted) == {ids[0]: 0, ids[2]: 6, ids[5]: 5}
    assert file.rows_of(wanted) == {i: file.row_of[i] for i in wanted if i in file.row_of}
    assert file.rows_of([]) == {}
    found = file.vectors(wanted)
    assert set(found) == {ids[0], ids[2], ids[5]} and np.array_equal(found[ids[2]], vectors[6])


def test_appended_sources_keep_their_numbers_whatever_names_they_share(tmp_path):
    """An append numbers its rows' sources by searching the committed names, not parsing them: a
    source seen before keeps its number (also one that is a prefix, suffix or quoted variant of
    another), a new one takes the next, and the file reads back the same as a parse of every line."""
    names = ['a/b.md', 'xa/b.md', 'a/b.md.bak', 'q/"quoted".md', 'é/ü.md', 'a\\b.md']
    state = FileState("f", 0, 4)
    for batch in (names[:3], [names[1], names[3]], [names[4], names[0], names[5], names[3]]):
        ids = [f"{state.rows + n:020d}" for n in range(len(batch))]
        state = append(tmp_path, state, ids, np.ones((len(batch), 4), dtype=np.float32), [None] * len(batch), batch)
    file = open_file(tmp_path, state)
    assert file.number_of == {name: n for n, name in enumerate(names)}
    assert file.sources.tolist() == [0, 1, 2, 1, 3, 4, 0, 5, 3]
