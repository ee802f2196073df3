"""Articles from the web: `rag ingest URL` and `rag ingest --feed URL`.

Each page is fetched (rag/fetch/http.py: timeouts, cross-host redirects, size, type and bot
walls refused with a reason), checked for article text (rag/fetch/pages.py: paywall stubs and
empty shells refused), and saved under `<corpus root>/_fetched/<host>/` with its URL and fetch
time in the front matter; the saved files are then ingested like any other file, so a citation
names a file a reader can open. A feed (RSS or Atom, read by feedparser) lists item URLs; an
item fetched before is not fetched again, and a page fetched again that has not changed writes
nothing, so a second run of the same feed fetches nothing but the feed and embeds nothing.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urljoin

from rag.errors import InputError
from rag.fetch.http import FEED_TYPES, Refused, client, fetch
from rag.fetch.pages import Manifest, body_hash, check_article, framed, page_path, write_page
from rag.models import FetchOutcome, FetchReport
from rag.text.decode import decode_bytes

# progress(done, total, outcome): one call per URL, after it is handled
FetchProgress = Callable[[int, int, FetchOutcome], None]
MAX_FEED_ITEMS = 1000


def fetch_pages(settings, urls: list[str], feed: str | None = None,
                progress: FetchProgress | None = None) -> tuple[FetchReport, list[Path]]:
    """Fetch and save the pages; returns the report and the files written (to ingest)."""
    started = time.perf_counter()
    root = Path(settings.corpus_dir)
    manifest = Manifest(root)
    report = FetchReport(feed=feed)
    written: list[Path] = []
    with client(settings.fetch_timeout) as http:
        if feed is not None:
            report.requests += 1
            urls = [*urls, *feed_items(http, feed, settings.max_article_bytes)]
        urls = list(dict.fromkeys(urls))
        for done, url in enumerate(urls, start=1):
            outcome, path = _one(http, url, root, manifest, settings.max_article_bytes, skip_known=feed is not None)
            report.requests += outcome.status != "known"
            report.items.append(outcome)
            if path is not None:
                written.append(path)
            if progress:
                progress(done, len(urls), outcome)
    manifest.save()
    report.seconds = round(time.perf_counter() - started, 3)
    return report, written


def feed_items(http, feed_url: str, max_bytes: int) -> list[str]:
    """The item URLs of an RSS/Atom feed, in its order. Raises InputError when it is not a feed."""
    import feedparser

    try:
        page = fetch(http, feed_url, max_bytes=max_bytes, kinds=FEED_TYPES)
    except Refused as err:
        raise InputError(f"feed {feed_url}: {err}") from None
    parsed = feedparser.parse(page.body)
    links = [urljoin(page.url, entry.get("link", "")) for entry in parsed.entries if entry.get("link")]
    if not links:
        problem = getattr(parsed, "bozo_exception", None)
        raise InputError(f"feed {feed_url}: no items" + (f" (not a feed: {str(problem)[:120]})" if problem else ""))
    return links[:MAX_FEED_ITEMS]


def _one(http, url: str, root: Path, manifest: Manifest, max_bytes: int,
         skip_known: bool) -> tuple[FetchOutcome, Path | None]:
    entry = manifest.get(url)
    if entry and skip_known:
        return FetchOutcome(url=url, status="known", source=entry["source"]), None
    try:
        page = fetch(http, url, max_bytes=max_bytes, etag=(entry or {}).get("etag"),
                     last_modified=(entry or {}).get("last_modified"))
        if page.not_modified and entry:
            return FetchOutcome(url=url, status="unchanged", source=entry["source"]), None
        sha = body_hash(page.body)
        if entry and entry["sha256"] == sha:
            return FetchOutcome(url=url, status="unchanged", source=entry["source"]), None
        html = decode_bytes(page.body)
        check_article(html)
    except Refused as err:
        return FetchOutcome(url=url, status="refused", reason=str(err)), None
    except InputError as err:  # undecodable bytes
        return FetchOutcome(url=url, status="refused", reason=f"not readable text: {err}"), None
    path = page_path(root, url)
    now = dt.datetime.now(dt.UTC)
    write_page(path, framed(html, url, now))
    source = path.relative_to(root).as_posix()
    manifest.record(url, source, sha, page.etag, page.last_modified, now)
    return FetchOutcome(url=url, status="updated" if entry else "saved", source=source), path
