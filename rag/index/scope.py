"""Which documents a search may return, as structured filters the engines evaluate themselves.

A source glob and a date range become a `Scope`: a day-number range, and one of
- `source` / `file` equal to a name (a glob without wildcards: one article, or one JSONL feed),
- `dirs` containing a directory prefix (`reuters/*`: everything under reuters/),
- `file` equal to a feed (`feed.jsonl#*`: every record of feed.jsonl),
- `source` in an explicit list (any other glob), resolved through the docstore's source index.
Chroma evaluates it as a `where` on indexed chunk metadata, tantivy as a filter clause: no
engine is handed a list of every document that passes, and nothing scans every document.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

_WILDCARD = re.compile(r"[*?\[]")


@dataclass(frozen=True)
class Scope:
    day_from: int | None = None
    day_to: int | None = None
    names: tuple[str, ...] = ()  # equal to the source or to its file
    dir_prefix: str | None = None  # the source lies under this directory ("a/b/")
    feed: str | None = None  # the source is a record of this file
    sources: tuple[str, ...] | None = None  # exactly these sources (a resolved glob)
    share: float | None = None  # the fraction of the documents in scope, when it is known

    @property
    def empty(self) -> bool:
        """Nothing can pass (a glob that matched no source, or a date range that ends before it starts)."""
        if self.day_from is not None and self.day_to is not None and self.day_from > self.day_to:
            return True
        return self.sources is not None and not self.sources

    @property
    def has_days(self) -> bool:
        return self.day_from is not None or self.day_to is not None


def structured(pattern: str) -> Scope | None:
    """The scope of a glob the engines can evaluate from metadata alone, or None."""
    if set(pattern) == {"*"}:
        return Scope()  # every source: no filter at all
    wild = _WILDCARD.search(pattern)
    if wild is None:
        return Scope(names=(pattern,))
    head, tail = pattern[:wild.start()], pattern[wild.start():]
    if tail == "*" and head.endswith("/") and len(head) > 1:
        return Scope(dir_prefix=head)
    if tail == "*" and head.endswith("#") and len(head) > 1:
        return Scope(feed=head[:-1])
    return None


def directory_prefixes(source: str) -> list[str]:
    """Every directory a source lies under: `a/b/c.txt` → ["a/", "a/b/"]."""
    parts = source.split("#", 1)[0].split("/")[:-1]
    return ["/".join(parts[:i]) + "/" for i in range(1, len(parts) + 1)]


def day_number(date: dt.date | None) -> int | None:
    """Days since 1970-01-01: the integer the engines filter date ranges on."""
    return None if date is None else (date - dt.date(1970, 1, 1)).days


def file_of(source: str) -> str:
    """The file a source was read from (`feed.jsonl#id` → `feed.jsonl`)."""
    return source.split("#", 1)[0]
