"""The Store: one index directory (docstore, Chroma collection, BM25 generations, caches)."""

from __future__ import annotations

import fcntl
import os
import time
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path

from rag.errors import IndexMismatchError, IndexMissingError, LockedError, RagError, StoreUnavailableError
from rag.index.docstore import DocStore
from rag.index.embed_cache import EmbeddingCache
from rag.index.embedders import Embedder, make_embedder
from rag.index.lexical import LexicalIndex
from rag.index.vectorstore import ChromaStore, chroma_client
from rag.models import Chunk
from rag.settings import Settings
from rag.text.document import PIPELINE_VERSION


def fingerprint(settings: Settings) -> dict:
    """What the stored vectors and chunks depend on. A mismatch needs --rebuild."""
    return {
        "embedding_model": make_embedder_name(settings),
        "pipeline": PIPELINE_VERSION,
        "chunk_tokens": settings.chunk_tokens,
        "chunk_overlap_sentences": settings.chunk_overlap_sentences,
        "embed_title": settings.embed_title,
    }


def make_embedder_name(settings: Settings) -> str:
    name = settings.embedding_model
    return "all-MiniLM-L6-v2" if name in ("minilm", "sentence-transformers/all-MiniLM-L6-v2") else name


def index_text(chunk: Chunk, embed_title: bool) -> str:
    """The text a chunk is embedded and BM25-indexed by: its title gives the passage context."""
    if embed_title and chunk.title and not chunk.text.startswith(chunk.title):
        return f"{chunk.title}\n{chunk.text}"
    return chunk.text


class Store:
    def __init__(self, settings: Settings, embedder: Embedder | None = None):
        """`embedder`: one a long-lived caller already holds (a server), so that this store does
        not load the model again."""
        self.settings = settings
        self.dir = Path(settings.store_dir)
        self.docs = DocStore(self.dir / "rag.db")
        if embedder is not None:
            self.__dict__["embedder"] = embedder  # takes the place of the cached property

    def close(self) -> None:
        self.docs.close()
        if "cache" in self.__dict__:
            self.cache.close()
        self.close_vectors()

    def close_vectors(self) -> None:
        """Release the Chroma client (its files are closed once no other client in this process uses them)."""
        client = self.__dict__.pop("client", None)
        self.__dict__.pop("_vector", None)
        if client is not None and hasattr(client, "close"):
            client.close()

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
        wanted = fingerprint(self.settings)
        keys = ["embedding_model"] if for_query else list(wanted)
        diff = [k for k in keys if stored.get(k) != wanted[k]]
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
            try:
                return chroma_client(self.dir, self.settings.chroma_url)
            except BaseException:
                _forget_chroma_system(self.dir / "chroma")
                raise

    def vectors(self, name: str | None = None, metadata: dict | None = None) -> GuardedVectors:
        name = name or self.docs.meta("collection") or self.settings.collection
        with chroma_errors():
            return GuardedVectors(ChromaStore(self.client, name, metadata))

    @property
    def vector(self) -> ChromaStore:
        """The live collection; re-resolved so a rebuild in this process is picked up."""
        name = self.docs.meta("collection") or self.settings.collection
        cached = self.__dict__.get("_vector")
        if cached is None or cached.name != name:
            cached = self.__dict__["_vector"] = self.vectors(name)
        return cached

    def refresh(self) -> None:
        """Forget loaded index components after this process wrote a new generation."""
        self.__dict__.pop("_vector", None)
        self.__dict__.pop("_lexical", None)

    def lexical(self) -> LexicalIndex:
        generation = self.docs.meta("bm25")
        if generation is None:
            raise IndexMissingError(f"no index in {self.dir}; run `rag ingest` first")
        cached = self.__dict__.get("_lexical")
        if cached is None or cached.path.name != generation:
            cached = self._load_lexical(generation)
            self.__dict__["_lexical"] = cached
        return cached

    def _load_lexical(self, generation: str) -> LexicalIndex:
        try:
            return LexicalIndex.load(self.dir / "bm25" / generation)
        except FileNotFoundError:
            # A concurrent ingest may commit a new generation and sweep this one between reading
            # the manifest and loading it; the committed one is then the one to read.
            newer = self.docs.meta("bm25")
            if newer is None or newer == generation:
                raise
            return LexicalIndex.load(self.dir / "bm25" / newer)

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


@contextmanager
def chroma_errors():
    """Chroma's failures as one clear line. Its Rust core raises PanicException, a BaseException
    that `except Exception` misses, when its files are damaged."""
    try:
        yield
    except RagError:
        raise
    except BaseException as err:
        if isinstance(err, (KeyboardInterrupt, SystemExit, GeneratorExit)):
            raise
        line = (str(err).strip().splitlines() or [type(err).__name__])[0][:200]
        failure = StoreUnavailableError(f"the Chroma store failed ({line}); "
                                        "`rag status --check` tells whether it needs `rag status --repair`")
        failure.detail = line
        raise failure from None


class GuardedVectors:
    """A ChromaStore whose method calls fail with StoreUnavailableError instead of Chroma's own types."""

    def __init__(self, inner: ChromaStore):
        self.inner = inner

    def __getattr__(self, name: str):
        value = getattr(self.inner, name)
        if not callable(value):
            return value

        def guarded(*args, **kwargs):
            with chroma_errors():
                return value(*args, **kwargs)

        return guarded


def _forget_chroma_system(path: Path) -> None:
    """chromadb caches one System per directory before starting it; when the start fails (damaged
    files) the broken System stays cached and every later client in this process gets it."""
    try:
        from chromadb.api.shared_system_client import SharedSystemClient

        SharedSystemClient._identifier_to_system.pop(str(path), None)
        SharedSystemClient._identifier_to_refcount.pop(str(path), None)
    except ImportError:  # another chromadb layout: nothing cached the same way
        pass
