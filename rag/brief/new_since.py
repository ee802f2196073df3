"""What is new since a date, or since an earlier briefing (`rag brief TOPIC --new-since DATE|BRIEFING.json`).

The reader has seen the articles up to a cutoff (the date, or the latest date among the
earlier briefing's sources, or its `until`). The briefing is then built from the articles
published after the cutoff only, and every summary sentence, key fact, quote and timeline
entry that the earlier material already states is left out:
- against a date: an item is old when a sentence of an article dated on or before the cutoff
  (found by retrieval with the item as the query) states it: most of the item's content words
  are in that sentence (rag.text.sameness.ALREADY_STATED);
- against a briefing: when one of the earlier briefing's own items states it, by the same test.
The new articles retrieved for the topic are read whole (a detail is often in a chunk the topic
does not retrieve), and so are the earlier ones the novelty is measured against. Short
sentences that are attributed quotations ("Today is a historic day," Biden said.) are
candidates too, under the 8-word minimum of a normal briefing. A sentence of a new article keeps
at least half the best topic relevance of its chunk (a sentence about the topic need not name
it). A quotation is restated only by its quoted words (the same speaker saying something else
is not the same quotation), and a restatement shares at least three content words and states
HELD (70%) or more of the new sentence's numbers, names and dates (rag.brief.particulars: a
new figure, name or date beside an earlier preview's words is news: "raised rates by 0.75
points, the largest hike since 1994" is not restated by "expected to raise rates").
After the briefing is chosen over the new statements (centrality and coverage, as any
briefing: the overview), every new article on the topic says what it adds
(rag.brief.new_since_digest: its own new statements, in its own order, up to a share of them; a
statement an earlier new article gave is cited there, not repeated). A statement is new when it
writes a name or number the earlier material never does (its whole articles, or the earlier
briefing's items), or is far from everything earlier (1 - the highest MiniLM cosine with an
earlier sentence, over _FAR). A new
sentence under ON_TOPIC is no candidate for any part of the briefing (a round-up article read
whole has other stories), unless its article is about the topic (most of its chunks are on it);
nor is any sentence of an article whose best sentence is under ARTICLE (not on the topic at all).
(On the tuning cases 84-93% of the new articles' candidates pass these tests, so the share, not
novelty, bounds the briefing.) Each new thing is said once: a key fact that is also a timeline
entry is left to the timeline, which dates it (unless it shows an earlier figure beside it).
A new figure that updates an earlier one (the same counted thing, a different number, in a
sentence about the same subject) is shown with the old value beside it, cited.

An undated article is not new unless its text gives its date: the latest full date it writes
(`rag.text.dates`) must fall after the cutoff; the notes say which undated articles counted as
new, and by which date. (The LLM engine reads only dated articles here: its map step takes a
date-filtered scope, and the notes say so.)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import fnmatch
import re

import numpy as np

from rag.answer.figures import figures
from rag.brief.new_since_digest import Reach, cite_sentence, digest, digest_note
from rag.brief.options import BriefOptions
from rag.brief.particulars import held_share
from rag.brief.quotes import attributed_quote, quoted_words
from rag.brief.scope import Unit, gather
from rag.errors import InputError
from rag.models import Briefing, BriefPoint, Citation
from rag.retrieval import Filters, search
from rag.text.dates import find_date_mentions, resolve_mention
from rag.text.lexical import content_words, normalize
from rag.text.sameness import ALREADY_STATED, same_statement
from rag.text.vocab import CALENDAR_WORDS

_OLD_K = 4  # earlier chunks retrieved per item
_SAME_SUBJECT = 0.3  # content words a new figure's sentence shares with the old one's
CONTEXT_RELEVANCE = 0.5  # the share of its chunk's best relevance a new sentence keeps at least
_FAR = 0.5  # 1 - cosine at which a sentence is unlike anything earlier
_SPECIFIC_FULL = 2  # new names/numbers that make a sentence fully novel on the specific half
ON_TOPIC = 0.3  # share of the best relevance a new fact needs (unless its article is about the topic)
ABOUT = 0.5  # share of an article's chunks on the topic that makes the article about it (a priori: most)
# share of the best relevance an article's best sentence needs for the article to be on the topic
# (round 7, tuning: the articles that write the story's key reach 0.64-1.0, those that do not 0.43-0.44)
ARTICLE = 0.5
NOVEL = 0.5  # semantic novelty a new fact needs when it writes no new name or number
# the share of a new sentence's numbers, names and dates an earlier sentence must hold to restate it
# (rag.brief.particulars). Round 9, on the six seen case files: all of them (1.0, before a list
# marker counted as the sentence's opening) 132 of 164 new facts, 0.7 133 (main 132): a preview
# restated with "in June, US media reported" is still the preview. 0.7 lets one particular of
# four (two of seven) go unstated
HELD = 0.7
_SPECIFIC = re.compile(r"(?<![\w'’])(?:\d[\d,.:]*\d|\d|[A-Z][\w'’-]*[A-Za-z])")


@dataclasses.dataclass
class Trace:
    """What each step of an extractive new-since briefing kept, for bench/new_since_diagnose.py:
    the units read, those left after the earlier-pool test and the on-topic bar, the new
    statements beyond the overview offered to the digest, those it shows, and the items before
    and after the final test against the earlier material."""

    read: list[Unit] = dataclasses.field(default_factory=list)
    fresh: list[Unit] = dataclasses.field(default_factory=list)
    on_topic: list[Unit] = dataclasses.field(default_factory=list)
    offered: list[Unit] = dataclasses.field(default_factory=list)
    extras: list[Unit] = dataclasses.field(default_factory=list)
    share: float = 0.0  # of each article's new statements the digest gave
    before_drop: list[str] = dataclasses.field(default_factory=list)
    sections: dict[str, list[str]] = dataclasses.field(default_factory=dict)  # the final items, by section


@dataclasses.dataclass
class Baseline:
    cutoff: dt.date
    label: str  # what the briefing is compared against, in words
    previous: Briefing | None = None
    seen_sources: frozenset[str] = frozenset()


def baseline_of(since: dt.date | None, previous: Briefing | None) -> Baseline:
    if previous is None:
        if since is None:
            raise InputError("--new-since needs a date or an earlier briefing")
        return Baseline(cutoff=since, label=f"the articles up to {since.isoformat()}")
    dates = [s.date for s in previous.sources if s.date]
    cutoff = previous.until or (max(dates) if dates else None)
    if cutoff is None:
        raise InputError("the earlier briefing has no dated source and no --until: nothing says when it was written")
    topic = f"“{previous.topic}”" if previous.topic else "the whole corpus"
    return Baseline(cutoff=cutoff, label=f"the earlier briefing on {topic} (sources up to {cutoff.isoformat()})",
                    previous=previous, seen_sources=frozenset(s.source for s in previous.sources))


def brief_new_since(rag, topic: str | None, filters: Filters, engine: str, since: dt.date | None = None,
                    previous: Briefing | None = None, options: BriefOptions | None = None,
                    trace: Trace | None = None) -> Briefing:
    store = rag.store
    options = options or BriefOptions()
    base = baseline_of(since, previous)
    after = dataclasses.replace(filters, since=max(filters.since or base.cutoff, base.cutoff + dt.timedelta(days=1)))
    undated, notes = _undated_new(store, topic, filters, base, options.k)
    old = _OldStatements(store, filters, base, topic, options.k * 2)
    try:
        briefing, reach = _brief_after(rag, topic, after, engine, options, undated, old, trace)
    except InputError:
        return _nothing_new(store, topic, filters, engine, base, notes)
    if trace is not None:
        trace.before_drop = _briefing_texts(briefing)
    dropped = _drop_old(briefing, old)
    if trace is not None:
        trace.sections = {"summary": [p.text for p in briefing.summary], "key facts": [p.text for p in briefing.key_facts],
                          "timeline": [e.text for e in briefing.timeline], "quotes": [q.words for q in briefing.quotes],
                          "new articles": [p.text for a in briefing.new_articles for p in a.points]}
    _previous_figures(briefing, store, filters, base)
    _said_once(briefing)
    _prune_citations(briefing)
    briefing.since, briefing.new_since = filters.since, base.cutoff
    briefing.new_since_briefing = base.label if previous is not None else None
    briefing.notes[:0] = [(f"only what is new since {base.label}: {dropped} item(s) the earlier material already "
                           f"states were left out")] + notes
    if reach is not None:
        briefing.notes.append(digest_note(briefing, reach))
    if engine == "llm" and undated:
        briefing.notes.append("the LLM engine read only dated articles; undated ones dated by their text were not read")
    return briefing


def _brief_after(rag, topic, after: Filters, engine: str, options: BriefOptions, undated: list[str],
                 old: _OldStatements, trace: Trace | None = None) -> tuple[Briefing, Reach | None]:
    """The briefing of the new material, and (extractive) how far its digest of new articles went."""
    if engine != "extractive":
        return rag.brief(topic, after, engine, options=options), None
    from rag.brief.extractive import brief_extractive

    parts = []
    try:
        parts.append(gather(rag.store, topic, after, options.k, options.max_chunks, whole_articles=True,
                            keep_short=attributed_quote))
    except InputError:
        if not undated:
            raise
    for source in undated:  # an undated article passes no date filter: read on its own
        try:
            parts.append(gather(rag.store, topic, Filters(source=source), max(3, options.k // 8), options.max_chunks))
        except InputError:
            continue
    if not parts:
        raise InputError("nothing new")
    scope = _merge(parts)
    if trace is not None:
        trace.read = list(scope.units)
    # Select among new statements only: a sentence the earlier articles on the topic already
    # state is no candidate, so what is repeated across the new articles (often background)
    # does not take the places of what is new.
    fresh = [u for u in scope.units if not old.in_pool(u.text)]
    if fresh:
        scope.units = fresh
    if trace is not None:
        trace.fresh = list(scope.units)
    earlier = _EarlierMaterial.read(rag.store, topic, old, options)
    best = _chunk_relevance(scope.units)
    for u in scope.units:
        # a sentence of a new article about the topic is on it even when it does not name it
        # ("One case is a toddler"): it keeps at least CONTEXT_RELEVANCE of its chunk's best (the
        # chunk, not the article: a round-up article's other stories are not on the topic)
        u.relevance = max(u.relevance, CONTEXT_RELEVANCE * best[(u.source, u.chunk.ordinal)])
    # the new articles are read whole: their sentences far off the topic (a round-up's other
    # stories) are no candidates for any part of the briefing, timeline and quotes included
    top = max((u.relevance for u in scope.units), default=0.0)
    about = articles_about(scope.units, ON_TOPIC * top)
    # every new article on the topic has its say in the digest, so which articles are on it is
    # decided on its own: one whose best sentence is far below the best (ARTICLE) is not, whatever
    # single sentences of it pass the sentence bar (a war recap's "the eastern part of the
    # country" for an earthquake in eastern Afghanistan)
    articles = articles_on_topic(scope.units, ARTICLE * top)
    scope.units = [u for u in scope.units if u.source in articles
                   and (u.relevance >= ON_TOPIC * top or u.source in about)] or scope.units
    if trace is not None:
        trace.on_topic = list(scope.units)
    novelty = dict(zip(map(id, scope.units), earlier.novelties(scope.units)))
    briefing = brief_extractive(rag.store, topic, after, options, scope=scope)
    said = {normalize(t) for t in _briefing_texts(briefing)}
    offered = new_candidates([u for u in scope.units if normalize(u.text) not in said], earlier, novelty)
    shown, reach = digest(briefing, offered, [u for u in scope.units if normalize(u.text) in said],
                          articles=len({u.source for u in scope.units}))
    if trace is not None:
        trace.offered, trace.extras, trace.share = offered, shown, reach.share
    return briefing, reach


def new_candidates(units: list[Unit], earlier: _EarlierMaterial, novelty: dict[int, float]) -> list[Unit]:
    """The new statements among on-topic units: they write a name or number the earlier material never
    writes, or are far from everything earlier in meaning (NOVEL)."""
    return [u for u in units if earlier.new_specifics(u.text) or novelty[id(u)] >= NOVEL]


def articles_on_topic(units: list[Unit], bar: float) -> frozenset[str]:
    """The articles with a sentence at `bar` relevance or more: those on the topic at all (a round-up
    is, by its paragraph on the story; an article that only shares a word or two with it is not)."""
    return frozenset(u.source for u in units if u.relevance >= bar)


def articles_about(units: list[Unit], bar: float) -> frozenset[str]:
    """The articles about the topic: most of their chunks (ABOUT of those read) have a sentence at
    `bar` relevance or more. Every sentence of such an article is on the topic, including those
    that name neither the topic nor its words (a speech's "it would be eccentric to change
    governments"); a round-up, most of whose chunks are other stories, is not such an article."""
    best: dict[str, dict[int, float]] = {}
    for u in units:
        chunks = best.setdefault(u.source, {})
        chunks[u.chunk.ordinal] = max(chunks.get(u.chunk.ordinal, 0.0), u.relevance)
    return frozenset(s for s, chunks in best.items() if sum(v >= bar for v in chunks.values()) >= ABOUT * len(chunks))


def _chunk_relevance(units: list[Unit]) -> dict[tuple[str, int], float]:
    best: dict[tuple[str, int], float] = {}
    for u in units:
        key = (u.source, u.chunk.ordinal)
        best[key] = max(best.get(key, 0.0), u.relevance)
    return best


class _EarlierMaterial:
    """What the reader has seen, as vectors (semantic novelty) and as the names and numbers it
    writes (specific novelty): the earlier articles' sentences on the topic (their names and
    numbers from the whole articles), or the earlier briefing's items."""

    def __init__(self, vectors: np.ndarray | None, vocabulary: set[str], cutoff: dt.date):
        self.vectors, self.vocabulary, self.cutoff = vectors, vocabulary, cutoff

    @classmethod
    def read(cls, store, topic: str | None, old: _OldStatements, options: BriefOptions) -> _EarlierMaterial:
        if old.base.previous is not None:
            texts = _briefing_texts(old.base.previous)
            vectors = np.asarray(store.embedder.embed(texts), dtype=np.float32) if texts else None
            return cls(vectors, _vocabulary(texts), old.base.cutoff)
        try:
            units = gather(store, topic, old.filters, options.k, options.max_chunks, whole_articles=True).units
        except InputError:
            return cls(None, set(), old.base.cutoff)
        vectors = np.stack([u.vector for u in units]) if units else None
        # the names and numbers of the whole earlier articles, not only of the sentences read:
        # a name an earlier article wrote anywhere is not news
        read = dict.fromkeys(u.source for u in units)
        return cls(vectors, _vocabulary([store.docs.raw(s) or "" for s in read]), old.base.cutoff)

    def new_specifics(self, text: str) -> set[str]:
        return specifics(text, self.cutoff.year) - self.vocabulary

    def novelties(self, units: list[Unit]) -> list[float]:
        """Per unit, in [0, 1]: how far it is from everything earlier (1 at a cosine of
        1 - _FAR or less with every earlier sentence, 0 for a restatement), or its new names and
        numbers when it has them (a toll that rises is close in meaning to the old toll, but new).
        It admits a new fact; it does not rank: a sentence off the topic is far from the
        earlier material too, so it must not raise a candidate in the main selection."""
        if not units:
            return []
        if self.vectors is None:
            semantic = np.ones(len(units))
        else:
            closest = (np.stack([u.vector for u in units]) @ self.vectors.T).max(axis=1)
            semantic = np.clip((1.0 - closest) / _FAR, 0.0, 1.0)
        return [max(float(d), min(len(self.new_specifics(u.text)) / _SPECIFIC_FULL, 1.0))
                for u, d in zip(units, semantic)]


def specifics(text: str, year: int) -> set[str]:
    """The names and numbers a sentence writes (a capitalised word that does not open it, any
    number), lowercased; weekdays and months are the calendar, and a year before `year` (the
    cutoff's) dates background ("the 2014 Ebola outbreak"), not news."""
    out = set()
    for m in _SPECIFIC.finditer(text):
        word = m.group(0)
        if word[0].isupper() and (m.start() == 0 or word in CALENDAR_WORDS):
            continue
        if len(word) == 4 and word.isdigit() and 1000 < int(word) < year:
            continue
        out.add(normalize(word))
    return out


def _vocabulary(texts: list[str]) -> set[str]:
    return {normalize(w) for t in texts for w in _SPECIFIC.findall(t)}


def _merge(parts):
    scope = parts[0]
    seen = {(u.source, u.sentence.char_start) for u in scope.units}
    for other in parts[1:]:
        scope.hits += other.hits
        scope.articles.update(other.articles)
        scope.units += [u for u in other.units if (u.source, u.sentence.char_start) not in seen]
        scope.year_hints.update(other.year_hints)
        scope.notes += other.notes
    scope.units.sort(key=lambda u: (u.source, u.sentence.char_start))
    return scope


def text_date(raw: str) -> dt.date | None:
    """The latest full date an article's text writes (its own date, for an undated article)."""
    found = [r.start for m in find_date_mentions(raw or "") if m.kind == "full" and (r := resolve_mention(m, None))]
    return max(found) if found else None


def _undated_new(store, topic, filters: Filters, base: Baseline, k: int) -> tuple[list[str], list[str]]:
    """Undated articles (on the topic: among those retrieved for it) whose text dates them after
    the cutoff (new), and a note on each undated one."""
    if topic is not None:
        hits = search(store, topic, k, Filters(source=filters.source)).hits
        candidates = [store.docs.article(s) for s in dict.fromkeys(h.chunk.source for h in hits)]
    else:
        candidates = store.docs.articles()
    new, notes = [], []
    for article in candidates:
        if article is None or article.date is not None or article.source in base.seen_sources:
            continue
        if filters.source and not _matches(article.source, filters.source):
            continue
        when = text_date(store.docs.raw(article.source) or "")
        if when is not None and when > base.cutoff and (filters.until is None or when <= filters.until):
            new.append(article.source)
            notes.append(f"{article.source} has no publication date; counted as new: its text gives {when.isoformat()}")
        else:
            reason = f"its text's latest date is {when.isoformat()}" if when else "its text gives no date"
            notes.append(f"{article.source} has no publication date and is not counted as new ({reason})")
    return new, notes


def _matches(source: str, pattern: str) -> bool:
    return fnmatch.fnmatch(source, pattern) or fnmatch.fnmatch(source.split("#")[0], pattern)


class _OldStatements:
    """Finds whether the earlier material states a text."""

    def __init__(self, store, filters: Filters, base: Baseline, topic: str | None = None, k: int = 0):
        self.store, self.base = store, base
        self.filters = dataclasses.replace(filters, since=None, until=base.cutoff, as_of=None)
        self.items = _said(_briefing_texts(base.previous)) if base.previous else None
        # what the reader has seen: the earlier briefing's items, or the earlier articles' sentences
        # on the topic, read once (one retrieval)
        if self.items is not None:
            self.pool = self.items
        else:
            self.pool = _said([s.text for _, s in self.sentences(topic, k)]) if topic and k else []

    def in_pool(self, text: str) -> bool:
        return _restated(text, self.pool)

    def sentences(self, text: str, k: int = _OLD_K) -> list:
        """Earlier sentences near `text` (chunk sentences of earlier articles, by retrieval)."""
        try:
            hits = search(self.store, text, k, self.filters).hits
        except InputError:
            return []
        return [(h.chunk, s) for h in hits for s in h.chunk.sentences if s.kind == "sentence"]

    def states(self, text: str) -> bool:
        if self.in_pool(text):
            return True
        candidates = self.items if self.items is not None else _said([s.text for _, s in self.sentences(text)])
        return _restated(text, candidates)


@dataclasses.dataclass(frozen=True)
class _Said:
    """An earlier sentence (or earlier briefing item): its text, for its particulars, and its content words."""

    text: str
    terms: frozenset[str]


def _said(texts: list[str]) -> list[_Said]:
    return [_Said(t, frozenset(content_words(t))) for t in texts]


def _restated(text: str, candidates: list[_Said]) -> bool:
    """Most of the item's content words, and at least three of them, in one earlier
    sentence that also holds every number, name and date the item writes (rag.brief.particulars:
    a new figure, a new name or a new date beside the old words is news); an attributed quotation
    is its quoted words (the same speaker on another day, "Today is his day," Biden said, is not
    the same quotation)."""
    if attributed_quote(text):
        text = quoted_words(text) or text
    terms = set(content_words(text))
    return any(same_statement(terms, old.terms, ALREADY_STATED) and held_share(text, old.text) >= HELD for old in candidates)


def _briefing_texts(b: Briefing) -> list[str]:
    return ([p.text for p in b.summary + b.key_facts] + [e.text for e in b.timeline] + [q.words for q in b.quotes]
            + [p.text for p in _digest_points(b)])


def _digest_points(b: Briefing) -> list[BriefPoint]:
    return [p for a in b.new_articles for p in a.points]


def _said_once(briefing: Briefing) -> None:
    """A key fact that is also a timeline entry is left to the timeline (it gives the date), unless
    the key fact shows an earlier figure beside it."""
    dated = {normalize(e.text) for e in briefing.timeline}
    briefing.key_facts = [p for p in briefing.key_facts if p.previous or normalize(p.text) not in dated]


def _drop_old(briefing: Briefing, old: _OldStatements) -> int:
    before = len(briefing.summary) + len(briefing.key_facts) + len(briefing.timeline) + len(briefing.quotes)
    briefing.summary = [p for p in briefing.summary if not old.states(p.text)]
    briefing.key_facts = [p for p in briefing.key_facts if not old.states(p.text)]
    briefing.timeline = [e for e in briefing.timeline if not old.states(e.text)]
    briefing.quotes = [q for q in briefing.quotes if not old.states(q.words)]
    points = len(_digest_points(briefing))
    for article in briefing.new_articles:
        article.points = [p for p in article.points if not old.states(p.text)]
    briefing.new_articles = [a for a in briefing.new_articles if a.points]
    after = len(briefing.summary) + len(briefing.key_facts) + len(briefing.timeline) + len(briefing.quotes)
    return before - after + points - len(_digest_points(briefing))


def _previous_figures(briefing: Briefing, store, filters: Filters, base: Baseline) -> None:
    """A new figure beside the earlier value of the same count ('toll rises to 12' beside '9 [4]')."""
    if base.previous is not None:
        return _previous_from_briefing(briefing, base.previous)
    old = _OldStatements(store, filters, base)
    for point in briefing.summary + briefing.key_facts + _digest_points(briefing):
        found = figures(point.text)
        terms = set(content_words(point.text))
        for chunk, sentence in old.sentences(point.text):
            match = _updated(found, point.text, sentence.text, terms)
            if match is not None:
                n = cite_sentence(briefing, chunk, sentence)
                point.previous = f"{match} [{n}]" + (f" ({chunk.date.isoformat()})" if chunk.date else "")
                break


def _previous_from_briefing(briefing: Briefing, previous: Briefing) -> None:
    cited = {c.n: c for c in previous.citations}
    for point in briefing.summary + briefing.key_facts + _digest_points(briefing):
        found = figures(point.text)
        terms = set(content_words(point.text))
        for old in previous.summary + previous.key_facts + _digest_points(previous):
            match = _updated(found, point.text, old.text, terms)
            if match is not None and old.citations and old.citations[0] in cited:
                c = cited[old.citations[0]]
                n = _adopt(briefing, c)
                point.previous = f"{match} [{n}]" + (f" ({c.date.isoformat()})" if c.date else "")
                break


def _updated(new_figures, new_text: str, old_text: str, terms: set[str]) -> str | None:
    """The old figure's value when `old_text` counts the same thing with another number, about the same subject."""
    old_terms = set(content_words(old_text))
    if not terms or len(terms & old_terms) / len(terms) < _SAME_SUBJECT:
        return None
    for old in figures(old_text):
        # "the number of people who died rose to 14": the count's noun comes before the number
        found = new_figures + figures(new_text, {old.unit}, counted=old.unit)
        for new in found:
            if old.unit == new.unit and old.number != new.number and not old.negated and not new.negated:
                return old.value + (f" {old.unit_word}" if old.unit_word.lower() not in old.value.lower() else "")
    return None


def _adopt(briefing: Briefing, c: Citation) -> int:
    n = max((x.n for x in briefing.citations), default=0) + 1
    briefing.citations.append(c.model_copy(update={"n": n}))
    return n


def _prune_citations(briefing: Briefing) -> None:
    """Number again only the citations still used, in order of use; sources' counts follow."""
    used: list[int] = []
    for p in briefing.summary + briefing.key_facts + _digest_points(briefing):
        used += p.citations + _previous_numbers(p)
    for e in briefing.timeline:
        used += e.citations
    for q in briefing.quotes:
        used += q.citations
    for d in briefing.disagreements:
        for side in d.sides:
            used += side.citations
    order = {n: i for i, n in enumerate(dict.fromkeys(used), start=1)}
    by_n = {c.n: c for c in briefing.citations}
    briefing.citations = [by_n[n].model_copy(update={"n": order[n]}) for n in order if n in by_n]
    renumber = lambda numbers: [order[n] for n in numbers if n in order]
    for p in briefing.summary + briefing.key_facts + _digest_points(briefing):
        p.citations = renumber(p.citations)
        if p.previous:
            p.previous = re.sub(r"\[(\d+)\]", lambda m: f"[{order.get(int(m.group(1)), '?')}]", p.previous)
    for item in briefing.timeline + briefing.quotes:
        item.citations = renumber(item.citations)
    for d in briefing.disagreements:
        for side in d.sides:
            side.citations = renumber(side.citations)
    counts: dict[str, int] = {}
    for c in briefing.citations:
        counts[c.source] = counts.get(c.source, 0) + 1
    for s in briefing.sources:
        s.cited = counts.get(s.source, 0)
    briefing.sources.sort(key=lambda s: (s.cited == 0, s.episode or 0, s.source))


def _previous_numbers(p: BriefPoint) -> list[int]:
    return [int(n) for n in re.findall(r"\[(\d+)\]", p.previous or "")]


def _nothing_new(store, topic, filters: Filters, engine: str, base: Baseline, notes: list[str]) -> Briefing:
    return Briefing(topic=topic, since=filters.since, until=filters.until, source_filter=filters.source, engine=engine,
                    settings_hash=store.settings.settings_hash(), new_since=base.cutoff,
                    new_since_briefing=base.label if base.previous is not None else None,
                    notes=[f"nothing new since {base.label}: no article after it matches"
                           + (" the topic" if topic else " the filters")] + notes)
