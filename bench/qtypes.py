"""The type of a benchmark question (number, date, person, place, other), for per-type figures.

Read from the question's wording, with the gold answer's form deciding numbers and dates
("How long is she facing in prison?" → "20 years" is a number). This labels the benchmark for
reporting only; the engine never sees it (rag/answer/question.py has its own analysis).
"""

from __future__ import annotations

import re

TYPES = ("number", "date", "person", "place", "other")

_PERSON_NOUNS = (
    "who|whom|whose|person|official|officials|star|celebrity|singer|actor|actress|player|designer|"
    "author|leader|member|musician|champion|president|minister|politician|senator|pitcher|athlete|"
    "comedian|rapper|popstar|republican|democrat|judge|ceo|founder|executive|woman|man|artist|host|guest"
)
_PLACE_NOUNS = (
    "where|country|countries|nation|state|city|cities|town|region|continent|island|park|area|borough|"
    "airport|province|county|landmark|property|estate"
)
# "Which high-ranking US official": up to three modifiers, none of them a verb ("which virus is making officials").
_WHICH = r"\b(which|what)\s+(?:(?!(?:is|are|was|were|did|does|do|has|have|had|will|can)\b)(?![\w’']+ing\b)[\w’'-]+\s+){0,4}?"
_PERSON = re.compile(rf"(^|[.?!:]\s+)(who|whom|whose)\b|\bwho\s*\?\s*$|{_WHICH}({_PERSON_NOUNS}|head of state)\b|\bwhat is (her|his) name\b", re.IGNORECASE)
_PLACE = re.compile(rf"^\s*where\b|\bwhere (is|was|did|are|were)\b|{_WHICH}({_PLACE_NOUNS})\b", re.IGNORECASE)
_DATE_Q = re.compile(r"^\s*when\b|\bwhen (is|are|was|will|did)\b|\bfrom when\b|\b(what|which) (date|day|month|year)\b", re.IGNORECASE)
_NUMBER_Q = re.compile(r"\bhow (many|much|long|old|soon)\b|\bwhat (percentage|share|figure)\b|\bmagnitude of\b", re.IGNORECASE)
_NUMBER_A = re.compile(
    r"^\s*(\$|about |approximately |more than |at least |nearly )?\d|^\s*(one|two|three|four|five|six|seven|"
    r"eight|nine|ten|twelve|twenty|hundred)\b", re.IGNORECASE)
_DATE_A = re.compile(
    r"\b(january|february|march|april|may|june|july|august|september|october|november|december|"
    r"next (week|month|year)|monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b", re.IGNORECASE)


def question_type(question: dict) -> str:
    text, answer = question["question"], question["answer"]
    if _DATE_Q.search(text) or (_DATE_A.search(answer) and not _PLACE.search(text)):
        return "date"
    if _NUMBER_Q.search(text) or _NUMBER_A.search(answer):
        return "number"
    if _PERSON.search(text) and not _PLACE.search(text.replace("head of state", "")):
        return "person"
    if _PLACE.search(text):
        return "place"
    if _PERSON.search(text):
        return "person"
    return "other"
