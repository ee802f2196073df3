"""Filters pushed into the engines: a source glob and a date range become a Scope that Chroma
(`where` on chunk metadata) and tantivy (filter clauses) evaluate themselves, with the same
meaning as before: fnmatch on the source or its file, undated articles failing any date range."""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
import shutil
from pathlib import Path

import pytest

from rag.api import Rag
from rag.index.scope import Scope, directory_prefixes, structured
from rag.index.vectorstore import where
from rag.retrieval import Filters

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


def test_globs_the_engines_read_from_metadata():
    assert structured("reuters/2021/a.txt") == Scope(names=("reuters/2021/a.txt",))
    assert structured("reuters/*") == Scope(dir_prefix="reuters/")
    assert structured("wire.jsonl#*") == Scope(feed="wire.jsonl")
    assert structured("*") == Scope()  # everything: no filter, no list of every source
    for other in ("00*.txt", "*.md", "reuters/*.txt", "a?.txt", "[ab]*"):
        assert structured(other) is None
    assert directory_prefixes("a/b/c.txt") == ["a/", "a/b/"] and directory_prefixes("c.txt") == []
    assert where(Scope(dir_prefix="a/", day_from=3)) == {"$and": [{"day": {"$gte": 3}}, {"dirs": {"$contains": "a/"}}]}


@pytest.fixture(scope="module")
def filtered(tmp_path_factory):
    """Articles in directories, at the top level and in a JSONL feed; one undated."""
    from rag.settings import Settings

    root = tmp_path_factory.mktemp("scope")
    corpus = root / "corpus"
    names = sorted(p.name for p in CORPUS.glob("*.txt"))
    (corpus / "reuters" / "2021").mkdir(parents=True)
    (corpus / "ap").mkdir()
    shutil.copy(CORPUS / names[0], corpus / "reuters" / "2021" / names[0])
    shutil.copy(CORPUS / names[1], corpus / "reuters" / names[1])
    shutil.copy(CORPUS / names[2], corpus / "ap" / names[2])
    shutil.copy(CORPUS / names[3], corpus / names[3])
    (corpus / "undated.txt").write_text("Rockets hit the embassy compound again, officials said on the radio.\n")
    feed = [{"id": f"r{n}", "title": f"Embassy report {n}", "date": f"2021-01-0{n + 1}",
             "text": f"Rockets were fired at the embassy for the {n + 1}th time, the ministry said."} for n in range(3)]
    (corpus / "wire.jsonl").write_text("".join(json.dumps(r) + "\n" for r in feed))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RAG_CONFIG", str(root / "none.toml"))
        # Every vector flushed into Chroma, so that each of Chroma's ways is tried (the tail: test_dense_tail.py).
        settings = Settings(store_dir=root / "store", corpus_dir=corpus, embedding_model="hash", candidates=500,
                            dense_tail_rows=0)
        rag = Rag(settings)
        rag.ingest()
        yield rag
        rag.close()


GLOBS = ["reuters/*", "reuters/2021/*", "ap/*", "wire.jsonl#*", "wire.jsonl", "*.jsonl", "wire.jsonl#r1",
         "undated.txt", "0*.txt", "*/0*.txt", "reuters/*.txt", "nothing/*", "*"]


def _matches(source: str, pattern: str) -> bool:
    return fnmatch.fnmatch(source, pattern) or fnmatch.fnmatch(source.split("#")[0], pattern)


_CHROMA = {"_EXACT_ROWS": -1, "_EXACT_SCOPE": -1}  # past the vector file's exact ranking
PLANS = {"exact from the file": {},
         "chroma exact by id": {"_EXACT_ROWS": -1},
         "unfiltered then kept": {**_CHROMA, "_DEEPEST": 10**9},
         "every row of the file": {**_CHROMA, "_DEEPEST": -1},
         "chroma where": {**_CHROMA, "_DEEPEST": -1, "vector_file": None}}


@pytest.mark.parametrize("plan", PLANS)
@pytest.mark.parametrize("glob", GLOBS)
def test_a_source_glob_keeps_exactly_its_sources(filtered, glob, plan, monkeypatch):
    """Each way Store.nearest can search a scope (the corpus is small: force each one)."""
    import rag.index.store as store_module

    for name, value in PLANS[plan].items():
        if name == "vector_file":  # a store without a vector file (written before it, or a remote Chroma)
            monkeypatch.setattr(store_module.Store, name, lambda self: value)
        else:
            monkeypatch.setattr(store_module, name, value)
    rag = filtered
    every = rag.store.docs.all_sources()
    allowed = {s for s in every if _matches(s, glob)}
    in_scope = sum(len(rag.store.docs.chunks_of(s)) for s in allowed)
    hits = rag.search("rockets fired at the embassy", k=8, filters=Filters(source=glob)).hits
    assert {h.chunk.source for h in hits} <= allowed
    assert len(hits) == min(8, in_scope)  # every chunk in scope was a candidate: nothing lost to the filter
    lexical = rag.store.lexical().search("rockets embassy", 100, rag.store.scope(glob, None, None))
    chunks = rag.store.docs.chunks([i for i, _ in lexical])
    assert {c.source for c in chunks.values()} <= allowed


def test_a_structured_glob_reaches_chroma_without_a_list_of_sources(filtered):
    for glob in ("reuters/*", "wire.jsonl#*", "undated.txt"):
        condition = json.dumps(where(filtered.store.scope(glob, None, None)))
        assert "$in" not in condition


def test_a_date_range_drops_undated_articles_and_keeps_the_days_in_it(filtered):
    rag = filtered
    since, until = dt.date(2021, 1, 2), dt.date(2021, 1, 3)
    hits = rag.search("rockets fired at the embassy", k=8, filters=Filters(since=since, until=until)).hits
    assert {h.chunk.source for h in hits} == {"wire.jsonl#r1", "wire.jsonl#r2"}
    assert all(since <= h.chunk.date <= until for h in hits)
    assert set(rag.store.docs.sources(None, since, until)) == {"wire.jsonl#r1", "wire.jsonl#r2"}
    both = rag.search("rockets", k=8, filters=Filters(source="wire.jsonl#*", since=since)).hits
    assert {h.chunk.source for h in both} == {"wire.jsonl#r1", "wire.jsonl#r2"}


def test_a_date_range_before_every_article_finds_nothing_and_fails_nothing(filtered):
    for filters in (Filters(until=dt.date(1999, 1, 1)), Filters(since=dt.date(2099, 1, 1)),
                    Filters(since=dt.date(2021, 1, 3), until=dt.date(2021, 1, 2))):
        assert filtered.search("rockets fired at the embassy", k=5, filters=filters).hits == []


@pytest.mark.parametrize("glob", [g for g in GLOBS if structured(g) is not None] + ["wire.jsonl#r1", "ap/*.txt"])
def test_the_vector_file_numbers_the_sources_a_scope_admits_as_the_docstore_reads_them(filtered, glob):
    store = filtered.store
    scope = store.scope(glob, None, None)
    file = store.vector_file()
    names = {number: name for name, number in file.number_of.items()}
    assert {names[int(n)] for n in file.numbers_in(scope)} == set(store.docs.sources_in(scope))
    both = Scope(names=("wire.jsonl",), feed="wire.jsonl")  # conditions together: all of them hold
    assert {names[int(n)] for n in file.numbers_in(both)} == set(store.docs.sources_in(both))
    assert file.numbers_in(Scope(names=("wire.jsonl",), dir_prefix="reuters/")).size == 0


def test_a_scope_whose_share_misleads_is_asked_deeper_unfiltered_never_through_where(filtered, monkeypatch):
    """Neighbours cluster (copies of a story under one outlet), so the share of a scope among
    the nearest vectors can be far below its share of the documents: the search asks Chroma
    deeper, unfiltered, and keeps exactly the scope's best, as the exact ranking finds them."""
    import dataclasses

    import rag.index.store as store_module

    store = filtered.store
    vector = store.embedder.embed(["rockets fired at the embassy"])[0]
    scope = dataclasses.replace(store.scope("ap/*", None, None), share=1.0)  # claims every document
    want = store._nearest_in_file(store.vector_file(), vector, 2, scope, limit=None)
    asked = []

    def spy(vectors):
        query = vectors.query

        def recorded(vector, n, scope=None, **kw):
            asked.append((n, scope))
            return query(vector, n, scope, **kw)

        monkeypatch.setattr(vectors, "query", recorded)
        return store._nearest(vectors, vector, 2, scope, exact=True)

    monkeypatch.setattr(store_module, "_EXACT_SCOPE", -1)
    got = store.read_vectors(spy)
    assert [i for i, _ in got] == [i for i, _ in want] and len(got) == 2
    assert len(asked) > 1 and [n for n, _ in asked] == sorted({n for n, _ in asked})  # deeper each time
    assert all(s is None for _, s in asked)  # never Chroma's where
    monkeypatch.setattr(store_module, "_DEEPEST", 2)  # too shallow to hold two: the file ranks every row
    assert store.read_vectors(lambda v: store._nearest(v, vector, 2, scope, exact=True)) is None
    monkeypatch.setattr(store_module, "_EXACT_ROWS", -1)
    assert [i for i, _ in store.nearest(vector, 2, scope)] == [i for i, _ in want]


def test_as_of_drops_later_and_undated_articles(filtered):
    as_of = dt.date(2021, 1, 2)
    hits = filtered.search("rockets fired at the embassy", k=8, filters=Filters(as_of=as_of)).hits
    sources = {h.chunk.source for h in hits}
    assert {"wire.jsonl#r0", "wire.jsonl#r1"} <= sources
    assert "wire.jsonl#r2" not in sources and "undated.txt" not in sources
    assert all(h.chunk.date is not None and h.chunk.date <= as_of for h in hits)
    # until and as_of together: the earlier date bounds the search
    assert Filters(until=dt.date(2021, 1, 1), as_of=as_of).last_day == dt.date(2021, 1, 1)


def test_as_of_recency_prior_puts_the_latest_report_first(filtered):
    """The three wire reports say nearly the same thing; as of Jan 3 with a one-day half-life, the
    report of Jan 3 leads the feed's hits, and a half-life of 0 (no prior, and the whole-article
    list at its weight without as_of) leaves the order to relevance."""
    feed = Filters(source="wire.jsonl#*", as_of=dt.date(2021, 1, 3))
    settings = filtered.settings.model_copy(update={"recency_half_life_days": 1.0})
    with_prior = Rag(settings)
    try:
        hits = with_prior.search("rockets fired at the embassy ministry", k=3, filters=feed).hits
        assert [h.chunk.source for h in hits][0] == "wire.jsonl#r2"
        assert hits[0].chunk.date == dt.date(2021, 1, 3)
    finally:
        with_prior.close()
    plain = filtered.search("rockets fired at the embassy ministry", k=3, filters=Filters(source="wire.jsonl#*")).hits
    no_prior = Rag(filtered.settings.model_copy(update={"recency_half_life_days": 0.0,
                                                        "article_bm25_weight_as_of": None}))
    try:
        dated = no_prior.search("rockets fired at the embassy ministry", k=3, filters=feed).hits
        assert [h.chunk.source for h in dated] == [h.chunk.source for h in plain]
    finally:
        no_prior.close()
