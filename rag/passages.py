"""Which of an article's chunks stands for it in the hits (issue 14 round 5).

The ranking orders articles well, but the chunk it shows for an article is its best-ranked one,
and that chunk may match the question's common words while another chunk of the article holds
its rarer ones, near the answer. So once the hits are chosen (articles and their order fixed by
ranking, cap and MMR), each article's hits are handed to its candidate chunks covering the most of
the question's rare terms (the sum of the idf of the distinct query terms a chunk holds); the
ranking's own choice counts (1 + margin) times, so another chunk takes its place only when it
covers clearly more. A hit keeps its rank, score and folded copies (syndicated copies of its
article), so Hits@k and MRR do not change; only the text shown does.

Round 6: an article's lead (its first chunk) competes too, whether or not it was a candidate, and
its coverage counts (1 + lead bonus) times. News is written as an inverted pyramid: the lead states
who, what, where and when, so the thing a question asks for is there more often than in a later
chunk that repeats more of the question's words (on the tune half, in 6 of the 7 questions whose
gold article was in the first five with the answer only in another of its chunks, the lead held it).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

Chosen = tuple[str, float, list[str]]  # (chunk id, score, sources of folded copies)


def coverage(terms: str, idf: dict[str, float]) -> float:
    """The summed idf of the distinct query terms (`idf`'s keys) among a chunk's terms."""
    present = set(terms.split())
    return sum(weight for term, weight in idf.items() if term in present)


def by_coverage(chosen: Sequence[Chosen], alternatives: Sequence[str], article_of: dict[str, str],
                covered: dict[str, float], margin: float = 0.0, leads: Collection[str] = (),
                lead_bonus: float = 0.0) -> list[Chosen]:
    """`chosen` with each article's hits given to its best-covering chunks: its chosen ones and its
    `alternatives` (best first by the ranking), by coverage (`covered`; a chosen chunk's times
    1 + `margin`, an article's lead's, among `leads`, times 1 + `lead_bonus`), then in that order.
    A hit whose chunk has no article keeps it."""
    taken = {i for i, _, _ in chosen}
    order = [*(i for i, _, _ in chosen), *(i for i in dict.fromkeys(alternatives) if i not in taken)]
    place = {i: n for n, i in enumerate(order)}
    contenders: dict[str, list[str]] = {}
    for chunk_id in order:
        if chunk_id in article_of:
            contenders.setdefault(article_of[chunk_id], []).append(chunk_id)
    bonus = {i: 1.0 + margin for i in taken}
    for i in leads:
        bonus[i] = bonus.get(i, 1.0) * (1.0 + lead_bonus)
    key = lambda i: (-covered.get(i, 0.0) * bonus.get(i, 1.0), place[i])
    best = {a: iter(sorted(ids, key=key)) for a, ids in contenders.items()}
    return [(next(best[article_of[i]]) if i in article_of else i, score, copies) for i, score, copies in chosen]
