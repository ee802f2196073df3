"""An article's metadata fields (title, date, source, url, author), validated and capped.

Front matter and JSONL records give fields in any shape; each known field must be text (a YAML
scalar, or a JSON string or number), and is then normalised: control characters and line breaks
become spaces, runs of spaces one, and text longer than its cap is cut at a word with "…". A
title is stored and embedded with every chunk of its article, so an unbounded one would be
repeated into each. A `date` must be a real date and a `url` a URL, else the file (or record) is
refused with a one-line reason: an article silently dated wrong is worse than one not indexed.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from rag.errors import InputError
from rag.text.dates import parse_date

KNOWN = ("title", "date", "source", "url", "author", "id")
# The caps, in characters (README "Input formats").
MAX_FIELD_CHARS = {"title": 300, "source": 200, "author": 200, "url": 2048, "date": 100, "id": 200}
_ISO_START = re.compile(r"^\s*\d{4}-\d{1,2}-\d{1,2}(?:[T ]|$)")
_URL = re.compile(r"^(?:https?://)?[^\s/$.?#][^\s]*\.[^\s]+$", re.IGNORECASE)
_SHOWN = 20
_SPACE_CATEGORIES = {"Cc": " ", "Zl": " ", "Zp": " ", "Cs": "\ufffd"}


def clean_text(value: str, limit: int) -> str:
    """One line of text, at most `limit` characters (cut at a word, ending in '…')."""
    # A YAML or JSON escape can make a lone surrogate ("\\ud800"), which no UTF-8 store accepts.
    text = "".join(_SPACE_CATEGORIES.get(unicodedata.category(ch), ch) for ch in value)
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2:]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:-") + "…"


def validate_fields(raw: dict) -> dict[str, str]:
    """The known fields of `raw` as clean text. Raises InputError naming the first bad field."""
    fields = {}
    for key in KNOWN:
        value = raw.get(key)
        if value is None or key == "id":
            continue
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise InputError(f"{key} must be text, not {kind_of(value)}")
        text = clean_text(str(value), MAX_FIELD_CHARS[key])
        if not text:
            continue
        if key == "date":
            text = check_date(str(value).strip())
        if key == "url" and (len(str(value)) > MAX_FIELD_CHARS["url"] or not _URL.match(text)):
            raise InputError(f"url {shown(text)!r} is not a URL")
        fields[key] = text
    return fields


def check_date(value: str) -> str:
    """The date as stored: an ISO date (and time) must exist and is kept as YYYY-MM-DD; any
    other form must be a date `parse_date` reads, and is kept as written."""
    if _ISO_START.match(value):
        iso = value.replace(" ", "T", 1).replace("Z", "+00:00")
        try:
            parsed = (dt.datetime if "T" in iso else dt.date).fromisoformat(iso)
            return (parsed.date() if isinstance(parsed, dt.datetime) else parsed).isoformat()
        except ValueError as err:
            impossible = "out of range" in str(err) or "must be in" in str(err)
            if impossible or parse_date(value) is None:  # "2020-1-5" is read by parse_date
                reason = str(err) if impossible else "write YYYY-MM-DD"
                raise InputError(f"date {shown(value)!r} is not a date ({reason})") from None
            return clean_text(value, MAX_FIELD_CHARS["date"])
    if parse_date(value) is None:
        raise InputError(f"date {shown(value)!r} is not a date (write YYYY-MM-DD)")
    return clean_text(value, MAX_FIELD_CHARS["date"])


def kind_of(value) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__}"


def shown(text: str) -> str:
    """A value as a reason quotes it: short, on one line."""
    text = " ".join(str(text).split())
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "…"
