"""The timeline: sentences that date an event, with the date resolved and shown absolute.

A sentence is dated by the expression its event is about (rag.text.dates.event_date): the
main clause's date, not one in a "since ..." or "after the ..." phrase, a quotation or a limit
("until June 5"); absolute dates as written, "Dec. 20" and "Sunday" against the article's
publication date and the tense of their clause ("the funeral will be on Monday" is ahead). An undated article cannot
anchor a weekday or "last week": such a sentence joins an event only when a dated source in the
same episode reports the same thing on a date of that weekday; otherwise the briefing says it
could not be placed. Its month-day dates take the year of the latest full date it writes.

Events of one episode with the same date range that say the same thing (cosine >= 0.5, or the
same statement) are one event, citing every source. Events of different episodes never merge.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from rag.brief.scope import Unit
from rag.text.dates import DateMention, ResolvedDate, event_date, event_mention, find_date_mentions
from rag.text.sameness import SAME_STATEMENT, same_statement

SAME_EVENT = 0.5
_MONTH = dt.timedelta(days=31)


@dataclass
class Event:
    date: ResolvedDate
    units: list[Unit]
    dating: list[str] = field(default_factory=list)
    expression: str | None = None  # as written in the lead sentence ("Monday")
    kind: str | None = None  # the kind of that expression (rag.text.dates.DateMention.kind)
    ahead: bool = False  # that expression was read forward: a scheduled event ("could reopen Monday")

    @property
    def lead(self) -> Unit:
        return self.units[0]

    @property
    def sources(self) -> set[str]:
        return {u.source for u in self.units}


def build_timeline(units: list[Unit], limit: int, hints: dict[str, int],
                   windows: dict[int, tuple]) -> tuple[list[Event], list[str]]:
    """(events, notes). Events are sorted by date. At most `limit` are kept: the most reported
    first, then events within a month of their episode's articles before background history."""
    events: list[Event] = []
    pending: list[tuple[Unit, DateMention]] = []
    for u in sorted(units, key=lambda x: -x.score):
        mentions = event_mention(find_date_mentions(u.text))
        if not mentions:
            continue
        dated = event_date(u.text, u.article.date, hints.get(u.source), mentions)
        if dated is None:
            pending.append((u, mentions[0]))
            continue
        _add(events, u, dated[1], dated[0])
    notes = _place_pending(events, pending)
    events = reconcile(events)
    ranked = sorted(events, key=lambda e: (-len(e.sources), not _current(e, windows), -e.lead.score))[:limit]
    return sorted(ranked, key=lambda e: (e.date.start, e.date.end, e.lead.episode or 0)), notes


def _current(event: Event, windows: dict[int, tuple]) -> bool:
    """Within a month of its episode's publication dates (an undated episode has no window)."""
    start, end = windows.get(event.lead.episode, (None, None))
    if start is None:
        return False
    return start - _MONTH <= event.date.end and event.date.start <= end + _MONTH


def _add(events: list[Event], u: Unit, date: ResolvedDate, mention: DateMention) -> None:
    basis = f"{u.source}: {date.basis}"
    for event in events:
        if (event.date.start, event.date.end) == (date.start, date.end) and event.lead.episode == u.episode \
                and _same_event(event, u):
            if u.source not in event.sources:
                event.units.append(u)
                event.dating.append(basis)
            return
    events.append(Event(date=date, units=[u], dating=[basis], expression=mention.text, kind=mention.kind,
                        ahead=mention.tense == "future"))


def reconcile(events: list[Event]) -> list[Event]:
    """One event reported by several sources of an episode gets one date (see _yields): the
    date most sources give, then the reading nearest its own article's date. The entry that
    gives way joins the other, and its dating says why."""
    events = sorted(events, key=lambda e: (-len(e.sources), _distance(e)))
    kept: list[Event] = []
    for event in events:
        home = next((k for k in kept if _same_report(k, event) and _yields(event, k)), None)
        if home is None:
            kept.append(event)
            continue
        for u in event.units:
            if u.source not in home.sources:
                home.units.append(u)
                home.dating.append(f"{u.source}: '{event.expression}' read as {event.date.label()}, but it reports "
                                   f"what {home.lead.source} dates {home.date.label()}")
    return kept


def _distance(event: Event) -> int:
    published = event.lead.article.date
    return abs((event.date.start - published).days) if published else 0


def _same_report(a: Event, b: Event) -> bool:
    return a.lead.episode == b.lead.episode and any(_same_event(a, u) for u in b.units)


def _yields(event: Event, other: Event) -> bool:
    """Does `event`'s date give way to `other`'s (which has as many sources or more)?
    - a weekday read a week away from the day the other gives ("fled on Wednesday" in a live
      page dated by its first version, against "July 13" or another source's "Wednesday");
    - "today", "this afternoon", "yesterday" read a day away from the day more sources give (a
      page dated the morning after, or in another time zone);
    - a coarse date (a week, month or year, not a range of days) that contains the other's.
    Never between a scheduled event and one that happened."""
    if event.ahead != other.ahead:
        return False  # what is scheduled ("could reopen as early as Monday") is not what happened
    (s1, e1), (s2, e2) = (event.date.start, event.date.end), (other.date.start, other.date.end)
    days = s1 == e1 and s2 == e2
    if days and event.kind == "weekday" and abs((s1 - s2).days) == 7:
        return True
    if days and event.kind == "relative" and abs((s1 - s2).days) == 1 and len(other.sources) > len(event.sources):
        return True
    return event.date.precision != "day" and s1 <= s2 and e2 <= e1 and (s1, e1) != (s2, e2)


def _same_event(event: Event, u: Unit) -> bool:
    return any(_same(x, u, float(x.vector @ u.vector)) for x in event.units)


def _same(x: Unit, u: Unit, cosine: float) -> bool:
    return cosine >= SAME_EVENT or same_statement(x.terms, u.terms, SAME_STATEMENT, cosine)


def _place_pending(events: list[Event], pending: list[tuple[Unit, DateMention]]) -> list[str]:
    unplaced: dict[str, list[str]] = {}
    for u, mention in pending:
        match = next((e for e in events if mention.kind == "weekday" and e.date.precision == "day"
                      and e.date.start.weekday() == mention.weekday and e.lead.episode == u.episode
                      and u.source not in e.sources and _same_event(e, u)), None)
        if match is None and any(u.source in e.sources and mention.kind == "weekday" and e.date.precision == "day"
                                 and e.date.start.weekday() == mention.weekday and _same_event(e, u) for e in events):
            continue  # the same source already dates this event explicitly
        if match is not None:
            match.units.append(u)
            match.dating.append(f"{u.source}: '{mention.text}' (no publication date) — the same report as "
                                f"{match.lead.source}, whose date is a {mention.text.split()[-1]}")
        else:
            unplaced.setdefault(u.source, []).append(mention.text)
    return [f"{source} has no publication date, so its relative dates "
            f"({', '.join(dict.fromkeys(words))}) are not placed on the timeline"
            for source, words in unplaced.items()]
