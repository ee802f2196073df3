"""Issue 14's faster search reads (behaviour unchanged): the vector file's id lookup done in one
vectorised comparison gives what the per-row loop gave, and metadata read once per snapshot is
read afresh after this connection writes. Invented ids and vectors; hash embedder."""

from __future__ import annotations

import numpy as np

from rag.index.docstore import DocStore
from rag.index.vectorfile import ID_BYTES, FileState, VectorFile, append


def _rows_of_one_by_one(file: VectorFile, ids: list[str]) -> dict[str, int]:
    """The lookup as it was: each id's candidate rows compared one mapped row at a time."""
    out = {}
    for chunk_id in ids:
        encoded = chunk_id.encode("ascii")
        rows = [r for r in range(file.rows) if file.ids[r] == encoded]
        if rows:
            out[chunk_id] = rows[-1]
    return out


def test_rows_of_equals_the_row_by_row_lookup(tmp_path):
    # ids sharing their first 8 bytes (one key range holds several), an id appended twice (its last
    # row counts), and ids the file lacks, one longer than a row holds.
    ids = [x.ljust(ID_BYTES, "0") for x in ("aaaaaaaa1", "aaaaaaaa2", "bbbbbbbb", "aaaaaaaa1", "c", "aaaaaaaa")]
    vectors = np.eye(len(ids), 4, dtype=np.float32)
    state = append(tmp_path, FileState("t~1", 0, 4), ids, vectors, [None] * len(ids), ["s"] * len(ids))
    file = VectorFile(tmp_path, state)
    asked = [ids[0], ids[4], "zzzz", ids[0][:-1], ids[2] + "X", ids[2], ids[5], ids[4], ids[1], "aaaaaaaa"]
    found = file.rows_of(asked)
    assert list(found.items()) == list(_rows_of_one_by_one(file, asked).items())
    assert found[ids[0]] == 3 and len(found) == 5 and "zzzz" not in found
    assert file.rows_of([]) == {}


def test_meta_read_once_per_snapshot_until_this_connection_writes(tmp_path):
    docs = DocStore(tmp_path / "rag.db")
    docs.set_meta({"generation": 1, "k": {"a": 1}})
    with docs.snapshot():
        assert docs.meta("generation") == 1
        value = docs.meta("k")
        value["a"] = 2  # a caller's change never reaches the next reader
        assert docs.meta("k") == {"a": 1}
        assert docs.meta("missing", "default") == "default"
        docs.db.execute("UPDATE meta SET value = '2' WHERE key = 'generation'")  # this connection wrote
        assert docs.meta("generation") == 2  # read afresh
    assert docs.meta("generation") == 1  # the snapshot's write rolled back
    docs.close()


def test_meta_key_is_read_from_sqlite_once_within_a_snapshot(tmp_path):
    docs = DocStore(tmp_path / "rag.db")
    docs.set_meta({"generation": 1})
    reads = []
    with docs.snapshot():
        docs.db.set_trace_callback(lambda sql: reads.append(sql) if "FROM meta" in sql else None)
        for _ in range(3):
            assert docs.meta("generation") == 1
        docs.db.set_trace_callback(None)
    assert len(reads) == 1
    docs.close()
