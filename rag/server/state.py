"""What one server process holds: ONE long-lived Rag (models loaded once) and its metrics."""

from __future__ import annotations

import threading
from pathlib import Path

from rag.api import Rag
from rag.errors import RagError
from rag.server.errors import Forbidden
from rag.server.metrics import Metrics
from rag.settings import Settings


class ServerState:
    def __init__(self, settings: Settings, rag: Rag | None = None):
        self.settings = settings
        self.owns_rag = rag is None
        self.rag = rag or Rag(settings)
        self.metrics = Metrics()
        # Briefings are the longest requests; past the cap they are refused, not queued, so they
        # never hold every worker thread (503 with Retry-After, see routes.brief).
        self.briefings = threading.BoundedSemaphore(settings.api_max_briefings)
        self._warm = False
        self._closed = False
        # Held by the warm-up query and by close(): closing the index under a running query
        # closes SQLite connections another thread is using, which crashes the process.
        self._warm_lock = threading.Lock()

    @property
    def ready(self) -> bool:
        return self._warm

    def rag_ready(self) -> Rag:
        """The Rag, with its index components loaded before any concurrent use.

        The Store builds its embedder, Chroma client and lexical index lazily, in attributes with
        no lock: concurrent first requests would each build their own. One query under a lock
        loads them all once; until an index exists it is retried on the next request.
        """
        if not self._warm:
            with self._warm_lock:
                if not self._warm and not self._closed:
                    try:
                        self.rag.search("warm up", k=1)
                        self._warm = True
                    except RagError:
                        pass  # no usable index yet; the request itself will say why
        return self.rag

    def warm_in_background(self) -> None:
        threading.Thread(target=self.rag_ready, name="rag-warm-up", daemon=True).start()

    @property
    def corpus_root(self) -> Path:
        return Path(self.settings.corpus_dir).absolute()

    def check_writable(self) -> None:
        if self.settings.api_read_only:
            raise Forbidden("this server is read-only (api_read_only); ingest with `rag ingest` instead")

    def close(self) -> None:
        with self._warm_lock:  # waits for a warm-up query still running in the background
            self._closed = True
            if self.owns_rag:
                self.rag.close()
