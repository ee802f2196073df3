"""An answer about a namesake of what the question names: "Kyle Connor has won the Lady Byng
Trophy" for "Who won the NHL's Hart Trophy?".

A small model given a context without the answer answers from the nearest thing it holds, and
the nearest thing often shares the head word of the name asked about: another trophy, cup,
prize, act or company division. Every sentence is true and supported by its source, and the
answer is still about something else. So a name the question gives in two or more capitalised
words ("Hart Trophy") is looked for in the verified answer (its sentences and quotes): when none
of its other words is there, but its last word is, as the end of another capitalised name
("Lady Byng Trophy"), the answer speaks of a namesake and is refused as beside the question.

A possessive ends a name ("the NHL's Hart Trophy": "NHL" and "Hart Trophy"); a capitalised
stopword ("The", "Which") or a lowercase word between capitalised words ends one too. A name
given in any of its forms (rag.text.vocab.name_forms: "U.S." ~ "US") counts as given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.text.lexical import STOPWORDS, normalize
from rag.text.vocab import name_forms

_WORD = re.compile(r"[A-Za-z0-9][\w'’.&-]*")


@dataclass(frozen=True)
class Namesake:
    asked: str  # the name as the question gives it ("Hart Trophy")
    found: str  # the other name with its last word in the answer ("Lady Byng Trophy")


def namesake(question: str, texts: list[str]) -> Namesake | None:
    """The first name of the question whose namesake, and not itself, the answer `texts` hold."""
    held = set().union(*(_forms(w) for t in texts for w in _words(t))) if texts else set()
    others = [name for t in texts for name in names(t)]
    for name in names(question):
        *modifiers, head = name
        if any(_forms(w) & held for w in modifiers):
            continue  # the answer gives the name (or a part of it that tells it apart)
        for other in others:
            if len(other) >= 2 and _key(other[-1]) == _key(head) and not set(map(_key, other[:-1])) & set(
                    map(_key, modifiers)):
                return Namesake(" ".join(name), " ".join(other))
    return None


def names(text: str) -> list[list[str]]:
    """The runs of two or more capitalised words of `text` (names), each as its words."""
    out, run = [], []
    for m in _WORD.finditer(text):
        word = m.group()
        possessive = word.endswith(("'s", "’s"))
        bare = word.removesuffix("'s").removesuffix("’s").strip(".")
        gap = text[m.start() - 1:m.start()] if m.start() else " "
        if run and gap != " ":
            run = _close(run, out)  # punctuation between two words ends a name
        if bare[:1].isupper() and _key(bare) not in STOPWORDS:
            run.append(bare)
        else:
            run = _close(run, out)
        if possessive:
            run = _close(run, out)
    _close(run, out)
    return out


def _close(run: list[str], out: list[list[str]]) -> list[str]:
    if len(run) >= 2:
        out.append(run)
    return []


def _words(text: str) -> list[str]:
    return [m.group().removesuffix("'s").removesuffix("’s").strip(".") for m in _WORD.finditer(text)]


def _key(word: str) -> str:
    return normalize(word).replace("’", "'").replace(".", "")


def _forms(word: str) -> set[str]:
    key = _key(word)
    return {key} | set(name_forms(key))
