"""Fetching one URL with the limits an ingest agrees to: a page is refused, with one line, when it
times out, redirects to another host, is larger than `max_article_bytes`, is not HTML (or, for a
feed, not a feed), or is a bot wall. Redirects are followed by hand (at most MAX_REDIRECTS) so a
hop to another host is seen before anything is read from it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from rag.errors import first_line

MAX_REDIRECTS = 5
_REDIRECTS = {301, 302, 303, 307, 308}
USER_AGENT = "rag-newsroom/0.1 (+offline news QA; fetches pages a user asked for)"
HTML_TYPES = ("text/html", "application/xhtml+xml")
FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/xml", "text/xml", "application/rdf+xml",
              "application/feed+json", "text/html")  # a few servers label feeds text/html; feedparser decides
_BLOCKED_STATUS = {401: "login required", 403: "access denied (a bot wall)", 429: "rate limited (a bot wall)",
                   451: "unavailable for legal reasons"}
# Pages that stand between a crawler and the article (Cloudflare, Akamai, DataDome, captchas).
_BOT_WALL = re.compile(r"cf-browser-verification|cf-challenge|challenge-platform|captcha|Just a moment\.\.\.|"
                       r"Attention Required!|Access Denied|Are you a robot|verify you are (?:a )?human|"
                       r"Enable JavaScript and cookies to continue|unusual traffic from your computer",
                       re.IGNORECASE)


class Refused(Exception):
    """The page cannot be used; str() is the one-line reason."""


@dataclass
class Page:
    url: str  # after same-host redirects
    status: int
    body: bytes
    content_type: str
    etag: str | None = None
    last_modified: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def same_host(a: str, b: str) -> bool:
    """www.example.com and example.com are one site; any other difference is another host."""
    return host_of(a).removeprefix("www.") == host_of(b).removeprefix("www.")


def check_url(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused(f"not an http(s) URL: {url[:200]!r}")
    return url.strip()


def fetch(client: httpx.Client, url: str, *, max_bytes: int, kinds: tuple[str, ...] = HTML_TYPES,
          etag: str | None = None, last_modified: str | None = None) -> Page:
    """GET `url` (conditionally, with the validators of an earlier fetch). Raises Refused."""
    url = check_url(url)
    headers = {"User-Agent": USER_AGENT, "Accept": ", ".join(kinds) + ";q=1.0, */*;q=0.1"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    current = url
    try:
        for _ in range(MAX_REDIRECTS + 1):
            with client.stream("GET", current, headers=headers) as response:
                if response.status_code in _REDIRECTS:
                    target = urljoin(current, response.headers.get("location", ""))
                    if not same_host(url, target):
                        raise Refused(f"redirected to another host ({host_of(target) or target[:100]})")
                    current = check_url(target)
                    continue
                return _page(response, current, max_bytes, kinds)
        raise Refused(f"more than {MAX_REDIRECTS} redirects")
    except httpx.TimeoutException:
        raise Refused(f"timed out (no answer within {client.timeout.read or client.timeout.connect} s)") from None
    except httpx.HTTPError as err:
        raise Refused(f"could not fetch: {type(err).__name__}: {first_line(err, default='')}"
                      .rstrip(": ")[:200]) from None


def _page(response: httpx.Response, url: str, max_bytes: int, kinds: tuple[str, ...]) -> Page:
    if response.status_code == 304:
        return Page(url=url, status=304, body=b"", content_type="")
    if response.status_code in _BLOCKED_STATUS:
        raise Refused(f"HTTP {response.status_code}: {_BLOCKED_STATUS[response.status_code]}")
    if response.status_code == 503 and "cf-ray" in response.headers:
        raise Refused("HTTP 503 from a bot wall (Cloudflare challenge)")
    if response.status_code >= 400:
        raise Refused(f"HTTP {response.status_code}")
    if response.status_code != 200:
        raise Refused(f"HTTP {response.status_code}: not a page")
    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type and content_type not in kinds:
        raise Refused(f"not {'HTML' if kinds == HTML_TYPES else 'a feed'} (Content-Type {content_type})")
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise Refused(f"page is {int(declared) / 1e6:.1f} MB, over the {max_bytes / 1e6:.1f} MB limit (max_article_bytes)")
    body = bytearray()
    for piece in response.iter_bytes():
        body += piece
        if len(body) > max_bytes:
            raise Refused(f"page is over the {max_bytes / 1e6:.1f} MB limit (max_article_bytes)")
    if kinds == HTML_TYPES and _BOT_WALL.search(bytes(body[:20_000]).decode("utf-8", "replace")) \
            and len(body) < 200_000:
        raise Refused("a bot wall (a challenge page, not the article)")
    return Page(url=url, status=200, body=bytes(body), content_type=content_type,
                etag=response.headers.get("etag"), last_modified=response.headers.get("last-modified"))


def client(timeout: float) -> httpx.Client:
    # trust_env=False: no proxy or netrc from the environment; what is fetched is what was asked.
    return httpx.Client(timeout=httpx.Timeout(timeout), follow_redirects=False, trust_env=False)
