"""The Store: one index directory (docstore, Chroma collection, lexical index, caches).

Every commit bumps the docstore's `generation`. A reader compares it with the one it last saw
before each search and, when another process committed since, reopens Chroma (whose embedded
client keeps its vector index in memory and would answer from the old one) and reloads the
lexical index, so a server never serves a stale index after a CLI ingest.
"""

from __future__ import annotations

import bisect
import dataclasses
import fcntl
import math
import os
import threading
import time
from collections import Counter
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path

import numpy as np

from rag.errors import IndexMismatchError, IndexMissingError, LockedError, StoreUnavailableError
from rag.index import bm25
from rag.index.articles import FIELD as ARTICLE_FIELD
from rag.index.articles import is_article_id
from rag.index.docstore import DocStore
from rag.index.embed_cache import EmbeddingCache, embed_cached
from rag.index.embedders import Embedder, embedder_name, make_embedder
from rag.index.lexical import LexicalDoc, LexicalIndex, TantivyIndex, open_lexical, remove_lexical
from rag.index.scope import Scope, day_number, structured
from rag.index.shards import SEALED_DEAD, ShardedStore, is_shard_of, sealed_dead, shard_names
from rag.index.vectorfile import VECTOR_DIR, FileState, VectorFile, append, open_file, remove_unused
from rag.index.vectorstore import (
    ChromaStore,
    VectorStore,
    chroma_client,
    chroma_errors,
    close_client,
    collection_names,
    drop_collection,
    flat_metadata,
    hnsw_damage,
    vector_meta,
)
from rag.models import Chunk
from rag.settings import Settings
from rag.text.lexical import content_words

# What the stored index is made of, beside the text pipeline: the lexical engine and the chunk
# metadata the engines filter on. Part of the fingerprint: an index of another format needs --rebuild.
INDEX_FORMAT = "tantivy3-meta2"  # tantivy2: whole articles are lexical documents too; 3: with their term counts (rag.index.articles)
PENDING = "pending_ingest"  # docstore meta key: set while an ingest writes, cleared when it is done
LEXICAL_DIR = "lexical"
_LEXICAL_FETCH = 3  # tantivy proposes this many times the candidates BM25 keeps (its scores are approximate)
# A scope is searched unfiltered when this many nearest vectors should hold enough of it (Store.nearest):
# on 37,910 chunks, 4,000 ids cost Chroma 87 ms, a filter passing 1,800 chunks 21-150 ms.
_DEEPEST = 4000
_EXACT_SCOPE = 2000  # a scope of at most about this many chunks is ranked exactly from its vectors
# The vector file ranks this many rows exactly with numpy in about the time Chroma's HNSW answers
# (150,000 x 384 float32 rows: 230 MB); more rows than this go to Chroma's index.
_EXACT_ROWS = 150_000
# A vector file whose dead rows (replaced or removed chunks) exceed this share is rewritten.
_DEAD_SHARE = 0.25
_DEAD_MIN = 1000  # ... and number this many
_READ_ATTEMPTS = 5  # a search reads the latest commit again when another process commits (or replaces files) meanwhile


def fingerprint(settings: Settings) -> dict:
    """What the stored vectors and chunks depend on. A mismatch needs --rebuild."""
    # The text pipeline (cleaning, furniture, dates, front matter: a fifth of a cold start) is
    # imported by the paths that write or check chunks, never by a query's.
    from rag.text.document import PIPELINE_VERSION

    return {
        **query_fingerprint(settings),
        "pipeline": PIPELINE_VERSION,
        "chunk_tokens": settings.chunk_tokens,
        "chunk_overlap_sentences": settings.chunk_overlap_sentences,
        "embed_title": settings.embed_title,
    }


def query_fingerprint(settings: Settings) -> dict:
    """The part of the fingerprint a query depends on: how its vector is made and what it reads."""
    return {"embedding_model": make_embedder_name(settings), "index": INDEX_FORMAT}


def make_embedder_name(settings: Settings) -> str:
    return embedder_name(settings.embedding_model)


def index_text(chunk: Chunk, embed_title: bool) -> str:
    """The text a chunk is embedded and BM25-indexed by: its title gives the passage context."""
    if embed_title and chunk.title and not chunk.text.startswith(chunk.title):
        return f"{chunk.title}\n{chunk.text}"
    return chunk.text


def lexical_name(generation: int) -> str:
    return f"t{generation:06d}"


def collection_name(settings: Settings, generation: int) -> str:
    return f"{settings.collection}-g{generation}"


class Store:
    def __init__(self, settings: Settings, embedder: Embedder | None = None):
        """`embedder`: one a long-lived caller already holds (a server), so that this store does
        not load the model again."""
        self.settings = settings
        self.dir = Path(settings.store_dir)
        self.docs = DocStore(self.dir / "rag.db")
        if embedder is not None:
            self.__dict__["embedder"] = embedder  # takes the place of the cached property
        self._readers = _ReadersWriter()
        self._seen: int | None = None  # the generation this process's readers are open on

    def close(self) -> None:
        self.docs.close()
        if "cache" in self.__dict__:
            self.cache.close()
        self.close_vectors()

    def close_vectors(self) -> None:
        """Release the Chroma client (its files are closed once no other client in this process uses them)."""
        client = self.__dict__.pop("client", None)
        self.__dict__.pop("_vector", None)
        close_client(client)

    # what the index was built with
    @property
    def stored_fingerprint(self) -> dict | None:
        return self.docs.meta("fingerprint")

    def check_compatible(self, for_query: bool) -> None:
        stored = self.stored_fingerprint
        if stored is None:
            if for_query:
                raise IndexMissingError(f"no index in {self.dir}; run `rag ingest` first")
            return
        wanted = query_fingerprint(self.settings) if for_query else fingerprint(self.settings)
        keys = list(wanted)
        diff = [k for k in keys if stored.get(k) != wanted[k]]
        if "index" in diff and stored.get("index") is None:
            raise IndexMismatchError(f"the index in {self.dir} was built by an older version of rag (before the "
                                     f"{INDEX_FORMAT} format); run `rag ingest --rebuild` (the embedding cache keeps "
                                     "the vectors)")
        if diff:
            detail = ", ".join(f"{k}: index has {stored.get(k)!r}, settings ask for {wanted[k]!r}" for k in diff)
            raise IndexMismatchError(f"{detail}; run `rag ingest --rebuild` to rebuild the index")

    # components, opened lazily so `rag status` and `rag show` stay fast
    @cached_property
    def embedder(self) -> Embedder:
        return make_embedder(self.settings)

    @cached_property
    def cache(self) -> EmbeddingCache:
        return EmbeddingCache(self.dir / "cache" / "embeddings.sqlite")

    @cached_property
    def client(self):
        with chroma_errors():
            return chroma_client(self.dir, self.settings.chroma_url)

    def vectors(self, name: str | None = None, metadata: dict | None = None) -> VectorStore:
        return ChromaStore(self.client, name or self.docs.meta("collection") or self.settings.collection, metadata)

    def shard_names(self, collection: str | None = None) -> list[str]:
        """The committed Chroma shards (rag.index.shards) of `collection` (default: the committed one)."""
        collection = collection or self.docs.meta("collection") or self.settings.collection
        state = self.vector_state
        return shard_names(collection, state.shards if state is not None else ())

    @property
    def vector(self) -> VectorStore:
        """The live collection (all its shards as one); re-resolved so a rebuild in this process is picked up."""
        names = self.shard_names()
        cached = self.__dict__.get("_vector")
        if cached is None or self.__dict__.get("_vector_names") != names:
            # Checked afresh, not per commit: a writer killed inside Chroma's save damages the files
            # without a new commit, and Chroma's loader can crash this process on them (chroma#7238).
            if damaged := self.damaged_shard(fresh=True):
                healer = "`rag status --repair`" if self.vector_file_damage() else "the next ingest or `rag status --repair`"
                raise StoreUnavailableError(f"the Chroma shard {damaged[0]}'s vector index files are damaged "
                                            f"({damaged[1]}); {healer} rebuilds it")
            shards = [self.vectors(name) for name in names]
            cached = self.__dict__["_vector"] = shards[0] if len(shards) == 1 else ShardedStore(shards)
            self.__dict__["_vector_names"] = names
        return cached

    def writable_shard(self) -> str:
        """The one committed shard writes go to: the newest (the only one, in a store from before
        shards). The others are sealed: a flush never opens them (rag.index.shards)."""
        return self.shard_names()[-1]

    def sealed_dead(self) -> dict[str, list[int]]:
        """id → the sealed shards holding a removed copy of it (rag.index.shards)."""
        state = self.vector_state
        return sealed_dead(self.docs.meta(SEALED_DEAD), len(state.shards) if state is not None else 0)

    def sweep_sealed(self, shard: int) -> int:
        """Delete the removed copies listed in the sealed shard numbered `shard`, loading that
        shard alone, and commit the list without them; returns how many were listed there. Killed
        before the commit, the list names copies already deleted: checks expect them all the same."""
        listed = self.sealed_dead()
        ids = sorted(i for i, shards in listed.items() if shard in shards)
        name = self.shard_names()[shard]
        self.close_vectors()  # whatever this process loaded before is freed first
        with chroma_errors():
            if ids and name in collection_names(self.client):
                self.vectors(name).delete(ids)
        self.close_vectors()
        left = {i: [k for k in shards if k != shard] for i, shards in listed.items()}
        self.docs.set_meta({SEALED_DEAD: {i: k for i, k in left.items() if k} or None,
                            "generation": self.next_generation(), "committed_by": os.getpid()})
        self.refresh()
        return len(ids)

    def collections(self) -> list[str]:
        with chroma_errors():
            return collection_names(self.client)

    def drop_collection(self, name: str) -> bool:
        """Drop `name` and every shard of it (rag.index.shards)."""
        with chroma_errors():
            names = [n for n in collection_names(self.client) if is_shard_of(n, name)]
            for shard in names:
                drop_collection(self.client, shard)
            return bool(names)

    def drop_only(self, name: str) -> bool:
        """Drop the one collection `name` (not its shards)."""
        with chroma_errors():
            return drop_collection(self.client, name)

    def lexical_index(self, name: str | None = None) -> LexicalIndex:
        """The lexical index the docstore names (or `name`); IndexMissingError when there is none."""
        name = name or self.docs.meta("lexical")
        if name is None:
            raise IndexMissingError(f"no index in {self.dir}; run `rag ingest` first")
        cached = self.__dict__.get("_lexical")
        if cached is None or cached.path.name != name:
            try:
                cached = open_lexical(self.dir / LEXICAL_DIR / name)
            except FileNotFoundError:
                raise IndexMissingError(f"the lexical index {name} is missing; run `rag status --repair`") from None
            self.__dict__["_lexical"] = cached
        return cached

    def new_lexical_index(self, name: str) -> LexicalIndex:
        """An empty lexical index under `name` (an interrupted attempt's files are removed first)."""
        remove_lexical(self.dir / LEXICAL_DIR / name)
        return TantivyIndex(self.dir / LEXICAL_DIR / name)

    def lexical(self) -> LexicalView:
        return LexicalView(self)

    def refresh(self) -> None:
        """Forget loaded index components after this process wrote a new generation."""
        self.__dict__.pop("_vector", None)
        self.__dict__.pop("_lexical", None)
        self.__dict__.pop("_vector_file", None)
        self.__dict__.pop("_damage", None)

    def chroma_damage(self, fresh: bool = False) -> str | None:
        """What is wrong with the committed collection's HNSW files (`hnsw_damage`: a few small
        reads, no Chroma), checked once per commit. A process killed inside Chroma's save of its
        segment (hnswlib's persistDirty is not atomic) leaves them damaged; with a vector file
        nothing is lost, since it holds every committed vector: searches then take the watermark
        as 0 and rank every row exactly, and the next writer rebuilds the collection from the
        file (rag.index.tail.flush). Nothing is recorded here: a reader never writes. `fresh`:
        looked at again (before Chroma first opens the collection in this process)."""
        found = self.damaged_shard(fresh)
        return found[1] if found else None

    def damaged_shard(self, fresh: bool = False) -> tuple[str, str] | None:
        """(the first committed shard whose HNSW files are damaged, what is wrong), or None
        (`chroma_damage` says when it is looked at)."""
        if self.settings.chroma_url:
            return None
        name = self.docs.meta("collection")
        key = (self.docs.meta("generation"), name)
        cached = self.__dict__.get("_damage")
        if fresh or cached is None or cached[0] != key:
            found = next(((n, d) for n in self.shard_names(name) if (d := hnsw_damage(self.dir / "chroma", n))),
                         None) if name else None
            cached = self.__dict__["_damage"] = (key, found)
        return cached[1]

    # the vector file (rag.index.vectorfile): what queries read instead of Chroma
    @property
    def vector_state(self) -> FileState | None:
        return None if self.settings.chroma_url else FileState.from_meta(self.docs.meta("vector_file"))

    def lacks_vector_file(self) -> bool:
        """A store written before the vector file: its next ingest writes one from Chroma."""
        return not self.settings.chroma_url and self.vector_state is None and self.docs.meta("collection") is not None

    def vector_file(self) -> VectorFile | None:
        """The committed vector file, opened once per commit; None when the store has none (a
        store written before it, or a remote Chroma) or it cannot be read as committed."""
        state = self.vector_state
        cached = self.__dict__.get("_vector_file", False)
        if cached is False or (cached.state if cached else None) != state:
            cached = self.__dict__["_vector_file"] = open_file(self.dir / VECTOR_DIR, state)
        return cached

    def vector_file_damage(self) -> str | None:
        """Why the committed vector file cannot be read as committed (missing or cut short), or None.
        A writer must not append to it: the committed rows it lacks hold the only copy of the
        tail's vectors outside the embedding cache, and Chroma's copy may be damaged too."""
        state = self.vector_state
        if state is None or self.vector_file() is not None:
            return None
        return f"the vector file {self.dir / VECTOR_DIR / state.name} is missing or shorter than its {state.rows:,} committed rows"

    def chunk_vectors(self, ids: list[str]) -> dict[str, np.ndarray]:
        """id → stored vector of the committed chunks among `ids` (from the vector file when it
        holds them all, else from Chroma)."""
        file = self.vector_file()
        if file is not None:
            found = file.vectors(ids)
            # Damaged Chroma files are never opened: the vector file holds every committed vector.
            if len(found) == len(set(ids)) or self.chroma_damage(fresh=True):
                return found
        return self.read_vectors(lambda v: v.vectors(ids))

    def append_vector_file(self, collection: str, fresh: bool, chunks: list[Chunk], vectors: np.ndarray,
                           generation: int) -> FileState | None:
        """Append the new chunks' rows to the vector file (a new file for a new collection, for a
        store that had none, or when dead rows pile up); returns the state to commit."""
        if self.settings.chroma_url:
            return None
        state = None if fresh else self.vector_state
        if state is not None and state.name.split("~")[0] != collection:
            state = None
        dim = int(vectors.shape[1]) if vectors.ndim == 2 and vectors.shape[1] else (state.dim if state else 0)
        if state is None and not fresh or state is not None and self._mostly_dead(state):
            # A store written before the vector file, or one whose rows are mostly dead: a new file.
            state = self._vector_file_from(collection, generation)
        if state is None:
            state = FileState(f"{collection}~{generation}", 0, dim)
        if state.rows == 0 and dim:
            state = FileState(state.name, 0, dim)
        return append(self.dir / VECTOR_DIR, state, [c.id for c in chunks], vectors,
                      [day_number(c.date) for c in chunks], [c.source for c in chunks])

    def _mostly_dead(self, state: FileState) -> bool:
        dead = state.rows - self.committed_chunks()
        return dead > _DEAD_MIN and dead > _DEAD_SHARE * state.rows

    def _vector_file_from(self, collection: str, generation: int) -> FileState:
        """A new vector file of the committed chunks' vectors: copied from the current vector file
        when it holds them (a compaction), else read from Chroma's `collection` (a store written
        before the vector file). The chunks Chroma holds come first, and the watermark after them:
        those read from Chroma, and those whose last row in the current file lies before its
        watermark (a committed chunk is appended once, so that row was flushed)."""
        days, sources = self.docs.chunk_days(), self.docs.chunk_sources()
        current = self.vector_file()
        ids = sorted(days)
        row_of = current.row_of if current is not None else {}
        watermark = current.state.flushed if current is not None else 0
        ids.sort(key=lambda i: row_of.get(i, -1))  # not in the file: read from Chroma, so in it
        state = FileState(f"{collection}~{generation}", 0, current.state.dim if current else 0)
        flushed, kept_rows = 0, []
        for start in range(0, len(ids), 5000):
            batch = ids[start:start + 5000]
            stored = current.vectors(batch) if current is not None else {}
            if len(stored) < len(batch):
                with chroma_errors():
                    stored.update(self.vectors(collection).vectors([i for i in batch if i not in stored]))
            have = [i for i in batch if i in stored]
            if not have:
                continue
            matrix = np.stack([stored[i] for i in have])
            if not state.dim:
                state = FileState(state.name, 0, int(matrix.shape[1]))
            state = append(self.dir / VECTOR_DIR, state, have, matrix, [days[i] for i in have],
                           [sources[i] for i in have])
            flushed += sum(1 for i in have if row_of.get(i, -1) < watermark)
            kept_rows += [row_of.get(i, -1) for i in have]
        # The shards begin where their first kept rows now lie (the rows keep their order).
        starts = tuple(bisect.bisect_left(kept_rows, s) for s in (current.state.shards if current else ()))
        return dataclasses.replace(state, flushed=flushed, shards=starts)

    def write_vector_file(self, collection: str, generation: int, chunks: list[Chunk], vectors: np.ndarray) -> FileState | None:
        """A complete vector file of these chunks (a repair's rebuild); returns its state, every
        row a tail row (the caller flushes them into Chroma)."""
        if self.settings.chroma_url:
            return None
        dim = int(vectors.shape[1]) if vectors.ndim == 2 else 0
        return append(self.dir / VECTOR_DIR, FileState(f"{collection}~{generation}", 0, dim),
                      [c.id for c in chunks], vectors, [day_number(c.date) for c in chunks], [c.source for c in chunks])

    def remove_unused_vector_files(self) -> list[str]:
        keep = (self.vector_state.name if self.vector_state else None)
        return [f"deleted the unused vector file {name}" for name in remove_unused(self.dir / VECTOR_DIR, keep)]

    # readers
    @contextmanager
    def reading(self):
        """One search's reads: the docstore in one snapshot, over Chroma and a lexical index
        opened on that snapshot's generation (reopened first when another process committed)."""
        for attempt in range(_READ_ATTEMPTS):
            self._sync()
            with self._readers.read(), self.docs.snapshot():
                if self.docs.meta("generation") != self._seen:
                    continue
                if attempt < _READ_ATTEMPTS - 1 and self.vector_state is not None and self.vector_file() is None:
                    # The file this snapshot names is gone: most likely a writer committed another one (a
                    # compaction, a rebuild) and removed it since. Read the latest commit; at the last
                    # attempt the reads go on, and a file really missing is reported as damage.
                    continue
                yield
                return
        raise IndexMissingError(f"the index in {self.dir} changed during every attempt to read it; try again")

    def sync(self) -> None:
        """Open the readers on the latest commit (a no-op when this process saw it already)."""
        self._sync()

    def _sync(self) -> None:
        generation = self.docs.meta("generation")
        if generation == self._seen:
            return
        with self._readers.write():
            generation = self.docs.meta("generation")
            if generation == self._seen:
                return
            if self.docs.meta("committed_by") != os.getpid():
                self.close_vectors()  # another process wrote Chroma's files: read them afresh
            self.refresh()
            self._seen = generation

    def scope(self, source: str | None, since, until, selected: tuple[str, ...] | None = None) -> Scope | None:
        """Filters as a Scope the engines evaluate (None: no filter). `selected`: only these sources."""
        if not (source or since or until or selected is not None):
            return None
        first, last = self.docs.day_range() if (since or until) else (None, None)
        days = {"day_from": day_number(since) if since else (first if until else None),
                "day_to": day_number(until) if until else (last if since else None)}
        shape = structured(source) if source else Scope()
        if selected is not None:
            scope = Scope(**days, sources=tuple(self.docs.among(selected, source)))
        elif shape is None:
            scope = Scope(**days, sources=tuple(self.docs.sources(source, since, until)))
        else:
            scope = Scope(**days, names=shape.names, dir_prefix=shape.dir_prefix, feed=shape.feed)
        return dataclasses.replace(scope, share=self.docs.share(scope))

    def committed_chunks(self) -> int:
        return self.docs.lexical_stats()[0]

    def read_vectors(self, read):
        """`read(vector_store)`, once more on a reopened client if Chroma fails: another process
        writing the embedded store (an ingest before its commit) leaves this client's vector index
        behind its files ("Error finding id"), and a fresh client reads them as they are."""
        try:
            return read(self.vector)
        except StoreUnavailableError:
            if self.settings.chroma_url:
                raise
            self.close_vectors()
            self.__dict__.pop("_damage", None)  # a writer killed since this process looked may have damaged them
            if self.chroma_damage():
                raise  # not reopened: Chroma's loader can crash the process on damaged files
            return read(self.vector)

    def nearest(self, vector: np.ndarray, n: int, scope: Scope | None = None) -> list[tuple[str, float]]:
        file = self.vector_file()
        if file is None and (state := self.vector_state) is not None and state.tail:
            # The tail's rows are in no other index: Chroma alone would answer without them.
            raise StoreUnavailableError(f"{self.vector_file_damage()}, and {state.tail:,} of them are in no other "
                                        "index: run `rag status --repair`, which rebuilds it from the docstore "
                                        "and the embedding cache")
        tail: list[tuple[str, float]] = []
        outside = 0  # committed chunks Chroma does not hold: the tail's
        if file is not None:
            found = self._nearest_in_file(file, vector, n, scope)
            if found is not None:
                return found
            # Chroma holds nothing yet, or its files are damaged (a killed save; the vector file holds
            # every committed vector): every row ranked, however many there are.
            if not file.state.flushed or self.chroma_damage():
                return self._nearest_in_file(file, vector, n, scope, limit=None)
            live = self._tail_live(file)
            tail, outside = self._nearest_in_tail(file, live, vector, n, scope), len(live)
        try:
            found = self.read_vectors(lambda vectors: self._nearest(vectors, vector, n, scope,
                                                                    exact=file is not None, outside=outside))
        except StoreUnavailableError:
            if file is None or not self.chroma_damage():
                raise
            return self._nearest_in_file(file, vector, n, scope, limit=None)
        if found is None:  # a large scope Chroma's nearest vectors held too little of: every row ranked
            return self._nearest_in_file(file, vector, n, scope, limit=None)
        return _merged(found, tail, n) if tail else found

    def _tail_live(self, file: VectorFile) -> np.ndarray:
        """The tail's rows that hold committed chunks (each id at its last row), found once per
        commit: a search ranks only these, and Chroma's hits are merged with them."""
        key = (file.state, self.docs.meta("generation"))
        cached = self.__dict__.get("_tail")
        if cached is None or cached[0] != key:
            last = file.last_rows(file.state.flushed)
            known = self.docs.known(list(last))
            rows = [row for chunk_id, row in last.items() if chunk_id in known]
            cached = self.__dict__["_tail"] = (key, np.array(sorted(rows), dtype=np.int64))
        return cached[1]

    def _nearest_in_tail(self, file: VectorFile, rows: np.ndarray, vector: np.ndarray, n: int,
                         scope: Scope | None) -> list[tuple[str, float]]:
        """The n nearest in `scope` among the tail's committed rows, ranked exactly."""
        if scope is not None and scope.empty:
            return []
        rows = _scope_rows(file, scope, rows)
        if not len(rows):
            return []
        order, scores = file.ranked(vector, rows, n)
        return [(file.id_of(int(row)), float(score)) for row, score in zip(order, scores)]

    def _nearest_in_file(self, file: VectorFile, vector: np.ndarray, n: int, scope: Scope | None,
                         limit: int | None = -1) -> list[tuple[str, float]] | None:
        """The n committed chunks in `scope` nearest to `vector`, ranked exactly from the vector
        file; None when the rows to rank are more than `limit` (Chroma's index answers then). A
        scope's rows are numpy masks (`_scope_rows`). Rows of
        chunks no longer committed are skipped: one more row is ranked per dead row. `limit` -1:
        _EXACT_ROWS, read when called (a default would bind it once, and tests could not lower it)."""
        if limit == -1:
            limit = _EXACT_ROWS
        if scope is not None and scope.empty:
            return []
        dead = max(0, file.rows - self.committed_chunks())
        rows = _scope_rows(file, scope)
        if limit is not None and (file.rows if rows is None else len(rows)) > limit:
            return None
        order, scores = file.ranked(vector, rows, n + dead)
        return self._committed_best(file, order, scores, n)

    def _committed_best(self, file: VectorFile, order: np.ndarray, scores: np.ndarray,
                        n: int) -> list[tuple[str, float]]:
        """The first n rows of `order` whose ids are committed chunks (each id once)."""
        ids = [file.id_of(int(row)) for row in order]
        keep = self.docs.known(ids)
        kept: dict[str, float] = {}
        for chunk_id, score in zip(ids, scores):
            if chunk_id in keep and chunk_id not in kept:
                kept[chunk_id] = float(score)
        return list(kept.items())[:n]

    def _nearest(self, vectors: VectorStore, vector: np.ndarray, n: int, scope: Scope | None,
                 exact: bool = False, outside: int = 0) -> list[tuple[str, float]] | None:
        """The n committed chunks in `scope` nearest to `vector`. Chroma's filtered search costs
        grow with the vectors that pass (on 37,910 chunks: 3 ms unfiltered, 21 ms for a week's
        1,800, 773 ms for a filter all of them pass; on 410,919 chunks 3.7 s for a directory of
        56% of them), so a scope holding a large share of the documents is searched unfiltered
        and deep enough, and the docstore keeps the hits in scope (a keyed read of the
        candidates); a scope of a few thousand chunks is ranked exactly from its vectors, fetched
        by id; what lies between is Chroma's own `where`. Open date ranges are closed at the
        index's first and last day, so that Chroma reads them as a set of days. With `exact` (a
        vector file can rank every row), None instead of Chroma's `where` for a large scope.
        `outside`: how many committed chunks Chroma does not hold (the vector file's tail): Chroma
        holds the rest, and as many leftovers as its count exceeds them by."""
        committed = self.committed_chunks() - outside
        if scope is not None and scope.share is not None and scope.share * committed <= _EXACT_SCOPE:
            return self._nearest_exactly(vectors, vector, n, scope)
        count = vectors.count()
        if scope is not None and scope.share:
            kept = self._deepened(vectors, vector, n, scope, count, committed)
            if kept is not None:
                return kept
            if exact:
                return None
        # Leftovers (tombstones waiting for a flush, an interrupted ingest's vectors) rarely rank
        # first: ask for a few more than n, and for all of them only when those held too few.
        leftovers = max(0, count - committed)
        for extra in dict.fromkeys((min(leftovers, n), leftovers)):
            found = vectors.query(vector, n + extra, scope, count=count)
            keep = self.docs.known([i for i, _ in found])
            kept = [(i, s) for i, s in found if i in keep]
            if len(kept) >= n or len(found) < n + extra:
                break
        return kept[:n]

    def _deepened(self, vectors: VectorStore, vector: np.ndarray, n: int, scope: Scope, count: int,
                  committed: int) -> list[tuple[str, float]] | None:
        """The n nearest in scope among Chroma's unfiltered nearest vectors, asked deeper until
        they hold n of the scope (at most _DEEPEST); None when they do not. The first depth
        expects the scope's share of each depth; neighbours are not spread like that (copies
        and follow-ups of a story sit together, under one outlet), so each next depth is
        estimated from the share of the scope the last one held."""
        deep = min(count, math.ceil(2 * n / scope.share) + max(0, count - committed))
        verdicts: dict[str, bool] = {}
        while deep <= _DEEPEST:
            found = vectors.query(vector, deep, count=count)
            unseen = [i for i, _ in found if i not in verdicts]
            keep = self.docs.known_in(unseen, scope)
            verdicts.update((i, i in keep) for i in unseen)
            kept = [(i, s) for i, s in found if verdicts[i]]
            if len(kept) >= n or deep >= count:
                return kept[:n]
            wanted = max(2 * deep, math.ceil(2 * n * deep / max(1, len(kept))))
            deep = min(count, wanted if wanted <= _DEEPEST or deep == _DEEPEST else _DEEPEST)
        return None

    def _nearest_exactly(self, vectors: VectorStore, vector: np.ndarray, n: int, scope: Scope) -> list[tuple[str, float]]:
        """A small scope: its chunks' vectors by id, ranked exactly (cheaper than Chroma's `where`)."""
        ids = self.docs.ids_in(scope)
        if not ids:
            return []
        stored = vectors.vectors(ids)
        ids = [i for i in ids if i in stored]
        if not ids:
            return []
        scores = np.stack([stored[i] for i in ids]) @ np.asarray(vector, dtype=np.float32)
        order = sorted(range(len(ids)), key=lambda j: (-scores[j], ids[j]))[:n]
        return [(ids[j], float(scores[j])) for j in order]

    # writers
    def next_generation(self) -> int:
        return int(self.docs.meta("generation", 0)) + 1

    def collection_for_writing(self, collection: str) -> VectorStore:
        """The collection `collection`, created with the index's fingerprint when missing."""
        return self.vectors(collection, metadata=flat_metadata(fingerprint(self.settings)))

    def write_vectors(self, collection: str, chunks: list[Chunk], vectors: np.ndarray) -> None:
        target = self.collection_for_writing(collection)
        if chunks:
            target.add([c.id for c in chunks], vectors, [vector_meta(c) for c in chunks])

    def rewrite_vectors(self, chunks: list[Chunk], vectors: np.ndarray) -> None:
        """A repair's right vectors for these chunks: upserted into every committed shard that
        holds a copy (sealed ones too, one shard loaded at a time), and into the writable shard
        for those no shard holds. Upserting only into the writable shard would leave a wrong
        copy in a sealed one, which searches merge by its best score."""
        right = {c.id: (c, v) for c, v in zip(chunks, vectors)}
        unheld = set(right)
        for name in self.shard_names():
            held = sorted(self.vectors(name).vectors(list(right)))
            if held:
                self.vectors(name).add(held, np.stack([right[i][1] for i in held]),
                                       [vector_meta(right[i][0]) for i in held])
            unheld -= set(held)
            self.close_vectors()  # frees this shard's segment before the next is loaded
        if unheld:
            ordered = sorted(unheld)
            self.write_vectors(self.writable_shard(), [right[i][0] for i in ordered],
                               np.stack([right[i][1] for i in ordered]))

    def embed_chunks(self, ids: list[str]) -> tuple[list[Chunk], np.ndarray, int]:
        """The committed chunks `ids` and their vectors from the cache (embedding what it lacks)."""
        chunks = self.docs.chunks(ids)
        texts = self.docs.index_texts(ids)
        ordered = [chunks[i] for i in ids if i in chunks]
        vectors, embedded = embed_cached(self.embedder, self.cache, [texts[c.id] for c in ordered])
        return ordered, vectors, embedded

    def build_lexical(self, name: str) -> int:
        """A complete lexical index of the committed chunks (and their whole articles) under
        `name`; returns how many chunks."""
        index = self.new_lexical_index(name)
        total = 0
        with index.writer(threads=2) as writer:
            for rows in self.docs.lexical_docs():
                writer.add(LexicalDoc(i, s, t, d) for i, s, t, d in rows)
                total += len(rows)
            for rows in self.docs.article_docs():
                writer.add(LexicalDoc(i, s, t, d, ARTICLE_FIELD) for i, s, t, d in rows)
        return total

    def sweep_garbage(self) -> list[str]:
        """Remove what no commit refers to: other collections and lexical indexes, unreferenced
        vectors and postings, an interrupted ingest's marker. Returns what was done."""
        actions = []
        pending = self.docs.meta(PENDING) or {}
        committed = self.docs.meta("collection")
        shards = self.shard_names(committed) if committed else []
        prefix = self.settings.collection
        with chroma_errors():
            names = collection_names(self.client)
            for name in names:
                if name not in shards and (name == prefix or name.startswith(prefix + "-g")):
                    self.client.delete_collection(name)
                    actions.append(f"dropped the unused Chroma collection {name}")
            if committed and committed in names and not self.chroma_damage():  # damaged: the next flush rebuilds it
                # An interrupted ingest's suspects can only be in the shard flushes write (its
                # newest): the others are not loaded. A full sweep reads every shard.
                everything = pending.get("ids") is None
                target = self.vector if everything else self.vectors(self.writable_shard())
                orphans = self._orphans(target.ids() if everything else set(pending["ids"]))
                if orphans:
                    target.delete(orphans)
                    actions.append(f"deleted {len(orphans)} unreferenced vectors")
                if everything:  # and the old copies of chunks committed again
                    for shard in sorted({k for shards in self.sealed_dead().values() for k in shards}):
                        self.sweep_sealed(shard)
        actions += self._sweep_lexical(pending)
        actions += self.remove_unused_vector_files()
        self.docs.set_meta({PENDING: None})
        self.refresh()
        return actions

    def _orphans(self, ids: set[str]) -> list[str]:
        """The ids among these that are neither committed chunks nor committed article documents."""
        known = self.docs.known(sorted(i for i in ids if not is_article_id(i)))
        known |= set(self.docs.article_rows(sorted(i for i in ids if is_article_id(i))))
        return sorted(ids - known)

    def remove_unused_lexical(self, keep: str | None) -> list[str]:
        """Delete every lexical index but `keep`, and the BM25 directory of the previous index
        format. Returns what was deleted."""
        actions = []
        root = self.dir / LEXICAL_DIR
        for path in sorted(root.iterdir()) if root.exists() else []:
            if path.name != keep:
                remove_lexical(path)
                actions.append(f"deleted the unused lexical index {path.name}")
        legacy = self.dir / "bm25"  # the BM25 generations of stores before the tantivy index
        if legacy.exists():
            remove_lexical(legacy)
            actions.append("deleted the BM25 directory of the previous index format")
        return actions

    def unused_lexical(self) -> list[str]:
        """Names of lexical indexes (and the old format's BM25 directory) no commit refers to."""
        current = self.docs.meta("lexical")
        root = self.dir / LEXICAL_DIR
        names = sorted(p.name for p in root.iterdir() if p.name != current) if root.exists() else []
        return names + (["bm25"] if (self.dir / "bm25").exists() else [])

    def _sweep_lexical(self, pending: dict) -> list[str]:
        current = self.docs.meta("lexical")
        root = self.dir / LEXICAL_DIR
        actions = self.remove_unused_lexical(keep=current)
        if current and (root / current).exists():
            index = self.lexical_index(current)
            suspects = (index.ids() if pending.get("ids") is None
                        else set(pending["ids"]) | set(pending.get("articles") or ()))
            orphans = self._orphans(suspects)
            if orphans:
                with index.writer() as writer:
                    writer.delete(orphans)
                actions.append(f"deleted the postings of {len(orphans)} unreferenced chunks")
        return actions

    @contextmanager
    def write_lock(self, wait: float = 10.0, purpose: str = "ingest"):
        """One writer at a time. A second ingest waits up to `wait` seconds, then refuses.
        The kernel drops the lock when its holder dies, so a killed ingest never leaves it stale."""
        self.dir.mkdir(parents=True, exist_ok=True)
        path = self.dir / "lock"
        with open(path, "a+") as handle:
            deadline = time.monotonic() + wait
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        handle.seek(0)
                        holder = handle.read().strip() or "another process"
                        raise LockedError(
                            f"the index in {self.dir} is being written by {holder}; waited {wait:g}s, "
                            "try again when it finishes"
                        ) from None
                    time.sleep(0.2)
            handle.seek(0)
            handle.truncate()
            handle.write(f"pid {os.getpid()} ({purpose})")
            handle.flush()
            try:
                yield
            finally:
                handle.seek(0)
                handle.truncate()
                fcntl.flock(handle, fcntl.LOCK_UN)


def _scope_rows(file: VectorFile, scope: Scope | None, rows: np.ndarray | None = None) -> np.ndarray | None:
    """The rows of `file` (among `rows`; None: all of them) in `scope`: its days on the day
    column, its sources (numbered from the file's sorted source names, or listed by a resolved
    glob) on the source column. None when nothing narrows `rows`."""
    if scope is not None and scope.has_days:
        rows = file.day_rows(scope.day_from, scope.day_to, rows)
    if scope is not None and (scope.names or scope.dir_prefix or scope.feed or scope.sources is not None):
        rows = file.source_rows(file.numbers_in(scope), rows)
    return rows


def _merged(chroma: list[tuple[str, float]], tail: list[tuple[str, float]], n: int) -> list[tuple[str, float]]:
    """Chroma's hits and the tail's, best first, each id once (a chunk in both has one vector)."""
    best: dict[str, float] = {}
    for chunk_id, score in [*chroma, *tail]:
        if score > best.get(chunk_id, -np.inf):
            best[chunk_id] = score
    return sorted(best.items(), key=lambda hit: (-hit[1], hit[0]))[:n]


class LexicalView:
    """BM25 over the committed chunks: tantivy's candidates scored with the docstore's exact
    statistics (rag.index.lexical says why)."""

    def __init__(self, store: Store):
        self.store = store
        self.index = store.lexical_index()
        self.n_docs, self.total_terms = store.docs.lexical_stats()
        self.df = _Frequencies(store.docs)

    def idf(self, term: str) -> float:
        return bm25.idf(self.n_docs, self.df.get(term, 0))

    def idfs(self, terms: list[str]) -> dict[str, float]:
        """Each distinct term's idf, their frequencies read in one query."""
        self.df.read(terms)
        return {t: self.idf(t) for t in dict.fromkeys(terms)}

    def search(self, query: str, n: int, scope: Scope | None = None) -> list[tuple[str, float]]:
        terms = content_words(query)
        if not terms or not self.n_docs:
            return []
        leftovers = self._leftovers()
        ids = self.index.candidates(terms, _LEXICAL_FETCH * n + leftovers, scope)
        rows = self.store.docs.lexical_rows(ids)  # committed chunks only
        settings = self.store.settings
        ranked = bm25.rank(terms, {i: (r.terms, r.n_terms) for i, r in rows.items()},
                           self.store.docs.document_frequency(terms), self.n_docs, self.total_terms,
                           settings.bm25_k1, settings.bm25_b)
        return ranked[:n]

    def _leftovers(self) -> int:
        """Postings documents an interrupted ingest left (chunks or articles: an upper bound)."""
        return max(0, self.index.count() - self.n_docs - self.store.docs.article_stats()[0])

    def articles(self, query: str, n: int, scope: Scope | None = None) -> list[tuple[str, float]]:
        """(source, BM25) of up to n whole articles (rag.index.articles), best first: tantivy's
        candidates scored with the docstore's exact article statistics."""
        terms = content_words(query)
        n_articles, total = self.store.docs.article_stats()
        if not terms or not n_articles:
            return []
        settings = self.store.settings
        sources: dict[str, str] = {}

        def ranked(weights: dict[str, float]) -> list[tuple[str, float]]:
            ids = self.index.candidates(list(weights), _LEXICAL_FETCH * n + self._leftovers(), scope,
                                        field=ARTICLE_FIELD)
            rows = self.store.docs.article_counts(ids, list(weights))  # committed articles only
            sources.update((i, s) for i, (s, _, _) in rows.items())
            docs = {i: (counts, length) for i, (_, counts, length) in rows.items()}
            return bm25.rank_counts(weights, docs, self.store.docs.article_frequency(list(weights)), n_articles,
                                    total, settings.article_bm25_k1, settings.article_bm25_b)

        first = ranked(dict(Counter(terms)))
        if settings.article_feedback_terms:  # RM3 pseudo-relevance feedback on the first articles
            top = self.store.docs.article_rows([i for i, _ in first[:settings.article_feedback_docs]])
            docs = {i: (r.terms, r.n_terms) for i, (_, r) in top.items()}
            weights = bm25.feedback_terms(terms, first, docs, settings.article_feedback_docs,
                                          settings.article_feedback_terms, settings.article_feedback_original)
            first = ranked(weights)
        return [(sources[i], score) for i, score in first[:n]]


class _Frequencies:
    """Document frequencies, read from the docstore a term at a time."""

    def __init__(self, docs: DocStore):
        self.docs = docs
        self.known: dict[str, int] = {}

    def read(self, terms: list[str]) -> None:
        """Read the frequencies of the terms not yet known, in one query."""
        missing = [t for t in dict.fromkeys(terms) if t not in self.known]
        if missing:
            found = self.docs.document_frequency(missing)
            self.known.update({t: found.get(t, 0) for t in missing})

    def get(self, term: str, default: int = 0) -> int:
        if term not in self.known:
            self.known[term] = self.docs.document_frequency([term]).get(term, 0)
        return self.known[term] or default


class _ReadersWriter:
    """Many readers, or one thread reopening what they read."""

    def __init__(self):
        self._cond = threading.Condition()
        self._readers = 0
        self._writing = False

    @contextmanager
    def read(self):
        with self._cond:
            while self._writing:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextmanager
    def write(self):
        with self._cond:
            while self._writing or self._readers:
                self._cond.wait()
            self._writing = True
        try:
            yield
        finally:
            with self._cond:
                self._writing = False
                self._cond.notify_all()
