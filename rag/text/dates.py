"""Parse the date formats news pages use. Returns None rather than guessing."""

from __future__ import annotations

import datetime as dt
import re

MONTHS = {
    m: i
    for i, names in enumerate(
        [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",),
         ("jun", "june"), ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"),
         ("oct", "october"), ("nov", "november"), ("dec", "december")],
        start=1,
    )
    for m in names
}
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
