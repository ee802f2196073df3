"""News-aware sentence spans.

nupunkt proposes boundaries (fast, and right on "U.S.", "Jan. 3", "D.C."); we then repair the
splits news text needs: titles before names ("Lt. Col. Smith") and quotations that contain
several sentences ("“Our embassy got hit. Three failed,” Trump wrote.").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.text.lexical import STOPWORDS
from rag.text.vocab import MONTH_ABBREVIATIONS

SPLITTER_VERSION = "2"

_TITLES = {
    "lt", "col", "gen", "sen", "sens", "rep", "reps", "gov", "sgt", "capt", "maj", "adm", "cmdr",
    "mr", "mrs", "ms", "dr", "prof", "rev", "hon", "pres", "supt", "det", "insp", "st", "mt", "ft",
    "gens", "brig", "cpl", "pvt", "lieut", "messrs", "atty", "amb",
}
_NUMBERED = {"no", "nos", "vol", "fig", "art", "p", "pp"}  # "No. 10": only before a number
_LAST_WORD = re.compile(r"([A-Za-z]+)\.\s*$")
_ACRONYM_END = re.compile(r"\b(?:[A-Z]\.){2,}\s*$")
_BULLET = re.compile(r"[ \t]*(?:[•●▪◦·‣*–—-]|\(?[a-z0-9]\))[ \t]+")
_TERMINAL = tuple('.?!:;"”’\'…)]')
_WORD = re.compile(r"[\w'’]+")
_MAX_QUOTE_MERGE = 4


@dataclass(frozen=True)
class SentenceSpan:
    start: int
    end: int
    kind: str  # "sentence" or "heading"
    paragraph: int


def paragraphs(text: str, kept_lines: set[int]) -> list[tuple[int, int]]:
    """Character spans of paragraphs made of kept lines; soft-wrapped lines are joined."""
    lines = text.split("\n")
    spans: list[list[int]] = []
    offset = 0
    prev_kept = None
    for number, line in enumerate(lines, start=1):
        start, end = offset, offset + len(line)
        offset = end + 1
        if number not in kept_lines or not line.strip():
            prev_kept = None
            continue
        lead = len(line) - len(line.lstrip())
        trail = len(line.rstrip())
        if prev_kept is not None and _soft_wrap(lines[prev_kept - 1], line):
            spans[-1][1] = start + trail
        else:
            spans.append([start + lead, start + trail])
        prev_kept = number
    return [(s, e) for s, e in spans]


def _soft_wrap(previous: str, line: str) -> bool:
    """A hard-wrapped paragraph: the line continues the previous one mid-sentence."""
    prev = previous.rstrip()
    first = line.lstrip()[:1]
    return bool(prev) and not prev.endswith(_TERMINAL) and (first.islower() or prev.endswith((",", "-", "(")))


def split_sentences(text: str, kept_lines: set[int]) -> list[SentenceSpan]:
    out: list[SentenceSpan] = []
    for index, (start, end) in enumerate(paragraphs(text, kept_lines)):
        bullet = _BULLET.match(text, start, end)
        if bullet:
            start = bullet.end()
        para = text[start:end]
        if _is_heading(para):
            out.append(SentenceSpan(start, end, "heading", index))
            continue
        for s, e in _split_paragraph(para):
            out.append(SentenceSpan(start + s, start + e, "sentence", index))
    return out


def _is_heading(para: str) -> bool:
    return "\n" not in para and len(_WORD.findall(para)) <= 12 and not para.rstrip().endswith(_TERMINAL)


def _split_paragraph(para: str) -> list[tuple[int, int]]:
    import nupunkt

    pieces = [_trim(para, s, e) for s, e in nupunkt.sent_spans(para)]
    pieces = [p for p in pieces if p[1] > p[0]]
    merged: list[list[int]] = []
    i = 0
    while i < len(pieces):
        s, e = pieces[i]
        if merged and _joins_previous(para, merged[-1], (s, e)):
            merged[-1][1] = e
        else:
            merged.append([s, e])
        i += 1
        # A quotation left open continues through the piece that closes it.
        if _quote_open(para[merged[-1][0]:merged[-1][1]]):
            close = next((j for j in range(i, min(i + _MAX_QUOTE_MERGE, len(pieces)))
                          if _closes_quote(para[pieces[j][0]:pieces[j][1]])), None)
            if close is not None:
                merged[-1][1] = pieces[close][1]
                i = close + 1
    return [(s, e) for s, e in merged] or [(0, len(para))]


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _joins_previous(para: str, prev: list[int], cur: tuple[int, int]) -> bool:
    before = para[prev[0]:prev[1]]
    current = para[cur[0]:cur[1]]
    if not _WORD.search(current):  # a stray closing quote or bracket
        return True
    if m := _LAST_WORD.search(before):
        word = m[1].lower()
        if word in _TITLES and current[:1].isupper():
            return True
        if (word in MONTH_ABBREVIATIONS or word in _NUMBERED) and current[:1].isdigit():
            return True
    return bool(_ACRONYM_END.search(before) and _continues_name(current))


def _continues_name(text: str) -> bool:
    """After "U.S." a capitalised non-function word continues the phrase ("U.S. Ambassador")."""
    first = _WORD.match(text)
    return bool(first) and first.group()[:1].isupper() and first.group().lower() not in STOPWORDS


def _quote_open(text: str) -> bool:
    return text.count("“") > text.count("”") or text.count('"') % 2 == 1


def _closes_quote(text: str) -> bool:
    return "”" in text or '"' in text
