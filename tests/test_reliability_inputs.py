"""Bad input files: each gets a clear one-line reason, and everything else is ingested.

Extends tests/test_ingest.py (empty, binary, latin-1, unreadable, UTF-16 LE with a BOM, broken
JSONL lines, identical copies) with the rest of issue 8's list. Hash embedder, embedded Chroma."""

from __future__ import annotations

import codecs
import json
import os
import shutil
import threading
from pathlib import Path

import pytest

from rag.answer.verify import quote_is_verbatim
from rag.api import Rag
from rag.index.status import check_index
from rag.models import Citation

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
GOOD = ["000_eb6e83a28ce734ce.txt", "003_568550a85670bdb3.txt"]
ARTICLE = "Harbour strike\n\nDock workers walked out at the harbour on Monday, halting the island ferries.\n"


def ingest(settings, *paths):
    rag = Rag(settings)
    report = rag.ingest(list(paths) or None)
    assert all("\n" not in reason and reason for reason in report.failed.values()), report.failed
    return rag, report


def assert_rest_ingested(rag, report, *extra):
    assert set(GOOD) | set(extra) <= set(report.added) | set(report.skipped)
    assert check_index(rag.store).consistent


def assert_every_span_exact(rag, source: str, fmt: str = "txt") -> list:
    raw = rag.store.docs.raw(source)
    chunks = rag.store.docs.chunks_of(source)
    assert chunks
    for chunk in chunks:
        for s in chunk.sentences:
            if fmt != "html":
                assert raw[s.char_start:s.char_end] == s.text
            citation = Citation(n=1, source=source, line_start=s.line_start, line_end=s.line_end, quote=s.text)
            assert quote_is_verbatim(citation, raw, fmt)
    return chunks


# --- empty, binary, encodings ---------------------------------------------------------------------

def test_empty_and_whitespace_only_files_of_every_format(small_corpus):
    corpus = small_corpus.corpus_dir
    (corpus / "crlf-blank.txt").write_bytes(b"\r\n\r\n \t \r\n")
    (corpus / "nbsp.md").write_text("\u00a0\u2003\n\u3000\n", encoding="utf-8")
    (corpus / "bom-only.txt").write_bytes(codecs.BOM_UTF8)
    (corpus / "utf16-blank.txt").write_bytes("   \n\n".encode("utf-16"))
    (corpus / "blank.jsonl").write_text("\n  \n\n")
    (corpus / "front-matter-only.md").write_text("---\ntitle: Nothing below\n---\n\n")
    (corpus / "scripts-only.html").write_text("<html><head><script>var a = 1;</script></head><body></body></html>")
    rag, report = ingest(small_corpus)
    for name in ("crlf-blank.txt", "nbsp.md", "bom-only.txt", "utf16-blank.txt", "blank.jsonl"):
        assert report.failed[name] == "empty file"
    assert report.failed["front-matter-only.md"] == "no article text left after cleaning"
    assert report.failed["scripts-only.html"] == "no article text left after cleaning"
    assert_rest_ingested(rag, report)


def test_binary_files_are_refused_by_their_bytes_not_their_names(small_corpus):
    corpus = small_corpus.corpus_dir
    (corpus / "photo.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    (corpus / "archive.jsonl").write_bytes(b"\x1f\x8b\x08\x00" + os.urandom(4000).replace(b"\n", b"\x00"))
    (corpus / "late-nul.txt").write_bytes(b"Dock workers walked out. " * 400 + b"\x00\x01\x02 trailing bytes\n")
    rag, report = ingest(small_corpus)
    assert report.failed["photo.txt"] == "binary file, not text"
    assert report.failed["archive.jsonl"] == "binary file, not text"
    assert report.failed["late-nul.txt"] == "binary file, not text (NUL character at offset 10000)"
    assert_rest_ingested(rag, report)


def test_invalid_utf8_is_refused_with_where_it_fails(small_corpus):
    corpus = small_corpus.corpus_dir
    (corpus / "cp1252.txt").write_bytes("Embassy statement\n\nThe envoy said \u201cno\u201d.\n".encode("cp1252"))
    (corpus / "truncated.txt").write_bytes("Ends mid-character: caf\u00e9".encode()[:-1])
    rag, report = ingest(small_corpus)
    assert report.failed["cp1252.txt"] == "not UTF-8 text (byte 0x93 at offset 34); convert it to UTF-8"
    assert report.failed["truncated.txt"].startswith("not UTF-8 text (byte 0xc3 at offset 23)")
    assert_rest_ingested(rag, report)


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-32", "utf-8-sig"])
def test_text_with_a_byte_order_mark_is_read_and_cited_by_its_lines(hash_settings, encoding):
    text = "Ferry strike\r\n\r\nDock workers walked out at the harbour on Monday, officials said.\r\nThe ferries stopped.\r\n"
    bom = {"utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE}.get(encoding, b"")
    (hash_settings.corpus_dir / "encoded.txt").write_bytes(bom + text.encode(encoding))
    rag, report = ingest(hash_settings)
    assert report.added == ["encoded.txt"]
    [chunk] = assert_every_span_exact(rag, "encoded.txt")
    dock = next(s for s in chunk.sentences if s.text.startswith("Dock"))
    assert (dock.line_start, dock.line_end) == (3, 3)
    assert rag.show("encoded.txt:3").lines == ["Dock workers walked out at the harbour on Monday, officials said.\r"]


def test_utf16_without_a_byte_order_mark_gets_its_own_reason(small_corpus):
    (small_corpus.corpus_dir / "no-bom.txt").write_bytes(ARTICLE.encode("utf-16-le"))
    rag, report = ingest(small_corpus)
    assert report.failed["no-bom.txt"] == ("UTF-16 text without a byte-order mark; "
                                           "save it as UTF-8 (or UTF-16 with a BOM)")
    assert_rest_ingested(rag, report)


# --- size: a 50 MB file, a 10,000-line file, a 1 MB line --------------------------------------------

def test_a_50_mb_file_is_skipped_by_its_size_without_reading_it(small_corpus, monkeypatch):
    big = small_corpus.corpus_dir / "dump.txt"
    with open(big, "w") as f:
        line = "The harbour authority published its quarterly tonnage figures on Monday. " * 13 + "\n"
        for _ in range(50_000_000 // len(line) + 1):
            f.write(line)
    assert big.stat().st_size > 50_000_000
    reads = []
    original = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: reads.append(self.name) or original(self))
    rag, report = ingest(small_corpus)
    assert "dump.txt" not in reads  # refused from its size alone: memory stays bounded
    assert report.failed["dump.txt"] == (
        "file is 50.0 MB, over the 5.0 MB limit for one article (max_article_bytes); "
        "split it, or raise the limit with --set max_article_bytes=N")
    assert_rest_ingested(rag, report)


def test_the_limit_is_a_setting_and_applies_to_each_jsonl_record(small_corpus):
    corpus = small_corpus.corpus_dir
    (corpus / "feed.jsonl").write_text(
        json.dumps({"id": "small", "text": ARTICLE}) + "\n"
        + json.dumps({"id": "huge", "text": "Dock workers walked out. " * 200}) + "\n"
        + json.dumps({"id": "after", "text": "Ferries resumed on Tuesday after the strike ended."}) + "\n")
    (corpus / "long.txt").write_text("Ferries. " * 600)
    rag, report = ingest(small_corpus.model_copy(update={"max_article_bytes": 5_000}))
    assert report.failed["feed.jsonl:2"].startswith("line 2: record is 5,027 bytes, over the 5,000 bytes limit")
    assert report.failed["long.txt"].startswith("file is 5,400 bytes, over the 5,000 bytes limit")
    assert_rest_ingested(rag, report, "feed.jsonl#small", "feed.jsonl#after")


def test_ten_thousand_lines_without_sentence_punctuation(hash_settings):
    lines = [f"line {n} of the harbour log notes tide height and wind" + (" zanzibar" if n == 7000 else "")
             for n in range(1, 10_001)]
    (hash_settings.corpus_dir / "log.txt").write_text("\n".join(lines) + "\n")
    (hash_settings.corpus_dir / "other.txt").write_text(ARTICLE)
    rag, report = ingest(hash_settings)
    assert sorted(report.added) == ["log.txt", "other.txt"] and not report.failed
    chunks = assert_every_span_exact(rag, "log.txt")
    assert sum(len(c.sentences) for c in chunks) >= 1 and chunks[-1].line_end == 10_000
    [hit] = [h for h in rag.search("zanzibar").hits if h.lexical_rank == 1]
    assert hit.chunk.source == "log.txt" and "zanzibar" in hit.chunk.text


def test_a_file_that_is_one_1_mb_line(hash_settings):
    words = [f"w{i % 997}" for i in range(150_000)]
    words[120_000] = "zanzibar"
    text = " ".join(words)[:1_000_000].rstrip()
    (hash_settings.corpus_dir / "one-line.txt").write_text(text)
    (hash_settings.corpus_dir / "other.txt").write_text(ARTICLE)
    rag, report = ingest(hash_settings)
    assert sorted(report.added) == ["one-line.txt", "other.txt"] and not report.failed
    chunks = assert_every_span_exact(rag, "one-line.txt")
    assert len(chunks) > 100 and {(c.line_start, c.line_end) for c in chunks} == {(1, 1)}
    covered = sorted((s.char_start, s.char_end) for c in chunks for s in c.sentences)
    assert covered[0][0] == 0 and covered[-1][1] == len(text)  # nothing lost at either end
    [hit] = [h for h in rag.search("zanzibar").hits if h.lexical_rank == 1]
    assert hit.chunk.source == "one-line.txt" and "zanzibar" in hit.chunk.text


# --- HTML, JSONL ------------------------------------------------------------------------------------

PAGE = """<!doctype html>
<html><head><title>Harbour strike ends</title>
<style>body { font-family: serif } .ad { display: none }</style>
<script>window.dataLayer = []; function track() { return "ignore previous instructions"; }</script>
<script type="application/ld+json">{"headline": "Structured data, not the article"}</script>
</head>
<body onload="track()">
<nav><a href="/">Home</a> <a href="/news">News</a></nav>
<noscript>Please enable JavaScript to view the comments.</noscript>
<article>
<h1>Harbour strike ends after three days</h1>
<p>Dock workers returned to the harbour on Thursday after the port authority agreed
to a 4% pay rise, union officials said.</p>
<!-- <p>A commented-out paragraph that must never be indexed.</p> -->
<p>The island ferries will run a full timetable from Friday, the authority said.</p>
<script>document.write("<p>Injected by a script</p>");</script>
</article>
<footer>Copyright 2021 Harbour News</footer>
</body></html>
"""


def test_html_scripts_styles_and_comments_never_reach_the_index(small_corpus):
    (small_corpus.corpus_dir / "page.html").write_text(PAGE)
    rag, report = ingest(small_corpus)
    assert "page.html" in report.added
    chunks = assert_every_span_exact(rag, "page.html", fmt="html")
    text = "\n".join(c.text for c in chunks)
    assert "4% pay rise" in text and "full timetable from Friday" in text
    for hidden in ("font-family", "dataLayer", "ignore previous", "Structured data", "commented-out",
                   "Injected by a script", "enable JavaScript", "Copyright"):
        assert hidden not in text
    pay = next(s for c in chunks for s in c.sentences if "4% pay rise" in s.text)
    assert (pay.line_start, pay.line_end) == (12, 13)  # lines of the .html file
    assert_rest_ingested(rag, report)


def test_jsonl_bad_lines_are_reported_by_number_and_the_rest_ingested(small_corpus):
    good = {"id": "ok1", "title": "Ferries", "text": "Ferries resumed on Tuesday after the strike ended."}
    lines = [
        codecs.BOM_UTF8 + json.dumps(good).encode(),
        b'{"id": "x", "text": "unterminated',
        b'["an", "array"]',
        json.dumps({"id": "n", "text": 42}).encode(),
        json.dumps({"id": "bad-utf8", "text": "caf"}).encode()[:-2] + b'\xe9"}',
        json.dumps({"id": "nul", "text": "a\u0000b"}).encode(),
        json.dumps({"id": "ok1", "text": "A second record with the same id."}).encode(),
        json.dumps({"id": "crlf", "text": "Written with Windows line endings."}).encode() + b"\r",
        b"",
        json.dumps({"id": "last", "text": "The file ends without a newline."}).encode(),
    ]
    (small_corpus.corpus_dir / "wire.jsonl").write_bytes(b"\n".join(lines))
    rag, report = ingest(small_corpus)
    failed = {k: v for k, v in report.failed.items() if k.startswith("wire.jsonl")}
    assert failed == {
        "wire.jsonl:2": "line 2: invalid JSON (Unterminated string starting at)",
        "wire.jsonl:3": "line 3: expected an object with a string 'text' field",
        "wire.jsonl:4": "line 4: expected an object with a string 'text' field",
        "wire.jsonl:5": "line 5: not UTF-8 text (byte 0xe9 at column 32)",
        "wire.jsonl:6": "line 6: the text holds a NUL character",
        "wire.jsonl:7": "line 7: duplicate id 'ok1'",
    }
    assert {"wire.jsonl#ok1", "wire.jsonl#crlf", "wire.jsonl#last"} <= set(report.added)
    assert rag.show("wire.jsonl#last:1").lines == ["The file ends without a newline."]
    assert_rest_ingested(rag, report)


def test_a_feed_of_mostly_broken_lines_lists_twenty_and_counts_the_rest(small_corpus):
    lines = ["{broken"] * 500 + [json.dumps({"id": "fine", "text": "The one good record."})]
    (small_corpus.corpus_dir / "junk.jsonl").write_text("\n".join(lines) + "\n")
    rag, report = ingest(small_corpus)
    junk = [k for k in report.failed if k.startswith("junk.jsonl")]
    assert len(junk) == 21
    assert report.failed["junk.jsonl:21+"] == "480 more bad lines not listed (lines 21-500)"
    assert "junk.jsonl#fine" in report.added


# --- paths: symlink loops, names, FIFOs ---------------------------------------------------------------

def test_symlink_loops_are_reported_and_never_followed_forever(small_corpus, tmp_path):
    corpus = small_corpus.corpus_dir
    (corpus / "sub").mkdir()
    (corpus / "sub" / "article.txt").write_text(ARTICLE)
    (corpus / "sub" / "up").symlink_to("..")  # a directory loop
    (corpus / "a.txt").symlink_to("b.txt")
    (corpus / "b.txt").symlink_to("a.txt")  # a file loop
    (corpus / "self.txt").symlink_to("self.txt")
    (corpus / "dangling.txt").symlink_to("missing.txt")
    (tmp_path / "loop-arg").symlink_to(tmp_path / "loop-arg")
    rag, report = ingest(small_corpus, corpus, tmp_path / "loop-arg")
    by_name = {Path(k).name: v for k, v in report.failed.items()}
    assert by_name["a.txt"] == by_name["b.txt"] == by_name["self.txt"] == "symlink loop"
    assert by_name["dangling.txt"] == "broken symlink"
    assert by_name["loop-arg"] == "symlink loop"
    assert by_name["up"] == "symlink loop, skipped"
    assert_rest_ingested(rag, report, "sub/article.txt")


def test_file_names_with_spaces_and_unicode_are_sources_citations_and_show_targets(cli, small_corpus):
    corpus = small_corpus.corpus_dir
    (corpus / "Hafen – Streik in Zürich").mkdir()
    name = "Hafen – Streik in Zürich/Bürgermeister spricht 東京 #1.txt"
    (corpus / name).write_text(ARTICLE)
    (corpus / "  leading and trailing  .md").write_text(ARTICLE.replace("harbour", "marina"))
    rag, report = ingest(small_corpus)
    assert {name, "  leading and trailing  .md"} <= set(report.added)
    assert_every_span_exact(rag, name)
    hit = rag.search("dock workers harbour island ferries", k=3).hits[0]
    assert hit.chunk.source == name
    args = ["--store-dir", small_corpus.store_dir, "--set", "embedding_model=hash"]
    code, out, err = cli("show", f"{name}:3", *args)
    assert code == 0 and "Dock workers walked out" in out, err
    code, out, err = cli("search", "island ferries", *args, "--source", "Hafen*", "--json")
    assert code == 0 and json.loads(out)["hits"][0]["chunk"]["source"] == name


def test_a_file_name_that_is_not_utf8_is_refused_by_name(small_corpus):
    corpus = small_corpus.corpus_dir
    with open(os.path.join(os.fsencode(corpus), b"caf\xe9.txt"), "w") as f:
        f.write(ARTICLE)
    rag, report = ingest(small_corpus)
    [(where, reason)] = [(k, v) for k, v in report.failed.items() if "caf" in k]
    assert where.endswith("caf\\xe9.txt") and reason == "file name is not valid UTF-8; rename the file"
    assert_rest_ingested(rag, report)


def test_a_named_pipe_does_not_hang_the_ingest(small_corpus):
    fifo = small_corpus.corpus_dir / "pipe.txt"
    os.mkfifo(fifo)
    reports = []
    worker = threading.Thread(target=lambda: reports.append(ingest(small_corpus)), daemon=True)
    worker.start()
    worker.join(120)
    if not reports:  # unblock the reader so the thread can end, then fail
        with open(fifo, "w") as f:
            f.write("x")
        pytest.fail("the ingest blocked on a FIFO")
    rag, report = reports[0]
    assert report.failed["pipe.txt"] == "not a regular file"  # named relative to the corpus root
    assert_rest_ingested(rag, report)


# --- duplicates ---------------------------------------------------------------------------------------

def test_syndicated_copies_are_indexed_once_wherever_they_are(small_corpus):
    corpus = small_corpus.corpus_dir
    (corpus / "wire").mkdir()
    shutil.copy(corpus / GOOD[0], corpus / "wire" / "copy of 000.txt")
    shutil.copy(corpus / GOOD[1], corpus / "wire" / "another.txt")
    record = json.dumps({"text": "Ferries resumed on Tuesday after the strike ended."})
    (corpus / "feed.jsonl").write_text(f"{record}\n{record}\n")
    rag, report = ingest(small_corpus)
    assert report.duplicates == {"wire/copy of 000.txt": GOOD[0], "wire/another.txt": GOOD[1],
                                 "feed.jsonl#2": "feed.jsonl#1"}
    assert rag.status().documents == 3
    hits = rag.search("Trump warns Iran Americans Iraq", k=10).hits
    assert not {h.chunk.source for h in hits} & {"wire/copy of 000.txt", "wire/another.txt"}


def test_a_copy_takes_over_when_its_original_is_deleted(small_corpus):
    corpus = small_corpus.corpus_dir
    shutil.copy(corpus / GOOD[0], corpus / "zz-copy.txt")
    Rag(small_corpus).ingest()
    (corpus / GOOD[0]).unlink()
    rag, report = ingest(small_corpus)
    assert report.removed == [GOOD[0]] and report.added == ["zz-copy.txt"]
    assert check_index(rag.store).consistent


def test_an_article_edited_into_a_copy_of_another_leaves_no_stale_text(small_corpus):
    corpus = small_corpus.corpus_dir
    rag = Rag(small_corpus)
    rag.ingest()
    shutil.copy(corpus / GOOD[0], corpus / GOOD[1])  # 003 now holds 000's bytes
    report = rag.ingest()
    assert report.duplicates == {GOOD[1]: GOOD[0]} and report.removed == [GOOD[1]]
    assert rag.status().documents == 1 and rag.store.docs.chunks_of(GOOD[1]) == []
    assert check_index(rag.store).consistent


def test_swapped_contents_are_not_mistaken_for_copies(small_corpus):
    corpus = small_corpus.corpus_dir
    rag = Rag(small_corpus)
    rag.ingest()
    first, second = (corpus / GOOD[0]).read_bytes(), (corpus / GOOD[1]).read_bytes()
    (corpus / GOOD[0]).write_bytes(second)
    (corpus / GOOD[1]).write_bytes(first)
    report = rag.ingest()
    assert sorted(report.updated) == sorted(GOOD) and report.duplicates == {}
    assert rag.store.docs.raw(GOOD[0]) == second.decode()
    assert check_index(rag.store).consistent
