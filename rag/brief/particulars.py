"""The particulars of a sentence: the numbers, names and dates it states. A --new-since briefing
drops a new sentence as a restatement of earlier material only when an earlier sentence holds
its particulars (rag.brief.new_since.HELD of them, 70%: "in June, US media reported" beside a
preview's words is still the preview): "The Fed raised rates by 0.75 points on June 15, its
largest hike since 1994" is not restated by a preview that "the Fed is expected to raise rates
by 0.75 points", however many words the two share.

Numbers are read as the answer's support check reads them (digits and count words:
rag.answer.support_check.numbers, "eight" == 8, "1,200" == 1200), outside the dates; dates are
rag.text.dates' mentions, compared by what they write (a year, month, day), not resolved: two
articles' "Tuesday" need not be the same day, so weekdays and relative dates ("last week") are
no particular; names are the capitalised words that do not open the sentence (or a quotation),
held by any surface form of the same name (rag.text.vocab.name_forms: "Ukraine" ~ "Ukrainian").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rag.answer.support_check import name_key, numbers
from rag.text.dates import find_date_mentions
from rag.text.lexical import STOPWORDS
from rag.text.vocab import CALENDAR_WORDS, name_forms

_CAPITALISED = re.compile(r"(?<![\w'’.-])[A-Z][\w'’.&-]*")
_WORD = re.compile(r"[\w'’.&-]+")
_OPENS = re.compile(r"""(?:^\W*|:\s+|[“"‘(]\s*)$""")  # the sentence, a quotation or a clause after a colon opens here (not "U.S. Senate")
_PRONOUN_ONE = re.compile(r"\bone\b", re.IGNORECASE)  # "no one", "one of them": a pronoun far more than a count
_WRITTEN_DATES = ("full", "month_day", "month_year", "month", "year", "range")


@dataclass(frozen=True)
class Particulars:
    numbers: frozenset[float]
    names: frozenset[str]  # normalised ("u.s." → "us", "Iran's" → "iran")
    dates: frozenset[tuple[int | None, int | None, int | None]]  # (year, month, day) as written

    def __bool__(self) -> bool:
        return bool(self.numbers or self.names or self.dates)


@lru_cache(maxsize=16384)
def particulars(text: str) -> Particulars:
    mentions = find_date_mentions(text)
    plain = text
    for m in mentions:  # a date's digits are the date, not counts ("two days ago" neither)
        plain = plain[:m.start] + " " * (m.end - m.start) + plain[m.end:]
    return Particulars(numbers=frozenset(numbers(_PRONOUN_ONE.sub(" ", plain))), names=_names(text),
                       dates=frozenset((m.year, m.month, m.day) for m in mentions if m.kind in _WRITTEN_DATES))


def missing(new: str, old: str) -> Particulars:
    """The particulars of `new` that `old` does not hold (empty when it holds them all)."""
    mine, theirs = particulars(new), particulars(old)
    forms = _forms(old)
    return Particulars(numbers=mine.numbers - theirs.numbers,
                       names=frozenset(n for n in mine.names if not name_forms(n) & forms),
                       dates=frozenset(d for d in mine.dates if not any(_agrees(d, o) for o in theirs.dates)))


def held_share(new: str, old: str) -> float:
    """The share of `new`'s numbers, names and dates that the sentence `old` states (1.0 when
    `new` has none)."""
    mine = particulars(new)
    total = len(mine.numbers) + len(mine.names) + len(mine.dates)
    if not total:
        return 1.0
    lost = missing(new, old)
    return 1.0 - (len(lost.numbers) + len(lost.names) + len(lost.dates)) / total


def holds_all(old: str, new: str) -> bool:
    """Whether the sentence `old` states every number, name and date of `new`."""
    return not missing(new, old)


def _names(text: str) -> frozenset[str]:
    out = set()
    for m in _CAPITALISED.finditer(text):
        word = m.group().rstrip(".")
        if word in CALENDAR_WORDS or _OPENS.search(text[:m.start()]):
            continue
        for part in word.split("-"):  # "Saudi-led": the name is "Saudi"
            name = name_key(part)
            if part[:1].isupper() and len(name) > 1 and name not in STOPWORDS:
                out.add(name)
    return frozenset(out)


@lru_cache(maxsize=16384)
def _forms(text: str) -> frozenset[str]:
    """Every name form of every word of `text`, capitalised or not (a name may open the sentence)."""
    words = {name_key(w) for w in _WORD.findall(text)}
    words |= {part for w in words for part in w.split("-") if part}
    return frozenset().union(*(name_forms(w) for w in words if w[:1].isalnum()))




def _agrees(new: tuple, old: tuple) -> bool:
    """An earlier date holds a new one when it agrees on every part the new one writes ("June 15"
    is held by "June 15, 2022")."""
    return all(n is None or n == o for n, o in zip(new, old))
