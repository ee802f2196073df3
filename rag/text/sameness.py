"""When two sentences say the same thing: one definition, at the strictness each use needs.

Sentences are compared by their content words (sets from rag.text.lexical.content_words) and,
where a rule asks for it, the MiniLM cosine of the two sentences, which the caller passes (it
usually has a whole similarity matrix). The share of words held in common is counted one of
three ways:

- "union": shared / the words of both (Jaccard). Symmetric and strict: the two must also be
  about as long as each other.
- "shorter": shared / the shorter sentence's words. One sentence may say more around it.
- "first": shared / the first sentence's words. Directional: does the second (earlier
  material) state all of the first? Only the first must be long enough to be a statement.

The rules in use, each chosen where it is used (the numbers are unchanged from there):

- SAME_WORDS: the extractive answer's test for another source's copy of a chosen sentence
  (it becomes an extra citation). Words only: the answer has no sentence vectors to spare.
- SAME_STATEMENT: briefings. Two sentences report the same statement (episodes link articles
  by them, twins are cited together, a timeline event gathers them). The shorter-sentence
  share lets a paraphrase that adds a clause still count; the cosine keeps apart sentences
  that share names but not meaning.
- WIRE_COPY: briefings. An article that repeats another's sentences almost word for word is
  a syndicated copy.
- ALREADY_STATED: --new-since. An item of the new briefing that earlier material already states:
  most of the item's words, and at least three of them, in one earlier sentence (which must also
  state most of the item's numbers, names and dates: rag.brief.particulars).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Measure = Literal["union", "shorter", "first"]


@dataclass(frozen=True)
class Sameness:
    share: float  # the least share of words held in common
    of: Measure  # what the share is counted against
    cosine: float | None = None  # the least MiniLM cosine as well (None: the words alone decide)
    min_terms: int = 1  # a sentence with fewer content words says too little to compare
    min_shared: int = 0  # the least number of words held in common, whatever the share


SAME_WORDS = Sameness(share=0.6, of="union")
SAME_STATEMENT = Sameness(share=0.5, of="shorter", cosine=0.6, min_terms=4)
WIRE_COPY = Sameness(share=0.8, of="union", cosine=0.9)
ALREADY_STATED = Sameness(share=0.6, of="first", min_terms=3, min_shared=3)


def word_share(a: set[str], b: set[str], of: Measure) -> float:
    """The share of words `a` and `b` hold in common, counted against `of` (0.0 for no words)."""
    whole = len(a | b) if of == "union" else min(len(a), len(b)) if of == "shorter" else len(a)
    return len(a & b) / whole if whole else 0.0


def same_statement(a: set[str], b: set[str], rule: Sameness, cosine: float | None = None) -> bool:
    """`a` and `b` (content-word sets) state the same thing by `rule`; `cosine` is the two
    sentences' MiniLM cosine, needed when the rule has a cosine bound."""
    if len(a) < rule.min_terms or (rule.of != "first" and len(b) < rule.min_terms):
        return False
    if rule.cosine is not None:
        if cosine is None:
            raise ValueError("this rule needs the sentences' cosine")
        if cosine < rule.cosine:
            return False
    return len(a & b) >= rule.min_shared and word_share(a, b, rule.of) >= rule.share
