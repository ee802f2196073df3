"""Saving fetched pages under the corpus root, so every citation still points to a file a reader can open.

A page is saved as `<corpus root>/_fetched/<host>/<path>.html`: the HTML exactly as served,
after a YAML front matter block with the URL it was fetched from and when (the HTML reader
reads front matter as the text readers do, and trafilatura never sees it). A manifest
(`_fetched/.manifest.json`, hidden from ingest) remembers each URL's file, body hash and HTTP
validators, so a re-fetch asks the server "changed since?" and an unchanged page writes
nothing: the file, its modification time and so the index stay as they are.

Before a page is saved its article text is read the way ingest will read it (trafilatura): a
page with almost no article text, or a short one that asks the reader to subscribe, is a
paywall stub (or an empty shell), refused with a reason rather than indexed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from rag.fetch.http import Refused, host_of

FETCHED_DIR = "_fetched"
MANIFEST = ".manifest.json"
MIN_WORDS = 60  # fewer words of article text: not an article
STUB_WORDS = 300  # a text this short that asks the reader to subscribe is a paywall stub
_PAYWALL = re.compile(r"subscribe (?:now |today )?to (?:continue|keep) reading|to continue reading|"
                      r"already a subscriber|subscribers only|for subscribers|sign in to (?:continue|read)|"
                      r"create a free account to|this article is (?:available|reserved) (?:only )?(?:to|for) "
                      r"(?:subscribers|members)|start your (?:free )?trial|unlock this article", re.IGNORECASE)
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def page_path(root: Path, url: str) -> Path:
    """`https://news.example/2022/10/20/toll.html?x=1` → `_fetched/news.example/2022-10-20-toll-<hash>.html`."""
    parts = urlsplit(url)
    stem = _SAFE.sub("-", unquote(parts.path).strip("/")).strip("-.")[:80] or "index"
    stem = stem.removesuffix(".html").removesuffix(".htm").removesuffix("-html")
    digest = hashlib.sha1(url.encode("utf-8")).hexdigest()[:8]
    host = _SAFE.sub("-", host_of(url)) or "unknown-host"
    return root / FETCHED_DIR / host / f"{stem}-{digest}.html"


def article_words(html: str) -> str:
    """The article text as ingest reads it (trafilatura, the HTML path of rag/text/html.py)."""
    import trafilatura

    return trafilatura.extract(html, include_comments=False, include_tables=False) or ""


def check_article(html: str) -> None:
    """Refuse a page that is not an article: no text, or a paywall stub."""
    text = article_words(html)
    count = len(text.split())
    found = _PAYWALL.search(text) or _PAYWALL.search(html[:200_000])
    if found and count < STUB_WORDS:
        raise Refused(f"a paywall stub ({count} words of text; it says “{found.group(0)}”)")
    if count < MIN_WORDS:
        raise Refused(f"no article text ({count} words)")


def framed(html_text: str, url: str, fetched: dt.datetime) -> str:
    """The file as saved: front matter (url, fetched), then the page exactly as served."""
    return f"---\nurl: {json.dumps(url)}\nfetched: {fetched.isoformat(timespec='seconds')}\n---\n{html_text}"


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


class Manifest:
    """URL → {source, sha256, etag, last_modified, fetched}, kept beside the pages."""

    def __init__(self, root: Path):
        self.root = root
        self.path = root / FETCHED_DIR / MANIFEST
        try:
            self.entries: dict[str, dict] = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.entries = {}

    def get(self, url: str) -> dict | None:
        entry = self.entries.get(url)
        if entry and (self.root / entry["source"]).is_file():
            return entry
        return None  # never fetched, or its file was deleted: fetch it again

    def record(self, url: str, source: str, sha: str, etag: str | None, last_modified: str | None,
               fetched: dt.datetime) -> None:
        self.entries[url] = {"source": source, "sha256": sha, "etag": etag, "last_modified": last_modified,
                             "fetched": fetched.isoformat(timespec="seconds")}

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(f".{MANIFEST}.{os.getpid()}.part")
        partial.write_text(json.dumps(self.entries, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(partial, self.path)


def write_page(path: Path, text: str) -> None:
    """Written under a hidden name and renamed: an ingest never reads half a page."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.part")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)
