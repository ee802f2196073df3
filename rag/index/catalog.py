"""The docstore as a catalogue: pages of the indexed articles for the web page's sources panel,
filtered and sorted in SQL, and the most recent articles (for suggested questions).

Every query reads the `documents` table once, in SQLite: the date range on the day index, the
title, outlet and text filters on the article JSON, then ORDER BY and LIMIT, so a page of 50
never builds 10,000 Article objects in Python.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from rag.index.docstore import DocStore
from rag.index.scope import day_number
from rag.models import Chunk, OutletCount, SourcePage, SourceRow

MAX_LIMIT = 1000
_EPOCH = dt.date(1970, 1, 1)

# sort name → ORDER BY; undated articles and missing titles go last either way; source breaks ties.
_TITLE = "json_extract(article, '$.title')"
_OUTLET = "json_extract(article, '$.outlet')"
SORTS = {
    "date": "day IS NULL, day, source",
    "-date": "day IS NULL, day DESC, source",
    "title": f"{_TITLE} IS NULL, {_TITLE} COLLATE NOCASE, source",
    "outlet": f"{_OUTLET} IS NULL, {_OUTLET} COLLATE NOCASE, day DESC, source",
    "size": "length(raw) DESC, source",
    "source": "source",
}


@dataclass(frozen=True)
class SourceQuery:
    offset: int = 0
    limit: int = 50
    sort: str = "-date"
    text: str | None = None  # words found in the title or the source name (case-insensitive)
    outlet: str | None = None  # exactly this outlet; "" for articles without one
    since: dt.date | None = None
    until: dt.date | None = None


def page(docs: DocStore, query: SourceQuery, facets: bool = False) -> SourcePage:
    """One page of the articles that pass `query`, with the total that pass; `facets` adds every
    outlet with its count and the index's first and last date (what the panel's filters offer)."""
    if query.sort not in SORTS:
        raise ValueError(f"unknown sort {query.sort!r}; one of {', '.join(SORTS)}")
    where, args = _where(query)
    clause = " WHERE " + " AND ".join(where) if where else ""
    with docs.snapshot():
        total = docs.db.execute("SELECT COUNT(*) FROM documents" + clause, args).fetchone()[0]
        # The page's rowids first (a date or source order walks an index and reads no article),
        # then the columns of those rows only: a deep page never parses the rows it skips.
        rows = docs.db.execute(
            f"SELECT source, {_TITLE}, {_OUTLET}, day, length(raw), json_extract(article, '$.n_lines') "
            f"FROM documents WHERE rowid IN (SELECT rowid FROM documents{clause} ORDER BY {SORTS[query.sort]} "
            f"LIMIT ? OFFSET ?) ORDER BY {SORTS[query.sort]}",
            [*args, query.limit, query.offset]).fetchall()
        extra = _facets(docs) if facets else {}
    sources = [SourceRow(source=s, title=t, outlet=o, date=_date(d), chars=n or 0, n_lines=lines or 0)
               for s, t, o, d, n, lines in rows]
    return SourcePage(total=total, offset=query.offset, limit=query.limit, sort=query.sort, sources=sources, **extra)


def recent(docs: DocStore, n: int) -> list[tuple[str, str | None, dt.date]]:
    """(source, title, date) of the n most recently dated articles, newest first (the day index)."""
    rows = docs.db.execute(f"SELECT source, {_TITLE}, day FROM documents WHERE day IS NOT NULL "
                           "ORDER BY day DESC, source LIMIT ?", (n,))
    return [(s, t, _date(d)) for s, t, d in rows]


def _where(query: SourceQuery) -> tuple[list[str], list]:
    where, args = [], []
    if query.since:
        where.append("day >= ?")
        args.append(day_number(query.since))
    if query.until:
        where.append("day <= ?")
        args.append(day_number(query.until))
    if query.outlet == "":
        where.append(f"{_OUTLET} IS NULL")
    elif query.outlet:
        where.append(f"{_OUTLET} = ?")
        args.append(query.outlet)
    for word in (query.text or "").split():
        # LIKE is case-insensitive for ASCII; the escape keeps a typed % or _ literal.
        pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where.append(f"({_TITLE} LIKE ? ESCAPE '\\' OR source LIKE ? ESCAPE '\\')")
        args += [pattern, pattern]
    return where, args


def leads(docs: DocStore, sources: list[str]) -> dict[str, Chunk]:
    """The first chunk of each of these sources (keyed reads on the chunks' source index)."""
    out: dict[str, Chunk] = {}
    for source in sources:
        row = docs.db.execute("SELECT chunk FROM chunks WHERE source = ? ORDER BY ordinal LIMIT 1", (source,)).fetchone()
        if row:
            out[source] = Chunk.model_validate_json(row[0])
    return out


# The outlets' counts read every article's JSON (a few hundred ms at 10,000 articles on a busy
# machine); they change only with a commit, so they are kept per docstore file and generation.
_FACETS: dict[tuple[str, object], dict] = {}


def _facets(docs: DocStore) -> dict:
    key = (str(docs.path), docs.meta("generation"))
    if key not in _FACETS:
        counts = docs.db.execute(f"SELECT {_OUTLET} AS o, COUNT(*) FROM documents GROUP BY o "
                                 "ORDER BY COUNT(*) DESC, o").fetchall()
        first, last = docs.day_range()
        _FACETS.clear()  # one store per process, in practice: keep only the newest
        _FACETS[key] = {"outlets": [OutletCount(outlet=o, articles=c) for o, c in counts],
                        "first": _date(first), "last": _date(last)}
    return _FACETS[key]


def _date(day: int | None) -> dt.date | None:
    return None if day is None else _EPOCH + dt.timedelta(days=day)
