"""POST /ask with `stream: true`: the answer as Server-Sent Events.

Protocol (fixed, whichever engine answers):
- `event: token`  `data: {"text": "..."}` — provisional answer text, in order, as it is produced;
- `event: answer` `data: <Answer JSON>` — the final, verified Answer (the same object as without
  streaming); it supersedes the tokens, and the stream ends;
- `event: error`  `data: {"error": "...", "status": 4xx|5xx, "details": []}` — the stream ends.

An engine that streams reports tokens through an `on_token` callback of `Rag.ask`. One that does
not (the extractive engine) is streamed as its finished answer text, cut into words.
"""

from __future__ import annotations

import inspect
import json
import queue
import re
import threading
from collections.abc import Callable, Iterator

from rag.errors import RagError
from rag.models import Answer
from rag.server import errors

_WORD = re.compile(r"(?<=\s)(?=\S)")


def event(name: str, data: dict) -> str:
    # json.dumps never emits a raw newline, so one `data:` line carries the whole payload.
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def words(text: str) -> list[str]:
    """Pieces of `text`, each a word with its trailing space; they join back to `text` exactly."""
    return [piece for piece in _WORD.split(text) if piece]


def accepts(function: Callable, parameter: str) -> bool:
    try:
        return parameter in inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False


class AnswerStream:
    """Runs `ask(**kwargs)` in a worker thread and hands out its tokens and its answer in order.

    The constructor waits for the first item, so a failure before any output (an empty index,
    an unreachable LLM) is raised to the caller and gets an HTTP status instead of an event.
    """

    def __init__(self, ask: Callable[..., Answer], kwargs: dict):
        self._queue: queue.Queue = queue.Queue()
        if accepts(ask, "on_token"):
            kwargs = {**kwargs, "on_token": lambda text: self._queue.put(("token", text))}
        threading.Thread(target=self._run, args=(ask, kwargs), name="rag-ask-stream", daemon=True).start()
        self._first = self._queue.get()
        if self._first[0] == "error":
            raise self._first[1]

    def _run(self, ask: Callable[..., Answer], kwargs: dict) -> None:
        try:
            self._queue.put(("answer", ask(**kwargs)))
        except Exception as err:  # noqa: BLE001 - every failure must reach the client, as an event or a status
            self._queue.put(("error", err))

    def events(self) -> Iterator[str]:
        item, streamed = self._first, False
        while True:
            kind, value = item
            if kind == "token":
                streamed = True
                yield event("token", {"text": value})
            elif kind == "answer":
                if not streamed:
                    for piece in words(value.answer):
                        yield event("token", {"text": piece})
                yield event("answer", value.model_dump(mode="json"))
                return
            else:
                yield event("error", _error(value))
                return
            item = self._queue.get()


def _error(err: Exception) -> dict:
    if isinstance(err, RagError):
        return {**errors.body(str(err)), "status": errors.status_of(err)}
    errors.log.error("unexpected error in a streamed answer", exc_info=err)
    return {**errors.body(f"internal error ({type(err).__name__}); the server log has the details"), "status": 500}
