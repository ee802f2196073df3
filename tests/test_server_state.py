"""The server's one Rag is never closed under its background warm-up query (closing SQLite
connections another thread is using crashed a test run with a segfault)."""

from __future__ import annotations

import threading

from rag.server.state import ServerState
from rag.settings import Settings


class SlowRag:
    """Records whether close() came while a search was still running."""

    def __init__(self):
        self.searching = threading.Event()
        self.release = threading.Event()
        self.closed_during_search = None
        self.in_search = False
        self.searches = 0

    def search(self, question, k):
        self.in_search = True
        self.searches += 1
        self.searching.set()
        self.release.wait(5)
        self.in_search = False

    def close(self):
        self.closed_during_search = self.in_search


def owned_state(rag: SlowRag) -> ServerState:
    state = ServerState(Settings(), rag)
    state.owns_rag = True  # as when the server built its own Rag
    return state


def test_close_waits_for_the_warm_up_query():
    rag = SlowRag()
    state = owned_state(rag)
    state.warm_in_background()
    assert rag.searching.wait(5)
    closer = threading.Thread(target=state.close)
    closer.start()
    closer.join(0.3)
    assert closer.is_alive(), "close() returned while the warm-up query was running"
    rag.release.set()
    closer.join(5)
    assert rag.closed_during_search is False


def test_no_warm_up_query_after_close():
    rag = SlowRag()
    rag.release.set()
    state = owned_state(rag)
    state.close()
    state.rag_ready()
    assert rag.searches == 0 and not state.ready
