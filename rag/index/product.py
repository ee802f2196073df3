"""The dense search's one big product (every row's dot with the query), split over two threads.

The product reads the whole memory-mapped vector file and is bound by memory bandwidth, which
one core does not use up: two halves at once took a 37,910-row file from 8.3 to 5.6 ms (p95 11.7
to 7.3) quiet, and from 15.7 to 10.9 ms with both cores busy. OpenBLAS's own second thread gave
as much quiet, but it spin-waits, and on a busy machine it made the product 13x slower; a Python
thread waiting on a future does not spin, and numpy releases the GIL for the whole BLAS call.

One helper thread per process. A search that finds it taken (another thread's search is using
it) computes both halves itself, as before: it never queues behind another search.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

# Below this the hand-off is not worth it (measured quiet: 1,024 rows 0.03 ms in one product,
# 0.07 split; 4,096 rows 0.30 against 0.25; 16,384 rows 1.9 against 0.9).
SPLIT_ROWS = 4_096
# BLAS computes the rows past the last whole block of a product by another path, whose sums can
# differ in the last bit; a split at a multiple of every kernel's block keeps each row's dot.
ALIGN = 256

_helper = ThreadPoolExecutor(1, thread_name_prefix="rag-product")
_helper_free = threading.Lock()


def row_scores(matrix: np.ndarray, query: np.ndarray) -> np.ndarray:
    """matrix @ query, bit for bit the numbers of one single-threaded product (tested)."""
    rows = len(matrix)
    if rows < SPLIT_ROWS or not _helper_free.acquire(blocking=False):
        return np.asarray(matrix @ query)
    try:
        out = np.empty(rows, dtype=np.result_type(matrix.dtype, query.dtype))
        half = rows // 2 // ALIGN * ALIGN
        second = _helper.submit(np.matmul, matrix[half:], query, out=out[half:])
        np.matmul(matrix[:half], query, out=out[:half])
        second.result()
        return out
    finally:
        _helper_free.release()
