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
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from rag.index.embedders import one_blas_thread

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

    def as_meta(self) -> dict:
        return asdict(self)

    @classmethod
    def from_meta(cls, value: dict | None) -> FileState | None:
        try:
            return cls(str(value["name"]), int(value["rows"]), int(value["dim"]), int(value["names_bytes"])) \
                if value else None
        except (KeyError, TypeError, ValueError):
            return None


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

    def source_rows(self, sources, rows: np.ndarray | None = None) -> np.ndarray:
        """The rows (among `rows`, or all) of chunks of these sources."""
        numbers = [self.number_of[s] for s in sources if s in self.number_of]
        allowed = np.zeros(len(self.number_of) + 1, dtype=bool)
        allowed[numbers] = True
        if rows is None:
            return np.flatnonzero(allowed[np.asarray(self.sources)])
        return rows[allowed[np.asarray(self.sources[rows])]]

    def day_rows(self, day_from: int | None, day_to: int | None) -> np.ndarray:
        """The rows dated within [day_from, day_to] (an open end is open)."""
        days = np.asarray(self.days)
        mask = days != NO_DAY
        if day_from is not None:
            mask &= days >= day_from
        if day_to is not None:
            mask &= days <= day_to
        return np.flatnonzero(mask)

    def ranked(self, vector: np.ndarray, rows: np.ndarray | None = None, n: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(rows, scores) best first: of `rows` (every row when None), the best n (all when None)."""
        query = np.asarray(vector, dtype=np.float32)
        with one_blas_thread():  # on a busy machine a second BLAS thread made this 13x slower (measured)
            if rows is None:
                scores = self.matrix @ query
            elif 4 * len(rows) > self.rows:  # most rows: a product over the mapped file beats a copy
                scores = (self.matrix @ query)[rows]
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

    def vectors(self, ids: list[str]) -> dict[str, np.ndarray]:
        """id → vector of the ids the file holds. A few ids (a search's candidates) are found by
        one vectorised comparison with the id column; building `row_of` costs more than that
        once per commit (on 37,910 rows: a tenth of a cold query)."""
        if "row_of" in self.__dict__ or len(ids) > 1000:
            rows = [(i, self.row_of[i]) for i in ids if i in self.row_of]
        else:
            wanted = np.array([i.encode("ascii") for i in ids], dtype=f"S{ID_BYTES}")
            found = np.flatnonzero(np.isin(self.ids, wanted))
            rows = list({self.ids[r].decode(): int(r) for r in found}.items())  # the last row of an id
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
    if not size:
        return {}
    with open(path / NAMES, "rb") as handle:
        lines = handle.read(size).splitlines()
    return {json.loads(line): n for n, line in enumerate(lines)}


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
    numbers = read_names(path, state.names_bytes) if sources else {}
    known = len(numbers)
    for source in sources:
        numbers.setdefault(source, len(numbers))
    names = "".join(json.dumps(s) + "\n" for s in list(numbers)[known:]).encode()
    data = {"vectors.f32": vectors.tobytes(), "ids": b"".join(encoded),
            "days.i32": np.array([NO_DAY if d is None else d for d in days], dtype=np.int32).tobytes(),
            "sources.i32": np.array([numbers[s] for s in sources], dtype=np.int32).tobytes()}
    for name, payload in data.items():
        _append(path / name, state.rows * _width(name, state.dim), payload)
    _append(path / NAMES, state.names_bytes, names)
    return FileState(state.name, state.rows + len(ids), state.dim, state.names_bytes + len(names))


def _append(path: Path, committed: int, payload: bytes) -> None:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
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
