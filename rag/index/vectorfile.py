"""A plain copy of the committed vectors beside Chroma, read by the query path.

Chroma stays the store of record (its HNSW index answers the unfiltered search of a large
store), but importing chromadb costs a cold `rag ask` most of a second, and its filtered
search reads far more than the vectors that pass. So every commit also appends the new
chunks' vectors to three flat files under `vectors/<name>/`:

- `vectors.f32`: one float32 row per chunk (L2-normalised: a dot product is the cosine),
- `ids`: the chunk's id, 20 ASCII bytes per row,
- `days.i32`: the chunk's day number (NO_DAY when undated), for date filters in numpy,
- `sources.i32`: the number of the chunk's source, a line of `sources` (JSON strings, one per
  source, appended as new sources come), for source filters in numpy.

They are memory-mapped, and a search ranks a few hundred thousand rows exactly with numpy.

Crash safety: the files are append-only. Rows are appended (and fsynced) before the docstore
commit, which records how many rows (and bytes of `sources`) are valid (`vector_file` in its
meta); a reader maps only those, and the next writer first cuts off whatever an interrupted
append left beyond them. A
row whose id is no longer a committed chunk (a replaced or removed article) stays in the file
until a compaction rewrites it, so readers keep only committed ids, fetching one more row per
dead one, exactly as they treat Chroma's leftovers.
"""

from __future__ import annotations

import json
import os
import shutil
from bisect import bisect_left
from dataclasses import asdict, dataclass, replace
from functools import cached_property
from pathlib import Path

import numpy as np

from rag.index.embedders import one_blas_thread
from rag.index.product import row_scores
from rag.index.scope import Scope

VECTOR_DIR = "vectors"
ID_BYTES = 20
NO_DAY = np.iinfo(np.int32).min
_FILES = {"vectors.f32": None, "ids": ID_BYTES, "days.i32": 4, "sources.i32": 4}  # bytes per row (None: 4 × dim)
NAMES = "sources"


@dataclass(frozen=True)
class FileState:
    """What the docstore records of the vector file in each commit."""

    name: str
    rows: int
    dim: int
    names_bytes: int = 0  # of the `sources` file
    # The watermark: rows before it are in Chroma too; rows from it on (the tail) are only here,
    # and searches rank them exactly (rag.index.tail). A store written before the watermark
    # existed had every row in Chroma: its state reads as flushed to the end.
    flushed: int = 0
    # Where each Chroma shard after the first begins, as rows of this file (rag.index.tail): shard
    # k (k >= 1) holds the flushed rows from shards[k - 1] on. A store from before shards has one.
    shards: tuple[int, ...] = ()

    def as_meta(self) -> dict:
        return {**asdict(self), "shards": list(self.shards)}

    @classmethod
    def from_meta(cls, value: dict | None) -> FileState | None:
        try:
            return cls(str(value["name"]), int(value["rows"]), int(value["dim"]), int(value["names_bytes"]),
                       int(value.get("flushed", value["rows"])),
                       tuple(int(s) for s in value.get("shards", ()))) if value else None
        except (KeyError, TypeError, ValueError):
            return None

    @property
    def tail(self) -> int:
        """Rows not yet in Chroma."""
        return self.rows - self.flushed


def _width(name: str, dim: int) -> int:
    return _FILES[name] or 4 * dim


class VectorFile:
    """The first `state.rows` rows of the files, memory-mapped (read-only)."""

    def __init__(self, root: Path, state: FileState):
        self.path = root / state.name
        self.state = state
        self.rows = state.rows
        for name in _FILES:
            size = (self.path / name).stat().st_size  # FileNotFoundError when missing
            if size < state.rows * _width(name, state.dim):
                raise ValueError(f"{self.path / name} holds fewer than the {state.rows} rows committed")
        self.matrix = self._map("vectors.f32", np.float32, (state.rows, state.dim))
        self.ids = self._map("ids", f"S{ID_BYTES}", (state.rows,))
        self.days = self._map("days.i32", np.int32, (state.rows,))
        self.sources = self._map("sources.i32", np.int32, (state.rows,))
        if (self.path / NAMES).stat().st_size < state.names_bytes:
            raise ValueError(f"{self.path / NAMES} is shorter than committed")

    def _map(self, name: str, dtype, shape: tuple) -> np.ndarray:
        if not self.rows:
            return np.zeros(shape, dtype=dtype)
        return np.memmap(self.path / name, dtype=dtype, mode="r", shape=shape)

    @cached_property
    def row_of(self) -> dict[str, int]:
        """id → its (last) row; built once per opened file, for scopes named by chunk ids."""
        return {chunk_id.decode(): row for row, chunk_id in enumerate(self.ids.tolist())}

    @cached_property
    def number_of(self) -> dict[str, int]:
        """source → its number (the line of `sources` that names it)."""
        return read_names(self.path, self.state.names_bytes)

    @cached_property
    def _by_name(self) -> tuple[list[str], np.ndarray]:
        """The sources in name order, and their numbers."""
        names = sorted(self.number_of)
        return names, np.array([self.number_of[s] for s in names], dtype=np.int64)

    def _named_between(self, low: str, high: str) -> np.ndarray:
        """The numbers of the sources s with low <= s < high (two bisections of the sorted names)."""
        names, numbers = self._by_name
        return numbers[bisect_left(names, low):bisect_left(names, high)]

    def _source_or_file(self, name: str) -> np.ndarray:
        """The numbers of the source `name` and, when it can be a file name, of its records ("name#...")."""
        exact = [self.number_of[name]] if name in self.number_of else []
        records = self._named_between(name + "#", name + "$") if "#" not in name else np.zeros(0, np.int64)
        return np.union1d(exact, records).astype(np.int64)

    def numbers_in(self, scope: Scope) -> np.ndarray:
        """The numbers of the sources a scope's source part admits (its days aside), with the
        docstore's meaning of each condition (docstore._scope_sql), found as ranges of the sorted
        names rather than by reading every admitted document: on 24,000 sources, a directory of
        13,537 cost 18 ms through the docstore and 16 ms more to number them. Sources no longer
        indexed are included; their rows are dead, and readers keep only committed chunks."""
        if scope.sources is not None:
            return np.array([self.number_of[s] for s in scope.sources if s in self.number_of], dtype=np.int64)
        admitted: list[np.ndarray] = []
        for name in scope.names:  # equal to the source, or to its file
            admitted.append(self._source_or_file(name))
        if len(admitted) > 1:  # any of the names
            admitted = [np.unique(np.concatenate(admitted))]
        if scope.dir_prefix:  # the docstore's range on the source: "/" + 1 is "0"
            prefix = scope.dir_prefix
            admitted.append(self._named_between(prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)))
        if scope.feed:  # the source's file is the feed (a file name holds no "#")
            admitted.append(self._source_or_file(scope.feed) if "#" not in scope.feed else np.zeros(0, np.int64))
        if not admitted:
            return np.arange(len(self.number_of), dtype=np.int64)
        out = admitted[0]
        for more in admitted[1:]:
            out = np.intersect1d(out, more)
        return out

    def source_rows(self, numbers, rows: np.ndarray | None = None) -> np.ndarray:
        """The rows (among `rows`, or all) of chunks of the sources numbered `numbers`."""
        allowed = np.zeros(len(self.number_of) + 1, dtype=bool)
        allowed[numbers] = True
        if rows is None:
            return np.flatnonzero(allowed[np.asarray(self.sources)])
        return rows[allowed[np.asarray(self.sources[rows])]]

    def day_rows(self, day_from: int | None, day_to: int | None, rows: np.ndarray | None = None) -> np.ndarray:
        """The rows (among `rows`, or all) dated within [day_from, day_to] (an open end is open)."""
        days = np.asarray(self.days if rows is None else self.days[rows])
        mask = days != NO_DAY
        if day_from is not None:
            mask &= days >= day_from
        if day_to is not None:
            mask &= days <= day_to
        return np.flatnonzero(mask) if rows is None else rows[mask]

    def ranked(self, vector: np.ndarray, rows: np.ndarray | None = None, n: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(rows, scores) best first: of `rows` (every row when None), the best n (all when None)."""
        query = np.asarray(vector, dtype=np.float32)
        with one_blas_thread():  # on a busy machine a second BLAS thread made this 13x slower (measured)
            if rows is None:
                scores = row_scores(self.matrix, query)
            elif len(rows) and 4 * len(rows) > (span := int(rows.max()) - (low := int(rows.min())) + 1):
                # most rows of the span they cover (the whole file, or the tail past the watermark):
                # a product over the mapped span beats a copy of the rows
                scores = row_scores(self.matrix[low:low + span], query)[rows - low]
            else:
                scores = self.matrix[rows] @ query
        if n is not None and n < len(scores):
            top = np.argpartition(-scores, n)[:n]
        else:
            top = np.arange(len(scores))
        picked = top if rows is None else rows[top]
        # Equal scores (copies of one text) in id order, whatever rows they sit in: a rewritten
        # file ranks them the same.
        order = np.lexsort((self.ids[picked], -scores[top]))
        return picked[order], scores[top][order]

    def id_of(self, row: int) -> str:
        return self.ids[row].decode()

    def last_rows(self, start: int) -> dict[str, int]:
        """id → its last row, of the ids whose last row lies at or past `start` (with the
        watermark: the chunks Chroma may lack, which searches rank from this file). Only those
        rows are read: a short tail costs little however long the file is."""
        out: dict[str, int] = {}
        ids = self.ids[start:self.rows].tolist()
        for offset in range(len(ids) - 1, -1, -1):
            out.setdefault(ids[offset].decode(), start + offset)
        return out

    @cached_property
    def _id_keys(self) -> tuple[np.ndarray, np.ndarray]:
        """The ids' first 8 bytes as integers, sorted, and the rows they sit in (row order among
        equal keys): sorting 410,973 of them costs once per commit what one vectorised comparison
        of a search's candidates with the whole id column cost per search (110 ms)."""
        raw = np.asarray(self.ids).view(np.uint8).reshape(self.rows, ID_BYTES)
        keys = np.ascontiguousarray(raw[:, :8]).view("<u8").ravel()
        order = np.argsort(keys, kind="stable")
        return keys[order], order

    def rows_of(self, ids: list[str]) -> dict[str, int]:
        """id → its last row, of the ids the file holds (bisections of the sorted id keys)."""
        if not ids or not self.rows:
            return {}
        keys, order = self._id_keys
        encoded = [i.encode("ascii") for i in ids]
        wanted = np.array([e.ljust(ID_BYTES, b"\0")[:8] for e in encoded]).view(np.uint8)
        wanted = np.ascontiguousarray(wanted.reshape(len(ids), -1)[:, :8]).view("<u8").ravel()
        low, high = np.searchsorted(keys, wanted, "left"), np.searchsorted(keys, wanted, "right")
        # The rows of every id's key range at once (each range lists its rows in row order), their
        # ids compared with the wanted ones in one vectorised comparison, not a mapped row a time.
        lengths = high - low
        total = int(lengths.sum())
        if not total:
            return {}
        owner = np.repeat(np.arange(len(ids)), lengths)
        starts = np.cumsum(lengths) - lengths
        rows = order[np.arange(total) - np.repeat(starts, lengths) + np.repeat(low, lengths)]
        fits = np.array([len(e) <= ID_BYTES for e in encoded])  # a longer id is none of the file's
        match = (np.asarray(self.ids[rows]) == np.array(encoded, dtype=f"S{ID_BYTES}")[owner]) & fits[owner]
        out: dict[str, int] = {}
        for j, row in zip(owner[match].tolist(), rows[match].tolist()):
            out[ids[j]] = row  # the last matching row of each id's range wins
        return out

    def vectors(self, ids: list[str]) -> dict[str, np.ndarray]:
        """id → vector of the ids the file holds."""
        if "row_of" in self.__dict__ or len(ids) > 1000:
            rows = [(i, self.row_of[i]) for i in ids if i in self.row_of]
        else:
            rows = list(self.rows_of(ids).items())
        if not rows:
            return {}
        matrix = np.asarray(self.matrix[[r for _, r in rows]])
        return {i: matrix[j] for j, (i, _) in enumerate(rows)}


def open_file(root: Path, state: FileState | None) -> VectorFile | None:
    """The committed vector file, or None when the store has none or it cannot be read as
    committed (queries then ask Chroma; `rag status --check` reports the file)."""
    if state is None:
        return None
    try:
        return VectorFile(root, state)
    except (OSError, ValueError):
        return None


def read_names(path: Path, size: int) -> dict[str, int]:
    """The committed lines of `sources`: source → its number."""
    return {json.loads(line): n for n, line in enumerate(_committed_names(path, size).splitlines())}


def numbers_in(committed: bytes, sources: list[str]) -> dict[str, int]:
    """The numbers of those of `sources` that the committed lines of `sources` name. A byte
    search, not a parse of every line: a one-article ingest reads 100,000 names in milliseconds."""
    lines = b"\n" + committed
    out = {}
    for source in dict.fromkeys(sources):
        at = lines.find(b"\n" + json.dumps(source).encode() + b"\n")
        if at >= 0:
            out[source] = lines.count(b"\n", 0, at + 1) - 1
    return out


def _committed_names(path: Path, size: int) -> bytes:
    if not size:
        return b""
    with open(path / NAMES, "rb") as handle:
        return handle.read(size)


def append(root: Path, state: FileState, ids: list[str], vectors: np.ndarray, days: list[int | None],
           sources: list[str]) -> FileState:
    """Append rows after the `state.rows` committed ones (cutting off an interrupted append's
    tail first), fsynced; returns the state to commit. Nothing is visible before the commit."""
    path = root / state.name
    path.mkdir(parents=True, exist_ok=True)
    vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(ids), state.dim)
    encoded = [i.encode("ascii") for i in ids]
    if any(len(i) != ID_BYTES for i in encoded):
        raise ValueError(f"vector file ids must be {ID_BYTES} ASCII characters")
    committed = _committed_names(path, state.names_bytes) if sources else b""
    numbers, known = numbers_in(committed, sources), committed.count(b"\n")
    new = [s for s in dict.fromkeys(sources) if s not in numbers]
    numbers.update((s, known + n) for n, s in enumerate(new))
    names = "".join(json.dumps(s) + "\n" for s in new).encode()
    data = {"vectors.f32": vectors.tobytes(), "ids": b"".join(encoded),
            "days.i32": np.array([NO_DAY if d is None else d for d in days], dtype=np.int32).tobytes(),
            "sources.i32": np.array([numbers[s] for s in sources], dtype=np.int32).tobytes()}
    for name, payload in data.items():
        _append(path / name, state.rows * _width(name, state.dim), payload)
    _append(path / NAMES, state.names_bytes, names)
    return replace(state, rows=state.rows + len(ids), names_bytes=state.names_bytes + len(names))


def _append(path: Path, committed: int, payload: bytes) -> None:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if os.fstat(fd).st_size < committed:  # truncated: extending it would commit zeros as vectors
            raise ValueError(f"{path} is shorter than its {committed:,} committed bytes")
        os.ftruncate(fd, committed)
        os.lseek(fd, 0, os.SEEK_END)
        view = memoryview(payload)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_unused(root: Path, keep: str | None) -> list[str]:
    """Delete every vector file but `keep`; returns the names deleted."""
    removed = []
    for path in sorted(root.iterdir()) if root.exists() else []:
        if path.name != keep:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path.name)
    return removed
