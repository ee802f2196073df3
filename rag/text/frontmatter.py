"""Optional YAML front matter at the top of .txt and .md files.

The YAML is untrusted input, so it is read with limits: at most MAX_FRONT_MATTER_CHARS between
the fences, nesting at most MAX_DEPTH levels, and no anchors or aliases (`&a` / `*a`: a few
hundred bytes of nested aliases expand into gigabytes). Every scalar is read as text (YAML's
BaseLoader: no timestamps, integers or tags are constructed), and the known fields are then
validated and capped by rag.text.fields. A block that breaks a limit, or a known field that is
wrong, refuses the file with one line saying why; text that is not YAML, or YAML that is not a
mapping, is not front matter at all and stays part of the body, as before.
"""

from __future__ import annotations

import re

import yaml

from rag.errors import InputError
from rag.text.fields import KNOWN, validate_fields

__all__ = ["KNOWN", "MAX_DEPTH", "MAX_FRONT_MATTER_CHARS", "split_front_matter"]

_FENCE = re.compile(r"\A(?:\ufeff)?---[ \t]*\r?\n(.*?\r?\n)?---[ \t]*(?:\r?\n|\Z)", re.S)
MAX_FRONT_MATTER_CHARS = 16_000
MAX_DEPTH = 10
_OPEN = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
_CLOSE = (yaml.SequenceEndEvent, yaml.MappingEndEvent)


def split_front_matter(text: str) -> tuple[dict, int]:
    """Return (fields, offset where the body starts). Raises InputError for hostile or bad front matter."""
    match = _FENCE.match(text)
    if not match:
        return {}, 0
    block = match.group(1) or ""
    if len(block) > MAX_FRONT_MATTER_CHARS:
        raise InputError(f"front matter is {len(block):,} characters, over the {MAX_FRONT_MATTER_CHARS:,} limit")
    data = _load(block)
    if not isinstance(data, dict):
        return {}, 0
    try:
        return validate_fields(data), match.end()
    except InputError as err:
        raise InputError(f"front matter: {err}") from None


def _load(block: str):
    """The block as plain Python data (str, list, dict), or None when it is not YAML."""
    try:
        _check_events(block)
        return yaml.load(block, Loader=yaml.BaseLoader)  # BaseLoader builds only str, list and dict
    except yaml.YAMLError:
        return None


def _check_events(block: str) -> None:
    """Refuse anchors, aliases and deep nesting from the event stream, before anything is built."""
    depth = 0
    for event in yaml.parse(block, Loader=yaml.BaseLoader):
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise InputError("front matter uses a YAML anchor or alias (&name / *name), which is not allowed")
        if isinstance(event, _OPEN):
            depth += 1
            if depth > MAX_DEPTH:
                raise InputError(f"front matter is nested deeper than {MAX_DEPTH} levels")
        elif isinstance(event, _CLOSE):
            depth -= 1
