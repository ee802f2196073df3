"""Does the context speak to the question at all? The LLM engine's answerability gate.

A small model answers whatever it is asked: given near-topic sources and a question they do not
answer, it states what they do say (true, supported, and beside the point) or what it remembers.
The support check cannot catch the first, so before the model is asked the context must cover
the question: some window of one or two adjacent sentences of one source must hold at least
`llm_min_question_coverage` of the question's key terms (rag.answer.question: its content terms
without framing words such as "how many" or "according to"), a name and its variants counting
as the same word (rag.text.vocab.name_forms: "Saudi" ~ "Saudi Arabian"). A context that does not
is answered with a refusal and the model is not asked.

The threshold is chosen on the tune half of the benchmark, answerable questions on the full
corpus against the questions of its unanswerable variant (bench/llm_gate.py; BENCHMARKS.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from rag.answer.context import Context
from rag.answer.question import analyse
from rag.text.lexical import content_words
from rag.text.vocab import name_forms


@dataclass(frozen=True)
class Coverage:
    """The best window of the context for the question, and the share of its key terms there."""

    share: float
    missing: tuple[str, ...]  # key terms that window lacks (stems)
    source: int | None = None  # the context source it is in

    def reason(self, threshold: float) -> str:
        shown = ", ".join(repr(t) for t in self.missing[:4])
        return (f"no passage of the context speaks to the question: the best one holds {self.share:.0%} of its key "
                f"terms (at least {threshold:.0%} needed; missing {shown})")


def question_coverage(question: str, context: Context) -> Coverage:
    asked = analyse(question)
    key = set(asked.terms)
    if not key:
        return Coverage(1.0, ())
    names = {t: name_forms(t) for t in asked.names}
    best = Coverage(0.0, tuple(sorted(key)))
    for source in context.sources:
        body = [s for s in source.chunk.sentences if s.kind == "sentence"] or list(source.chunk.sentences)
        terms = [_terms(s.text) for s in body]
        for window in [*terms, *(a | b for a, b in pairwise(terms))]:
            found = _found(key, names, window)
            if len(found) / len(key) > best.share:
                best = Coverage(len(found) / len(key), tuple(sorted(key - found)), source.n)
    return best


def _terms(text: str) -> frozenset[str]:
    stems = frozenset(content_words(text))
    return stems | frozenset().union(*(name_forms(w) for w in stems))


def _found(key: set[str], names: dict[str, frozenset[str]], window: frozenset[str]) -> set[str]:
    return {t for t in key if t in window or (t in names and names[t] & window)}


def quotes_coverage(question: str, quotes: list[str]) -> Coverage:
    """The share of the question's key terms that the quotes an answer rests on hold together.

    The gate asks it of the context before the model is asked; this asks it of the answer after
    verification. A small model given a context that passes the gate may still answer with what a
    source says beside the question (true, supported by its citation, and no answer: "Biden is
    expected to rejoin the nuclear accord" for "What did Biden say about the rocket attack?").
    The same threshold applies: evidence that holds less of the question than the gate requires
    of any passage does not answer it."""
    asked = analyse(question)
    key = set(asked.terms)
    if not key:
        return Coverage(1.0, ())
    names = {t: name_forms(t) for t in asked.names}
    found = _found(key, names, frozenset().union(*(_terms(q) for q in quotes)) if quotes else frozenset())
    return Coverage(len(found) / len(key), tuple(sorted(key - found)))
