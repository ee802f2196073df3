"""Poison pills (issue 19): front matter that explodes, dates that do not exist, unbounded titles,
symlinks out of the corpus, and JSONL ids that cannot be cited. Each is refused or capped with a
one-line reason, per file, and the rest of the ingest goes on. Hash embedder, embedded Chroma."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.fuzz_frontmatter import file_bytes
from bench.fuzz_frontmatter import run as fuzz_run
from rag.api import Rag
from rag.errors import InputError
from rag.index.status import check_index
from rag.server import create_app
from rag.text.document import parse_document
from rag.text.fields import MAX_FIELD_CHARS
from rag.text.frontmatter import MAX_FRONT_MATTER_CHARS
from rag.text.readers import FileRef, read_file

GOOD = ["000_eb6e83a28ce734ce.txt", "003_568550a85670bdb3.txt"]
BODY = "Dock workers walked out at the harbour on Monday, halting the island ferries, officials said.\n"


def ingest(settings, *paths):
    rag = Rag(settings)
    report = rag.ingest(list(paths) or None)
    assert all(reason and "\n" not in reason for reason in report.failed.values()), report.failed
    return rag, report


def assert_rest_ingested(rag, report, *extra):
    assert set(GOOD) | set(extra) <= set(report.added) | set(report.skipped), report
    assert check_index(rag.store).consistent


def alias_bomb(depth: int, width: int = 9) -> str:
    lines = [f"a0: &a0 [{', '.join(['x'] * width)}]"]
    for level in range(1, depth):
        lines.append(f"a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * width)}]")
    return "---\n" + "\n".join(lines) + f"\ntitle: *a{depth - 1}\n---\n{BODY}"


# --- 1. a 414-byte alias bomb ------------------------------------------------------------------------

@pytest.mark.parametrize("depth", [3, 7])
def test_yaml_aliases_are_refused_before_they_expand(small_corpus, depth):
    bomb = alias_bomb(depth)
    assert len(bomb) < 500
    (small_corpus.corpus_dir / "bomb.md").write_text(bomb)
    rag, report = ingest(small_corpus)
    assert report.failed["bomb.md"] == "front matter uses a YAML anchor or alias (&name / *name), which is not allowed"
    assert_rest_ingested(rag, report)


def test_a_refused_upload_is_deleted_and_blocks_no_later_ingest(small_corpus):
    with TestClient(create_app(small_corpus, warm=False), base_url="http://localhost") as client:
        response = client.post("/documents", files=[("files", ("bomb.md", alias_bomb(7).encode(), "text/markdown"))],
                               headers={"X-Rag-Client": "test"})
        assert response.status_code == 422 and "YAML anchor or alias" in response.json()["error"]
        assert not (small_corpus.corpus_dir / "uploads" / "bomb.md").exists()
        everything = client.post("/ingest", json={})
        assert everything.status_code == 200 and sorted(everything.json()["added"]) == GOOD


# --- 2. one impossible date (or time, integer, nesting) blocks nothing -----------------------------

@pytest.mark.parametrize("field, says", [
    ("date: 2020-02-30", "front matter: date '2020-02-30' is not a date (day is out of range for month)"),
    ("date: 2020-13-01", "front matter: date '2020-13-01' is not a date (month must be in 1..12)"),
    ("date: 2020-01-05 25:00:00", "front matter: date '2020-01-05 25:00:00' is not a date (hour must be in 0..23)"),
    ("date: next week sometime", "front matter: date 'next week sometime' is not a date (write YYYY-MM-DD)"),
    ("date: " + "7" * 5000, "front matter: date '77777777777777777777…' is not a date (write YYYY-MM-DD)"),
    ("title: [a, b]", "front matter: title must be text, not a list"),
    ("author: {name: x}", "front matter: author must be text, not a mapping"),
    ("title: " + "[" * 3000 + "]" * 3000, "front matter is nested deeper than 10 levels"),
    ("url: not a url at all", "front matter: url 'not a url at all' is not a URL"),
])
def test_one_bad_front_matter_field_is_that_files_one_line_reason(small_corpus, field, says):
    (small_corpus.corpus_dir / "bad.md").write_text(f"---\ntitle: x\n{field}\n---\n{BODY}")
    rag, report = ingest(small_corpus)
    assert report.failed["bad.md"] == says
    assert_rest_ingested(rag, report)


def test_a_bad_date_is_no_500_over_http_and_later_ingests_work(small_corpus):
    (small_corpus.corpus_dir / "bad.md").write_text(f"---\ntitle: x\ndate: 2020-02-30\n---\n{BODY}")
    with TestClient(create_app(small_corpus, warm=False), base_url="http://localhost") as client:
        for _ in range(2):
            response = client.post("/ingest", json={})
            assert response.status_code == 200, response.text
            assert response.json()["failed"] == {"bad.md": "front matter: date '2020-02-30' is not a date "
                                                           "(day is out of range for month)"}


def test_valid_dates_and_datetimes_still_date_the_article(hash_settings):
    for n, value in enumerate(["2020-12-20", "2020-12-20T08:30:00Z", "Dec 20, 2020", "'2020-12-20'"]):
        (hash_settings.corpus_dir / f"d{n}.md").write_text(f"---\ntitle: Rockets\ndate: {value}\n---\n{BODY}")
    rag, report = ingest(hash_settings)
    assert not report.failed
    assert {a.date.isoformat() for a in rag.documents()} == {"2020-12-20"}


def test_yaml_tags_and_scalars_are_read_as_text_never_as_objects(hash_settings):
    (hash_settings.corpus_dir / "t.md").write_text(
        "---\ntitle: !!python/object:os.system 'echo hi'\nauthor: 1e309\nsource: yes\n---\n" + BODY)
    rag, _ = ingest(hash_settings)
    [article] = rag.documents()
    assert article.title == "echo hi" and article.author == "1e309" and article.outlet == "yes"


# --- 3. titles and other fields are capped ----------------------------------------------------------

def test_an_oversized_front_matter_block_is_refused(small_corpus):
    body = "".join(f"Line {n} of the harbour report, with tide and wind.\n" for n in range(800))
    (small_corpus.corpus_dir / "huge-title.md").write_text("---\ntitle: " + "T" * 500_000 + "\n---\n" + body)
    rag, report = ingest(small_corpus)
    assert report.failed["huge-title.md"] == (
        f"front matter is 500,008 characters, over the {MAX_FRONT_MATTER_CHARS:,} limit")
    assert_rest_ingested(rag, report)


def test_long_titles_are_capped_wherever_they_come_from(hash_settings):
    corpus = hash_settings.corpus_dir
    long_words = " ".join(["Harbourmaster"] * 300)  # 4,200 characters: three fit the front matter limit
    (corpus / "fm.md").write_text(f"---\ntitle: {long_words}\nauthor: {long_words}\nsource: {long_words}\n---\n{BODY}")
    (corpus / "line.txt").write_text(" ".join(["W" * 4000] * 20) + "\n\n" + BODY)  # a first line of 20 words
    (corpus / "page.html").write_text(f"<html><head><title>{long_words}</title></head><body><article><p>{BODY}"
                                      "</p></article></body></html>")
    (corpus / "feed.jsonl").write_text(json.dumps({"id": "r1", "title": long_words, "text": BODY}) + "\n")
    rag, report = ingest(hash_settings)
    assert not report.failed
    articles = rag.documents()
    assert len(articles) == 4
    for article in articles:
        assert len(article.title) <= MAX_FIELD_CHARS["title"] and article.title.endswith("…"), article.source
    fm = next(a for a in articles if a.source == "fm.md")
    assert len(fm.author) <= MAX_FIELD_CHARS["author"] and len(fm.outlet) <= MAX_FIELD_CHARS["source"]
    for chunk in rag.store.docs.chunks_of("fm.md"):
        assert len(chunk.title) <= MAX_FIELD_CHARS["title"]


def test_titles_lose_control_characters_and_line_breaks(hash_settings):
    (hash_settings.corpus_dir / "c.md").write_text('---\ntitle: "Harbour\\x00 strike\\nends\\tnow"\n---\n' + BODY)
    rag, _ = ingest(hash_settings)
    assert rag.documents()[0].title == "Harbour strike ends now"


# --- any exception from one file is that file's reason ---------------------------------------------

def test_an_unexpected_exception_from_one_file_is_reported_and_the_rest_goes_on(small_corpus, monkeypatch):
    from rag.text import readers

    real = readers.split_front_matter

    def explode(text):
        if "zq-explode" in text:
            raise ZeroDivisionError("a bug in a reader")
        return real(text)

    monkeypatch.setattr(readers, "split_front_matter", explode)
    (small_corpus.corpus_dir / "explode.md").write_text("---\ntitle: zq-explode\n---\n" + BODY)
    rag, report = ingest(small_corpus)
    assert report.failed["explode.md"] == "could not read: ZeroDivisionError: a bug in a reader"
    assert_rest_ingested(rag, report)


FRONT_MATTER_TEXT = st.text(st.sampled_from(list("abtitledaeurl :-[]{}&*!|>'\"#,?\n\t0123456789.\\") + ["\x00", "é"]),
                            max_size=200)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(front=FRONT_MATTER_TEXT, key=st.sampled_from(["title", "date", "url", "author", "source", "id", "other"]))
def test_random_front_matter_is_read_or_refused_with_one_line(tmp_path, front, key):
    text = f"---\n{key}: {front}\n{front}\n---\n{BODY}"
    _read_and_parse(tmp_path, text.encode("utf-8", "surrogatepass"))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=400), prefix=st.sampled_from([b"", b"---\n", b"\xef\xbb\xbf---\ntitle: "]))
def test_random_bytes_are_read_or_refused_with_one_line(tmp_path, data, prefix):
    _read_and_parse(tmp_path, prefix + data)


def _read_and_parse(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "article.md"
    path.write_bytes(data)
    try:
        docs, failures = read_file(FileRef(path=path, source="article.md"), 5_000_000)
    except InputError as err:
        assert str(err) and "\n" not in str(err)
        return
    assert not failures
    for doc in docs:
        article, _ = parse_document(doc, 256, 1)
        assert article.title is None or len(article.title) <= MAX_FIELD_CHARS["title"]


def test_a_small_fuzz_run_ingests_without_an_unhandled_exception(tmp_path):
    result = fuzz_run(300, seed=19, workdir=tmp_path)
    assert result["consistent"] and result["added"] > 50 and result["failed"] > 10, result
    assert result["multi_line_reasons"] == [] and result["unexpected_errors"] == [], result


def test_the_fuzz_generator_is_deterministic():
    first = [file_bytes(random.Random(5)) for _ in range(3)]
    assert first == [file_bytes(random.Random(5)) for _ in range(3)]


# --- 8. symlinks never reach outside the corpus root ------------------------------------------------

@pytest.fixture
def outside(tmp_path):
    directory = tmp_path / "outside"
    directory.mkdir()
    (directory / "secret.txt").write_text("The outside secret says the harbour tunnel plans are ready.\n")
    (directory / GOOD[0]).write_text("An outside file under a corpus file's name: the harbour is closed.\n")
    return directory


def test_a_whole_corpus_ingest_refuses_symlinks_that_leave_the_root(small_corpus, outside):
    corpus = small_corpus.corpus_dir
    (corpus / "ext").symlink_to(outside)  # a folder outside
    (corpus / "secret-link.txt").symlink_to(outside / "secret.txt")  # a file outside
    for _ in range(3):  # the outside twin of GOOD[0] never replaces it, on any later ingest
        rag, report = ingest(small_corpus)
        assert report.failed == {"ext": "a symlink that leads outside the corpus root; not ingested",
                                 "secret-link.txt": "a symlink that leads outside the corpus root; not ingested"}
        assert {a.source for a in rag.documents()} == set(GOOD)
        assert "harbour is closed" not in rag.store.docs.raw(GOOD[0])
        assert check_index(rag.store).consistent


def test_an_http_whole_corpus_ingest_refuses_them_too_and_never_serves_them(small_corpus, outside):
    corpus = small_corpus.corpus_dir
    (corpus / "ext").symlink_to(outside)
    with TestClient(create_app(small_corpus, warm=False), base_url="http://localhost") as client:
        report = client.post("/ingest", json={"paths": []}).json()
        assert report["failed"] == {"ext": "a symlink that leads outside the corpus root; not ingested"}
        assert client.get("/documents/ext/secret.txt").status_code == 404
        assert client.get("/documents/secret.txt").status_code == 404


def test_two_names_for_one_file_are_reported_and_indexed_once(small_corpus):
    corpus = small_corpus.corpus_dir
    (corpus / "sub").mkdir()
    (corpus / "sub" / "alias.txt").symlink_to(corpus / GOOD[1])
    (corpus / "aaa-first.txt").symlink_to(GOOD[1])  # walked before the real file
    rag, report = ingest(small_corpus)
    assert report.failed == {
        "aaa-first.txt": f"the same file as {GOOD[1]} (a symlink); ingested once, as {GOOD[1]}",
        "sub/alias.txt": f"the same file as {GOOD[1]} (a symlink); ingested once, as {GOOD[1]}",
    }
    assert sorted(a.source for a in rag.documents()) == GOOD


def test_a_directory_outside_the_root_is_walked_within_itself(small_corpus, tmp_path, outside):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "story.txt").write_text(BODY)
    (elsewhere / "escape.txt").symlink_to(outside / "secret.txt")
    _, report = ingest(small_corpus, elsewhere)
    assert report.added == ["story.txt"]
    # Outside the corpus root, a failure is named as the walk met it (from the path given).
    assert report.failed == {str(elsewhere / "escape.txt"): "a symlink that leads outside elsewhere; not ingested"}


def test_two_files_that_would_share_one_source_name_are_reported(small_corpus, tmp_path):
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "story.txt").write_text(f"{BODY}This is copy {name}.\n")
    _, report = ingest(small_corpus, tmp_path / "one", tmp_path / "two")
    assert report.added == ["story.txt"]
    assert report.failed == {str(tmp_path / "two" / "story.txt"):
                             "another file is already ingested as story.txt in this run; rename one"}


def test_failures_under_the_corpus_root_are_named_by_relative_path(small_corpus):
    (small_corpus.corpus_dir / "dangling.txt").symlink_to("missing.txt")
    _, report = ingest(small_corpus)
    assert report.failed == {"dangling.txt": "broken symlink"}


# --- 10. JSONL ids --------------------------------------------------------------------------------

def test_jsonl_ids_that_cannot_be_cited_are_refused_by_line(small_corpus):
    records = [{"id": "ok", "text": BODY}, {"id": "line\nbreak", "text": BODY + "a"}, {"id": "x:5-9", "text": BODY + "b"},
               {"id": "x:12", "text": BODY + "c"}, {"id": " padded", "text": BODY + "d"}, {"id": {"a": 1}, "text": BODY + "e"},
               {"id": "tab\there", "text": BODY + "f"}, {"id": "i" * 201, "text": BODY + "g"}, {"id": 42, "text": BODY + "h"},
               {"id": "urn:news:harbour-strike", "text": BODY + "i"}, {"id": True, "text": BODY + "j"},
               {"id": "s", "text": BODY + "\ud800"}]
    (small_corpus.corpus_dir / "feed.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n")
    rag, report = ingest(small_corpus)
    failed = {k: v for k, v in report.failed.items() if k.startswith("feed.jsonl")}
    assert failed == {
        "feed.jsonl:2": "line 2: id 'line\\nbreak' holds a line break or control character",
        "feed.jsonl:3": "line 3: id 'x:5-9' ends like a line range (':5-9'); it could not be cited",
        "feed.jsonl:4": "line 4: id 'x:12' ends like a line range (':12'); it could not be cited",
        "feed.jsonl:5": "line 5: id ' padded' starts or ends with a space",
        "feed.jsonl:6": "line 6: id must be a string or an integer, not a mapping",
        "feed.jsonl:7": "line 7: id 'tab\\there' holds a line break or control character",
        "feed.jsonl:8": "line 8: id is 201 characters, over the 200 limit",
        "feed.jsonl:11": "line 11: id must be a string or an integer, not a boolean",
        "feed.jsonl:12": "line 12: the text holds a lone surrogate (an escape like \\ud800 that is no character)",
    }
    assert {"feed.jsonl#ok", "feed.jsonl#42", "feed.jsonl#urn:news:harbour-strike"} <= set(report.added)
    assert rag.show("feed.jsonl#urn:news:harbour-strike").lines[0].startswith("Dock workers")
    assert_rest_ingested(rag, report)


def test_jsonl_fields_are_validated_like_front_matter(small_corpus):
    records = [{"id": "d", "date": "2020-02-30", "text": BODY}, {"id": "t", "title": ["a"], "text": BODY + "x"}]
    (small_corpus.corpus_dir / "feed.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n")
    _, report = ingest(small_corpus)
    assert report.failed["feed.jsonl:1"] == "line 1: date '2020-02-30' is not a date (day is out of range for month)"
    assert report.failed["feed.jsonl:2"] == "line 2: title must be text, not a list"
