"""The dense product split over two threads gives exactly one product's numbers."""

import threading

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from rag.index import product
from rag.index.product import SPLIT_ROWS, row_scores


@pytest.fixture(scope="module")
def rows(tmp_path_factory):
    rng = np.random.default_rng(7)
    matrix = rng.standard_normal((3 * SPLIT_ROWS + 5, 384)).astype(np.float32)
    path = tmp_path_factory.mktemp("product") / "vectors.f32"
    matrix.tofile(path)
    mapped = np.memmap(path, dtype=np.float32, mode="r", shape=matrix.shape)
    return mapped, rng.standard_normal(384).astype(np.float32)


def test_the_split_product_is_bit_identical_to_one_product(rows):
    matrix, query = rows
    # As the search runs it: on one BLAS thread (forced here: one_blas_thread trusts
    # OPENBLAS_NUM_THREADS, which an earlier test's import of rag.cli sets after numpy loaded).
    with threadpool_limits(limits=1, user_api="blas"):
        for part in (matrix, matrix[:SPLIT_ROWS], matrix[7:SPLIT_ROWS * 2 + 1], matrix[:SPLIT_ROWS - 1]):
            assert np.array_equal(row_scores(part, query), np.asarray(part) @ query)


def test_a_search_that_finds_the_helper_taken_computes_alone(rows, monkeypatch):
    matrix, query = rows

    def no_hand_off(*args, **kwargs):
        raise AssertionError("handed to the helper while it was taken")

    monkeypatch.setattr(product._helper, "submit", no_hand_off)
    with product._helper_free, threadpool_limits(limits=1, user_api="blas"):
        assert np.array_equal(row_scores(matrix, query), np.asarray(matrix) @ query)


def test_concurrent_searches_each_get_their_own_scores(rows):
    matrix, _ = rows
    queries = np.random.default_rng(8).standard_normal((6, 384)).astype(np.float32)
    expected = [np.asarray(matrix) @ q for q in queries]
    results: dict[int, list[bool]] = {i: [] for i in range(len(queries))}

    def search(i: int) -> None:
        for _ in range(5):
            # Close, not equal: threads leaving a BLAS thread limit restore the BLAS thread count
            # under the others. Another search's numbers (or a half left unwritten) are far off.
            results[i].append(np.allclose(row_scores(matrix, queries[i]), expected[i], rtol=1e-5, atol=1e-4))

    threads = [threading.Thread(target=search, args=(i,)) for i in range(len(queries))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(len(r) == 5 and all(r) for r in results.values())
