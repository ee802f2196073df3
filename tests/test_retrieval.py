"""Fusion, near-duplicate folding and MMR, on small hand-made inputs."""

import numpy as np
import pytest

from rag.errors import InputError
from rag.models import Chunk
from rag.retrieval import check_query, diversify


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


@pytest.mark.parametrize("query, message", [("", "empty"), ("?!?", "no words"), ("x" * 3000, "limit")])
def test_bad_queries_get_clear_errors(query, message):
    with pytest.raises(InputError, match=message):
        check_query(query)
