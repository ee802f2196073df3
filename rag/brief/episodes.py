"""Grouping the articles of a briefing into episodes, so separate events are never merged.

Two articles are *linked* when they report the same statements: at least `min_links` pairs of
their sentences say the same thing (rag.text.sameness.SAME_STATEMENT: MiniLM cosine >= 0.6 AND at
least half of the shorter sentence's content words in the other). Same-topic articles about different events share
themes, not statements: on corpus/ the March 2020 Taji article shares at most one such pair
with any December 2020 article, while the December articles share 2 to 13 pairs with each other.
Whole-article similarity cannot tell them apart (MiniLM 0.73-0.93 for every pair).

1. Dated articles: linked articles whose publication dates are at most `episode_days` apart
   form an episode (connected components). Dates further apart never join, whatever the text.
   Articles on one running story join too: published at most STORY_DAYS (3) apart, with
   in-scope sentences whose mean vectors have cosine >= STORY_COSINE (0.7). Daily digests and
   live updates paraphrase each other, so they share few statements word for word. On benchmark
   topics that are not eval cases (Uvalde, Roe v. Wade, monkeypox, the heat wave, Webb, Jan. 6,
   Musk-Twitter, Kentucky floods, Supreme Court rulings, extreme weather), same-story pairs within
   three days scored 0.45-0.91 (most above 0.7); different events 0.18-0.68 (Roe v. Wade against
   the New York gun ruling a day apart 0.60; the UK heat wave against China's 0.66).
2. An undated article joins the episode it has the most links with (at least `min_links`), and
   the reason is recorded in `Episode.placed_by`. An undated article linked to no episode
   starts its own, with other undated articles it is linked to; its date stays unknown.
"""

from __future__ import annotations

import datetime as dt
from itertools import combinations

import numpy as np

from rag.brief.scope import Unit
from rag.models import Article, Episode
from rag.text.sameness import SAME_STATEMENT, same_statement

STORY_DAYS = 3
STORY_COSINE = 0.7


def links(units: list[Unit]) -> dict[tuple[str, str], int]:
    """(source, source) → number of sentence pairs that state the same thing."""
    if not units:
        return {}
    matrix = np.stack([u.vector for u in units])
    similarity = matrix @ matrix.T
    out: dict[tuple[str, str], int] = {}
    for i, j in zip(*np.nonzero(np.triu(similarity >= SAME_STATEMENT.cosine, k=1))):
        a, b = units[i], units[j]
        if a.source != b.source and same_statement(a.terms, b.terms, SAME_STATEMENT, float(similarity[i, j])):
            key = tuple(sorted((a.source, b.source)))
            out[key] = out.get(key, 0) + 1
    return out


def centroids(units: list[Unit]) -> dict[str, np.ndarray]:
    """source → the normalised mean vector of its sentences in scope: what it says on the topic."""
    by_source: dict[str, list[np.ndarray]] = {}
    for u in units:
        by_source.setdefault(u.source, []).append(u.vector)
    out = {}
    for source, vectors in by_source.items():
        mean = np.mean(vectors, axis=0)
        out[source] = mean / (np.linalg.norm(mean) or 1.0)
    return out


def same_story(a: Article, b: Article, cosine: float) -> bool:
    """Daily coverage of one running story (live updates, digests, explainers): published at
    most STORY_DAYS apart and saying much the same on the topic, though in other words."""
    return bool(a.date and b.date) and abs((a.date - b.date).days) <= STORY_DAYS and cosine >= STORY_COSINE


def find_episodes(units: list[Unit], articles: dict[str, Article], episode_days: int, min_links: int) -> list[Episode]:
    pairs = links(units)
    centre = centroids(units)

    def linked(a: str, b: str) -> int:
        return pairs.get(tuple(sorted((a, b))), 0)

    def story(a: str, b: str) -> bool:
        return a in centre and b in centre and same_story(articles[a], articles[b], float(centre[a] @ centre[b]))

    sources = list(articles)
    dated = [s for s in sources if articles[s].date]
    undated = [s for s in sources if not articles[s].date]
    groups = _components(dated, lambda a, b: (linked(a, b) >= min_links and
                                              abs((articles[a].date - articles[b].date).days) <= episode_days)
                         or story(a, b))
    placed: dict[int, list[str]] = {}
    loose: list[str] = []
    for source in undated:
        scores = [sum(linked(source, member) for member in group) for group in groups]
        best = int(np.argmax(scores)) if scores else -1
        if best >= 0 and scores[best] >= min_links:
            groups[best].append(source)
            placed.setdefault(best, []).append(
                f"{source} has no publication date; placed by content: {scores[best]} statements shared "
                f"with {', '.join(m for m in groups[best] if articles[m].date and linked(source, m))}")
        else:
            loose.append(source)
    extra = _components(loose, lambda a, b: linked(a, b) >= min_links)
    episodes = [_episode(g, articles, placed.get(i, [])) for i, g in enumerate(groups)]
    episodes += [_episode(g, articles, [_unplaced(g, linked, sources)]) for g in extra]
    return _numbered(episodes, units)


def _unplaced(group: list[str], linked, sources: list[str]) -> str:
    best = max((linked(s, o) for s in group for o in sources if o not in group), default=0)
    names = ", ".join(group)
    return (f"{names}: no publication date, and {'no statement' if best == 0 else f'at most {best} statement(s)'} "
            f"shared with any other article: a separate episode whose date is unknown")


def _components(items: list[str], joined) -> list[list[str]]:
    parent = {s: s for s in items}

    def root(s: str) -> str:
        while parent[s] != s:
            s = parent[s]
        return s

    for a, b in combinations(items, 2):
        if joined(a, b):
            parent[root(b)] = root(a)
    groups: dict[str, list[str]] = {}
    for s in items:
        groups.setdefault(root(s), []).append(s)
    return list(groups.values())


def _episode(group: list[str], articles: dict[str, Article], placed_by: list[str]) -> Episode:
    dates = [articles[s].date for s in group if articles[s].date]
    return Episode(n=0, label="", start=min(dates) if dates else None, end=max(dates) if dates else None,
                   sources=sorted(group), placed_by=placed_by)


def _numbered(episodes: list[Episode], units: list[Unit]) -> list[Episode]:
    """Chronological numbering (undated last); each unit learns its episode; the label is the
    title of the article with the most central sentences."""
    episodes.sort(key=lambda e: (e.start is None, e.start or dt.date.max, e.sources))
    by_source = {}
    for n, episode in enumerate(episodes, start=1):
        episode.n = n
        for s in episode.sources:
            by_source[s] = n
    for u in units:
        u.episode = by_source.get(u.source)
    return episodes


def label_episodes(episodes: list[Episode], units: list[Unit], articles: dict[str, Article]) -> None:
    for episode in episodes:
        weight = {s: sum(u.centrality for u in units if u.source == s) for s in episode.sources}
        lead = max(episode.sources, key=lambda s: (weight[s], bool(articles[s].title), s))
        title = articles[lead].title or lead
        episode.label = title if len(title) <= 120 else title[:119].rstrip() + "…"
