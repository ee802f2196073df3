"""Who "he" or "the new prime minister" is, in a quoted sentence: the name the article gives.

An answer quotes verbatim, so a quote attributed to a role or a pronoun stays as written; this
module only finds the name for an annotation beside it ("the prime minister" = Liz Truss, as line
3 names her). A role is resolved to the nearest earlier "Role Name" ("Prime Minister Liz Truss")
or "Name, the role" in the same article; a pronoun to the one full name in the sentence, or the
two sentences, before it, and only when there is exactly one. Otherwise nothing is said.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.models import Sentence
from rag.text.vocab import ADDRESS_VERBS, CALENDAR_WORDS, SPEECH_VERBS, alternation

_VERBS = alternation(SPEECH_VERBS + ADDRESS_VERBS)
_ROLES = (
    "prime minister|president|minister|secretary|governor|mayor|chancellor|king|queen|prince|princess|"
    "spokesman|spokeswoman|spokesperson|chief executive|chief|leader|senator|judge|director|commissioner|"
    "coach|manager|chairman|chairwoman|chair|ambassador|general|commander|sheriff|premier|speaker|founder|"
    "executive|officer|official|attorney|prosecutor"
)
_QUOTE = re.compile(r"[\"“”]")
_ROLE_SPEAKS = re.compile(
    rf"\b(?P<role>the\s+(?:[a-z-]+\s+){{0,3}}?(?P<head>{_ROLES}))\s*,?\s+(?:\w+ly\s+)?(?:{_VERBS})\b|"
    rf"\b(?:{_VERBS})\s+(?P<role2>the\s+(?:[a-z-]+\s+){{0,3}}?(?P<head2>{_ROLES}))\b")
_PRONOUN_SPEAKS = re.compile(rf"(?:^|[,.;:”\"]\s*|\s)(?P<pron>[Hh]e|[Ss]he)\s+(?:\w+ly\s+)?(?:{_VERBS})\b")
_FULL_NAME = r"[A-Z][a-z][\w'’-]*(?:\s+[A-Z][a-z][\w'’-]*){1,2}"
_NAME = re.compile(_FULL_NAME)
# A title before a name is not part of it; a name after "in" or "at" is a place.
_TITLE = re.compile(rf"^(?:(?:{_ROLES.replace(' ', chr(92) + 's+')})\s+)+", re.I)
_PLACE_BEFORE = re.compile(r"\b(?:in|at|from|to|of|near|across)\s+$")
_LOOK_BACK = 2


@dataclass(frozen=True)
class Attribution:
    said_by: str  # as the sentence has it: "he", "the new prime minister"
    name: str
    line: int  # where the article names them


def resolve_attribution(sentence: Sentence, before: list[Sentence]) -> Attribution | None:
    """`before`: the article's sentences before this one, in order."""
    text = sentence.text
    if not _QUOTE.search(text):
        return None
    if m := _ROLE_SPEAKS.search(text):
        role, head = (m["role"], m["head"]) if m["role"] else (m["role2"], m["head2"])
        titled = re.compile(rf"\b{_title(head)}\s+(?P<name>{_FULL_NAME})|(?P<name2>{_FULL_NAME}),\s+(?:the|a)\s+"
                            rf"(?:[a-z-]+\s+){{0,3}}?{re.escape(head)}\b")
        for s in reversed(before):
            found = [x["name"] or x["name2"] for x in titled.finditer(s.text)]
            if found:
                return Attribution(said_by=role, name=found[-1], line=s.line_start)
        return None
    if m := _PRONOUN_SPEAKS.search(text):
        own = _names(text[: m.start("pron")])
        if len(own) == 1:
            return Attribution(said_by=m["pron"].lower(), name=own[0], line=sentence.line_start)
        if own:
            return None
        window = before[-_LOOK_BACK:]
        names = list(dict.fromkeys(n for s in window for n in _names(s.text)))
        if len(names) == 1:
            line = next(s.line_start for s in reversed(window) if names[0] in s.text)
            return Attribution(said_by=m["pron"].lower(), name=names[0], line=line)
    return None


def note(a: Attribution) -> str:
    return f"“{a.said_by}” is {a.name}, as the article names them on line {a.line}"


def _title(head: str) -> str:
    return r"\s+".join(w.capitalize() for w in head.split())


def _names(text: str) -> list[str]:
    out = []
    text = _QUOTE_SPAN.sub(" ", text)
    for m in _NAME.finditer(text):
        name = _TITLE.sub("", m.group())
        words = name.split()
        if len(words) < 2 or _PLACE_BEFORE.search(text[: m.start()]):
            continue
        if not any(w in CALENDAR_WORDS for w in words) and words[0] not in ("The", "A", "An"):
            out.append(name)
    return list(dict.fromkeys(out))


_QUOTE_SPAN = re.compile(r"[\"“][^\"“”]*[\"”]")
