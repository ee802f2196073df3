"""Title, publication date and outlet of an article."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlparse

from rag.text.dates import date_from_url, parse_date
from rag.text.fields import MAX_FIELD_CHARS, clean_text

_TERMINAL = (".", "?", "!")
_AGENCY_DATELINE = re.compile(r"\((AP|Reuters|AFP|UPI|Bloomberg)\)\s*[—–-]|\b(CNN(?: Business)?)\s*[—–-]\s*$")
_AGENCY_NAMES = {"AP": "Associated Press", "CNN Business": "CNN"}


def _domain(url: str | None) -> str | None:
    if not url:
        return None
    host = urlparse(url if "//" in url else f"//{url}").hostname or ""
    return host.removeprefix("www.") or None


def find_title(fields: dict, kept_lines: list[str], first_sentence: str | None) -> str | None:
    """The title as given, else a short first line, else the first sentence; always capped."""
    return _capped(_title(fields, kept_lines, first_sentence), "title")


def _title(fields: dict, kept_lines: list[str], first_sentence: str | None) -> str | None:
    if fields.get("title"):
        return fields["title"].strip()
    for line in kept_lines[:3]:
        s = line.strip()
        if s and len(s.split()) <= 25 and not s.endswith(_TERMINAL):
            return s
    if first_sentence:
        return first_sentence if len(first_sentence) <= 160 else first_sentence[:157].rstrip() + "…"
    return None


def find_author(fields: dict) -> str | None:
    return _capped(fields.get("author"), "author")


def find_url(fields: dict) -> str | None:
    return _capped(fields.get("url"), "url")


def _capped(value: str | None, field: str) -> str | None:
    """Every metadata value, whatever its origin (front matter, JSONL, HTML, a first line), is
    one line within its cap (rag.text.fields.MAX_FIELD_CHARS)."""
    return clean_text(value, MAX_FIELD_CHARS[field]) or None if value else None


def find_date(fields: dict, datelines: list[str]) -> dt.date | None:
    for candidate in (fields.get("date"), *datelines):
        if d := parse_date(candidate):
            return d
    return date_from_url(fields.get("url"))


def find_outlet(fields: dict, head_lines: list[str]) -> str | None:
    return _capped(_outlet(fields, head_lines), "source")


def _outlet(fields: dict, head_lines: list[str]) -> str | None:
    if fields.get("source"):
        return fields["source"].strip()
    if domain := _domain(fields.get("url")):
        return domain
    for line in head_lines:
        if m := _AGENCY_DATELINE.search(line):
            name = m[1] or m[2]
            return _AGENCY_NAMES.get(name, name)
    return None
