"""Suggested questions, drawn from the corpus without an LLM: the names (people, places,
organisations) that several of the most recent articles share, in their titles or leads.

A name one article mentions is noise; a name five of the last hundred articles share is a story
a reader may want to ask about. Each such name becomes a question for the Ask view and a topic
for the Briefing view, with the titles of the latest articles that name it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from rag.index.catalog import SourceQuery, leads, page, recent
from rag.index.store import Store
from rag.models import Suggestion
from rag.text.lexical import STOPWORDS
from rag.text.vocab import CALENDAR_WORDS

RECENT = 200  # articles read: the newest by date
LEAD_SENTENCES = 3
# A capitalised word (Al-Kadhimi, O'Neill, U.S.), and the short words a name may hold inside it
# ("Bank of England", "Islamic State of Iraq").
_WORD = re.compile(r"[A-Z][\w'’.-]*[\w]|[A-Z]")
_JOINERS = frozenset({"of", "the", "de", "al", "bin", "van", "von", "for", "and", "la", "del", "da"})
_TOKEN = re.compile(r"[\w'’.-]+")


@dataclass
class _Name:
    text: str
    sources: set[str] = field(default_factory=set)
    inside: bool = False  # seen capitalised somewhere other than a sentence's first word
    latest: dt.date | None = None
    titles: list[str] = field(default_factory=list)


# Suggestions change only with a commit: kept per docstore file, generation and n.
_CACHE: dict[tuple, list[Suggestion]] = {}


def suggestions(store: Store, n: int = 6) -> list[Suggestion]:
    """Up to `n` names shared by the most recent articles, most shared first, each as a question
    and as a briefing topic."""
    key = (str(store.docs.path), store.docs.meta("generation"), n)
    if key not in _CACHE:
        if len(_CACHE) > 8:
            _CACHE.clear()
        _CACHE[key] = _suggestions(store, n)
    return [s.model_copy(deep=True) for s in _CACHE[key]]


def _suggestions(store: Store, n: int) -> list[Suggestion]:
    articles = recent(store.docs, RECENT)
    outlets = {o.outlet.lower() for o in page(store.docs, SourceQuery(limit=1), facets=True).outlets if o.outlet}
    first_chunks = leads(store.docs, [source for source, _, _ in articles])
    found: dict[str, _Name] = {}
    for source, title, date in articles:
        chunk = first_chunks.get(source)
        texts = [s.text for s in chunk.sentences if s.kind == "sentence"][:LEAD_SENTENCES] if chunk else []
        if title and not _title_case(title):
            texts.insert(0, title)
        for name, inside in {pair for text in texts for pair in names(text)}:
            if name.lower() in outlets:
                continue
            entry = found.setdefault(name, _Name(name))
            entry.inside |= inside
            if source not in entry.sources:
                entry.sources.add(source)
                entry.latest = max(filter(None, (entry.latest, date)), default=None)
                if title and len(entry.titles) < 3:
                    entry.titles.append(title)
    shared = [e for e in found.values() if len(e.sources) >= 2 and e.inside]
    chosen = _without_parts(sorted(shared, key=lambda e: (-len(e.sources), -(e.latest or dt.date.min).toordinal(), e.text)))
    out: list[Suggestion] = []
    for e in chosen[:n]:
        common = {"about": e.text, "articles": len(e.sources), "latest": e.latest, "titles": e.titles}
        out.append(Suggestion(kind="ask", text=f"What is the latest on {e.text}?", **common))
        out.append(Suggestion(kind="brief", text=e.text, **common))
    return out


def names(text: str) -> list[tuple[str, bool]]:
    """The runs of capitalised words in `text`, each with whether it stands inside a sentence
    (a sentence's first word is capitalised whatever it is)."""
    out: list[tuple[str, bool]] = []
    tokens = list(_TOKEN.finditer(text))
    run: list[str] = []
    start_of_run = 0

    def close(end: int) -> None:
        while run and run[-1].lower() in _JOINERS:
            run.pop()
        words = [w.rstrip(".") if not re.fullmatch(r"(?:[A-Z]\.)+", w) else w for w in run]
        while words and (words[0].lower() in STOPWORDS or words[0].lower() in _JOINERS):
            words.pop(0)
        if words and not all(w in CALENDAR_WORDS or w.lower() in STOPWORDS for w in words):
            first = start_of_run == 0 or _sentence_start(text, tokens[start_of_run].start())
            inside = not first or len(words) < len(run)
            out.append((" ".join(words), inside))
        run.clear()

    for i, m in enumerate(tokens):
        word = m.group()
        if _WORD.fullmatch(word) and not word.isdigit():
            if not run:
                start_of_run = i
            run.append(word)
        elif run and word in _JOINERS and i + 1 < len(tokens) and _WORD.fullmatch(tokens[i + 1].group()):
            run.append(word)
        else:
            close(i)
    close(len(tokens))
    return [(n, inside) for n, inside in out if len(n) > 1]


def _sentence_start(text: str, at: int) -> bool:
    before = text[:at].rstrip(" \"'“‘(")
    return not before or before[-1] in ".!?:\n"


def _title_case(title: str) -> bool:
    """Most longer words capitalised: the title's capitals say nothing about names."""
    words = [w for w in title.split() if len(w) > 3 and w[0].isalpha()]
    return bool(words) and sum(w[0].isupper() for w in words) >= 0.6 * len(words)


def _without_parts(ranked: list[_Name]) -> list[_Name]:
    """Drop a name that is part of a longer name shared by at least half as many articles
    ("Abe" beside "Shinzo Abe"), and a longer name whose articles a shorter one already covers."""
    kept: list[_Name] = []
    for e in ranked:
        words = set(e.text.split())
        if any(words < set(k.text.split()) and 2 * len(k.sources) >= len(e.sources) for k in ranked if k is not e):
            continue
        if any(set(k.text.split()) < words and e.sources <= k.sources for k in kept):
            continue
        kept.append(e)
    return kept
