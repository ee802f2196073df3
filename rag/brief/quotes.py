"""Who said what: quotations of at least four words, and who the article attributes them to.

The speaker is the name next to a verb of speech in the same sentence ("..., Zarif said",
"said Captain Bill Urban", "according to ..."). A pronoun ("he said", "he added") points back to
the speaker named with a verb of speech in the sentence just before, which is then cited too. A quotation
with no attribution is shown as unattributed rather than given a guessed speaker.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rag.brief.scope import Unit
from rag.text.vocab import ADDRESS_VERBS, CALENDAR_WORDS, SPEECH_VERBS, alternation

_QUOTED = re.compile(r"[\"“]([^\"“”]{12,}?)[\"”]|‘([^‘’]{12,}?)’")
_SPEAKS = alternation(SPEECH_VERBS)
_VERBS = alternation(SPEECH_VERBS + ADDRESS_VERBS)  # "X told Reuters": X speaks, Reuters listens
_ROLE = (r"(?:the|a|an)\s+(?:[a-z-]+\s+){0,2}(?:president|spokes(?:man|woman|person)|minister|ministry|official|"
         r"officials|statement|military|army|department|commander|secretary|leader|envoy|diplomat|sources?)")
_PROPER = r"(?:[Tt]he\s+)?(?:[A-Z][\w'’.-]*)(?:\s+(?:[A-Z][\w'’.-]*|al-\w+|bin|de|of|the|for))*"
_NAME = rf"(?:{_ROLE}|{_PROPER})"
_AFTER_VERB = re.compile(rf"\b(?:{_SPEAKS})\s+(?P<name>{_NAME})")
_BEFORE_VERB = re.compile(rf"(?P<name>{_NAME})\s+(?:\w+ly\s+)?(?:{_VERBS})\b")
_ACCORDING = re.compile(rf"\baccording to\s+(?P<name>{_NAME})")
_SAYING = re.compile(rf"^\s*(?P<name>{_NAME})\b[^\"“]*?,\s+saying\b")  # "Pompeo blamed X, saying in a statement: ..."
_PRONOUN = re.compile(rf"\b(?:he|she|they|it)\s+(?:\w+ly\s+)?(?:{_VERBS})\b", re.IGNORECASE)
_NOT_NAMES = {"The", "A", "An", "In", "On", "But", "And", "It", "This", "That", "Our", "We", "I", "If", "Now",
              "Think", "Guess", "Some", "While", "Meanwhile", "Following", "Putting", "There", "He", "She", "They"}
_MIN_WORDS = 4


@dataclass
class QuoteFind:
    unit: Unit
    words: str
    speaker: str | None
    attribution: list[Unit] = field(default_factory=list)  # earlier sentences that name the speaker


def find_quotes(units: list[Unit]) -> list[QuoteFind]:
    by_source: dict[str, list[Unit]] = {}
    for u in sorted(units, key=lambda x: (x.source, x.sentence.char_start)):
        by_source.setdefault(u.source, []).append(u)
    found = []
    for article_units in by_source.values():
        for i, u in enumerate(article_units):
            words = _quoted_words(u.text)
            if not words:
                continue
            speaker = speaker_in(_outside_quotes(u.text))
            attribution: list[Unit] = []
            if speaker is None and _PRONOUN.search(_outside_quotes(u.text)):
                for earlier in article_units[max(0, i - 1):i]:
                    if (speaker := speaker_in(_outside_quotes(earlier.text), direct=True)) is not None:
                        attribution = [earlier]
                        break
            found.append(QuoteFind(unit=u, words=words, speaker=speaker, attribution=attribution))
    return found


def attributed_quote(text: str) -> bool:
    """A quotation (of at least four words) with its speaker named in the same sentence."""
    return _quoted_words(text) is not None and speaker_in(_outside_quotes(text)) is not None


def quoted_words(text: str) -> str | None:
    """The longest quotation of at least four words in a sentence."""
    return _quoted_words(text)


def _quoted_words(text: str) -> str | None:
    spans = [m.group(1) or m.group(2) for m in _QUOTED.finditer(text)]
    spans = [s.strip(" ,") for s in spans if len(s.split()) >= _MIN_WORDS]
    return max(spans, key=len) if spans else None


def _outside_quotes(text: str) -> str:
    return _QUOTED.sub(" … ", text)


def speaker_in(text: str, direct: bool = False) -> str | None:
    """The name attached to a verb of speech, or None. `direct`: only "X said" / "said X"."""
    for pattern in (_BEFORE_VERB, _AFTER_VERB) if direct else (_BEFORE_VERB, _AFTER_VERB, _ACCORDING, _SAYING):
        for m in pattern.finditer(text):
            name = _clean(m.group("name"))
            if name:
                return name
    return None


def _clean(name: str) -> str | None:
    words = name.split()
    while words and words[0] in _NOT_NAMES:
        words = words[1:]
    while words and words[-1].lower() in ("of", "the", "for", "de", "bin"):
        words = words[:-1]
    if not words or words[0] in CALENDAR_WORDS or (not words[0][0].isupper() and words[0] not in ("the", "a", "an")):
        return None
    return " ".join(words).rstrip(".,")
