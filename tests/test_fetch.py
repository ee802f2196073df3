"""rag ingest URL / --feed against a news site on 127.0.0.1 (bench/local_site.py): pages saved under
the corpus root with their URL in the front matter, re-fetching as a no-op, and every kind of page
that must be refused with a one-line reason and not indexed. No outside network."""

from __future__ import annotations

import datetime as dt

import pytest

from bench.local_site import LocalSite, Route, article_page, generated_articles, rss
from rag.api import Rag

DAY = dt.date(2022, 10, 20)


def _article(i: int = 0) -> tuple[str, bytes]:
    path, title, date, paragraphs = generated_articles(i + 1)[i]
    return path, article_page(title, paragraphs, date)


@pytest.fixture
def site():
    with LocalSite() as s:
        yield s


def test_a_page_is_saved_with_its_url_and_cited_from_the_saved_file(site, hash_settings):
    path, page = _article(3)
    site.routes[path] = Route(page)
    rag = Rag(hash_settings)
    report = rag.fetch([site.url(path)])
    [item] = report.items
    assert item.status == "saved" and item.source.startswith("_fetched/127.0.0.1/")
    saved = hash_settings.corpus_dir / item.source
    text = saved.read_text()
    assert text.startswith(f'---\nurl: "{site.url(path)}"\nfetched: ')
    assert text.endswith(page.decode())  # the page exactly as served, after the front matter
    assert report.ingest.added == [item.source]
    [article] = rag.documents(item.source)
    assert article.url == site.url(path) and article.date == dt.date(2022, 10, 4)
    hit = rag.search("How much is the Dunmore bridge expected to cost?").hits[0]
    assert hit.chunk.source == item.source
    lines = saved.read_text().split("\n")
    for sentence in hit.chunk.sentences:  # every span names lines of the saved file that hold it
        assert sentence.text.split()[0] in " ".join(lines[sentence.line_start - 1:sentence.line_end])
    # the front matter is never article text
    assert all("fetched:" not in s.text for c in rag.store.docs.chunks_of(item.source) for s in c.sentences)
    rag.close()


def test_refetching_an_unchanged_page_writes_and_embeds_nothing(site, hash_settings):
    path, page = _article(1)
    site.routes[path] = Route(page, etag='"v1"')
    rag = Rag(hash_settings)
    first = rag.fetch([site.url(path)])
    saved = hash_settings.corpus_dir / first.items[0].source
    before = (saved.stat().st_mtime_ns, saved.read_bytes())
    again = rag.fetch([site.url(path)])
    assert [i.status for i in again.items] == ["unchanged"] and again.ingest is None
    assert (saved.stat().st_mtime_ns, saved.read_bytes()) == before
    site.routes[path] = Route(page)  # no validators: fetched in full, same bytes, still nothing written
    third = rag.fetch([site.url(path)])
    assert [i.status for i in third.items] == ["unchanged"] and third.ingest is None
    site.routes[path] = Route(page.replace(b"officials said", b"officials said on Wednesday"))
    changed = rag.fetch([site.url(path)])
    assert [i.status for i in changed.items] == ["updated"] and changed.ingest.updated == [first.items[0].source]
    rag.close()


REFUSALS = {
    "/wall": (Route(b"<html><title>Just a moment...</title><body>Checking your browser. cf-challenge</body></html>"),
              "bot wall"),
    "/forbidden": (Route(b"no", status=403), "HTTP 403"),
    "/stub": (Route(b"<html><body><article><h1>Storm toll rises</h1><p>The storm killed dozens of people on Monday, "
                    b"officials said.</p><p>Subscribe to continue reading.</p></article></body></html>"), "paywall stub"),
    "/pdf": (Route(b"%PDF-1.4 ...", content_type="application/pdf"), "not HTML"),
    "/slow": (Route(b"<html></html>", delay=3.0), "timed out"),
    "/away": (Route(b"", status=302, headers={"Location": "http://example.invalid/article"}), "another host"),
    "/big": (Route(b"<html><body>" + b"<p>word </p>" * 20_000 + b"</body></html>"), "over the"),
    "/missing-page": (None, "HTTP 404"),
}


def test_pages_that_are_not_articles_are_refused_with_one_line_and_not_indexed(site, hash_settings):
    for path, (route, _) in REFUSALS.items():
        if route is not None:
            site.routes[path] = route
    good, page = _article(0)
    site.routes[good] = Route(page)
    settings = hash_settings.model_copy(update={"fetch_timeout": 1.0, "max_article_bytes": 100_000})
    rag = Rag(settings)
    report = rag.fetch([site.url(p) for p in REFUSALS] + [site.url(good)])
    by_url = {i.url: i for i in report.items}
    for path, (_, expected) in REFUSALS.items():
        item = by_url[site.url(path)]
        assert item.status == "refused" and expected in item.reason and "\n" not in item.reason, (path, item)
    assert by_url[site.url(good)].status == "saved"
    assert [a.source for a in rag.documents()] == [by_url[site.url(good)].source]
    saved = sorted(p.name for p in (settings.corpus_dir / "_fetched").rglob("*.html"))
    assert len(saved) == 1
    rag.close()


def test_a_same_host_redirect_is_followed(site, hash_settings):
    path, page = _article(2)
    site.routes[path] = Route(page)
    site.routes["/short/2"] = Route(b"", status=301, headers={"Location": path})
    report = Rag(hash_settings).fetch([site.url("/short/2")])
    assert [i.status for i in report.items] == ["saved"]


def test_a_feed_is_ingested_once_and_a_second_run_fetches_only_the_feed(site, hash_settings, cli):
    items = []
    for path, title, date, paragraphs in generated_articles(12):
        site.routes[path] = Route(article_page(title, paragraphs, date))
        items.append((title, site.url(path), date))
    site.routes["/feed.xml"] = Route(rss(items), content_type="application/rss+xml")
    args = ["ingest", "--feed", site.url("/feed.xml"), "--store-dir", hash_settings.store_dir,
            "--set", f"corpus_dir={hash_settings.corpus_dir}", "--set", "embedding_model=hash"]
    code, out, err = cli(*args)
    assert code == 0, err
    assert "[12/12] saved" in err and "12 saved" in out and "added 12" in out
    site.requests.clear()
    code, out, err = cli(*args)
    assert code == 0, err
    assert site.requests == ["/feed.xml"]  # nothing but the feed is fetched again
    assert "12 known" in out and "nothing new to index" in out
    items.append(("new", site.url("/news/late.html"), DAY))
    site.routes["/news/late.html"] = Route(article_page("Late news from Ashford", generated_articles(13)[12][3], DAY))
    site.routes["/feed.xml"] = Route(rss(items), content_type="application/rss+xml")
    code, out, err = cli(*args, "--json")
    assert code == 0, err
    assert '"added": [\n' in out and out.count('"status": "saved"') == 1


def test_a_bad_feed_and_a_bad_url_are_one_line_errors(site, hash_settings, cli):
    site.routes["/notfeed"] = Route(b"just text", content_type="text/plain")
    base = ["--store-dir", hash_settings.store_dir, "--set", f"corpus_dir={hash_settings.corpus_dir}"]
    code, _, err = cli("ingest", "--feed", site.url("/notfeed"), *base)
    assert code == 1 and err.strip().count("\n") == 0 and "not a feed" in err
    code, _, err = cli("ingest", site.url("/nothing-here"), *base)
    assert code == 1 and "HTTP 404" in err and "nothing could be fetched" in err
