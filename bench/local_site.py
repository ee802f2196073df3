"""A news site on 127.0.0.1 for fetch tests and the feed benchmark: saved pages, a feed, and the
failures a crawler meets (bot walls, paywall stubs, non-HTML, slow answers, redirects, big pages).
Nothing here touches the outside network."""

from __future__ import annotations

import datetime as dt
import sys
import threading
import time
from dataclasses import dataclass, field
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    headers: dict = field(default_factory=dict)
    delay: float = 0.0
    etag: str | None = None


class _Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # A fetcher that refuses a page by its headers hangs up before the body is sent; that is
        # the behaviour under test, not a server fault, so it must not print a traceback into
        # the stderr the tests read. Any other error is still reported.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class LocalSite:
    """`with LocalSite() as site:` serves `site.routes` (path → Route) on a free port; counts requests."""

    def __init__(self):
        self.routes: dict[str, Route] = {}
        self.requests: list[str] = []
        self._server = _Server(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    def __enter__(self) -> LocalSite:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self):
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                site.requests.append(self.path)
                route = site.routes.get(self.path)
                if route is None:
                    self.send_error(404)
                    return
                if route.delay:
                    time.sleep(route.delay)
                if route.etag and self.headers.get("If-None-Match") == route.etag:
                    self.send_response(304)
                    self.end_headers()
                    return
                self.send_response(route.status)
                self.send_header("Content-Type", route.content_type)
                self.send_header("Content-Length", str(len(route.body)))
                if route.etag:
                    self.send_header("ETag", route.etag)
                for key, value in route.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(route.body)

            def log_message(self, *args):  # quiet
                pass

        return Handler


def article_page(title: str, paragraphs: list[str], date: dt.date, outlet: str = "Local News") -> bytes:
    body = "\n".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{escape(title)}</title>
<meta property="og:site_name" content="{escape(outlet)}">
<meta name="date" content="{date.isoformat()}"></head>
<body><nav><a href="/">Home</a> <a href="/world">World</a></nav>
<article><h1>{escape(title)}</h1>
<p class="byline">By Staff Reporter · {date.isoformat()}</p>
{body}
</article>
<footer>© {escape(outlet)}</footer></body></html>""".encode()


def rss(items: list[tuple[str, str, dt.date]], title: str = "Local News") -> bytes:
    """(title, url, date) items as RSS 2.0."""
    entries = "\n".join(
        f"<item><title>{escape(t)}</title><link>{escape(u)}</link>"
        f"<pubDate>{format_datetime(dt.datetime.combine(d, dt.time(12), dt.UTC))}</pubDate></item>"
        for t, u, d in items)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>{escape(title)}</title><link>http://127.0.0.1/</link>
<description>test feed</description>
{entries}
</channel></rss>""".encode()


_TOWNS = ["Ashford", "Bramley", "Carlow", "Dunmore", "Elsworth", "Fenwick", "Garston", "Holbrook", "Ilford", "Jarrow"]
_THINGS = ["bridge", "library", "school", "market", "hospital", "stadium", "harbour", "museum", "park", "station"]


def generated_articles(n: int, start: dt.date = dt.date(2022, 10, 1)) -> list[tuple[str, str, dt.date, list[str]]]:
    """n distinct articles: (path, title, date, paragraphs). Deterministic."""
    out = []
    for i in range(n):
        town, thing = _TOWNS[i % len(_TOWNS)], _THINGS[(i // len(_TOWNS)) % len(_THINGS)]
        date = start + dt.timedelta(days=i % 30)
        title = f"{town} council votes on the new {thing} (report {i})"
        paragraphs = [
            f"The {town} council voted {5 + i % 7} to {i % 5} on Tuesday to approve plans for a new {thing}, "
            f"the largest public project in the town for {10 + i % 20} years, officials said.",
            f"The project is expected to cost {2 + i % 9} million pounds and to open in {2024 + i % 3}, according to "
            f"the council's planning report number {1000 + i}.",
            f"Residents of {town} had campaigned for a {thing} since a public meeting in {2015 + i % 6}, when more "
            f"than {100 + 7 * i} people signed a petition asking the council to act.",
            f"“This is a good day for {town},” the council leader told reporters after the vote, adding that "
            f"construction would begin within {3 + i % 9} months if the budget is confirmed.",
        ]
        out.append((f"/news/{date.isoformat()}/{town.lower()}-{thing}-{i}.html", title, date, paragraphs))
    return out
