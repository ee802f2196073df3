"""Figures in sentences ("more than 20 missiles", "eight rockets") and where sources disagree."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.text.lexical import STOPWORDS, stem
from rag.text.vocab import COUNT_WORDS, MONTH_PATTERN, SCALE_WORDS, alternation

_QUALIFIER = r"(?:(?:more|fewer|less) than|at least|at most|up to|nearly|almost|about|around|roughly|some|over|an estimated|approximately|estimated)\s+"
_NUMBER = (
    rf"(?P<qual>{_QUALIFIER})?"
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|"
    + alternation(COUNT_WORDS) + r")"
    rf"(?:[\s-]+(?P<scale>{alternation(SCALE_WORDS)}))?"
)
# "60%" ends in a sign, not a word: the boundary is after it ("up 60% over the year").
_FIGURE = re.compile(rf"(?<![\w$.,-]){_NUMBER}(?:(?P<pct>\s?%)|(?P<pct_word>\s+per\s?cent|\s+percent)\b|\b)", re.I)
_DATEISH = re.compile(rf"{MONTH_PATTERN}\s*$|\b(?:in|since|by|until|of|from)\s*$", re.I)
_UNIT_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
# Durations and calendar words count time, not things; they never conflict with counts, and are a
# count only where the question counts them ("how many months").
_NOT_UNITS = {stem(w) for w in (
    "year years month months week weeks day days hour hours minute minutes times time percent "
    "a.m p.m am pm th st nd rd of".split()
)}
_MAX_UNIT_WORDS = 3


# A count qualified by failure or negation counts something else: "three rockets failed to
# launch" does not dispute "eight rockets were fired".
_NEGATED = re.compile(
    r"\b(fail(ed|s)?( to)?|unexploded|intercepted|shot down|did not|didn't|not|never|no longer|without)\b", re.I
)


@dataclass(frozen=True)
class Figure:
    value: str  # as written, e.g. "more than 20"
    number: float
    unit: str  # stem of the counted noun
    unit_word: str  # the noun as written
    start: int
    end: int
    negated: bool = False


def _to_number(num: str, scale: str | None) -> float | None:
    word = num.lower()
    if word in COUNT_WORDS:
        value = float(COUNT_WORDS[word])
    else:
        try:
            value = float(word.replace(",", ""))
        except ValueError:
            return None
    return value * SCALE_WORDS[scale.lower()] if scale else value


def figures(text: str, prefer: set[str] = frozenset(), counted: str | None = None) -> list[Figure]:
    """Counts of things in `text`. `prefer` holds stems that should win as the unit; `counted` is
    the stem a question counts, looked for just before a number that has no noun after it."""
    out = []
    for m in _FIGURE.finditer(text):
        if not (m["qual"] or m["scale"] or m["pct"] or m["pct_word"]) and m["num"].isdigit() \
                and _DATEISH.search(text[max(0, m.start() - 12):m.start()]):
            continue  # "Jan. 3", "in 2018": a date, not a count ("in roughly 10 million", "in 60%" are counts)
        if m["num"].isdigit() and len(m["num"]) == 4 and 1800 <= int(m["num"]) <= 2100:
            continue
        number = _to_number(m["num"], m["scale"])
        if number is None:
            continue
        percent = bool(m["pct"] or m["pct_word"])
        # A bare number takes the counted noun from just before it, never a duration: "at the time, it
        # employed 300" counts no times.
        look_back = counted is not None and counted not in _NOT_UNITS
        unit_word = "percent" if percent else (
            unit_after(text, m.end(), prefer) or (unit_before(text, m.start(), {counted}) if look_back else None))
        if not unit_word:
            continue
        unit = "percent" if percent else stem(unit_word.lower())
        if unit in _NOT_UNITS and unit not in ("percent", counted):
            continue  # a duration counts time, unless time is what is counted ("how many months")
        value = text[m.start():m.end()].strip()
        window = text[max(0, m.start() - 25):m.end() + len(unit_word) + 30]
        out.append(Figure(value=value, number=number, unit=unit, unit_word=unit_word, start=m.start(), end=m.end(),
                          negated=bool(_NEGATED.search(window))))
    return out


def unit_after(text: str, pos: int, prefer: set[str]) -> str | None:
    """The counted noun: among the next few words before a stopword, prefer a question term,
    else the last word (the head of an English noun phrase: "two American personnel")."""
    words = []
    for m in _UNIT_WORD.finditer(text, pos):
        gap = text[pos:m.start()]
        if any(ch in gap for ch in ".,;:!?()\"“”") or len(words) >= _MAX_UNIT_WORDS:
            break
        if m.group().lower() in STOPWORDS:
            break
        words.append(m.group())
        pos = m.end()
    while len(words) > 1 and re.search(r"(ed|ing)$", words[-1]):  # "troops suffered", "rockets failed"
        words.pop()
    if not words:
        return None
    for word in words:
        if stem(word.lower()) in prefer:
            return word
    return words[-1]


def unit_before(text: str, pos: int, prefer: set[str]) -> str | None:
    """'troops in Iraq from 3,000 to 2,500': a preferred noun shortly before the number, in the
    same clause. Without a preference nothing is guessed."""
    clause = re.split(r"[.;:!?()\"“”]", text[max(0, pos - 60):pos])[-1]
    for word in reversed(_UNIT_WORD.findall(clause)):
        if stem(word.lower()) in prefer:
            return word
    return None
