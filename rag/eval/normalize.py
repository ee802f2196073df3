"""Text normalisation for matching expected facts against answers (never for display).

Both sides go through the same function, so a fact matches when its words appear, in order
and as whole words, in the answer after:
- Unicode compatibility folding (NFKC), accents removed, curly quotes made straight;
- lower case;
- thousands separators dropped ("3,000" → "3000");
- number words turned into digits ("eight" → "8", "twenty-one" → "21", "154" stays);
- every other punctuation mark turned into a space ("O'Brien" → "o brien", "non-escalatory" →
  "non escalatory"), so punctuation never decides a match.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from rag.text.vocab import SCALE_WORDS, TENS_WORDS, UNIT_WORDS

_QUOTES = str.maketrans({
    "‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'", "´": "'", "`": "'",
    "“": '"', "”": '"', "„": '"', "‟": '"', "″": '"', "«": '"', "»": '"',
    "–": "-", "—": "-", "‐": "-", "‑": "-", "−": "-",
})
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")
_DECIMAL = re.compile(r"(?<=\d)\.(?=\d)")
_NON_WORD = re.compile(r"[^a-z0-9\u00b7]+")
_MARKER = re.compile(r"\[\d+\]")

_UNITS, _TENS, _SCALES = UNIT_WORDS, TENS_WORDS, SCALE_WORDS


def strip_markers(text: str) -> str:
    """Remove `[n]` citation markers, whose digits would otherwise count as numbers."""
    return _MARKER.sub(" ", text)


def normalize(text: str) -> str:
    """The matching form of `text`: lower-case words and digits separated by single spaces."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).lower()
    text = _THOUSANDS.sub("", text)
    text = _DECIMAL.sub("\u00b7", text)  # keep "2.5" one token through the punctuation pass
    tokens = _NON_WORD.sub(" ", text).split()
    return " ".join(_numbers(tokens)).replace("\u00b7", ".")


def _numbers(tokens: list[str]) -> list[str]:
    """Replace runs of number words ("one hundred fifty four") by their value."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        value, used = _parse_number(tokens, i)
        if used:
            out.append(str(value))
            i += used
        else:
            out.append(tokens[i])
            i += 1
    return out


def _parse_number(tokens: list[str], start: int) -> tuple[int, int]:
    """(value, tokens consumed) for a number written in words at `start`; (0, 0) if none.
    "one two" is two numbers, not three: a unit may follow only a tens word, a scale or "and"."""
    total, current, i, last = 0, 0, start, None
    while i < len(tokens):
        word = tokens[i]
        if word in _UNITS and last in (None, "tens", "scale", "and"):
            current += _UNITS[word]
            last = "unit"
        elif word in _TENS and last in (None, "scale", "and"):
            current += _TENS[word]
            last = "tens"
        elif word in _SCALES and last in ("unit", "tens"):
            if _SCALES[word] == 100:
                current *= 100
            else:
                total += current * _SCALES[word]
                current = 0
            last = "scale"
        elif word == "and" and last == "scale" and i + 1 < len(tokens) and (
                tokens[i + 1] in _UNITS or tokens[i + 1] in _TENS):
            last = "and"  # "one hundred and ten"
        else:
            break
        i += 1
    return (total + current, i - start) if last else (0, 0)


def contains_phrase(haystack: str, phrase: str) -> bool:
    """True when the normalised phrase occurs in the normalised haystack as whole words."""
    return phrase_finder(haystack)(phrase)


def phrase_finder(haystack: str) -> Callable[[str], bool]:
    """`contains_phrase(haystack, ·)` with the haystack normalised once, for many phrases."""
    padded = f" {normalize(haystack)} "

    def contains(phrase: str) -> bool:
        needle = normalize(phrase)
        return bool(needle) and f" {needle} " in padded

    return contains
