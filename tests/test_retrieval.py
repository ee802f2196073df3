"""Near-duplicate folding, the per-article cap and MMR, on small hand-made inputs."""

import numpy as np
import pytest

from rag.errors import InputError
from rag.models import Chunk
from rag.retrieval import ArticleCap, check_query, diversify, unfolded


def chunk(i, source):
    return Chunk(id=i, source=source, ordinal=0, text="t", sentences=[], tokens=1,
                 char_start=0, char_end=1, line_start=1, line_end=1)


def test_syndicated_copies_fold_into_the_best_hit():
    vectors = {"a": np.array([1, 0, 0.0]), "b": np.array([0.999, 0.0447, 0]), "c": np.array([0, 1, 0.0])}
    vectors = {k: v / np.linalg.norm(v) for k, v in vectors.items()}
    chunks = {"a": chunk("a", "x.txt"), "b": chunk("b", "y.txt"), "c": chunk("c", "z.txt")}
    chosen = diversify([("a", 3), ("b", 2), ("c", 1)], vectors, k=3, mmr_lambda=0.7, near_duplicate=0.95, chunks=chunks)
    assert [(i, dups) for i, _, dups in chosen] == [("a", ["y.txt"]), ("c", [])]


def test_mmr_prefers_a_different_article_over_a_near_copy_of_the_first():
    base = np.array([1, 0, 0.0])
    vectors = {"a": base, "a2": np.array([0.9, 0.43, 0]), "b": np.array([0.5, 0, 0.866])}
    vectors = {k: v / np.linalg.norm(v) for k, v in vectors.items()}
    chunks = {"a": chunk("a", "x.txt"), "a2": chunk("a2", "x.txt"), "b": chunk("b", "y.txt")}
    chosen = diversify([("a", 1.0), ("a2", 0.95), ("b", 0.9)], vectors, k=2, mmr_lambda=0.5, near_duplicate=0.99,
                       chunks=chunks)
    assert [i for i, _, _ in chosen] == ["a", "b"]


def spread(n: int) -> dict[str, np.ndarray]:
    """n orthogonal unit vectors named c0..c(n-1): no two chunks are redundant, so only relevance
    and the cap decide."""
    return {f"c{j}": np.eye(n)[j] for j in range(n)}


def test_the_article_cap_lets_other_articles_into_the_first_hits_in_order():
    # A's four chunks rank first; B and C follow.
    sources = ["A", "A", "A", "A", "B", "C"]
    chunks = {f"c{j}": chunk(f"c{j}", s) for j, s in enumerate(sources)}
    candidates = [(f"c{j}", 1.0 - j / 10) for j in range(6)]
    free = diversify(candidates, spread(6), k=5, mmr_lambda=1.0, near_duplicate=0.99, chunks=chunks)
    assert [i for i, _, _ in free] == ["c0", "c1", "c2", "c3", "c4"]
    capped = diversify(candidates, spread(6), k=6, mmr_lambda=1.0, near_duplicate=0.99, chunks=chunks,
                       cap=ArticleCap(per_article=2, window=4))
    # Within the window A has two hits, then B and C; after it A's chunks return in their order.
    assert [i for i, _, _ in capped] == ["c0", "c1", "c4", "c5", "c2", "c3"]


def test_the_article_cap_fills_from_the_capped_article_when_no_other_remains():
    chunks = {f"c{j}": chunk(f"c{j}", s) for j, s in enumerate(["A", "A", "A", "B"])}
    candidates = [(f"c{j}", 1.0 - j / 10) for j in range(4)]
    capped = diversify(candidates, spread(4), k=4, mmr_lambda=1.0, near_duplicate=0.99, chunks=chunks,
                       cap=ArticleCap(per_article=1, window=4))
    assert [i for i, _, _ in capped] == ["c0", "c3", "c1", "c2"]


def test_a_longer_search_begins_with_the_shorter_ones_hits():
    chunks = {f"c{j}": chunk(f"c{j}", s) for j, s in enumerate(["A", "A", "A", "B", "A", "C", "B", "C"])}
    candidates = [(f"c{j}", 1.0 - j / 10) for j in range(8)]
    cap = ArticleCap(per_article=2, window=5)
    runs = [[i for i, _, _ in diversify(candidates, spread(8), k=k, mmr_lambda=0.8, near_duplicate=0.99,
                                        chunks=chunks, cap=cap)] for k in (3, 5, 8)]
    assert runs[1][:3] == runs[0] and runs[2][:5] == runs[1]


@pytest.mark.parametrize("query, message", [("", "empty"), ("?!?", "no words"), ("x" * 3000, "limit")])
def test_bad_queries_get_clear_errors(query, message):
    with pytest.raises(InputError, match=message):
        check_query(query)


def test_a_syndicated_copy_of_another_articles_hit_never_stands_for_its_own_article():
    vectors = {"a1": np.array([1, 0, 0.0]), "b1": np.array([0, 1, 0.0]), "b2": np.array([1, 0, 0.0]),
               "a2": np.array([1, 0, 0.0])}
    chunks = {i: chunk(i, f"{i[0]}.txt") for i in vectors}
    chosen = [("a1", 1.0, ["b.txt"]), ("b1", 0.9, [])]
    # b2 was folded into a1 (another article's near-copy); a2 is a1's own near-copy: it may stand in
    got = unfolded(["a1", "b1", "b2", "a2"], chosen, vectors, {i: c.source for i, c in chunks.items()},
                   near_duplicate=0.95)
    assert got == ["a1", "b1", "a2"]
