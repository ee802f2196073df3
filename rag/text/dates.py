"""Parse the date formats news pages use. Returns None rather than guessing."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from rag.text.vocab import MONTHS

_MONTH = r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?"
_ISO = re.compile(r"\b(\d{4})[-/](\d{1,2})[-/](\d{1,2})\b")
_MDY = re.compile(rf"\b{_MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b", re.I)
_DMY = re.compile(rf"\b(\d{{1,2}})\s+{_MONTH}\s+(\d{{4}})\b", re.I)
_URL = re.compile(r"/(20\d{2}|19\d{2})/(\d{1,2})/(\d{1,2})(?:/|$)")


def _make(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def parse_date(text: str | None) -> dt.date | None:
    """First absolute date written in `text` (ISO, 'Dec 23, 2020', '23 December 2020')."""
    if not text:
        return None
    found = []
    if m := _ISO.search(text):
        found.append((m.start(), _make(int(m[1]), int(m[2]), int(m[3]))))
    if m := _MDY.search(text):
        found.append((m.start(), _make(int(m[3]), MONTHS[m[1].lower()], int(m[2]))))
    if m := _DMY.search(text):
        found.append((m.start(), _make(int(m[3]), MONTHS[m[2].lower()], int(m[1]))))
    found = [(pos, d) for pos, d in found if d]
    return min(found, key=lambda item: item[0])[1] if found else None


def date_from_url(url: str | None) -> dt.date | None:
    if not url:
        return None
    m = _URL.search(url)
    return _make(int(m[1]), int(m[2]), int(m[3])) if m else None


# --- Dates inside article text, resolved against the article's publication date ---------------
# Used by briefings (rag/brief/timeline.py). A mention is found first, then resolved: absolute
# dates stand alone; "Dec. 20" needs a year and "Sunday" or "last week" need the publication
# date. Nothing is resolved from a date that is not there: an undated article's weekdays stay
# unresolved, and its month-day dates take a year only from its own dated references.

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTH_NAME = r"(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?|May"
_MENTION = re.compile(
    r"(?P<iso>\b(?P<iy>\d{4})-(?P<im>\d{1,2})-(?P<id>\d{1,2})\b)"
    rf"|(?P<mdy>\b(?P<m1>{_MONTH_NAME})\s+(?P<d1>\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(?P<y1>(?:19|20)\d{{2}}))?\b)"
    rf"|(?P<dmy>\b(?P<d2>\d{{1,2}})\s+(?P<m2>{_MONTH_NAME})(?:\s+(?P<y2>(?:19|20)\d{{2}}))?\b)"
    rf"|(?P<my>\b(?P<m3>{_MONTH_NAME})\s+(?P<y3>(?:19|20)\d{{2}})\b)"
    rf"|(?P<mon>\b(?P<pre>in|early|late|mid-?|earlier in|later in|since)\s+(?:early\s+|late\s+|mid-?)?(?P<m4>{_MONTH_NAME})(?![\w-])(?!\s+\d))"
    r"|(?P<year>\b(?:in|since|during)\s+(?P<y4>(?:19|20)\d{2})\b)"
    r"|(?P<wd>\b(?P<wdpre>last|next|this|on|late|early)?\s*(?P<w>Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b)"
    r"|(?P<rel>\b(?P<r>yesterday|today|tonight|last week|this week|last month|this month|last year|this year)\b)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class DateMention:
    """A date expression as written, before resolution."""

    text: str
    start: int
    end: int
    kind: str  # full | month_day | month_year | month | year | weekday | relative
    year: int | None = None
    month: int | None = None
    day: int | None = None
    weekday: int | None = None  # 0 = Monday
    modifier: str | None = None  # "last", "next", "this" for weekdays; the phrase for relative dates


@dataclass(frozen=True)
class ResolvedDate:
    """A date range with its precision, and how it was found (shown to the reader)."""

    start: dt.date
    end: dt.date
    precision: str  # day | week | month | year
    basis: str

    def label(self) -> str:
        if self.precision == "day":
            return f"{self.start.isoformat()} ({self.start.strftime('%A')})"
        if self.precision == "week":
            return f"week of {self.start.isoformat()}"
        if self.precision == "month":
            return self.start.strftime("%B %Y")
        return str(self.start.year)


def find_date_mentions(text: str) -> list[DateMention]:
    """Every date expression in `text`, in order. Years alone count only after 'in', 'since' or
    'during'; a month alone only after 'in', 'early', 'late', 'mid' or 'since' ('may' is a verb)."""
    out = []
    for m in _MENTION.finditer(text):
        mention = _mention(m)
        if mention is not None:
            out.append(mention)
    return out


def _month(name: str) -> int | None:
    return MONTHS.get(name.lower().rstrip("."))


def _mention(m: re.Match) -> DateMention | None:
    span = {"text": m.group(0).strip(), "start": m.start(), "end": m.end()}
    if m["iso"]:
        return DateMention(kind="full", year=int(m["iy"]), month=int(m["im"]), day=int(m["id"]), **span)
    if m["mdy"] or m["dmy"]:
        name, day, year = (m["m1"], m["d1"], m["y1"]) if m["mdy"] else (m["m2"], m["d2"], m["y2"])
        if name == "May" and not year and m["mdy"] is None:
            return None
        if name.lower() == "may" and not year and m.group(0)[0].islower():
            return None  # "may 3" is rarely a date in running text
        month = _month(name)
        if month is None or not 1 <= int(day) <= 31:
            return None
        kind = "full" if year else "month_day"
        return DateMention(kind=kind, year=int(year) if year else None, month=month, day=int(day), **span)
    if m["my"]:
        return DateMention(kind="month_year", year=int(m["y3"]), month=_month(m["m3"]), **span)
    if m["mon"]:
        if m["m4"].lower() == "may" and not m["m4"][0].isupper():
            return None
        if span["text"].endswith(".") and len(m["m4"].rstrip(".")) > 4:  # "in January." ends a sentence
            span["text"] = span["text"][:-1]
        return DateMention(kind="month", month=_month(m["m4"]), modifier=m["pre"].lower(), **span)
    if m["year"]:
        return DateMention(kind="year", year=int(m["y4"]), **span)
    if m["wd"]:
        if not m["w"][0].isupper():
            return None
        pre = (m["wdpre"] or "").lower() or None
        return DateMention(kind="weekday", weekday=_WEEKDAYS.index(m["w"].lower()), modifier=pre,
                           text=m["w"] if pre in (None, "on", "late", "early") else m.group(0).strip(),
                           start=m.start("w") if pre in (None, "on", "late", "early") else m.start(), end=m.end())
    return DateMention(kind="relative", modifier=m["r"].lower(), **span)


def resolve_mention(mention: DateMention, published: dt.date | None, year_hint: int | None = None) -> ResolvedDate | None:
    """The date range a mention refers to. Relative mentions need `published`; a month-day
    without a year takes it from `published` (the latest such date no more than a week after
    it: news reports the past) or, for an undated article, from `year_hint` (a year the
    article itself states). Returns None when the mention cannot be placed without guessing."""
    kind = mention.kind
    if kind == "full":
        day = _make(mention.year, mention.month, mention.day)
        return ResolvedDate(day, day, "day", f"'{mention.text}' as written") if day else None
    if kind == "month_year":
        start, end = _month_range(mention.year, mention.month)
        return ResolvedDate(start, end, "month", f"'{mention.text}' as written")
    if kind == "year":
        return ResolvedDate(dt.date(mention.year, 1, 1), dt.date(mention.year, 12, 31), "year", f"'{mention.text}' as written")
    if kind in ("month_day", "month"):
        return _resolve_partial(mention, published, year_hint)
    if published is None:
        return None
    if kind == "weekday":
        return _resolve_weekday(mention, published)
    return _resolve_relative(mention, published)


def _month_range(year: int, month: int) -> tuple[dt.date, dt.date]:
    start = dt.date(year, month, 1)
    following = dt.date(year + (month == 12), month % 12 + 1, 1)
    return start, following - dt.timedelta(days=1)


def _resolve_partial(mention: DateMention, published: dt.date | None, year_hint: int | None) -> ResolvedDate | None:
    if published is not None:
        latest = published + dt.timedelta(days=7)
        candidates = [y for y in (published.year + 1, published.year, published.year - 1)
                      if (d := _make(y, mention.month, mention.day or 1)) is not None and d <= latest]
        if not candidates:
            return None
        year = candidates[0]
        basis = f"'{mention.text}' before the publication date {published.isoformat()}"
    elif year_hint is not None:
        year = year_hint
        basis = f"'{mention.text}', year {year_hint} taken from the article's own dates (it has no publication date)"
    else:
        return None
    if mention.kind == "month":
        start, end = _month_range(year, mention.month)
        return ResolvedDate(start, end, "month", basis)
    day = _make(year, mention.month, mention.day)
    return ResolvedDate(day, day, "day", basis) if day else None


def _resolve_weekday(mention: DateMention, published: dt.date) -> ResolvedDate:
    back = (published.weekday() - mention.weekday) % 7
    if mention.modifier == "next":
        ahead = (mention.weekday - published.weekday()) % 7 or 7
        day = published + dt.timedelta(days=ahead)
    elif mention.modifier == "last" and back == 0:
        day = published - dt.timedelta(days=7)
    else:  # news style: a bare weekday is the most recent one, the publication day included
        day = published - dt.timedelta(days=back)
    return ResolvedDate(day, day, "day", f"'{mention.text}' in an article published "
                                         f"{published.strftime('%A')} {published.isoformat()}")


def _resolve_relative(mention: DateMention, published: dt.date) -> ResolvedDate:
    phrase = mention.modifier or ""
    basis = f"'{mention.text}' in an article published {published.isoformat()}"
    if phrase in ("today", "tonight", "yesterday"):
        day = published - dt.timedelta(days=phrase == "yesterday")
        return ResolvedDate(day, day, "day", basis)
    if phrase.endswith("week"):
        monday = published - dt.timedelta(days=published.weekday()) - dt.timedelta(days=7 * (phrase == "last week"))
        return ResolvedDate(monday, monday + dt.timedelta(days=6), "week", basis)
    if phrase.endswith("month"):
        year, month = published.year, published.month
        if phrase == "last month":
            year, month = (year - 1, 12) if month == 1 else (year, month - 1)
        start, end = _month_range(year, month)
        return ResolvedDate(start, end, "month", basis)
    year = published.year - (phrase == "last year")
    return ResolvedDate(dt.date(year, 1, 1), dt.date(year, 12, 31), "year", basis)
