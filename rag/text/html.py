"""HTML → a plain-text view whose every character maps back to its offset in the original file.

trafilatura decides which paragraphs are the article; our own projection supplies the offsets,
so a citation of an HTML article still names exact lines of the .html file.
"""

from __future__ import annotations

import html as htmllib
import re
from html.parser import HTMLParser

from rag.text.lines import LineIndex

_SKIP = {"script", "style", "noscript", "template", "svg", "head", "iframe", "button", "select", "form", "nav"}
_BLOCK = {
    "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table",
    "article", "section", "blockquote", "pre", "figcaption", "figure", "header", "footer",
    "aside", "main", "hr", "dd", "dt", "td", "th", "body", "title",
}


class HtmlView:
    """`text` is what the reader sees; starts[i]/ends[i] bound character i in the raw HTML."""

    def __init__(self, raw: str):
        self.raw = raw
        self.chars: list[str] = []
        self.starts: list[int] = []
        self.ends: list[int] = []
        _Projector(self).feed_all(raw)
        self.text = "".join(self.chars)

    def to_raw(self, start: int, end: int) -> tuple[int, int]:
        if end <= start:
            return self.starts[start], self.starts[start]
        return self.starts[start], self.ends[end - 1]

    def _emit(self, text: str, raw_start: int, raw_end: int, exact: bool) -> None:
        for i, ch in enumerate(text):
            if ch.isspace():
                if not self.chars or self.chars[-1] in " \n":
                    continue
                ch = " "
            s = raw_start + i if exact else raw_start
            self.chars.append(ch)
            self.starts.append(s)
            self.ends.append(s + 1 if exact else raw_end)

    def _newline(self, raw_pos: int) -> None:
        while self.chars and self.chars[-1] == " ":
            self.chars.pop(), self.starts.pop(), self.ends.pop()
        if self.chars and self.chars[-1] != "\n":
            self.chars.append("\n")
            self.starts.append(raw_pos)
            self.ends.append(raw_pos)


class _Projector(HTMLParser):
    def __init__(self, view: HtmlView):
        super().__init__(convert_charrefs=False)
        self.view = view
        self.lines = LineIndex(view.raw)
        self.skip = 0

    def feed_all(self, raw: str) -> None:
        self.feed(raw)
        self.close()

    def _offset(self) -> int:
        line, col = self.getpos()
        return self.lines.starts[line - 1] + col

    def handle_starttag(self, tag, attrs):
        if tag in _SKIP:
            self.skip += 1
        elif tag in _BLOCK and not self.skip:
            self.view._newline(self._offset())

    def handle_startendtag(self, tag, attrs):
        if tag in _BLOCK and not self.skip:
            self.view._newline(self._offset())

    def handle_endtag(self, tag):
        if tag in _SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag in _BLOCK and not self.skip:
            self.view._newline(self._offset())

    def handle_data(self, data):
        if not self.skip:
            start = self._offset()
            self.view._emit(data, start, start + len(data), exact=True)

    def _ref(self, text: str, raw_len: int):
        if not self.skip:
            start = self._offset()
            self.view._emit(text, start, start + raw_len, exact=False)

    def handle_entityref(self, name):
        self._ref(htmllib.unescape(f"&{name};"), len(name) + 2)

    def handle_charref(self, name):
        self._ref(htmllib.unescape(f"&#{name};"), len(name) + 3)


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def main_content_lines(view: HtmlView) -> tuple[set[int], dict]:
    """Lines of the view that trafilatura considers article text, and the page's metadata."""
    import trafilatura

    extracted = trafilatura.extract(view.raw, include_comments=False, include_tables=False) or ""
    meta = trafilatura.extract_metadata(view.raw)
    fields = {}
    if meta is not None:
        for key, name in (("title", "title"), ("date", "date"), ("author", "author"), ("url", "url"), ("source", "sitename")):
            value = getattr(meta, name, None)
            if value:
                fields[key] = str(value)
    body = _norm(extracted)
    keep = set()
    for number, line in enumerate(view.text.split("\n"), start=1):
        norm = _norm(line)
        if norm and (norm in body):
            keep.add(number)
    return keep, fields
