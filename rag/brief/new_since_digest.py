"""What each new article adds: the digest of a `rag brief TOPIC --new-since DATE|BRIEFING.json`
briefing (extractive engine).

"What is new since DATE on TOPIC" is answered article by article. Above the digest the briefing
keeps its ordinary sections over the new statements (summary, key facts, timeline, quotes: the
overview); below it, every new article on the topic that states something new beyond the overview
gets an entry (its title, date and outlet) with its own new statements on the topic, in the order
the article tells them (news puts what matters first, and a reader can follow each article's
account), up to a share of them (`SHARE`: 40%, at least one; when a story has so many new
articles that the digest would pass `DIGEST_MAX` statements, every article's share is lowered
alike, to the largest share that keeps the digest within the bound, so that each new article
still says something). A statement another new
article already gave in the digest is not repeated: it becomes a citation of the first one
(the same statement in another source), or is skipped when it is a near-repeat (the briefing's
own redundancy test, rag.brief.select.pick). Articles come oldest first, so a statement is
credited to the article that first reported it and the digest reads as the story moved on.

Why per article and not one cap over all new sentences (rounds 4-6): the new facts a reader
looks for sit in the middle of the candidates by every ranking signal tried (news value,
centrality, lead, relevance, novelty, corroboration: BENCHMARKS.md round 6), so one global cap
decides recall by where it falls, and a long article's details crowd out a short article's.
A share of each article bounds the digest by how much new material there is and gives every new
article its voice. Which articles are on the topic is decided before the digest (new_since.py:
a sentence must reach the on-topic bar, unless its article is about the topic), so a round-up
contributes its paragraph on the story and nothing of its other stories, and an article far off
the topic contributes nothing.

The entry's `found` says how many new statements the article has beyond the overview, so the
briefing is honest about what the share left out. The note's totals (`Reach`) are counted over every
article offered to the digest, before any is dropped: an article whose statements were all said by
earlier new articles, or (new_since._drop_old, later) by the earlier material, has no entry, but its
statements still count as found and left out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rag.brief.scope import Unit
from rag.brief.select import pick
from rag.models import Briefing, BriefPoint, BriefSource, Citation, NewArticle

# Share and bound set the digest's length, and length is what decides recall: on the tune files
# the missed new facts are mostly statements past their article's share (31 of 45, round 8), they
# sit anywhere in their article, and no order within an article (names and numbers first, quotes,
# semantic novelty, every third, each chunk's own share) nor allocation across articles (equal,
# square root, log) found more at the same length (bench/new_since-notes.md). Round 8 chose the
# shortest pair that reaches 0.80 of the pooled tune facts: a third and 60 (round 7, a priori)
# found 119 of 164 at 57.6 items a briefing, 40% and 70 find 133 at 63.6.
SHARE = 0.4  # of each new article's new statements on the topic shown
# statements the digest shows at most, about 1,800 words: a story with many new articles lowers
# every article's share alike, each keeping at least one, rather than dropping articles
DIGEST_MAX = 70


@dataclass(frozen=True)
class Reach:
    """How far the digest went: the new articles on the topic, the share of each one's new
    statements it gave (SHARE, or less when DIGEST_MAX lowered it), and what it was offered: the new
    statements beyond the overview (`found`) and the articles they come from (`offered`), counted
    before any article is dropped for having nothing left to show."""

    articles: int
    share: float
    found: int
    offered: int


def digest(briefing: Briefing, candidates: list[Unit], taken: list[Unit], share: float = SHARE,
           most: int = DIGEST_MAX, articles: int | None = None) -> tuple[list[Unit], Reach]:
    """Fill `briefing.new_articles` from the new statements on the topic the briefing does not yet
    say (`candidates`); `taken`: the units it says already (for the redundancy test); `articles`:
    the new articles on the topic (default: those among the candidates). Returns the units shown,
    in digest order, and how far the digest went."""
    by_article: dict[str, list[Unit]] = {}
    for u in candidates:
        by_article.setdefault(u.source, []).append(u)
    share = _within(share, most, [len(mine) for mine in by_article.values()])
    shown: list[Unit] = []
    entries: list[tuple[NewArticle, list[Unit]]] = []
    for source in sorted(by_article, key=lambda s: _oldest_first(by_article[s][0])):
        mine = sorted(by_article[source], key=lambda u: (u.position, u.sentence.char_start))
        limit = article_share(share, len(mine))
        chosen: list[Unit] = []
        for u in mine:
            if len(chosen) >= limit:
                break
            chosen += pick([u], 1, taken + shown + chosen)  # twins become citations, near-repeats are skipped
        shown += chosen
        first = mine[0]
        entries.append((NewArticle(source=source, title=first.article.title or first.chunk.title,
                                   date=first.article.date or first.chunk.date,
                                   outlet=first.article.outlet or first.chunk.outlet, found=len(mine)), chosen))
    for entry, chosen in entries:  # citations last: a later article's twin is cited on the first point
        entry.points = [BriefPoint(text=u.text, citations=list(dict.fromkeys(
            cite_sentence(briefing, x.chunk, x.sentence) for x in [u, *u.twins])), episode=u.episode,
            support=round(u.score, 3)) for u in chosen]
    briefing.new_articles = [entry for entry, chosen in entries if chosen]
    listed = {s.source for s in briefing.sources}
    # an article of an episode the overview left out (less relevant as a whole) still has its say
    # here when its sentences are on the topic: it is listed among the sources too
    briefing.sources += [BriefSource(source=a.source, title=a.title, outlet=a.outlet, date=a.date)
                         for a in briefing.new_articles if a.source not in listed]
    reach = Reach(articles=len(by_article) if articles is None else articles, share=share,
                  found=len(candidates), offered=len(by_article))
    return shown, reach


def article_share(share: float, n: int) -> int:
    """How many of an article's `n` new statements `share` shows (at least one)."""
    return max(1, math.ceil(share * n - 1e-9))


def _within(share: float, most: int, sizes: list[int]) -> float:
    """`share`, or the largest share under it whose statements (each article at least one) stay
    within `most` (more than `most` only when the articles alone are more)."""
    total = lambda s: sum(article_share(s, n) for n in sizes)
    if total(share) <= most:
        return share
    low, high = 0.0, share
    for _ in range(40):
        middle = (low + high) / 2
        low, high = (middle, high) if total(middle) <= most else (low, middle)
    return low


def _oldest_first(u: Unit) -> tuple:
    date = u.article.date or u.chunk.date
    return (date is None, date.toordinal() if date else 0, u.source)


def digest_note(briefing: Briefing, reach: Reach) -> str:
    """What the digest holds and what it left out, in numbers: `reach` counts what it was offered,
    `briefing` what it shows now (after any later drop)."""
    found = reach.found
    shown = sum(len(a.points) for a in briefing.new_articles)
    listed = len(briefing.new_articles)
    listed_note = f" ({listed} listed below)" if listed != reach.offered else ""
    bound = (f"; so many that the {DIGEST_MAX}-statement bound lowered every article's share from {SHARE:.0%}"
             if reach.share < SHARE - 1e-9 else "")
    return (f"what each new article adds: {reach.articles} new article(s) on the topic, "
            f"{reach.offered} with new statements beyond the sections above{listed_note}; {found} such statement(s), "
            f"{shown} shown (up to {reach.share:.0%} of each article's, at least one, in its own order{bound}), "
            f"{found - shown} left out (said by an earlier new article, beyond its article's share, or stated by "
            "the earlier material)")


def cite_sentence(briefing: Briefing, chunk, sentence) -> int:
    """The number of the briefing's citation of `sentence` (added when it has none)."""
    for c in briefing.citations:
        if c.source == chunk.source and c.char_start == sentence.char_start and c.char_end == sentence.char_end:
            return c.n
    n = max((c.n for c in briefing.citations), default=0) + 1
    briefing.citations.append(Citation(n=n, source=chunk.source, line_start=sentence.line_start,
                                       line_end=sentence.line_end, quote=sentence.text, char_start=sentence.char_start,
                                       char_end=sentence.char_end, title=chunk.title, date=chunk.date,
                                       outlet=chunk.outlet))
    return n
