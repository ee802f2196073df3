"""Dates in news text: the formats pages use, and the date expressions of a sentence resolved
against the article's publication date. Nothing here raises on any text, and nothing is guessed:
an expression that cannot be placed resolves to None.

Measured against dateparser on 210 hand-labelled benchmark sentences (`python -m bench.dates`,
docs/design.md "Dates"): this parser is the more accurate one, so it is kept.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace

from rag.text.vocab import (
    MONTH_PATTERN,
    MONTH_PREFIXES,
    UNIT_WORDS,
    WEEKDAY_PATTERN,
    WEEKDAY_PREFIXES,
    WEEKDAYS,
    month_number,
)

# --- Dates of pages (front matter, URLs) -------------------------------------------------------

_PAGE_MONTH = rf"(?P<month>{MONTH_PATTERN})"
_ISO = re.compile(r"\b(\d{4})[-/](\d{1,2})[-/](\d{1,2})\b")
_MDY = re.compile(rf"\b{_PAGE_MONTH}\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<year>\d{{4}})\b", re.IGNORECASE)
_DMY = re.compile(rf"\b(?P<day>\d{{1,2}})\s+{_PAGE_MONTH}\s+(?P<year>\d{{4}})\b", re.IGNORECASE)
_URL = re.compile(r"/(20\d{2}|19\d{2})/(\d{1,2})/(\d{1,2})(?:/|$)")


def _make(year: int | None, month: int | None, day: int | None) -> dt.date | None:
    if year is None or month is None or day is None:
        return None
    try:
        return dt.date(year, month, day)
    except (ValueError, OverflowError):
        return None


def parse_date(text: str | None) -> dt.date | None:
    """First absolute date written in `text` (ISO, 'Dec 23, 2020', '23 December 2020')."""
    if not text:
        return None
    found = []
    if m := _ISO.search(text):
        found.append((m.start(), _make(int(m[1]), int(m[2]), int(m[3]))))
    for pattern in (_MDY, _DMY):
        if m := pattern.search(text):
            found.append((m.start(), _make(int(m["year"]), month_number(m["month"]), int(m["day"]))))
    found = [(pos, d) for pos, d in found if d]
    return min(found, key=lambda item: item[0])[1] if found else None


def date_from_url(url: str | None) -> dt.date | None:
    if not url:
        return None
    m = _URL.search(url)
    return _make(int(m[1]), int(m[2]), int(m[3])) if m else None


# --- Date expressions in article text -----------------------------------------------------------
# A mention is found first, with the tense of the verb that governs it; then it is resolved:
# absolute dates stand alone; "Dec. 20" needs a year and "Sunday" or "last week" the publication
# date. A weekday or a month-day in a clause about the future ("will", "is set to", "is
# scheduled", "nominations close Monday") resolves forward; in a clause about the past, back;
# "was expected to ... Wednesday" (the future of a past moment) to the nearest such day. Nothing
# is resolved from a date that is not there: an undated article's weekdays stay unresolved, and
# its month-day dates take a year only from its own dated references.

_M = MONTH_PATTERN
_DAY = r"\d{1,2}(?:st|nd|rd|th)?(?![\d,.]\d)"
_YEAR = r"(?:19|20)\d{2}"
_WD = WEEKDAY_PATTERN
_RANGE_TO = r"\s*(?:-|–|—|to|through|thru|until)\s*"
_PARTS = r"(?:\s+(?:morning|afternoon|evening|night))?"
# "three days ago", "a week ago": counts up to ten; "several" and "few" give no date.
_NUMBER_WORDS = {"a": 1, "an": 1, **{w: n for w, n in UNIT_WORDS.items() if 1 <= n <= 10}, "several": None, "few": None}

_MENTION = re.compile(
    r"(?P<iso>\b(?P<iy>\d{4})-(?P<im>\d{1,2})-(?P<id>\d{1,2})\b)"
    # day ranges: "May 5-8", "July 31-Aug. 2", "March 16 through April 14", "between Nov. 22 and Dec. 4"
    rf"|(?P<range>\b(?:(?i:from)\s+)?(?P<ra_m>{_M})\s+(?P<ra_d>{_DAY}){_RANGE_TO}(?:(?P<ra_m2>{_M})\s+)?"
    rf"(?P<ra_d2>{_DAY})\b(?:,?\s+(?P<ra_y>{_YEAR})\b)?)"
    rf"|(?P<between>\b(?i:between)\s+(?P<rb_m>{_M})\s+(?P<rb_d>{_DAY})\s+and\s+(?:(?P<rb_m2>{_M})\s+)?"
    rf"(?P<rb_d2>{_DAY})\b(?:,?\s+(?P<rb_y>{_YEAR})\b)?)"
    rf"|(?P<urange>\b(?P<ru_d>\d{{1,2}})\s*[-–]\s*(?P<ru_d2>\d{{1,2}})\s+(?P<ru_m>{_M})(?:\s+(?P<ru_y>{_YEAR}))?)"
    # "Monday, Jan. 14": the weekday picks the year
    rf"|(?P<wdate>\b(?P<wd_w>{_WD}),?\s+(?P<wd_m>{_M})\s+(?P<wd_d>{_DAY})\b(?:,?\s+(?P<wd_y>{_YEAR})\b)?)"
    rf"|(?P<mdy>\b(?P<m1>{_M})\s+(?P<d1>{_DAY})\b(?:,?\s+(?P<y1>{_YEAR})\b)?)"
    rf"|(?P<dmy>\b(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<m2>{_M})(?:,?\s+(?P<y2>{_YEAR})\b)?)"
    rf"|(?P<my>\b(?P<m3>{_M})\s+(?:of\s+)?(?P<y3>{_YEAR})\b)"
    rf"|(?P<mrel>\b(?P<m5>{_M})\s+(?P<r5>last|this|next)\s+year\b)"
    rf"|(?P<mon>\b(?P<pre>(?i:the end of|the start of|the beginning of|the middle of|earlier in|later in|"
    r"this past|this coming|in|since|until|till|by|through|during|from|before|after|early|late|mid-|mid|last|next"
    rf"|this|the))(?:\s+|(?<=-))(?:(?P<part>early|late|mid-?)\s*)?(?P<m4>{_M})(?![\w'’-])(?!\.?\s*\d)(?!\s+of\s+(?:19|20)\d\d))"
    rf"|(?P<year>\b(?P<ypre>(?i:in|since|during|by|until|before|after|from|through))\s+(?P<y4>{_YEAR})\b(?![-–/]\d))"
    rf"|(?P<yand>(?<=\d{{4}} and )(?P<y5>{_YEAR})\b)"
    r"|(?P<ago>\b(?P<ago_n>\d{1,3}|a|an|one|two|three|four|five|six|seven|eight|nine|ten)\s+"
    r"(?P<ago_u>day|days|week|weeks|month|months|year|years)\s+ago\b)"
    r"|(?P<rel>\b(?P<r>(?i:the day before yesterday|yesterday|today|tonight|tomorrow|this morning|this afternoon"
    r"|this evening|last night|(?:(?:earlier|later|early|late)\s+)?(?:this past|this coming|last|this|next)\s+"
    r"(?:week|weekend|month|year)))\b)"
    rf"|(?P<wd>\b(?:(?P<wdpre>(?i:this past|this coming|last|next|this|on|by|until|through|since|as of|"
    rf"early|late|from|before|after|for))\s+)?(?P<w>{_WD})(?![\w-])(?:['’]s)?{_PARTS})",
)
# Words that every date expression contains (a superset: "Janet" passes, and is rejected later).
_KEYS = (*MONTH_PREFIXES, "day", "Day", "DAY",
         "week", "month", "year", "Year", "night", "morning", "afternoon", "evening", "tomorrow", "Tomorrow",
         "ago", "19", "20")
_ANCHOR = re.compile(rf"\b(?:{'|'.join(MONTH_PREFIXES + WEEKDAY_PREFIXES)}|yesterday"
                     r"|Yesterday|today|Today|TODAY|tonight|Tonight|tomorrow|Tomorrow|morning|afternoon|evening"
                     r"|night|week|weekend|month|year|ago|19\d\d|20\d\d|\d{4}-\d)")
_BEFORE_ANCHOR, _AFTER_ANCHOR = 40, 48  # the longest prefix ("the beginning of", "between") and tail
# Days with a name of their own are not "the most recent Friday".
_NAMED_DAY = re.compile(r"\b(?:Black|Cyber|Super|Good|Fat|Ash|Holy|Giving|Easter|Palm|Maundy|Bloody|Blue|Manic|"
                        r"Business|Shopping|Travel)\s+$")

# "on that Friday", "the following Monday", "the same Tuesday": a day counted from a date the text
# gave before (a chronology's "June 27: ... to begin that Friday"), never from the page's date.
# ("said that Friday's storm": "that" after a verb of speech is a conjunction, and not matched.)
_ANAPHORIC = re.compile(r"\b(?:(?:on|by|until|till|from|since|before|after|of|for|later|earlier|late|early|begin"
                        r"|start|end)\s+that|the\s+(?:following|next|previous|same))\s+$", re.IGNORECASE)

# What governs a mention's tense: the nearest marker on its left within its clause, else on
# its right. Future-of-the-past ("was expected to", "would") resolves to the nearest day.
_BOUNDARY = re.compile(r"[;()\[\]\"“”—]|:(?=\s)|\s--\s|\b(?:that|which|who|whose|whom)\b", re.IGNORECASE)
_FUTURE_WORDS = {"will", "shall", "won't", "scheduled", "slated", "upcoming", "set", "due", "expected", "expects",
                 "plans", "planned", "planning", "intends", "aims", "hopes", "could", "may", "might", "going",
                 "begins", "starts", "opens", "closes", "ends", "resumes", "expires", "airs", "kicks", "arrives",
                 "returns", "meets", "votes"}
_SCHEDULED_ONLY = {"set", "due"}  # future only in "is set to", "set to expire", "are due", "due to open"
_DETERMINERS = {"the", "a", "an", "his", "her", "its", "their", "our", "this", "that", "these", "those", "high", "heavy"}
_NEAR_WORDS = {"would"}
_PRESENT_WORDS = {"is", "are", "isn't", "aren't", "remains", "remain", "has", "have", "stays", "continues"}
# Scheduled events in the simple present: "nominations close at 2pm Monday", "polls open Tuesday".
_SCHEDULE_VERBS = {"begin", "start", "open", "close", "end", "resume", "meet", "vote", "arrive", "return", "launch"}
_PAST_AUX = {"was", "were", "had", "been"}
_PAST_WORDS = {"said", "says", "tells", "told", "was", "were", "had", "did", "began", "came", "went", "saw", "took",
               "made", "gave", "found", "held", "left", "met", "ran", "won", "lost", "fell", "rose", "spoke",
               "wrote", "sent", "led", "got", "struck", "broke", "became", "brought", "bought", "caught", "chose",
               "drew", "drove", "fled", "flew", "grew", "heard", "hid", "kept", "knew", "paid", "sang", "sank",
               "sat", "shook", "shot", "sold", "sought", "spent", "stood", "stole", "swore", "taught", "threw",
               "thought", "woke", "wore", "withdrew", "hit", "cut", "quit", "put", "read", "set", "beat", "bit",
               "ago", "since", "earlier", "last", "recently", "already"}
_NOT_PAST = {"scheduled", "expected", "planned", "slated", "proposed", "needed", "based", "red", "bed", "need",
             "feed", "seed", "speed", "shed", "wed", "hundred", "indeed", "united", "limited", "related"}
_TOKEN = re.compile(r"[A-Za-z][A-Za-z'’-]*")
_WINDOW = 12

# A date in these phrases names the background of the sentence, not its event: "since the
# murder ... in 1998", "after the May 24 shooting", "the anniversary of ... August 2021".
_BACKGROUND = re.compile(r"\b(?:since|after|following|before|ahead of|anniversary|up from|down from|compared (?:with|to)"
                         r"|than)\b", re.IGNORECASE)
# "the Jan. 6 committee", "the 9/11 Commission": a date that names a body is not a date of the sentence
_NAMED_AFTER = re.compile(r"['’]?s?\s+(?:select\s+)?(?:committee|commission|panel|hearings?|investigators?)\b", re.IGNORECASE)
_ASIDE = re.compile(r"\([^()]{0,80}\)")
_DEADLINE = re.compile(r"\b(?:until|till|through|by|up to|before)\s*$", re.IGNORECASE)
_QUOTE_CHARS = "\"“”"
_RELATIVE_ASIDE = re.compile(r",\s*(?:who|which|whose)\b[^,.;:]*$")


@dataclass(frozen=True)
class DateMention:
    """A date expression as written, before resolution."""

    text: str
    start: int
    end: int
    kind: str  # full | month_day | month_year | month | year | weekday | relative | ago | range
    year: int | None = None
    month: int | None = None
    day: int | None = None
    weekday: int | None = None  # 0 = Monday
    modifier: str | None = None  # "last", "next", "this"... for weekdays and months; the phrase for relative dates
    tense: str | None = None  # past | future | near (the future of a past moment) | None
    until: tuple[int | None, int, int] | None = None  # a range's last day: (year or None, month, day)
    background: bool = False  # in a "since ...", "after the ..." phrase: not what the sentence dates
    deadline: bool = False  # "until ...", "through ...": a limit rather than an event
    quoted: bool = False  # inside quotation marks
    aside: bool = False  # in a relative clause set off by commas ("Rajapaksa, who fled earlier this week,")


@dataclass(frozen=True)
class ResolvedDate:
    """A date range with its precision, and how it was found (shown to the reader)."""

    start: dt.date
    end: dt.date
    precision: str  # day | week | month | year (a range of days is "day" with end > start)
    basis: str
    relative_to: dt.date | None = None  # the publication date a relative expression was read against

    def label(self) -> str:
        if self.precision == "day":
            if self.end != self.start:
                return f"{self.start.isoformat()} to {self.end.isoformat()}"
            return f"{self.start.isoformat()} ({self.start.strftime('%A')})"
        if self.precision == "week":
            return f"week of {self.start.isoformat()}"
        if self.precision == "month":
            return self.start.strftime("%B %Y")
        return str(self.start.year)


def find_date_mentions(text: str) -> list[DateMention]:
    """Every date expression in `text`, in order, with its tense. Years alone count only after
    'in', 'since', 'during' and the like; a month alone only after such a word ('may' is a verb,
    'May' a name), and months are whole capitalised words ('in Maryland' is a place)."""
    if not text:
        return []
    out = []
    for m in _matches(text):
        try:
            mention = _mention(m, text)
        except (ValueError, TypeError, KeyError):
            mention = None
        if mention is not None:
            out.append(_context(mention, text))
    return out


def _matches(text: str):
    """_MENTION's matches, searched only near a word that can start or end a date: scanning
    every position of every sentence with the full pattern is 20 times slower."""
    if not any(key in text for key in _KEYS):
        return
    windows: list[list[int]] = []
    for anchor in _ANCHOR.finditer(text):
        lo, hi = max(0, anchor.start() - _BEFORE_ANCHOR), min(len(text), anchor.end() + _AFTER_ANCHOR)
        if windows and lo <= windows[-1][1]:
            windows[-1][1] = hi
        else:
            windows.append([lo, hi])
    for lo, hi in windows:
        yield from _MENTION.finditer(text, lo, hi)


def _number(value: str | None) -> int | None:
    if not value:
        return None
    digits = re.match(r"\d+", value)
    return int(digits.group()) if digits else None


def _valid_day(month: int | None, day: int | None) -> bool:
    return month is not None and day is not None and 1 <= day <= 31 and _make(2000, month, day) is not None


def _mention(m: re.Match, text: str) -> DateMention | None:
    span = {"text": m.group(0).strip(), "start": m.start(), "end": m.end()}
    if m["iso"]:
        if _make(int(m["iy"]), int(m["im"]), int(m["id"])) is None:
            return None
        return DateMention(kind="full", year=int(m["iy"]), month=int(m["im"]), day=int(m["id"]), **span)
    for prefix, kind in (("ra", "range"), ("rb", "between"), ("ru", "urange")):
        if m[kind]:
            return _range(m, prefix, span)
    if m["wdate"]:
        month, day = month_number(m["wd_m"]), _number(m["wd_d"])
        if not _valid_day(month, day):
            return None
        year = _number(m["wd_y"])
        return DateMention(kind="full" if year else "month_day", year=year, month=month, day=day,
                           weekday=WEEKDAYS.index(m["wd_w"].lower()), **span)
    if m["mdy"] or m["dmy"]:
        name, day, year = (m["m1"], m["d1"], m["y1"]) if m["mdy"] else (m["m2"], m["d2"], m["y2"])
        month, day = month_number(name), _number(day)
        if not _valid_day(month, day):
            return None
        return DateMention(kind="full" if year else "month_day", year=_number(year), month=month, day=day, **span)
    if m["my"]:
        return DateMention(kind="month_year", year=int(m["y3"]), month=month_number(m["m3"]), **span)
    if m["mrel"]:
        return DateMention(kind="month", month=month_number(m["m5"]), modifier=f"{m['r5']} year", **span)
    if m["mon"]:
        pre = m["pre"].lower()
        if pre == "the" and (m["m4"] == "May" or re.match(r"\s+(?:of|for|on)\b|\s+[A-Z]", text[m.end():])):
            return None  # "the March of Dimes", "the May government": names more often than months
        if span["text"].endswith("."):  # "in January." ends a sentence
            span["text"] = span["text"][:-1]
        modifier = {"this past": "last", "this coming": "next"}.get(pre, pre)
        return DateMention(kind="month", month=month_number(m["m4"]), modifier=modifier, **span)
    if m["year"] or m["yand"]:
        return DateMention(kind="year", year=int(m["y4"] or m["y5"]), **span)
    if m["ago"]:
        count = _NUMBER_WORDS.get(m["ago_n"].lower(), None) if not m["ago_n"].isdigit() else int(m["ago_n"])
        if not count:
            return None
        return DateMention(kind="ago", day=count, modifier=m["ago_u"].lower().rstrip("s"), **span)
    if m["rel"]:
        phrase = " ".join(m["r"].split())
        if phrase[0].isupper() and not _sentence_start(text, m.start()):
            return None  # "USA TODAY", "Buy Tomorrow": a name
        return DateMention(kind="relative", modifier=phrase.lower(), **span)
    if m["wd"]:
        if _NAMED_DAY.search(text[max(0, m.start("w") - 20):m.start("w")]):
            return None
        if _ANAPHORIC.search(text[max(0, m.start("w") - 20):m.start("w")]):
            return None  # "to begin that Friday": a day of a story told elsewhere, not of the page's week
        pre = (m["wdpre"] or "").lower() or None
        explicit = pre in ("last", "next", "this", "this past", "this coming")
        start = m.start() if explicit else m.start("w")
        return DateMention(kind="weekday", weekday=WEEKDAYS.index(m["w"].lower()), modifier=pre,
                           text=text[start:m.end()].strip(), start=start, end=m.end())
    return None


def _range(m: re.Match, prefix: str, span: dict) -> DateMention | None:
    first_month = month_number(m[f"{prefix}_m"])
    last_month = month_number(m[f"{prefix}_m2"]) if m.groupdict().get(f"{prefix}_m2") else first_month
    first, last = _number(m[f"{prefix}_d"]), _number(m[f"{prefix}_d2"])
    year = _number(m[f"{prefix}_y"])
    if not (_valid_day(first_month, first) and _valid_day(last_month, last)):
        return None
    if last_month == first_month and last <= first:
        return None  # "May 5-3" is not a range
    return DateMention(kind="range", year=year, month=first_month, day=first, until=(year, last_month, last), **span)


def _sentence_start(text: str, pos: int) -> bool:
    before = text[:pos].rstrip()
    return not before or before[-1] in ".!?\"“‘'(:—-"


def _context(mention: DateMention, text: str) -> DateMention:
    """The mention's tense, and whether it is background, a deadline or quoted."""
    before = text[:mention.start]
    left = _clause_left(text, mention.start)
    cue = None
    for cue in _BACKGROUND.finditer(left):
        pass
    background = cue is not None and _tense_of(_TOKEN.findall(left[cue.end():])) is None
    background = background or bool(_NAMED_AFTER.match(text, mention.end))
    quoted = before.count("“") > before.count("”") or before.count('"') % 2 == 1
    deadline = bool(_DEADLINE.search(before)) or mention.text.lower().startswith(("until", "till", "through", "by "))
    # "this year's midterms": a year-level adjective rarely dates the sentence's event
    deadline = deadline or (mention.kind == "relative" and (mention.modifier or "").endswith("year")
                            and text[mention.end:mention.end + 2] in ("'s", "’s"))
    aside = bool(_RELATIVE_ASIDE.search(before[-160:]))
    return replace(mention, tense=_tense(text, mention), background=background, deadline=deadline, quoted=quoted,
                   aside=aside)


def _without_asides(text: str) -> str:
    """Parenthetical asides blanked out (same length), so "(19-5)" does not end a clause."""
    return _ASIDE.sub(lambda m: " " * len(m.group()), text)


def _clause_left(text: str, pos: int) -> str:
    """The text before `pos` back to the clause boundary (and the last comma)."""
    piece = _without_asides(text[max(0, pos - 200):pos])
    cuts = [m.end() for m in _BOUNDARY.finditer(piece)]
    piece = piece[cuts[-1]:] if cuts else piece
    return piece.rsplit(",", 1)[-1] if "," in piece else piece


def _tense(text: str, mention: DateMention) -> str | None:
    modifier = mention.modifier or ""
    if modifier in ("last", "this past", "since", "as of") or mention.kind == "ago" or \
            modifier.startswith(("last", "yesterday", "earlier", "the day before")):
        return "past"
    # "later in October" tells a story in order ("... later in October, the council voted"): its
    # verb decides; "later this week" is ahead
    if modifier in ("next", "this coming") or modifier.startswith(("next", "tomorrow", "later")) and \
            modifier != "later in":
        return "future"
    left = _without_asides(text[max(0, mention.start - 200):mention.start])
    cuts = [m.end() for m in _BOUNDARY.finditer(left)]
    found = _tense_of(_TOKEN.findall(left[cuts[-1]:] if cuts else left)[-_WINDOW:])
    if found is None:
        right = _without_asides(text[mention.end:mention.end + 200])
        cut = _BOUNDARY.search(right)
        found = _tense_of(_TOKEN.findall(right[:cut.start()] if cut else right)[:_WINDOW], forward=True)
    limit = modifier in ("until", "till", "by", "through") or bool(_DEADLINE.search(text[:mention.start]))
    if limit and found in (None, "present"):
        return "future"  # "is in effect through Jan. 3", "applications are due by Friday"
    return None if found == "present" else found


def _tense_of(words: list[str], forward: bool = False) -> str | None:
    """The tense of the verb nearest the mention, scanning leftwards (or rightwards). "until"
    ("the deadline isn't until Tuesday") counts only when no verb decides."""
    weak = None
    order = range(len(words)) if forward else range(len(words) - 1, -1, -1)
    for i in order:
        word = words[i].lower().replace("’", "'")
        previous = words[i - 1].lower() if i > 0 else ""
        following = words[i + 1].lower() if i + 1 < len(words) else ""
        if word in ("until", "till"):
            weak = weak or "future"
            continue
        if word in _NEAR_WORDS or (word in _FUTURE_WORDS and previous in _PAST_AUX):
            return "near"
        if word == "be" and previous == "to" or word == "to" and following == "be":
            return "future"  # "to be held", "to be vetted"
        if word in _SCHEDULED_ONLY:
            if previous in ("is", "are", "be", "being") or (following == "to" and word == "set") or \
                    (word == "due" and following == "to" and i + 2 < len(words)
                     and words[i + 2].lower() not in _DETERMINERS):
                return "future"
            continue  # "set" is a past verb, "due to the storm" a cause
        if word in _SCHEDULE_VERBS:
            return "past" if previous in ("did", "didn't", "never", "not") else "future"
        if word in _FUTURE_WORDS or word.endswith("'ll"):
            if word in ("may", "might", "could") and forward:
                continue
            if previous in _DETERMINERS or previous.endswith(("'s", "’s")):
                continue  # "her plans", "the set", "Biden's hopes": nouns
            return "future"
        if word in _PRESENT_WORDS:
            return "future" if weak else "present"
        if previous in ("be", "being") and (word.endswith("ed") or word in _PAST_WORDS):
            continue  # "to be vetted", "will be held": the auxiliary decides
        if word in _PAST_WORDS or (word.endswith("ed") and len(word) > 4 and word not in _NOT_PAST):
            return "past"
    return weak


def resolve_mention(mention: DateMention, published: dt.date | None, year_hint: int | None = None) -> ResolvedDate | None:
    """The date range a mention refers to. Relative mentions need `published`; a month-day
    without a year takes it from `published` (by the mention's tense) or, for an undated
    article, from `year_hint` (a year the article itself states). None when the mention cannot
    be placed without guessing. Never raises."""
    try:
        return _resolve(mention, published, year_hint)
    except (ValueError, OverflowError, TypeError):
        return None


def _resolve(mention: DateMention, published: dt.date | None, year_hint: int | None) -> ResolvedDate | None:
    kind = mention.kind
    written = f"'{mention.text}' as written"
    if kind == "full":
        day = _make(mention.year, mention.month, mention.day)
        return ResolvedDate(day, day, "day", written) if day else None
    if kind == "month_year":
        start, end = _month_range(mention.year, mention.month)
        return ResolvedDate(start, end, "month", written)
    if kind == "year":
        return ResolvedDate(dt.date(mention.year, 1, 1), dt.date(mention.year, 12, 31), "year", written)
    if kind == "range":
        return _resolve_range(mention, published, year_hint)
    if kind in ("month_day", "month"):
        return _resolve_partial(mention, published, year_hint)
    if published is None:
        return None
    if kind == "weekday":
        return _resolve_weekday(mention, published)
    if kind == "ago":
        return _resolve_ago(mention, published)
    return _resolve_relative(mention, published)


def _month_range(year: int, month: int) -> tuple[dt.date, dt.date]:
    start = dt.date(year, month, 1)
    following = dt.date(year + (month == 12), month % 12 + 1, 1)
    return start, following - dt.timedelta(days=1)


def _against(published: dt.date, mention: DateMention) -> str:
    how = {"future": ", read forward (the clause is about the future)",
           "near": ", the nearest such day (the future of a past moment)"}.get(mention.tense or "", "")
    return f"'{mention.text}' in an article published {published.strftime('%A')} {published.isoformat()}{how}"


# A page's date is often its first version's: a live page or a photo gallery dated May 21 tells of
# "June 16" in the past tense. A month-day up to two months after the date is this year's, in the
# past tense too (the same day a year before is further off than a page keeps its first date).
_AHEAD = dt.timedelta(days=60)


def _pick_year(published: dt.date, month: int, day: int, tense: str | None, weekday: int | None) -> int | None:
    """The year of a month-day: forward in a future clause, the nearest for the future of a past
    moment, else back (up to two months after the publication date, _AHEAD). A weekday written with it ("Tuesday, March 19") decides among the years."""
    years = [y for y in (published.year - 1, published.year, published.year + 1) if _make(y, month, day)]
    if weekday is not None:
        matching = [y for y in years if _make(y, month, day).weekday() == weekday]
        if matching:
            return min(matching, key=lambda y: abs((_make(y, month, day) - published).days))
    dates = {y: _make(y, month, day) for y in years}
    if tense == "future":
        ahead = [y for y in years if dates[y] >= published]
        return ahead[0] if ahead else None
    if tense == "near":
        return min(years, key=lambda y: abs((dates[y] - published).days)) if years else None
    # in the past tense, not into the next year: a December page's "killed on January 3" is
    # last January's (a page is rarely left with its first date across a new year)
    back = [y for y in years if dates[y] <= published + _AHEAD and not (tense == "past" and y > published.year)]
    return back[-1] if back else None


def _resolve_partial(mention: DateMention, published: dt.date | None, year_hint: int | None) -> ResolvedDate | None:
    if published is not None:
        if mention.kind == "month":
            year = _month_year(published, mention)
            basis = _against(published, mention)
        else:
            year = _pick_year(published, mention.month, mention.day, mention.tense, mention.weekday)
            basis = _against(published, mention)
        if year is None:
            return None
    elif year_hint is not None:
        year = year_hint
        basis = f"'{mention.text}', year {year_hint} taken from the article's own dates (it has no publication date)"
    else:
        return None
    if mention.kind == "month":
        start, end = _month_range(year, mention.month)
        return ResolvedDate(start, end, "month", basis, relative_to=published)
    day = _make(year, mention.month, mention.day)
    return ResolvedDate(day, day, "day", basis, relative_to=published) if day else None


def _month_year(published: dt.date, mention: DateMention) -> int:
    """'in January', 'last October', 'October last year', 'next May': the year of the month."""
    modifier = mention.modifier or ""
    if modifier.endswith(" year"):
        return published.year + {"last year": -1, "this year": 0, "next year": 1}[modifier]
    now = published.year * 12 + published.month - 1
    options = [(y, y * 12 + mention.month - 1) for y in (published.year - 1, published.year, published.year + 1)]
    if modifier == "last":
        return max(y for y, i in options if i < now)
    if modifier == "next":
        return min(y for y, i in options if i > now)
    if modifier == "this":
        return published.year
    tense = mention.tense or ("future" if modifier in ("until", "till", "by", "through") else None)
    if tense == "future":
        return min(y for y, i in options if i >= now)
    if tense == "near":
        return min(options, key=lambda o: abs(o[1] - now))[0]
    slack = 0 if tense == "past" else 3
    return max(y for y, i in options if i <= now + slack)


def _resolve_range(mention: DateMention, published: dt.date | None, year_hint: int | None) -> ResolvedDate | None:
    """A range of days. In a future clause it is one that has not ended ("will cover expenses
    between March 1 and June 15" in a March 12 article is this year's)."""
    _, last_month, last_day = mention.until
    wraps = last_month < mention.month
    if mention.year:
        year, basis, relative_to = mention.year, f"'{mention.text}' as written", None
    elif published is not None:
        end_year = _pick_year(published, last_month, last_day, mention.tense, None)
        if end_year is None:
            return None
        year, basis, relative_to = end_year - wraps, _against(published, mention), published
    elif year_hint is not None:
        year, relative_to = year_hint, None
        basis = f"'{mention.text}', year {year_hint} taken from the article's own dates (it has no publication date)"
    else:
        return None
    start, end = _make(year, mention.month, mention.day), _make(year + wraps, last_month, last_day)
    if start is None or end is None or end < start:
        return None
    return ResolvedDate(start, end, "day", basis, relative_to=relative_to)


def _resolve_weekday(mention: DateMention, published: dt.date) -> ResolvedDate:
    back = (published.weekday() - mention.weekday) % 7
    ahead = (mention.weekday - published.weekday()) % 7
    modifier = mention.modifier
    if modifier in ("next", "this coming"):
        day = published + dt.timedelta(days=ahead or 7)
    elif modifier in ("last", "this past"):
        day = published - dt.timedelta(days=back or 7)
    elif mention.tense == "future":
        day = published + dt.timedelta(days=ahead)
    elif mention.tense == "near":
        day = published + dt.timedelta(days=ahead) if ahead < back else published - dt.timedelta(days=back)
    elif ahead == 1:  # the day after the dateline: an event in a time zone ahead ("Abe died Friday",
        day = published + dt.timedelta(days=1)  # in a US article dated Thursday) or a date in UTC
    else:  # news style: a weekday in the past tense is the most recent one, the publication day included
        day = published - dt.timedelta(days=back)
    return ResolvedDate(day, day, "day", _against(published, mention), relative_to=published)


def _resolve_ago(mention: DateMention, published: dt.date) -> ResolvedDate:
    count, unit = mention.day, mention.modifier
    basis = f"'{mention.text}' in an article published {published.isoformat()}"
    if unit == "day":
        day = published - dt.timedelta(days=count)
        return ResolvedDate(day, day, "day", basis, relative_to=published)
    if unit == "week":
        monday = published - dt.timedelta(days=published.weekday() + 7 * count)
        return ResolvedDate(monday, monday + dt.timedelta(days=6), "week", basis, relative_to=published)
    if unit == "month":
        index = published.year * 12 + published.month - 1 - count
        start, end = _month_range(index // 12, index % 12 + 1)
        return ResolvedDate(start, end, "month", basis, relative_to=published)
    year = published.year - count
    return ResolvedDate(dt.date(year, 1, 1), dt.date(year, 12, 31), "year", basis, relative_to=published)


def _resolve_relative(mention: DateMention, published: dt.date) -> ResolvedDate:
    phrase = re.sub(r"^(?:earlier|later|early|late)\s+", "", mention.modifier or "")
    phrase = phrase.replace("this past", "last").replace("this coming", "next")
    basis = f"'{mention.text}' in an article published {published.isoformat()}"

    def day_of(days: int) -> ResolvedDate:
        day = published + dt.timedelta(days=days)
        return ResolvedDate(day, day, "day", basis, relative_to=published)

    if phrase in ("today", "tonight", "this morning", "this afternoon", "this evening"):
        return day_of(0)
    if phrase in ("yesterday", "last night"):
        return day_of(-1)
    if phrase == "the day before yesterday":
        return day_of(-2)
    if phrase == "tomorrow":
        return day_of(1)
    step = {"last": -1, "this": 0, "next": 1}[phrase.split()[0]]
    unit = phrase.split()[-1]
    if unit == "week":
        monday = published - dt.timedelta(days=published.weekday()) + dt.timedelta(days=7 * step)
        return ResolvedDate(monday, monday + dt.timedelta(days=6), "week", basis, relative_to=published)
    if unit == "weekend":
        saturday = published + dt.timedelta(days=5 - published.weekday() + 7 * step)
        if step == 0 and published.weekday() == 6:
            saturday = published - dt.timedelta(days=1)
        return ResolvedDate(saturday, saturday + dt.timedelta(days=1), "day", basis, relative_to=published)
    if unit == "month":
        index = published.year * 12 + published.month - 1 + step
        start, end = _month_range(index // 12, index % 12 + 1)
        return ResolvedDate(start, end, "month", basis, relative_to=published)
    year = published.year + step
    return ResolvedDate(dt.date(year, 1, 1), dt.date(year, 12, 31), "year", basis, relative_to=published)


# --- The date a sentence's event is about -------------------------------------------------------


def event_mention(mentions: list[DateMention]) -> list[DateMention]:
    """The mentions in the order they should date the sentence's event: those of the main clause
    first, then those of a relative clause set off by commas (", who fled earlier this week,"),
    then limits ("until June 5"), then quoted ones; background phrases ("since the 1998
    murder", "after the May 24 shooting") never date it."""
    # A quotation's scheduled event dates the sentence as it would unquoted ("'Griner will testify
    # tomorrow,' her lawyer told CNN on Tuesday" as "Griner will testify Wednesday, ..."); its
    # other dates ("since I was a boy", "today is encouraging") come last.
    scheduled = {id(m) for m in mentions if m.quoted and m.tense == "future"}
    main = [m for m in mentions if not (m.background or m.deadline or m.quoted or m.aside) or id(m) in scheduled]
    asides = [m for m in mentions if m.aside and not (m.background or m.deadline or m.quoted)]
    limits = [m for m in mentions if m.deadline and not (m.background or m.quoted)]
    quoted = [m for m in mentions if m.quoted and not m.background and id(m) not in scheduled]
    return main + asides + limits + quoted


def event_date(text: str, published: dt.date | None, year_hint: int | None = None,
               mentions: list[DateMention] | None = None) -> tuple[DateMention, ResolvedDate] | None:
    """The date of the event `text` reports, with the expression it was read from; None when
    the sentence states no date for its event."""
    mentions = find_date_mentions(text) if mentions is None else mentions
    for mention in event_mention(mentions):
        anchor = _spoken(mentions, published) if mention.quoted and mention.kind in ("relative", "weekday") else None
        if (resolved := resolve_mention(mention, anchor or published, year_hint)) is not None:
            return mention, resolved
    return None


def _spoken(mentions: list[DateMention], published: dt.date | None) -> dt.date | None:
    """The day the words of a quotation were spoken, when the attribution outside the quotes
    gives one ("'... tomorrow,' he said Tuesday"): a quotation's "today" and "tomorrow" are the
    speaker's, not the article's."""
    for m in mentions:
        if not m.quoted and not m.background and m.kind in ("weekday", "relative", "full", "month_day"):
            resolved = resolve_mention(m, published)
            if resolved is not None and resolved.precision == "day" and resolved.start == resolved.end:
                return resolved.start
    return None
