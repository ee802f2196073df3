"""Which sources of its context an LLM sentence rests on, and citation repair.

One support test decides (`SupportTest`, the seam to rag.answer.support): for a sentence and a
source it gives the source's best window of sentences and whether that window supports the
sentence. A sentence keeps the cited sources that support it. When no window of one cited
source does, two sentences of the cited sources together may (SupportScorer.across: the event in
one, its outcome in another). When neither, every OTHER source of the same context is tried with
the same test, and the sentence is re-cited to the one that supports it best (a right fact the
model credited to the wrong source number); last, two sentences of any sources of the context
together. Only sources that were in the context qualify, so a repair can never cite what the
model did not read. A sentence that nothing supports keeps its best cited window, marked
unsupported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from rag.answer.context import Context, Source
from rag.answer.support import Anchor, SupportScorer
from rag.text.snippet import short


@dataclass
class Evidence:
    """The best window of one context source for a sentence, and the support test's verdict."""

    n: int
    anchor: Anchor
    supported: bool

    @property
    def score(self) -> float:
        return self.anchor.score


class SupportTest(Protocol):
    def evidence(self, sentence: str, source: Source) -> Evidence | None: ...


class ScoreSupport:
    """rag.answer.support: support score >= threshold and every number of the sentence in the window."""

    def __init__(self, embedder, threshold: float, question: str | None = None):
        self.scorer = SupportScorer(embedder, question)
        self.threshold = threshold

    def evidence(self, sentence: str, source: Source) -> Evidence | None:
        anchor = self.scorer.anchor(sentence, source.chunk)
        return None if anchor is None else Evidence(source.n, anchor, anchor.supports(self.threshold))


    def across(self, sentence: str, sources: list[Source]) -> list[Evidence]:
        """Two sentences of the cited sources that together support the sentence (SupportScorer.across)."""
        by_chunk = {s.chunk.id: s.n for s in sources}
        anchors = self.scorer.across(sentence, [s.chunk for s in sources])
        if not anchors or not anchors[0].supports(self.threshold):
            return []
        return [Evidence(by_chunk[a.chunk.id], a, True) for a in anchors]


@dataclass
class Grounding:
    text: str
    cited: list[int]  # the model's citations that name a source of the context
    evidence: list[Evidence]  # what the sentence rests on now
    supported: bool
    support: float  # the best score among the cited sources (0 when none was valid)
    repaired_from: list[int] | None = None  # the model's citations, when re-cited
    judged: bool | None = None  # the LLM judge's verdict, with llm_judge
    notes: list[str] = field(default_factory=list)


def ground(text: str, cited: list[int], context: Context, test: SupportTest) -> Grounding:
    valid, notes = [], []
    for n in dict.fromkeys(cited):
        if context.source(n) is None:
            notes.append(f"dropped citation [{n}] of {short(text)!r}: the context had sources {context.numbers}")
        else:
            valid.append(n)
    found = [e for n in valid if (e := test.evidence(text, context.source(n)))]
    best = max((e.score for e in found), default=0.0)
    good = [e for e in found if e.supported]
    if good:
        if len(good) < len(found):
            notes.append(f"removed {len(found) - len(good)} citation(s) of {short(text)!r} that do not support it")
        return Grounding(text, valid, good, True, best, notes=notes)
    across = getattr(test, "across", None)
    if across is not None and (joint := across(text, [context.source(n) for n in valid])):
        notes.append(f"{short(text)!r} rests on two sentences together, not one window: of source "
                     + " and ".join(f"[{e.n}]" for e in joint))
        return Grounding(text, valid, joint, True, max(best, joint[0].score), notes=notes)
    other = [e for s in context.sources if s.n not in valid and (e := test.evidence(text, s)) and e.supported]
    if other:
        chosen = max(other, key=lambda e: e.score)
        was = "no source" if not valid else "source " + "".join(f"[{n}]" for n in valid)
        notes.append(f"re-cited {short(text)!r}: the model cited {was}, which does not state it; "
                     f"source [{chosen.n}] of the context does")
        return Grounding(text, valid, [chosen], True, best, repaired_from=valid, notes=notes)
    if across is not None and (joint := across(text, context.sources)):
        was = "no source" if not valid else "source " + "".join(f"[{n}]" for n in valid)
        notes.append(f"re-cited {short(text)!r}: the model cited {was}, which does not state it; two sentences "
                     "of the context together do, of source " + " and ".join(f"[{e.n}]" for e in joint))
        return Grounding(text, valid, joint, True, best, repaired_from=valid, notes=notes)
    kept = sorted(found, key=lambda e: (e.anchor.numbers_ok, e.score))[-1:]
    return Grounding(text, valid, kept, False, best, notes=notes)
