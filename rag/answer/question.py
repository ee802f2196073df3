"""What a question asks for: its content terms and the type of answer it expects."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from rag.text.dates import find_date_mentions
from rag.text.lexical import STOPWORDS, content_words, stem
from rag.text.sentences import split_sentences
from rag.text.vocab import AUXILIARY_VERBS, PERSON_NOUNS, PLACE_NOUNS, alternation

# Words that frame a question but say nothing about its subject.
_FRAMING = {stem(w) for w in (
    "many much happened happen name named number kind type tell describe report reported mention "
    "mentioned article articles source sources according sort exactly did do does give given "
    "total overall whom whose which".split()
)}

# The noun that names the answer type ("on what date", "the name of") is not part of the subject.
_TYPE_NOUNS = {
    "date": {"date", "day", "year", "month", "time"},
    "name": {"name"},
    "number": {"number", "amount", "figure", "count"},
    "place": {"place", "location", "city", "country"},
}

# Up to four words between "which" and the noun that names what is asked ("which popular
# singer", "which 23-time grand slam tennis champion"): premodifiers of that head noun, so none of
# them a verb ("which virus is making officials ill" asks about a virus) nor a function word. A
# preposition, article or pronoun ends the noun phrase, and a type noun after it belongs to a later
# clause: "which property owned by former President X" asks for a property, not a person (a leading
# partitive is no clause: "which of the senators" asks for a senator). Words
# that premodify a noun ("which other player", "which most popular singer") do not end it.
_PREMODIFIERS = {"other", "more", "most", "only", "own", "same", "few", "one", "such", "very", "all", "both",
                 "each", "any", "some"}
_FUNCTION_WORDS = alternation(STOPWORDS - _PREMODIFIERS)
_PARTITIVE = r"(?:(?:one\s+)?of\s+(?:the|these|those)\s+)?"  # "which (one) of the senators": the noun follows
_MODIFIERS = (rf"{_PARTITIVE}(?:(?!(?:{alternation(AUXILIARY_VERBS)}|{_FUNCTION_WORDS})(?![\w’'-]))(?![\w’'-]+ing\b)"
              rf"[\w’'-]+\s+){{0,4}}?")

_TYPES = [
    ("name", re.compile(r"\bwhat (is|was|were|are) the names? of\b|\bname the\b|\bnamed?\b.{0,20}\?$", re.I)),
    ("number", re.compile(r"\bhow (many|much|large|big|long|old|far)\b|\bwhat (number|percentage|share|proportion)\b|\bhow high\b", re.I)),
    ("date", re.compile(r"^\s*when\b|\b(what|which) (date|day|year|month|time)\b|\bon what day\b", re.I)),
    ("person", re.compile(rf"^\s*who\b|\bwhom\b|\bwhose\b|\bwho\s*\?\s*$|\bwhich\s+{_MODIFIERS}({alternation(PERSON_NOUNS)})\b", re.I)),
    ("place", re.compile(rf"^\s*where\b|[.?!]\s+where\b|\b(which|what)\s+{_MODIFIERS}({alternation(PLACE_NOUNS)})\b", re.I)),
    ("quote", re.compile(r"\bwhat did .{1,60}\b(say|said|tweet|write|wrote|warn|tell|claim|post)\b|\bquote\b|\bin (his|her|their) words\b", re.I)),
]


_COUNTED = re.compile(r"\b(?:how many|number of)\s+", re.I)


@dataclass(frozen=True)
class Question:
    text: str
    terms: tuple[str, ...]  # stemmed content terms, framing words removed
    kind: str  # name | number | date | person | place | quote | general
    names: tuple[str, ...]  # capitalised words in the question (likely names), stemmed
    unit: str | None = None  # for counts: the stem of what is counted ("rocket")
    unit_word: str | None = None


# A sentence end followed by more text: without one the question is one sentence, and the splitter
# (whose model costs a cold `rag ask` about 0.1 s to load) is not needed to say so.
_INNER_END = re.compile(r"[.!?][\"'”’)\]]*\s+\S")


def asking_sentence(text: str) -> str:
    """The question's last sentence, the one that asks: a quiz question often sets the scene
    first ("Kim Kardashian was accused of damaging a dress. Who designed it?")."""
    text = text.strip()
    if not _INNER_END.search(text):
        return text
    spans = split_sentences(text, set(range(1, text.count("\n") + 2)))
    return text[spans[-1].start:spans[-1].end] if spans else text


def _kind(text: str) -> str:
    """The answer type, read from the asking sentence first ("... at the Met Gala. Who was the
    designer?" asks for a person), else from the whole question."""
    asking = asking_sentence(text)
    return next((name for name, pattern in _TYPES if pattern.search(asking)), None) or next(
        (name for name, pattern in _TYPES if pattern.search(text)), "general")


def analyse(text: str) -> Question:
    kind = _kind(text)
    type_nouns = {stem(w) for w in _TYPE_NOUNS.get(kind, ())}
    terms = tuple(dict.fromkeys(t for t in content_words(text) if t not in _FRAMING and t not in type_nouns))
    names = tuple(dict.fromkeys(
        stem(w.lower()) for w in re.findall(r"(?<![.?!]\s)(?<!^)\b[A-Z][a-zA-Z'’-]+", text.strip())
        if stem(w.lower()) in terms
    ))
    unit_word = None
    if kind == "number" and (m := _COUNTED.search(text)):
        from rag.answer.figures import unit_after

        unit_word = unit_after(text, m.end(), set())
    unit = stem(unit_word.lower()) if unit_word else None
    return Question(text=text, terms=terms, kind=kind, names=names, unit=unit, unit_word=unit_word)


def without_period(q: Question) -> Question:
    """The question without the words of the relative time it names ("this week", "later this
    year"): they say when it is asked about, which the as-of date and the articles' dates carry,
    not what an answer sentence states (news text says "on Tuesday", not "this week"). The
    extractive engine scores sentences on these terms (docs/design.md, round 4)."""
    period = {w for m in find_date_mentions(q.text) if m.kind == "relative" for w in content_words(m.text)}
    if not period:
        return q
    return replace(q, terms=tuple(t for t in q.terms if t not in period),
                   names=tuple(t for t in q.names if t not in period))
