"""Where sources disagree: figures for the same thing that cannot all be true, per episode.

rag.answer.conflicts finds them as it does for answers (figures grouped by what they count,
read as intervals, the sentences about the same event). A briefing keeps a disagreement only
between different sources: one article giving two figures is reporting a change, not a dispute.
"""

from __future__ import annotations

from rag.answer.conflicts import find_conflicts
from rag.answer.question import Question, analyse
from rag.brief.scope import Unit


def find_disagreements(units: list[Unit], topic: str | None, embedder) -> list[tuple[str, list[tuple[str, list[Unit]]], int | None]]:
    """[(about, [(value, units stating it)], episode)]."""
    question = analyse(topic) if topic else Question(text="", terms=(), kind="general", names=())
    out = []
    for episode in sorted({u.episode for u in units}, key=lambda e: e or 0):
        members = sorted((u for u in units if u.episode == episode), key=lambda u: -u.score)
        for group in find_conflicts(members, members, question, embedder):
            sides: dict[float, tuple[str, list[Unit]]] = {}
            for claim in sorted(group.claims, key=lambda c: -len(c.figure.value)):
                _, stating = sides.setdefault(claim.figure.number, (claim.figure.value, []))
                if claim.candidate not in stating:
                    stating.append(claim.candidate)
            if len(sides) >= 2 and _across_sources(sides):
                out.append((group.about, [sides[n] for n in sorted(sides)], episode))
    return out


def _across_sources(sides: dict) -> bool:
    """Some two different figures come from different sources."""
    sources = [{u.source for u in stating} for _, stating in sides.values()]
    return any(a != b or len(a) > 1 for i, a in enumerate(sources) for b in sources[i + 1:])
