"""Property-based tests (hypothesis): for any input text, every sentence, chunk and citation span
maps back to identical text in the file, and line spans agree with character spans.

The generated texts mix news-like pieces (abbreviations, quotes, bullets, headings, separators,
captions, URLs, numbers) with arbitrary Unicode, line endings (\\n, \\r\\n, blank runs), tabs,
zero-width and combining characters, very long words and unpunctuated runs. Files are written
as UTF-8, UTF-8 with a BOM, or UTF-16, and go through the real readers."""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from rag.answer.citations import CitationBook
from rag.answer.verify import cited_text, quote_is_verbatim
from rag.errors import InputError
from rag.text.clean import clean_lines
from rag.text.document import parse_document
from rag.text.lines import LineIndex
from rag.text.readers import FileRef, read_file

WORDS = [
    "The", "embassy", "said", "on", "Sunday", "U.S.", "Dr.", "Lt. Col.", "No. 10", "Jan. 3,", "2020", "8",
    "rockets", "were", "fired", "at", "the", "Green", "Zone", "officials", "Iraq", "Mr. Smith", "St. Louis",
    "“Our embassy got hit,”", "\"quoted", "text\"", "'single'", "(AFP)", "—", "–", "-", "e.g.", "a.m.", "3.5%",
    "$1.2bn", "https://example.com/a?b=c", "Zürich", "東京", "مرحبا", "Привет", "🚀", "e\u0301", "x" * 300,
]
MARKS = [".", ".", ".", ",", "?", "!", ";", ":", "…", ".”", "\u200b", "\u00a0"]
LINE_STARTS = ["• ", "* ", "1. ", "Photo: Getty Images", "FILE - A file photo", "Read More", "Advertisement",
               "---", "***", "By Jane Doe", "\t", "  "]
BREAKS = ["\n", "\n", "\n\n", "\r\n", "\n\n\n", "\n \n"]
OTHER = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12)
WORD = st.one_of(st.sampled_from(WORDS), st.sampled_from(WORDS), OTHER)
SENTENCE = st.tuples(st.lists(WORD, min_size=1, max_size=25).map(" ".join), st.sampled_from(MARKS + [""])).map("".join)
PARAGRAPH = st.tuples(st.sampled_from(LINE_STARTS + [""] * 8),
                      st.lists(SENTENCE, min_size=1, max_size=6).map(" ".join)).map("".join)


@st.composite
def texts(draw) -> str:
    """Paragraphs of sentences, and odd lines, joined by assorted line breaks."""
    blocks = draw(st.lists(st.one_of(PARAGRAPH, PARAGRAPH, OTHER), min_size=1, max_size=12))
    out = blocks[0]
    for block in blocks[1:]:
        out += draw(st.sampled_from(BREAKS)) + block
    return out


TEXT = texts()
PROPERTY = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def parse(path: Path, source: str, tokens: int = 40, overlap: int = 1):
    try:
        docs, _ = read_file(FileRef(path, source))
    except InputError:  # empty or unreadable text is refused, with a reason, before parsing
        return []
    return [(doc, *parse_document(doc, tokens, overlap)) for doc in docs]


def assert_spans_exact(doc, article, chunks, fmt: str) -> None:
    raw = doc.raw
    index = LineIndex(raw)
    book = CitationBook()
    for chunk in chunks:
        assert chunk.sentences
        assert (chunk.char_start, chunk.char_end) == (chunk.sentences[0].char_start, chunk.sentences[-1].char_end)
        assert chunk.line_start == chunk.sentences[0].line_start
        assert chunk.line_end == max(s.line_end for s in chunk.sentences)
        position = 0
        for s in chunk.sentences:
            if fmt != "html":
                assert raw[s.char_start:s.char_end] == s.text  # the span IS the text
            assert 0 <= s.char_start < s.char_end <= len(raw)
            assert index.lines_of(s.char_start, s.char_end) == (s.line_start, s.line_end)
            assert 1 <= s.line_start <= s.line_end <= index.count
            position = chunk.text.index(s.text, position)  # a chunk is its sentences, in order
            position += len(s.text)
            citation = chunk_citation(book, chunk, s)
            assert citation.quote == s.text
            assert quote_is_verbatim(citation, raw, fmt)  # what `rag show` prints at the cited lines
            assert s.text.strip() and (fmt == "html" or s.text in cited_text(raw, fmt, s.line_start, s.line_end))


def chunk_citation(book: CitationBook, chunk, sentence):
    return book.citations[book.cite(chunk, sentence) - 1]


@PROPERTY
@given(text=TEXT, encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]), suffix=st.sampled_from([".txt", ".md"]),
       front_matter=st.booleans())
def test_sentence_chunk_and_citation_spans_are_the_file_text(tmp_path_factory, text, encoding, suffix, front_matter):
    if front_matter:
        text = "---\ntitle: A generated article\ndate: 2020-12-20\n---\n" + text
    path = tmp_path_factory.mktemp("prop") / f"article{suffix}"
    path.write_bytes(text.encode(encoding))
    for doc, article, chunks in parse(path, path.name):
        assert doc.raw == text  # decoding loses nothing but the byte-order mark
        assert article.n_lines == text.count("\n") + 1
        assert_spans_exact(doc, article, chunks, "txt")


@PROPERTY
@given(text=TEXT)
def test_dropped_lines_never_reach_a_sentence(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("prop") / "article.txt"
    path.write_text(text, encoding="utf-8")
    for doc, article, chunks in parse(path, path.name):
        dropped = clean_lines(doc.raw.split("\n"))
        for chunk in chunks:
            for s in chunk.sentences:
                assert not set(range(s.line_start, s.line_end + 1)) & set(dropped), (s, dropped)
        assert {d.line for d in article.dropped} <= set(dropped)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(paragraphs=st.lists(TEXT, min_size=1, max_size=5), script=st.sampled_from(["", "var s = 'x < y && y > z';"]))
def test_html_citations_are_the_visible_text_of_the_cited_lines(tmp_path_factory, paragraphs, script):
    from html import escape

    body = "\n".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    html = (f"<html><head><title>Generated</title><style>p {{ color: red }}</style><script>{script}</script></head>\n"
            f"<body><article><h1>Generated article</h1>\n{body}\n</article></body></html>\n")
    path = tmp_path_factory.mktemp("prop") / "page.html"
    path.write_text(html, encoding="utf-8")
    for doc, article, chunks in parse(path, path.name):
        assert_spans_exact(doc, article, chunks, "html")
        assert not any("color: red" in c.text or (script and script in c.text) for c in chunks)


@PROPERTY
@given(records=st.lists(TEXT, min_size=1, max_size=4))
def test_jsonl_record_spans_are_the_record_text(tmp_path_factory, records):
    path = tmp_path_factory.mktemp("prop") / "feed.jsonl"
    path.write_text("".join(json.dumps({"id": f"r{i}", "text": t}) + "\n" for i, t in enumerate(records)),
                    encoding="utf-8")
    parsed = parse(path, path.name)
    for doc, article, chunks in parsed:
        assert doc.raw == records[int(doc.source.rsplit("#r", 1)[1])]
        assert_spans_exact(doc, article, chunks, "jsonl")


_EXAMPLE = itertools.count()


@pytest.fixture(scope="module")
def end_to_end(tmp_path_factory):
    """One store for every example: each example rewrites the article and ingests it again."""
    from rag.api import Rag
    from rag.settings import Settings

    root = tmp_path_factory.mktemp("prop-e2e")
    (root / "corpus").mkdir()
    rag = Rag(Settings(store_dir=root / "store", corpus_dir=root / "corpus", embedding_model="hash", chunk_tokens=40))
    yield rag, root / "corpus"
    rag.close()
    shutil.rmtree(root, ignore_errors=True)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(text=TEXT, encoding=st.sampled_from(["utf-8", "utf-16"]))
def test_indexed_citations_match_the_file_on_disk(end_to_end, text, encoding):
    """Through a real ingest: every stored sentence, cited and shown, is the file's text."""
    rag, corpus = end_to_end
    # A new name for every example: the store is shared, and an example that repeats an earlier
    # one (hypothesis does while shrinking) would find the file unchanged, so not re-ingested,
    # and would meet the earlier example's state instead of its own.
    name = f"generated article {next(_EXAMPLE)}.txt"
    for old in corpus.iterdir():
        old.unlink()
    path = corpus / name
    path.write_bytes(text.encode(encoding))
    report = rag.ingest([corpus])
    assume(name not in report.failed)
    on_disk = path.read_bytes().decode(encoding)
    chunks = rag.store.docs.chunks_of(name)
    assert chunks and rag.store.docs.raw(name) == on_disk
    lines = on_disk.split("\n")
    book = CitationBook()
    for chunk in chunks:
        for s in chunk.sentences:
            assert on_disk[s.char_start:s.char_end] == s.text
            passage = rag.show(f"{name}:{s.line_start}-{s.line_end}")
            assert passage.lines == lines[s.line_start - 1:s.line_end]
            assert quote_is_verbatim(chunk_citation(book, chunk, s), on_disk)
