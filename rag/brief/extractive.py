"""The offline briefing: every sentence is a verbatim sentence of a source, chosen by
centrality and coverage, with the timeline, quotes and disagreements read from the same units."""

from __future__ import annotations

import time

import numpy as np

from rag.answer.conflicts import Found, find_disagreements
from rag.answer.question import analyse
from rag.brief.citing import BriefCitations, source_list, unverified
from rag.brief.episodes import find_episodes, label_episodes
from rag.brief.options import BriefOptions
from rag.brief.quotes import find_quotes
from rag.brief.scope import Scope, Unit, gather
from rag.brief.select import collect_twins, pick, score_units
from rag.brief.timeline import build_timeline
from rag.index.store import Store
from rag.models import (
    BriefEvent,
    Briefing,
    BriefPoint,
    BriefQuote,
    Disagreement,
    Episode,
)
from rag.retrieval import Filters
from rag.text.sameness import WIRE_COPY, same_statement

SYNDICATED = 0.6  # share of an article's sentences that another article repeats word for word: a copy


def brief_extractive(store: Store, topic: str | None, filters: Filters, options: BriefOptions,
                     scope: Scope | None = None) -> Briefing:
    """`scope`: what to read, when the caller gathered it (rag/brief/new_since.py); else gathered here."""
    clock = time.perf_counter()
    scope = scope or gather(store, topic, filters, options.k, options.max_chunks)
    timings = {"gather": round(time.perf_counter() - clock, 4)}
    plan = plan_briefing(scope, topic, options)
    book = BriefCitations()
    briefing = Briefing(
        topic=topic, since=filters.since, until=filters.until, source_filter=filters.source, engine="extractive",
        settings_hash=store.settings.settings_hash(), episodes=plan.episodes,
        summary=[_point(u, book) for u in plan.summary],
        key_facts=[_point(u, book) for u in plan.key_facts],
        timeline=[_event(e, book) for e in plan.events],
        quotes=[_quote(q, book) for q in plan.quotes],
        disagreements=[_disagreement(d, book) for d in _disagreements(scope, plan, topic, store.embedder)],
        notes=scope.notes + plan.notes,
    )
    finish(briefing, book, store, scope, plan)
    briefing.timings = {**timings, "brief": round(time.perf_counter() - clock - timings["gather"], 4)}
    return briefing


class Plan:
    """What the briefing will say, as units, before citations are numbered."""

    def __init__(self):
        self.episodes: list[Episode] = []
        self.kept: list[Unit] = []
        self.summary: list[Unit] = []
        self.key_facts: list[Unit] = []
        self.events = []
        self.quotes = []
        self.copies: dict[str, str] = {}
        self.notes: list[str] = []


def plan_episodes(scope: Scope, topic: str | None, options: BriefOptions) -> Plan:
    """Episodes, scores, syndicated copies and the units kept: what both engines start from."""
    plan = Plan()
    units = scope.units
    plan.episodes = find_episodes(units, scope.articles, options.episode_days, options.min_links)
    score_units(units, topic is not None)
    label_episodes(plan.episodes, units, scope.articles)
    plan.episodes = _relevant_episodes(plan, units, topic, options)
    kept_numbers = {e.n for e in plan.episodes}
    plan.copies = syndicated_copies(units)
    plan.kept = [u for u in units if u.episode in kept_numbers and u.source not in plan.copies]
    return plan


def plan_briefing(scope: Scope, topic: str | None, options: BriefOptions) -> Plan:
    plan = plan_episodes(scope, topic, options)
    units = scope.units
    kept_numbers = {e.n for e in plan.episodes}
    copies = [u for u in units if u.source in plan.copies]
    plan.summary = _summary(plan.kept, plan.episodes, options.summary_sentences)
    plan.key_facts = _key_facts(plan.kept, plan.episodes, plan.summary, options.key_facts)
    collect_twins(plan.summary + plan.key_facts, [u for u in units if u.episode in kept_numbers])
    windows = {e.n: (e.start, e.end) for e in plan.episodes}
    plan.events, timeline_notes = build_timeline(plan.kept + copies, options.timeline_events, scope.year_hints, windows)
    plan.quotes = _quotes(plan.kept, options.quotes)
    plan.notes += timeline_notes + [f"{copy} is a syndicated copy of {original}: cited only alongside it"
                                    for copy, original in plan.copies.items()]
    return plan


def _relevant_episodes(plan: Plan, units: list[Unit], topic: str | None, options: BriefOptions) -> list[Episode]:
    """With a topic, episodes far less relevant than the best are left out, and the notes say so.
    The episode of the article that covers the topic most fully (the most relevance over its
    sentences in scope) is always kept."""
    if topic is None or len(plan.episodes) < 2:
        return plan.episodes
    relevance = {e.n: max((u.relevance for u in units if u.episode == e.n), default=0.0) for e in plan.episodes}
    best = max(relevance.values()) or 1.0
    fullest = _fullest(units, options.episode_relevance)
    kept = [e for e in plan.episodes if relevance[e.n] >= options.episode_relevance * best or fullest in e.sources]
    for e in plan.episodes:
        if e not in kept:
            plan.notes.append(f"left out episode {e.n} ({e.label}; {', '.join(e.sources)}): "
                              f"less relevant to the topic ({relevance[e.n]:.2f} against {best:.2f})")
    return kept


def _fullest(units: list[Unit], bar: float) -> str | None:
    """The article that covers the topic most fully: the most relevance summed over its
    sentences that are themselves relevant (at least `bar` of the best sentence's), so that a
    long article of passing mentions does not outweigh the one about the topic."""
    best = max((u.relevance for u in units), default=0.0)
    total: dict[str, float] = {}
    for u in units:
        if u.relevance >= bar * best:
            total[u.source] = total.get(u.source, 0.0) + u.relevance
    return max(total, key=lambda s: (total[s], s)) if total else None


def syndicated_copies(units: list[Unit]) -> dict[str, str]:
    """copy → original, for articles most of whose sentences another article repeats almost
    word for word (cosine >= 0.9 and 80% of the words): wire copy run by several outlets."""
    sizes: dict[str, int] = {}
    for u in units:
        sizes[u.source] = sizes.get(u.source, 0) + 1
    copies: dict[str, str] = {}
    for (a, b), shared in sorted(_copied(units).items(), key=lambda item: -item[1]):
        copy, original = (a, b) if (sizes[a], a) < (sizes[b], b) else (b, a)
        if copy in copies or original in copies or shared < SYNDICATED * sizes[copy]:
            continue
        copies[copy] = original
    return copies


def _copied(units: list[Unit]) -> dict[tuple[str, str], int]:
    """(source, source) → sentences of one repeated almost verbatim in the other."""
    out: dict[tuple[str, str], set[int]] = {}
    if not units:
        return {}
    matrix = np.stack([u.vector for u in units])
    similarity = matrix @ matrix.T
    for i, j in zip(*np.nonzero(np.triu(similarity >= WIRE_COPY.cosine, k=1))):
        a, b = units[i], units[j]
        if a.source != b.source and same_statement(a.terms, b.terms, WIRE_COPY, float(similarity[i, j])):
            out.setdefault(tuple(sorted((a.source, b.source))), set()).add(min(i, j))
    return {k: len(v) for k, v in out.items()}


def _importance(units: list[Unit], episode: Episode) -> float:
    members = [u for u in units if u.episode == episode.n]
    return max((u.relevance for u in members), default=0.0) * len({u.source for u in members}) ** 0.5


def _summary(units: list[Unit], episodes: list[Episode], limit: int) -> list[Unit]:
    """The best sentence of each episode (most important first), then more from the biggest."""
    ranked = sorted(episodes, key=lambda e: -_importance(units, e))
    chosen: list[Unit] = []
    for episode in ranked[:limit]:
        chosen += pick([u for u in units if u.episode == episode.n], 1, chosen)
    want = max(2, min(limit, len(ranked) + 1))
    for episode in ranked:
        if len(chosen) >= want:
            break
        chosen += pick([u for u in units if u.episode == episode.n], want - len(chosen), chosen)
    return sorted(chosen, key=lambda u: (u.episode or 0, -u.score))


def _key_facts(units: list[Unit], episodes: list[Episode], summary: list[Unit], limit: int) -> list[Unit]:
    """Each episode gets a share of the bullets in proportion to its sentences (at least one),
    then any bullets left go to the best sentences overall."""
    chosen: list[Unit] = []
    total = len(units) or 1
    for episode in episodes:
        members = [u for u in units if u.episode == episode.n]
        quota = max(1, round(limit * len(members) / total))
        chosen += pick(members, min(quota, limit - len(chosen)), summary + chosen)
    chosen += pick(units, limit - len(chosen), summary + chosen)
    return sorted(chosen, key=lambda u: (u.episode or 0, -u.score))


def _quotes(units: list[Unit], limit: int):
    """Attributed quotations first, one per speaker before a second from anyone; the same
    quotation in another source becomes an extra citation."""
    found = sorted(find_quotes(units), key=lambda q: (q.speaker is None, -q.unit.score))
    distinct = []
    for q in found:
        twin = next((c for c in distinct if c.unit.source != q.unit.source and c.unit.episode == q.unit.episode
                     and float(c.unit.vector @ q.unit.vector) >= 0.75), None)
        if twin is None:
            distinct.append(q)
        elif all(t.source != q.unit.source for t in twin.unit.twins):
            twin.unit.twins.append(q.unit)
    speakers: set[str | None] = set()
    first, rest = [], []
    for q in distinct:
        (rest if q.speaker in speakers else first).append(q)
        speakers.add(q.speaker)
    chosen = (first + rest)[:limit]
    return sorted(chosen, key=lambda q: (q.unit.episode or 0, -q.unit.score))


def _disagreements(scope: Scope, plan: Plan, topic: str | None, embedder) -> list[tuple[Found[Unit], int | None]]:
    """Figures the sources disagree on, looked for within each episode only (rag.answer.conflicts)."""
    prefer = set(analyse(topic).terms) if topic else set()
    vectors = {u.text: u.vector for u in plan.kept}

    def embed(texts: list[str]) -> np.ndarray:  # the units' own vectors: nothing is embedded again
        return np.stack([vectors[t] for t in texts])

    out = []
    for episode in sorted({u.episode for u in plan.kept}, key=lambda e: e or 0):
        members = sorted((u for u in plan.kept if u.episode == episode), key=lambda u: -u.score)
        out += [(found, episode) for found in find_disagreements(members, embedder, prefer=prefer, vectors=embed)]
    return out


def _point(u: Unit, book: BriefCitations) -> BriefPoint:
    return BriefPoint(text=u.text, citations=book.cite_units([u]), episode=u.episode, support=round(u.score, 3))


def _event(event, book: BriefCitations) -> BriefEvent:
    lead = event.lead
    return BriefEvent(date=event.date.start, end=event.date.end, precision=event.date.precision,
                      when=event.date.label(), text=lead.text, citations=book.cite_units(event.units),
                      dating=event.dating, episode=lead.episode, expression=event.expression,
                      relative_to=event.date.relative_to)


def _quote(q, book: BriefCitations) -> BriefQuote:
    return BriefQuote(speaker=q.speaker, words=q.words, citations=book.cite_units([q.unit, *q.attribution]),
                      episode=q.unit.episode)


def _disagreement(found: tuple[Found[Unit], int | None], book: BriefCitations) -> Disagreement:
    disagreement, episode = found
    return disagreement.to_disagreement(book.cite_units, episode)


def finish(briefing: Briefing, book: BriefCitations, store: Store, scope: Scope, plan: Plan) -> None:
    """Citations, sources and the final verbatim check: anything citing a bad quote is dropped."""
    bad = unverified(book.citations, store.docs)
    if bad:
        briefing.notes.append(f"dropped content citing {len(bad)} quote(s) not found verbatim at their lines")
        for name in ("summary", "key_facts", "timeline", "quotes"):
            setattr(briefing, name, [p for p in getattr(briefing, name) if not set(p.citations) & bad])
    briefing.citations = book.citations
    episode_of = {s: e.n for e in plan.episodes for s in e.sources}
    briefing.sources = source_list(book.citations, {s: a for s, a in scope.articles.items() if s in episode_of},
                                   episode_of, plan.copies)
