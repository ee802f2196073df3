"""Find figures that relevant sources disagree on, e.g. 'eight rockets' against 'more than 20 missiles'.

Figures are grouped by what they count: the same noun stem, or nouns whose MiniLM vectors are
close (rockets ~ missiles, 0.59; troops ~ soldiers, 0.89). A group conflicts when two of its
figures cannot both be true: each figure is read as an interval ("more than 20" = (20, ∞),
"about 8" = [6.4, 9.6]) and some pair of intervals from different sentences does not overlap
("from 3,000 to 2,500" in one sentence is a change, not a dispute). Figures must also describe the
same event: their sentences are linked by MiniLM similarity ≥ 0.45 (the rocket-count sentences
of the corpus score 0.46–0.67 with each other; "110 troops injured" against "troops cut from
3,000 to 2,500" scores 0.29).
"""

from __future__ import annotations

from dataclasses import dataclass

from rag.answer.figures import Figure, figures
from rag.models import Claim, Conflict

UNIT_SIMILARITY = 0.55
EVENT_SIMILARITY = 0.45
_RELEVANT = 0.5  # share of the best score a sentence needs for its figures to count


@dataclass
class ClaimRef:
    figure: Figure
    candidate: object  # extractive Candidate

    @property
    def interval(self) -> tuple[float, float]:
        n = self.figure.number
        value = self.figure.value.lower()
        if value.startswith(("more than", "over", "at least")):
            return (n + (0 if value.startswith("at least") else 1e-9), float("inf"))
        if value.startswith(("fewer than", "less than", "at most", "up to")):
            return (0.0, n)
        if value.startswith(("nearly", "almost", "about", "around", "roughly", "some", "an estimated",
                             "approximately", "estimated")):
            return (0.8 * n, 1.2 * n)
        return (n, n)


@dataclass
class ConflictGroup:
    about: str
    claims: list[ClaimRef]

    def to_model(self, numbers: dict[int, int]) -> Conflict:
        return Conflict(about=self.about, claims=[
            Claim(value=c.figure.value, number=c.figure.number, citation=numbers[id(c.candidate)])
            for c in self.claims if id(c.candidate) in numbers
        ])


def find_conflicts(candidates, chosen, question, embedder) -> list[ConflictGroup]:
    if not candidates:
        return []
    best = candidates[0].score
    pool = [c for c in candidates if c.score >= _RELEVANT * best and c.coverage > 0] + list(chosen)
    refs: list[ClaimRef] = []
    seen = set()
    for c in pool:
        if id(c) in seen:
            continue
        seen.add(id(c))
        prefer = {question.unit} if question.unit else set(question.terms)
        refs += [ClaimRef(f, c) for f in figures(c.sentence.text, prefer, counted=question.unit)]
    if len(refs) < 2:
        return []
    chosen_ids = {id(c) for c in chosen}
    groups: list[ConflictGroup] = []
    for units in _clusters([r.figure.unit for r in refs], [r.figure.unit_word.lower() for r in refs],
                           embedder, UNIT_SIMILARITY):
        for negated in (False, True):
            members = [r for r in refs if r.figure.unit in units and r.figure.negated == negated]
            if not _incompatible(members):
                continue
            texts = [r.candidate.sentence.text for r in members]
            for event in _clusters(texts, texts, embedder, EVENT_SIMILARITY):
                same_event = [r for r in members if r.candidate.sentence.text in event]
                if group := _conflict(same_event, units, question, chosen_ids):
                    groups.append(group)
    return groups


def _conflict(members: list[ClaimRef], units: set[str], question, chosen_ids: set[int]) -> ConflictGroup | None:
    touches_question = any(u in question.terms or u == question.unit for u in units)
    touches_answer = any(id(r.candidate) in chosen_ids for r in members)
    if not members or not (touches_question or touches_answer) or not _incompatible(members):
        return None
    return ConflictGroup(about=_label(members, question), claims=_one_per_source_value(members))


def _clusters(keys: list[str], texts: list[str], embedder, threshold: float) -> list[set[str]]:
    """Single-link clusters of `keys`, linking two when their `texts` embed within `threshold`."""
    first_text = {}
    for key, text in zip(keys, texts):
        first_text.setdefault(key, text)
    unique = list(first_text)
    if len(unique) == 1:
        return [set(unique)]
    vectors = embedder.embed([first_text[k] for k in unique])
    similarity = vectors @ vectors.T
    parent = list(range(len(unique)))

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for i in range(len(unique)):
        for j in range(i + 1, len(unique)):
            if similarity[i, j] >= threshold:
                parent[root(j)] = root(i)
    groups: dict[int, set[str]] = {}
    for i, key in enumerate(unique):
        groups.setdefault(root(i), set()).add(key)
    return list(groups.values())


def _incompatible(members: list[ClaimRef]) -> bool:
    for i, a in enumerate(members):
        for b in members[i + 1:]:
            if a.candidate is b.candidate:
                continue
            (lo1, hi1), (lo2, hi2) = a.interval, b.interval
            if hi1 < lo2 or hi2 < lo1:
                return True
    return False


def _one_per_source_value(members: list[ClaimRef]) -> list[ClaimRef]:
    out, seen = [], set()
    for r in sorted(members, key=lambda r: r.figure.number):
        key = (r.candidate.chunk.source, r.figure.number, r.figure.value.lower())
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out


def _label(members: list[ClaimRef], question) -> str:
    for r in members:
        if r.figure.unit in question.terms:
            return r.figure.unit_word.lower()
    return members[0].figure.unit_word.lower()
