"""Scoring and picking sentences: centrality, coverage, no redundancy, duplicates collapsed.

- centrality: mean MiniLM cosine of a sentence with the other sentences of its episode; a
  sentence from another source counts twice as much as one from the same article, so what
  several outlets report rises. Normalised to [0, 1] within the episode.
- lead: 1 / (1 + position / 3): news states the event in its first sentences.
- relevance (with a topic): half the MiniLM cosine with the topic, half the share of the topic's
  content words in the sentence and its neighbours, normalised by the best.
- score = 0.25 centrality + 0.6 relevance + 0.15 lead with a topic (the topic decides what is in
  the briefing), 0.7 centrality + 0.3 lead without.
Picking is greedy by score. A sentence that states the same thing as a chosen one in another
source (syndicated copies, shared wire copy, the same quote) becomes an extra citation of it; a
sentence too close to a chosen one (cosine >= 0.75) or adding fewer than two new content words
is skipped.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from rag.brief.scope import Unit
from rag.text.sameness import SAME_STATEMENT, same_statement

REDUNDANT = 0.75
TWIN = 0.85
_MIN_NEW_TERMS = 2


def score_units(units: list[Unit], has_topic: bool) -> None:
    for episode in {u.episode for u in units}:
        members = [u for u in units if u.episode == episode]
        _centrality(members)
    best_relevance = max((u.relevance for u in units), default=1.0) or 1.0
    for u in units:
        lead = 1.0 / (1.0 + u.position / 3.0)
        if has_topic:
            u.score = 0.25 * u.centrality + 0.6 * u.relevance / best_relevance + 0.15 * lead
        else:
            u.score = 0.7 * u.centrality + 0.3 * lead


def _centrality(members: list[Unit]) -> None:
    if len(members) == 1:
        members[0].centrality = 1.0
        return
    matrix = np.stack([u.vector for u in members])
    similarity = np.clip(matrix @ matrix.T, 0.0, None)
    sources = np.array([u.source for u in members])
    weight = np.where(sources[:, None] == sources[None, :], 1.0, 2.0)
    np.fill_diagonal(weight, 0.0)
    raw = (similarity * weight).sum(axis=1) / weight.sum(axis=1)
    top = raw.max() or 1.0
    for u, value in zip(members, raw):
        u.centrality = float(value / top)


def pick(candidates: Iterable[Unit], limit: int, taken: list[Unit] | None = None) -> list[Unit]:
    """Up to `limit` units by score; `taken` (chosen elsewhere) counts for redundancy only."""
    taken = list(taken or [])
    chosen: list[Unit] = []
    covered = set().union(*(u.terms for u in taken)) if taken else set()
    for c in sorted(candidates, key=lambda u: -u.score):
        if len(chosen) >= limit:
            break
        if any(c is x or c in x.twins for x in taken + chosen):
            continue
        twin = next((x for x in taken + chosen if is_twin(c, x)), None)
        if twin is not None:
            add_twin(twin, c)
            continue
        if any(float(c.vector @ x.vector) >= REDUNDANT for x in taken + chosen):
            continue
        if len(c.terms - covered) < _MIN_NEW_TERMS:
            continue
        chosen.append(c)
        covered |= c.terms
    return chosen


def is_twin(a: Unit, b: Unit) -> bool:
    """The same statement in another source of the same episode (never across episodes:
    background both episodes repeat, such as Soleimani's killing, must not tie them)."""
    if a.source == b.source or a.episode != b.episode:
        return False
    cosine = float(a.vector @ b.vector)
    return cosine >= TWIN or same_statement(a.terms, b.terms, SAME_STATEMENT, cosine)


def add_twin(keeper: Unit, other: Unit) -> None:
    """`other` states what `keeper` states: it becomes an extra citation (one per source)."""
    if other.source != keeper.source and all(other.source != t.source for t in keeper.twins):
        keeper.twins.append(other)


def collect_twins(chosen: list[Unit], pool: list[Unit]) -> None:
    """Every other source that states a chosen sentence is cited on it."""
    for u in chosen:
        for other in pool:
            if other is not u and is_twin(u, other):
                add_twin(u, other)
