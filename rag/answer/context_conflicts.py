"""Disagreements for an LLM answer: the extractive engine's finder run over the figures of the
whole context, so a verified disagreement is shown even when the model mentions one figure.

`disagreements()` is the one call the LLM engine makes; it adapts the context to the shared
finder (rag.answer.conflicts) and returns plain (value, number, chunk, sentence) claims that the
engine cites. The context's sentences are scored like extractive candidates: the share of the
question's content terms a sentence holds, so the finder keeps figures about the question.
"""

from __future__ import annotations

from dataclasses import dataclass

from rag.answer.conflicts import find_conflicts
from rag.answer.context import Context
from rag.answer.question import analyse
from rag.models import Chunk, Sentence
from rag.text.lexical import content_words


@dataclass
class ContextSentence:
    chunk: Chunk
    sentence: Sentence
    score: float
    coverage: float


@dataclass
class FoundClaim:
    value: str
    number: float
    chunk: Chunk
    sentence: Sentence


def disagreements(context: Context, question: str, used: list[tuple[Chunk, Sentence]], embedder
                  ) -> list[tuple[str, list[FoundClaim]]]:
    """[(what is counted, claims)] for figures of the context that cannot all be true.
    `used` are the (chunk, sentence) pairs the answer rests on."""
    q = analyse(question)
    candidates = _candidates(context, set(q.terms))
    if not candidates:
        return []
    keys = {(c.source, s.char_start) for c, s in used}
    chosen = [c for c in candidates if (c.chunk.source, c.sentence.char_start) in keys]
    out = []
    for group in find_conflicts(candidates, chosen, q, embedder):
        claims = [FoundClaim(side.value, side.number, s.chunk, s.sentence)
                  for side in group.sides for s in side.statements]
        if len({c.number for c in claims}) >= 2:
            out.append((group.about, claims))
    return out


def _candidates(context: Context, terms: set[str]) -> list[ContextSentence]:
    out, seen = [], set()
    for source in context.sources:
        body = [s for s in source.chunk.sentences if s.kind == "sentence"] or source.chunk.sentences
        for sentence in body:
            key = (source.chunk.source, sentence.char_start)
            if key in seen:  # overlapping chunks repeat a sentence
                continue
            seen.add(key)
            coverage = len(terms & set(content_words(sentence.text))) / len(terms) if terms else 0.0
            out.append(ContextSentence(source.chunk, sentence, coverage, coverage))
    return sorted(out, key=lambda c: -c.score)
