"""A text cut to fit a note, a problem line or a report cell."""

from __future__ import annotations


def short(text: str, limit: int = 60) -> str:
    """`text` on one line (runs of whitespace as one space), cut to `limit` characters with "…"."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
