"""Parsing an article: metadata, sentence and chunk spans that map back to the original file."""

from pathlib import Path

import pytest

from rag.answer.verify import quote_is_verbatim
from rag.models import Citation
from rag.text.document import parse_document
from rag.text.readers import FileRef, read_file
from rag.text.tokens import count_tokens

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
NAMES = sorted(p.name for p in CORPUS.glob("*.txt"))


def parse(path: Path, source: str | None = None, tokens: int = 160, overlap: int = 1):
    docs, failures = read_file(FileRef(path, source or path.name))
    assert not failures
    return [(doc, *parse_document(doc, tokens, overlap)) for doc in docs]


@pytest.mark.parametrize("name", NAMES)
def test_every_sentence_and_chunk_maps_to_the_original_text(name):
    [(doc, article, chunks)] = parse(CORPUS / name)
    raw = (CORPUS / name).read_text()
    lines = raw.split("\n")
    assert chunks
    for chunk in chunks:
        assert count_tokens(chunk.text) <= 160
        for s in chunk.sentences:
            assert raw[s.char_start:s.char_end] == s.text
            assert s.text in "\n".join(lines[s.line_start - 1:s.line_end])
            assert chunk.line_start <= s.line_start <= s.line_end <= chunk.line_end
        first, last = chunk.sentences[0], chunk.sentences[-1]
        assert (chunk.char_start, chunk.char_end) == (first.char_start, last.char_end)


def test_chunks_overlap_by_one_sentence_and_cover_every_sentence():
    [(doc, _, chunks)] = parse(CORPUS / "001_c31d4bc7025f9123.txt", tokens=80, overlap=1)
    overlapping = 0
    for a, b in zip(chunks, chunks[1:]):
        if a.sentences[-1] == b.sentences[0]:
            overlapping += 1
        else:  # only when the repeated sentence and the next one exceed the budget together
            both = doc.raw[a.sentences[-1].char_start:b.sentences[0].char_end]
            assert count_tokens(both) > 80
    assert overlapping >= len(chunks) // 3
    [(_, _, no_overlap)] = parse(CORPUS / "001_c31d4bc7025f9123.txt", tokens=80, overlap=0)
    covered = [s.char_start for c in no_overlap for s in c.sentences]
    assert covered == sorted(set(covered))
    assert set(covered) == {s.char_start for c in chunks for s in c.sentences}


def test_dropped_lines_never_reach_a_chunk():
    [(_, article, chunks)] = parse(CORPUS / "004_bd0859deabb9f25c.txt")
    text = " ".join(c.text for c in chunks)
    assert "Taylor Swift" not in text and "Hilary Duff" not in text
    assert {d.reason for d in article.dropped} == {"separator", "trailing-headlines"}


@pytest.mark.parametrize("name, title, date", [
    ("000_eb6e83a28ce734ce.txt", "President Trump warns against future attacks on Americans in Iraq", "2020-12-24"),
    ("001_c31d4bc7025f9123.txt", "US President Donald Trump Warns Iran over Rocket Attacks on Embassy in Iraq", None),
    ("003_568550a85670bdb3.txt", "U.S. considering closing Iraqi embassy after rocket attack", "2020-12-23"),
    ("004_bd0859deabb9f25c.txt", "US warns Iraq it ‘will not tolerate’ attacks on Americans", None),
])
def test_titles_and_dates(name, title, date):
    [(_, article, _)] = parse(CORPUS / name)
    assert article.title.startswith(title)
    assert (article.date.isoformat() if article.date else None) == date


def test_front_matter_sets_metadata_and_keeps_line_numbers(tmp_path):
    path = tmp_path / "a.md"
    path.write_text("---\ntitle: Rockets hit Baghdad\ndate: 2020-12-20\nsource: Example Wire\n"
                    "url: https://example.com/2020/12/20/rockets\n---\n\nEight rockets hit the Green Zone on Sunday, "
                    "the Iraqi military said.\n")
    [(_, article, chunks)] = parse(path)
    assert (article.title, article.date.isoformat(), article.outlet) == ("Rockets hit Baghdad", "2020-12-20", "Example Wire")
    sentence = chunks[0].sentences[0]
    assert sentence.line_start == 8 and sentence.text.startswith("Eight rockets")
    assert {d.reason for d in article.dropped} == {"front-matter"}


def test_dates_from_dateline_and_url(tmp_path):
    path = tmp_path / "b.jsonl"
    path.write_text('{"id": "x1", "url": "https://www.cnn.com/2022/06/12/world/story/index.html", '
                    '"text": "Paris CNN —\\n\\nThe French president spoke on Sunday about the elections, aides said."}\n')
    [(_, article, chunks)] = parse(path, "b.jsonl")
    assert article.source == "b.jsonl#x1"
    assert article.date.isoformat() == "2022-06-12" and article.outlet == "cnn.com"
    assert chunks[0].sentences[0].line_start == 3


def test_html_citations_name_lines_of_the_html_file(tmp_path):
    path = tmp_path / "page.html"
    path.write_text(
        "<html><head><title>Rockets hit Baghdad</title><script>var s = 'do not index me';</script></head>\n"
        "<body><nav><a href='/'>Home</a></nav>\n<article><h1>Rockets hit Baghdad</h1>\n"
        "<p>At least eight rockets were fired at the U.S. Embassy in Baghdad&#8217;s Green Zone on Sunday,\n"
        "the Iraqi military said.</p>\n<p>&ldquo;Our embassy got hit,&rdquo; the president wrote on Twitter.</p>\n"
        "<p>The attack caused minor damage to the embassy compound and nearby residential buildings.</p>\n"
        "</article><footer>Copyright 2020 Example News</footer></body></html>\n"
    )
    [(doc, article, chunks)] = parse(path)
    sentences = [s for c in chunks for s in c.sentences]
    texts = [s.text for s in sentences]
    assert "“Our embassy got hit,” the president wrote on Twitter." in texts
    assert not any("do not index" in t or "Copyright" in t or t == "Home" for t in texts)
    fired = next(s for s in sentences if s.text.startswith("At least eight"))
    assert (fired.line_start, fired.line_end) == (4, 5)
    for s in sentences:
        citation = Citation(n=1, source="page.html", line_start=s.line_start, line_end=s.line_end, quote=s.text)
        assert quote_is_verbatim(citation, doc.raw, "html")


def test_a_sentence_longer_than_a_chunk_is_cut_at_words_with_exact_spans(tmp_path):
    path = tmp_path / "long.txt"
    words = " ".join(f"word{i}" for i in range(3000))
    path.write_text("A title line\n\n" + words + "\n")
    [(doc, _, chunks)] = parse(path, tokens=100, overlap=0)
    assert len(chunks) > 10
    for chunk in chunks:
        assert count_tokens(chunk.text) <= 100
        for s in chunk.sentences:
            assert doc.raw[s.char_start:s.char_end] == s.text
