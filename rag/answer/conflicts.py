"""Where sources disagree on a figure: one finder for answers, briefings and LLM contexts.

Two figures conflict only when they measure the same quantity of the same event, place and
time window, in different sources, and cannot both be true:
- **quantity**: what they count is the same noun (stem) or a near synonym (MiniLM cosine of
  the nouns >= UNIT_SIMILARITY: rockets ~ missiles), with the same polarity ("three rockets
  failed to launch" counts something else than "eight rockets were fired"). Identifiers
  ("Category 4", "No. 10", "Title 42") and durations ("seven decades") are not counts;
- **event**: their sentences are about the same thing (MiniLM cosine >= EVENT_SIMILARITY);
- **place**: when both sentences place their figure ("in Florida", "in Cuba"), they share a
  place;
- **time window**: the period each sentence is about (rag.text.dates.event_date, else its
  article's date), widened by TIME_WINDOW_DAYS, overlaps: "the 1992 storm killed 65" is not
  this storm's toll;
- **cannot both be true**: read as intervals ("more than 20" = (20, inf), "about 8" = [6.4, 9.6]),
  some pair from different sources does not overlap.
Each side carries its articles' date and outlet. Counts of people or things reported on
different dates are a running tally (a toll): the latest dated figure comes first, marked
`latest`; other disagreements are listed by value.

Thresholds were chosen on hand-labelled figure pairs from the benchmark's tune half (not
corpus/): bench/labels/figure_pairs.jsonl, `python -m bench.conflicts`, docs/design.md.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

import numpy as np

from rag.answer.figures import Figure, figures
from rag.answer.question import Question
from rag.models import Chunk, Claim, Conflict, DisagreementSide, Sentence
from rag.models import Disagreement as BriefDisagreement
from rag.text.dates import event_date
from rag.text.lexical import content_words, stem
from rag.text.vocab import CALENDAR_WORDS

UNIT_SIMILARITY = 0.5
EVENT_SIMILARITY = 0.5
TIME_WINDOW_DAYS = 14
MAX_RATIO = 10  # sources reporting one quantity differ by less than an order of magnitude
_CONTEXT_WORDS = 6  # content words either side of a figure that say what it is about
_RELEVANT = 0.5  # answers: share of the best score a sentence needs for its figures to count (the finder's own value; 0.25 let figures of other events into the demo answer as disputes)

# What the figures of a running tally count; percentages, money and measures are not tallies.
_MEASURES = {stem(w) for w in (
    ["percent", "mph", "kph", "km", "miles", "mile", "feet", "foot", "inches", "inch", "meters", "metres", "acres", "degrees", "pounds", "tons", "tonnes", "dollars", "euros", "pounds", "yuan", "points", "cents", "gallons", "barrels"])}
_DURATIONS = {stem(w) for w in ["decade", "decades", "century", "centuries", "generation", "generations", "second", "seconds", "night", "nights", "weekend", "weekends", "season", "seasons", "term", "terms", "quarter", "quarters"]}
_NOT_COUNTED = {"later", "earlier", "ago", "old", "apart", "since", "straight", "in", "per", "times", "year-olds"}
_SOURCES_AFTER = re.compile(r"\s+(?:\w+\s+)?(?:people|persons|sources|officials|individuals)\s+(?:familiar|close to|"
                            r"briefed|with (?:direct )?knowledge|who (?:spoke|asked)|said|say|says|told|tell)\b")
_LABEL_BEFORE = re.compile(r"(?<![.!?]\s)(?<!^)\b(?:[A-Z][a-zA-Z]*\.?|No\.)\s*$")
_PLACE = re.compile(r"\b(?:in|at|across|throughout|near|outside|inside)\s+(?:the\s+)?((?:[A-Z][a-z]+(?:['’]s)?"
                    r"(?:\s+|$)){1,3})")
_NOT_PLACES = {"The", "A", "An", "This", "That", "His", "Her", "Their", "Its", "Addition", "Total", "All"} | CALENDAR_WORDS


class Stated(Protocol):
    """A sentence a caller holds (an answer candidate, a briefing unit): its text and its chunk,
    whose source, date and outlet each figure reports."""

    sentence: Sentence
    chunk: Chunk


S = TypeVar("S", bound=Stated)


class Embedder(Protocol):
    def embed(self, texts: list[str]) -> np.ndarray: ...


@dataclass
class Side(Generic[S]):
    """One figure of a disagreement and the statements that give it."""

    value: str  # as written, e.g. "more than 20"
    number: float
    statements: list[S]
    date: dt.date | None = None  # the latest publication date among them
    outlets: list[str] = field(default_factory=list)
    latest: bool = False


@dataclass
class Found(Generic[S]):
    """Sources that give incompatible figures for the same quantity of the same event."""

    about: str
    sides: list[Side[S]]
    tally: bool = False

    @property
    def statements(self) -> list[S]:
        return [s for side in self.sides for s in side.statements]

    def to_conflict(self, cite: Callable[[S], int | None]) -> Conflict:
        """The Answer's model: one claim per statement that has a citation number."""
        claims = [Claim(value=side.value, number=side.number, citation=n, date=s.chunk.date, outlet=s.chunk.outlet,
                        latest=side.latest)
                  for side in self.sides for s in side.statements if (n := cite(s)) is not None]
        return Conflict(about=self.about, claims=claims, tally=self.tally)

    def to_disagreement(self, cite: Callable[[list[S]], list[int]], episode: int | None = None) -> BriefDisagreement:
        """The Briefing's model: one side per figure, citing every statement of it."""
        return BriefDisagreement(about=self.about, episode=episode, tally=self.tally, sides=[
            DisagreementSide(value=side.value, citations=cite(side.statements), date=side.date,
                             outlet=", ".join(side.outlets) or None, latest=side.latest) for side in self.sides])


@dataclass
class _Ref:
    figure: Figure
    statement: Stated
    index: int  # the statement's position: its relevance rank
    window: tuple[dt.date, dt.date] | None
    places: frozenset[str]
    context: frozenset[str] = frozenset()  # content words near the figure, its noun excluded
    asked: bool = False  # it counts what the question asks ("how many rockets")

    @property
    def source(self) -> str:
        return self.statement.chunk.source

    @property
    def interval(self) -> tuple[float, float]:
        n = self.figure.number
        value = self.figure.value.lower()
        if value.startswith(("more than", "over", "at least")):
            return (n + (0 if value.startswith("at least") else 1e-9), float("inf"))
        if value.startswith(("fewer than", "less than", "at most", "up to")):
            return (0.0, n)
        if value.startswith(("nearly", "almost", "about", "around", "roughly", "some", "an estimated",
                             "approximately", "estimated")):
            return (0.8 * n, 1.2 * n)
        return (n, n)


def find_disagreements(statements: Sequence[S], embedder: Embedder, *, prefer: set[str] = frozenset(),
                       counted: str | None = None, counted_word: str | None = None,
                       keep: Callable[[list[S], set[str]], bool] | None = None,
                       vectors: Callable[[list[str]], np.ndarray] | None = None) -> list[Found[S]]:
    """Disagreements among `statements` (most relevant first). `prefer`: stems that should win as
    what a figure counts (a question's terms); `counted` (`counted_word`): the stem (word) a
    question counts, whose figures need no shared words to be the same quantity; `keep`
    decides, from a group's statements and unit stems, whether it matters to the caller.
    `vectors` embeds sentences (default: `embedder.embed`; briefings pass a cached one)."""
    refs = _figures(statements, prefer, counted)
    if len(refs) < 2:
        return []
    embed = vectors or embedder.embed
    unit_words = sorted({r.figure.unit_word.lower() for r in refs} | ({counted_word.lower()} if counted_word else set()))
    unit_vectors = dict(zip(unit_words, embedder.embed(unit_words)))
    if counted:  # the quantity a question asks for: its noun, or a near synonym ("missiles" for "rockets")
        asked = unit_vectors.get((counted_word or "").lower())
        for r in refs:
            r.asked = r.figure.unit == counted or (
                asked is not None and float(unit_vectors[r.figure.unit_word.lower()] @ asked) >= UNIT_SIMILARITY)
    out: list[Found[S]] = []
    for group in _groups(refs, unit_vectors, embed):
        units = {r.figure.unit for r in group}
        found = _found(group, prefer)
        if found is not None and (keep is None or keep(found.statements, units)):
            out.append(found)
    return out


class Scored(Stated, Protocol):
    """An answer candidate: a stated sentence with its score and question-term coverage."""

    score: float
    coverage: float


C = TypeVar("C", bound=Scored)


def find_conflicts(candidates: Sequence[C], chosen: Sequence[C], question: Question,
                   embedder: Embedder, vectors: Callable[[list[str]], np.ndarray] | None = None) -> list[Found[C]]:
    """Answers: disagreements among the relevant candidates (at least half the best score, some
    question term) and the chosen sentences, that touch the question's terms or the answer.
    `vectors`: as for `find_disagreements`."""
    if not candidates:
        return []
    best = candidates[0].score
    relevant = [c for c in candidates if c.score >= _RELEVANT * best and c.coverage > 0]
    pool = list({id(c): c for c in relevant + list(chosen)}.values())
    chosen_ids = {id(c) for c in chosen}
    wanted = {question.unit} if question.unit else set(question.terms)

    def keep(members: list[S], units: set[str]) -> bool:
        return bool(units & (set(question.terms) | {question.unit})) or any(id(m) in chosen_ids for m in members)

    return find_disagreements(pool, embedder, prefer=wanted, counted=question.unit, counted_word=question.unit_word,
                              keep=keep, vectors=vectors)


# --- figures and what they are about ------------------------------------------------------------


def _figures(statements: Sequence[S], prefer: set[str], counted: str | None) -> list[_Ref]:
    refs = []
    seen: set[int] = set()
    for index, s in enumerate(statements):
        if id(s) in seen:
            continue
        seen.add(id(s))
        text = s.sentence.text
        found = [f for f in figures(text, prefer, counted=counted) if _is_count(text, f)]
        if not found:
            continue
        window, places = _window(text, s.chunk.date), _places(text)
        refs += [_Ref(figure=f, statement=s, index=index, window=window, places=places, context=_context(text, f))
                 for f in found]
    return refs


def _is_count(text: str, f: Figure) -> bool:
    """Not an identifier ("Category 4", "No. 10", "Title 42"), a duration ("seven decades",
    "sixty years later"), a time of day ("8:05 p.m."), a fraction or a score ("48 1/3 innings",
    "a 20-0 win"), an age ("a 23-year-old Marine") or a count of a report's sources ("three
    people familiar with the situation told CNN")."""
    if f.unit in _DURATIONS or len(f.unit_word) < 2 or f.unit_word.lower() in _NOT_COUNTED:
        return False
    before, after = text[:f.start], text[f.end:f.end + 12]
    if re.search(r"\d[:./]$", before) or re.match(r"/\d|[-–]\d|-(?:year|month|week|day)s?-old", after):
        return False  # 8:05, 48 1/3, a 20-0 win, a 23-year-old
    if _SOURCES_AFTER.match(text, f.end):
        return False  # "two people familiar with the search said": who is speaking, not what is reported
    return not (f.value[0].isdigit() and _LABEL_BEFORE.search(before))


def _window(text: str, published: dt.date | None) -> tuple[dt.date, dt.date] | None:
    """The period the sentence is about; a day or a week (or the article's date) widened by
    TIME_WINDOW_DAYS, a month or a year as it is ("in 2017" is not "in 2018"). None: unknown."""
    wide = dt.timedelta(days=TIME_WINDOW_DAYS)
    dated = event_date(text, published)
    if dated is not None:
        when = dated[1]
        return (when.start - wide, when.end + wide) if when.precision in ("day", "week") else (when.start, when.end)
    return (published - wide, published + wide) if published else None


def _context(text: str, f: Figure) -> frozenset[str]:
    """What the sentence says about the figure: content words of its clause near it."""
    before = re.split(r"[;:()\"“”—]", text[:f.start])[-1]
    after = re.split(r"[;:()\"“”—]", text[f.end:])[0]
    words = content_words(before)[-_CONTEXT_WORDS:] + content_words(after)[:_CONTEXT_WORDS + 1]
    return frozenset(w for w in words if w != f.unit and not w.isdigit())


def _places(text: str) -> frozenset[str]:
    out = set()
    for m in _PLACE.finditer(text):
        words = [w for w in m.group(1).split() if w not in _NOT_PLACES]
        if words:
            out.add(re.sub(r"['’]s$", "", " ".join(words)))
    return frozenset(out)


# --- grouping -----------------------------------------------------------------------------------


def same_quantity(a: _Ref, b: _Ref, unit_cosine: float, event_cosine: float) -> bool:
    """Two figures measure the same quantity of the same event, place and time window."""
    if a.source == b.source or a.figure.negated != b.figure.negated:
        return False
    if (a.figure.unit in _MEASURES) != (b.figure.unit in _MEASURES):
        return False
    if a.figure.unit != b.figure.unit and (unit_cosine < UNIT_SIMILARITY or a.figure.unit in _MEASURES):
        return False  # near synonyms count the same things (rockets ~ missiles); "2.5 inches" of rain is no "13.88 feet"
    if event_cosine < EVENT_SIMILARITY:
        return False
    low_a, low_b = a.interval[0] or a.figure.number, b.interval[0] or b.figure.number
    if min(low_a, low_b) > 0 and max(low_a, low_b) > MAX_RATIO * min(low_a, low_b):
        return False  # "115 justices" in its history and "nine justices" today count different things
    if not (a.context & b.context) and not (a.asked and b.asked):
        # nothing said about the figures in common ("two airlines" vs "10 largest airlines"),
        # unless both count what the question asks: the question names the quantity
        return False
    if a.places and b.places and not _share_place(a.places, b.places):
        return False
    if a.window and b.window and (a.window[1] < b.window[0] or b.window[1] < a.window[0]):
        return False
    return True


def _share_place(a: frozenset[str], b: frozenset[str]) -> bool:
    return any(x == y or x in y.split() or y in x.split() for x in a for y in b)


def _groups(refs: list[_Ref], unit_vectors: dict, embed: Callable[[list[str]], np.ndarray]) -> list[list[_Ref]]:
    """Connected groups of figures that pairwise measure the same quantity (single link). Only
    the sentences of pairs that pass every other test are embedded (the event cosine decides
    last): most figures of an answer's candidates never need a sentence vector."""
    parent = list(range(len(refs)))
    pairs = []
    for i, a in enumerate(refs):
        for j in range(i + 1, len(refs)):
            b = refs[j]
            if a.source == b.source:
                continue
            unit = float(unit_vectors[a.figure.unit_word.lower()] @ unit_vectors[b.figure.unit_word.lower()])
            if same_quantity(a, b, unit, 1.0):
                pairs.append((i, j, unit))
    texts = list(dict.fromkeys(refs[k].statement.sentence.text for i, j, _ in pairs for k in (i, j)))
    sentence_vectors = dict(zip(texts, embed(texts))) if texts else {}

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j, unit in pairs:
        a, b = refs[i], refs[j]
        event = float(sentence_vectors[a.statement.sentence.text] @ sentence_vectors[b.statement.sentence.text])
        if same_quantity(a, b, unit, event):
            parent[root(j)] = root(i)
    groups: dict[int, list[_Ref]] = {}
    for i, r in enumerate(refs):
        groups.setdefault(root(i), []).append(r)
    return sorted((g for g in groups.values() if len(g) > 1), key=lambda g: min(r.index for r in g))


def _incompatible(members: list[_Ref]) -> bool:
    """Two sources give figures that cannot both be true, and neither also gives the other's:
    "reached 13.88 feet, surpassing the 1918 crest of 11.5 feet" in two outlets compares two
    figures, it does not dispute one."""
    stated: dict[str, set[float]] = {}
    for r in members:
        stated.setdefault(r.source, set()).add(r.figure.number)
    for i, a in enumerate(members):
        for b in members[i + 1:]:
            if a.source == b.source or b.figure.number in stated[a.source] or a.figure.number in stated[b.source]:
                continue
            (lo1, hi1), (lo2, hi2) = a.interval, b.interval
            if hi1 < lo2 or hi2 < lo1:
                return True
    return False


def _found(group: list[_Ref], prefer: set[str]) -> Found | None:
    """The disagreement in a group of figures of one quantity, if any: figures that cannot both
    be true, or a running tally (a count reported with other values on other dates: "at least
    21 dead" on Wednesday, "at least 47" on Friday), shown latest first."""
    dated = {r.statement.chunk.date for r in group if r.statement.chunk.date}
    counting = group[0].figure.unit not in _MEASURES
    updated = counting and len(dated) > 1 and len({r.figure.number for r in group}) > 1
    if not (_incompatible(group) or updated):
        return None
    sides: dict[tuple[float, str], Side] = {}
    for r in sorted(group, key=lambda r: (r.figure.number, -len(r.figure.value))):
        key = (r.figure.number, _qualifier(r.figure.value))
        side = sides.setdefault(key, Side(value=r.figure.value, number=r.figure.number, statements=[]))
        if r.statement not in side.statements:
            side.statements.append(r.statement)
    for side in sides.values():
        dates = [s.chunk.date for s in side.statements if s.chunk.date]
        side.date = max(dates) if dates else None
        side.outlets = list(dict.fromkeys(s.chunk.outlet for s in side.statements if s.chunk.outlet))
    ordered = list(sides.values())
    about = _about(group, prefer)
    tally = group[0].figure.unit not in _MEASURES and len({s.date for s in ordered if s.date}) > 1
    if tally:
        ordered.sort(key=lambda s: (s.date is None, -(s.date.toordinal() if s.date else 0), s.number))
        newest = [s for s in ordered if s.date == ordered[0].date]
        if len(newest) == 1:
            ordered[0].latest = True
    return Found(about=about, sides=ordered, tally=tally)


def _qualifier(value: str) -> str:
    words = value.lower().split()
    return " ".join(words[:-1]) if len(words) > 1 else ""


def _about(group: list[_Ref], prefer: set[str]) -> str:
    """What the figures count: a question's word if one of them counts it, else the noun of the
    most relevant sentence."""
    named = [r for r in group if r.figure.unit in prefer]
    return min(named or group, key=lambda r: r.index).figure.unit_word.lower()
