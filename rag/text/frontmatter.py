"""Optional YAML front matter at the top of .txt and .md files."""

from __future__ import annotations

import re

import yaml

_FENCE = re.compile(r"\A(?:\ufeff)?---[ \t]*\r?\n(.*?\r?\n)?---[ \t]*(?:\r?\n|\Z)", re.S)
KNOWN = ("title", "date", "source", "url", "author", "id")


def split_front_matter(text: str) -> tuple[dict, int]:
    """Return (fields, offset where the body starts). Invalid YAML counts as no front matter."""
    match = _FENCE.match(text)
    if not match:
        return {}, 0
    try:
        data = yaml.safe_load(match.group(1) or "") or {}
    except yaml.YAMLError:
        return {}, 0
    if not isinstance(data, dict):
        return {}, 0
    fields = {k: str(v) for k, v in data.items() if k in KNOWN and v is not None}
    return fields, match.end()
