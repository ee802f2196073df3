"""Incremental ingest, its manifest, bad input, and atomicity (hash embedder, embedded Chroma)."""

import os
import shutil
from pathlib import Path

import pytest

from rag.api import Rag
from rag.errors import IndexMismatchError
from rag.index.status import consistency

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


def test_incremental_add_skip_update_remove(small_corpus):
    rag = Rag(small_corpus)
    corpus = small_corpus.corpus_dir
    first = rag.ingest([corpus])
    assert sorted(first.added) == ["000_eb6e83a28ce734ce.txt", "003_568550a85670bdb3.txt"]
    assert first.chunks > 0 and first.total_chunks == first.chunks

    again = rag.ingest([corpus])
    assert again.added == [] and again.updated == [] and sorted(again.skipped) == sorted(first.added)
    assert again.embedded == 0 and again.chunks == 0

    shutil.copy(CORPUS / "002_5cca6cf56978dda1.txt", corpus)
    with open(corpus / "000_eb6e83a28ce734ce.txt", "a") as f:
        f.write("\nA new closing paragraph about the embassy was added by the editors on Thursday.\n")
    (corpus / "003_568550a85670bdb3.txt").unlink()
    plan = rag.ingest([corpus], dry_run=True)
    assert (plan.added, plan.updated, plan.removed) == (
        ["002_5cca6cf56978dda1.txt"], ["000_eb6e83a28ce734ce.txt"], ["003_568550a85670bdb3.txt"])
    assert rag.status().documents == 2  # a dry run changes nothing

    applied = rag.ingest([corpus])
    assert (applied.added, applied.updated, applied.removed) == (plan.added, plan.updated, plan.removed)
    assert rag.status().documents == 2
    assert {h.chunk.source for h in rag.search("embassy editors Thursday", k=20).hits} <= {
        "000_eb6e83a28ce734ce.txt", "002_5cca6cf56978dda1.txt"}
    vectors, problems = consistency(rag.store)
    state = rag.store.vector_state  # vectors past the watermark are only in the vector file (rag.index.tail)
    assert problems == [] and vectors + len(rag.store._tail_live(rag.store.vector_file())) == rag.status().chunks
    assert state.flushed == 0 and state.rows > 0  # below the threshold, Chroma was never written


def test_rebuild_reembeds_nothing_thanks_to_the_cache(small_corpus):
    rag = Rag(small_corpus)
    first = rag.ingest()
    rebuilt = rag.ingest(rebuild=True)
    assert sorted(rebuilt.added) == sorted(first.added)
    assert rebuilt.chunks == first.chunks and rebuilt.embedded == 0
    assert consistency(rag.store)[1] == []


def test_changed_chunk_settings_are_refused_with_a_rebuild_hint(small_corpus):
    Rag(small_corpus).ingest()
    changed = small_corpus.model_copy(update={"chunk_tokens": 100})
    with pytest.raises(IndexMismatchError, match="--rebuild"):
        Rag(changed).ingest()
    assert Rag(changed).ingest(rebuild=True).chunks > 0


def test_queries_refuse_an_index_built_with_another_embedder(small_corpus):
    Rag(small_corpus).ingest()
    other = small_corpus.model_copy(update={"embedding_model": "all-MiniLM-L6-v2"})
    with pytest.raises(IndexMismatchError, match="embedding_model"):
        Rag(other).search("rockets")


def _unreadable(path: Path) -> None:
    if os.geteuid() != 0:
        path.write_text("secret")
        path.chmod(0)
    else:  # root reads anything; a file whose read fails stands in
        path.symlink_to("/proc/self/mem")


def test_bad_files_get_one_line_reasons_and_the_rest_is_ingested(small_corpus, tmp_path):
    corpus = small_corpus.corpus_dir
    (corpus / "empty.txt").write_text("")
    (corpus / "blank.md").write_text("  \n\n \t\n")
    (corpus / "binary.txt").write_bytes(bytes(range(256)) * 4)
    (corpus / "latin1.txt").write_bytes("Caf\xe9 au lait in the Green Zone.".encode("latin-1"))
    _unreadable(corpus / "unreadable.txt")
    report = Rag(small_corpus).ingest([corpus, tmp_path / "missing-dir"])
    assert sorted(report.added) == ["000_eb6e83a28ce734ce.txt", "003_568550a85670bdb3.txt"]
    assert report.failed["empty.txt"] == "empty file"
    assert report.failed["blank.md"] == "empty file"
    assert report.failed["binary.txt"] == "binary file, not text"
    assert report.failed["latin1.txt"].startswith("not UTF-8 text (byte 0xe9 at offset 3)")
    assert report.failed["unreadable.txt"]
    assert report.failed[str(tmp_path / "missing-dir")] == "no such file or directory"
    assert all("\n" not in reason for reason in report.failed.values())


def test_utf16_with_bom_and_crlf_are_read(hash_settings):
    corpus = hash_settings.corpus_dir
    text = "Headline about rockets\r\n\r\nEight rockets hit the Green Zone on Sunday, the Iraqi military said.\r\n"
    (corpus / "utf16.txt").write_bytes(text.encode("utf-16"))
    rag = Rag(hash_settings)
    assert rag.ingest().added == ["utf16.txt"]
    hit = rag.search("rockets Green Zone").hits[0]
    sentence = next(s for s in hit.chunk.sentences if s.text.startswith("Eight"))
    assert sentence.line_start == 3
    assert rag.show("utf16.txt:3").lines == ["Eight rockets hit the Green Zone on Sunday, the Iraqi military said.\r"]


def test_jsonl_records_are_sources_and_bad_lines_are_reported(hash_settings):
    path = hash_settings.corpus_dir / "wire.jsonl"
    path.write_text(
        '{"id": "a1", "title": "Rockets", "date": "2020-12-20", "text": "Eight rockets hit the Green Zone on Sunday."}\n'
        "{not json}\n"
        '{"title": "No id", "text": "The embassy was damaged.\\nOfficials met on Monday."}\n'
        '{"id": "a3", "text": ""}\n'
    )
    report = Rag(hash_settings).ingest()
    assert sorted(report.added) == ["wire.jsonl#3", "wire.jsonl#a1"]
    assert report.failed["wire.jsonl:2"].startswith("line 2: invalid JSON")
    assert report.failed["wire.jsonl:4"] == "line 4: empty text"
    passage = Rag(hash_settings).show("wire.jsonl#3:2")
    assert passage.lines == ["Officials met on Monday."]


def test_identical_copies_are_indexed_once(small_corpus):
    corpus = small_corpus.corpus_dir
    shutil.copy(corpus / "000_eb6e83a28ce734ce.txt", corpus / "syndicated-copy.txt")
    report = Rag(small_corpus).ingest()
    assert report.duplicates == {"syndicated-copy.txt": "000_eb6e83a28ce734ce.txt"}
    assert Rag(small_corpus).status().documents == 2


def test_nothing_ingestible_is_an_error_but_no_traceback(cli, tmp_path):
    (tmp_path / "empty.txt").write_text("")
    code, out, err = cli("ingest", tmp_path / "empty.txt", "--store-dir", tmp_path / "s", "--set", "embedding_model=hash")
    assert code == 1
    assert "skipped empty.txt: empty file" in err and "error: nothing could be ingested" in err
    assert "Traceback" not in err


def test_a_failure_mid_ingest_leaves_the_previous_index_usable(small_corpus, monkeypatch):
    rag = Rag(small_corpus)
    rag.ingest()
    before = [h.chunk.id for h in rag.search("rockets embassy Baghdad", k=5).hits]
    shutil.copy(CORPUS / "001_c31d4bc7025f9123.txt", small_corpus.corpus_dir)

    from rag.index import ingest as ingest_module

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(ingest_module, "_write_postings", crash)
    with pytest.raises(OSError):
        Rag(small_corpus).ingest()
    monkeypatch.undo()

    again = Rag(small_corpus)
    assert again.status().documents == 2
    assert [h.chunk.id for h in again.search("rockets embassy Baghdad", k=5).hits] == before
    vectors, problems = consistency(again.store)
    assert not any("missing" in p or "lexical" in p for p in problems)
    assert again.ingest().added == ["001_c31d4bc7025f9123.txt"]
    assert consistency(again.store)[1] == []


def test_an_article_with_nothing_left_after_cleaning_is_not_reread(hash_settings):
    corpus = hash_settings.corpus_dir
    (corpus / "ad.txt").write_text("1. How relevant is this ad to you?\n\nVideo player was slow to load content "
                                   "Video content never loaded Ad froze or did not finish loading\n")
    (corpus / "story.txt").write_text("Rockets hit the Green Zone\n\nEight rockets hit the Green Zone in Baghdad "
                                      "on Sunday, the Iraqi military said in a statement.\n")
    rag = Rag(hash_settings)
    first = rag.ingest()
    assert first.added == ["story.txt"] and first.failed == {"ad.txt": "no article text left after cleaning"}
    generation = rag.store.docs.meta("generation")
    again = rag.ingest()
    assert sorted(again.skipped) == ["ad.txt", "story.txt"] and again.failed == {}
    assert rag.store.docs.meta("generation") == generation  # nothing rebuilt


def test_a_long_lived_rag_loads_its_embedder_once_across_ingests(small_corpus, monkeypatch):
    import rag.index.store as store_module

    made = []
    real = store_module.make_embedder
    monkeypatch.setattr(store_module, "make_embedder", lambda settings: made.append(1) or real(settings))
    rag = Rag(small_corpus)
    rag.ingest()
    (Path(small_corpus.corpus_dir) / "extra.txt").write_text("Harbour ferry strike enters its third day.\n")
    rag.ingest()
    rag.search("ferry strike")
    assert len(made) == 1


def test_a_rescan_reads_only_files_whose_size_or_mtime_changed(small_corpus, monkeypatch):
    from rag.index import ingest as ingest_module

    reads = []
    real_read = ingest_module.read_file
    monkeypatch.setattr(ingest_module, "read_file", lambda ref, *a: reads.append(ref.source) or real_read(ref, *a))
    monkeypatch.setattr(ingest_module, "_RACY_NS", 0)  # the files were written a moment ago
    rag = Rag(small_corpus)
    corpus = small_corpus.corpus_dir
    rag.ingest([corpus])
    assert len(reads) == 2
    reads.clear()
    assert len(rag.ingest([corpus]).skipped) == 2 and reads == []  # unchanged: not even read

    touched = corpus / "000_eb6e83a28ce734ce.txt"
    os.utime(touched, ns=(touched.stat().st_atime_ns, touched.stat().st_mtime_ns - 5_000_000_000))
    again = rag.ingest([corpus])
    assert reads == ["000_eb6e83a28ce734ce.txt"] and again.updated == [] and len(again.skipped) == 2
    reads.clear()
    rag.ingest([corpus])
    assert reads == []  # its new mtime was recorded

    # The same size and mtime with other bytes: only --verify hashes it and sees the change.
    stat = touched.stat()
    text = touched.read_text()
    touched.write_text(text.replace("rockets", "rocketz", 1))
    os.utime(touched, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert rag.ingest([corpus]).updated == []
    assert rag.ingest([corpus], verify=True).updated == ["000_eb6e83a28ce734ce.txt"]


def test_a_moved_corpus_is_read_once_then_rescanned_unread(small_corpus, monkeypatch):
    """The manifest keys files by absolute path: after the corpus directory moves, the first rescan
    reads every file (and finds it unchanged); it must record the new paths, or every later rescan
    would read every file again."""
    from rag.index import ingest as ingest_module

    reads = []
    real_read = ingest_module.read_file
    monkeypatch.setattr(ingest_module, "read_file", lambda ref, *a: reads.append(ref.source) or real_read(ref, *a))
    monkeypatch.setattr(ingest_module, "_RACY_NS", 0)  # the files were written a moment ago
    Rag(small_corpus).ingest([small_corpus.corpus_dir])
    moved = small_corpus.corpus_dir.parent / "moved-corpus"
    shutil.move(small_corpus.corpus_dir, moved)
    rag = Rag(small_corpus.model_copy(update={"corpus_dir": moved}))
    reads.clear()
    first = rag.ingest([moved])
    assert (first.added, first.updated, len(first.skipped), len(reads)) == ([], [], 2, 2)
    reads.clear()
    assert len(rag.ingest([moved]).skipped) == 2 and reads == []
    assert rag.search("rockets Baghdad embassy", k=1).hits


def test_a_one_file_ingest_reads_only_that_files_manifest_rows(small_corpus, monkeypatch):
    from rag.index.docstore import DocStore

    rag = Rag(small_corpus)
    rag.ingest()
    monkeypatch.setattr(DocStore, "manifest", lambda self: pytest.fail("read the whole manifest"))
    monkeypatch.setattr(DocStore, "chunk_ids", lambda self: pytest.fail("read every chunk id"))
    extra = small_corpus.corpus_dir / "extra.txt"
    extra.write_text("Harbour ferry strike enters its third day, the union said on Monday.\n")
    assert rag.ingest([extra]).added == ["extra.txt"]
    extra.write_text("Harbour ferry strike enters its fourth day, the union said on Tuesday.\n")
    assert rag.ingest([extra]).updated == ["extra.txt"]
    assert rag.search("harbour ferry strike", k=1).hits[0].chunk.source == "extra.txt"


def test_an_index_of_the_previous_format_asks_for_a_rebuild_and_rebuilds(small_corpus):
    """A store written before the tantivy index: documents without file or mtime, a bm25/ directory."""
    import json
    import sqlite3

    from rag.errors import IndexMismatchError

    store = Path(small_corpus.store_dir)
    store.mkdir(parents=True)
    db = sqlite3.connect(store / "rag.db")
    db.executescript("""
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
        CREATE TABLE documents (source TEXT PRIMARY KEY, path TEXT, content_hash TEXT, date TEXT, article TEXT, raw TEXT);
        CREATE TABLE chunks (id TEXT PRIMARY KEY, source TEXT, ordinal INTEGER, index_text TEXT, chunk TEXT);
    """)
    old = {"embedding_model": "hash", "pipeline": "x", "chunk_tokens": 160, "chunk_overlap_sentences": 1,
           "embed_title": True}
    db.execute("INSERT INTO meta VALUES ('fingerprint', ?)", (json.dumps(old),))
    db.commit()
    db.close()
    (store / "bm25" / "g000001").mkdir(parents=True)
    rag = Rag(small_corpus)
    for attempt in (lambda: rag.search("rockets"), lambda: rag.ingest()):
        with pytest.raises(IndexMismatchError, match=r"older version of rag .* `rag ingest --rebuild`"):
            attempt()
    assert rag.status(check=True).problems[0].startswith(f"the index in {store} was built by an older version")
    rag.close()
    rebuilt = Rag(small_corpus)
    assert len(rebuilt.ingest(rebuild=True).added) == 2
    assert rebuilt.search("rockets embassy", k=1).hits and not (store / "bm25").exists()
    assert consistency(rebuilt.store)[1] == []


def _article_documents(rag) -> set[str]:
    """The whole-article documents the lexical index holds (rag.index.articles)."""
    from rag.index.articles import is_article_id

    rag.store.refresh()
    return {i for i in rag.store.lexical_index().ids() if is_article_id(i)}


def test_whole_articles_are_lexical_documents_kept_in_step_by_every_ingest(small_corpus):
    """Each article is a lexical document beside its chunks, written by the same ingest: an
    update replaces it (old document deleted after the commit), a removal deletes it, and the
    article statistics always equal a recount; the whole-article list finds the updated text."""
    from rag.index.status import check_index

    rag = Rag(small_corpus)
    corpus = small_corpus.corpus_dir
    rag.ingest([corpus])
    first = _article_documents(rag)
    assert len(first) == 2 and first == rag.store.docs.article_ids()

    shutil.copy(CORPUS / "002_5cca6cf56978dda1.txt", corpus)
    with open(corpus / "000_eb6e83a28ce734ce.txt", "a") as f:
        f.write("\nA closing paragraph about zeppelins was added by the editors on Thursday.\n")
    (corpus / "003_568550a85670bdb3.txt").unlink()
    rag.ingest([corpus])
    after = _article_documents(rag)
    assert after == rag.store.docs.article_ids() and len(after) == 2 and not after & first
    counted = rag.store.docs.article_stats()
    assert rag.store.docs.stats_problems() == []
    rag.store.docs.recount_stats()
    assert rag.store.docs.article_stats() == counted
    found = check_index(rag.store)
    assert found.consistent and found.garbage == []
    with rag.store.reading():
        listed = rag.store.lexical().articles("zeppelins editors", 5)
    assert [s for s, _ in listed] == ["000_eb6e83a28ce734ce.txt"]


def test_batched_idfs_equal_one_term_idfs_with_unknown_terms_and_repeats(small_corpus):
    """LexicalView.idfs reads the frequencies of many terms at once; each value is the one-term
    idf, a term the index lacks gets the idf of df 0, and a repeated term is listed once."""
    from rag.text.lexical import content_words

    rag = Rag(small_corpus)
    rag.ingest([small_corpus.corpus_dir])
    terms = content_words("rockets embassy Baghdad rockets zzqxunknownword")
    with rag.store.reading():
        batched = rag.store.lexical().idfs(terms)
    with rag.store.reading():
        fresh = rag.store.lexical()
        fresh.df.known.clear()
        one_by_one = {t: fresh.idf(t) for t in dict.fromkeys(terms)}
    assert list(batched) == list(dict.fromkeys(terms)) and batched == one_by_one
    assert batched[terms[-1]] > batched["rocket"]
