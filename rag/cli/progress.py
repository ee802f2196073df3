"""Ingest progress: a rich bar on an interactive terminal; on a pipe or a log (CI, `nohup`), a
plain line at least every 10 seconds, so a long ingest never looks hung. A short ingest (under
10 s) prints no progress line at all."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import TextIO

EVERY = 10.0  # seconds between lines when the output is not a terminal


class ProgressLines:
    """`update(stage, done, total)` from the ingest; `tick()` from a timer. Either prints a line
    when `every` seconds have passed since the last one (or since the start), once the ingest has
    reported a stage: waiting for the lock or failing to open the store stays an error's one line."""

    def __init__(self, out: TextIO, every: float = EVERY, clock: Callable[[], float] = time.monotonic):
        self.out, self.every, self.clock = out, every, clock
        self.started = self.last = clock()
        self.state: tuple[str, int, int] | None = None
        self._lock = threading.Lock()

    def update(self, stage: str, done: int, total: int) -> None:
        with self._lock:
            self.state = (stage, done, total)
            self._maybe_print()

    def tick(self) -> None:
        with self._lock:
            self._maybe_print()

    def _maybe_print(self) -> None:
        now = self.clock()
        if self.state is None or now - self.last < self.every:
            return
        self.last = now
        stage, done, total = self.state
        print(f"ingest: {stage} {done:,}/{total:,} · {now - self.started:.0f} s", file=self.out, flush=True)


class ingest_progress:
    """A context manager giving the ingest's progress callback (None: report nothing)."""

    def __init__(self, out: TextIO | None = None, every: float = EVERY):
        self.out, self.every = out or sys.stderr, every
        self._bar = self._stop = self._timer = None

    def __enter__(self) -> Callable[[str, int, int], None]:
        if self.out.isatty():
            return self._start_bar()
        lines = ProgressLines(self.out, self.every)
        self._stop = threading.Event()
        # The ingest reports between files and batches; one batch (or torch loading) can take
        # longer than `every`, so a timer keeps the lines coming.
        self._timer = threading.Thread(target=self._tick, args=(lines,), daemon=True, name="ingest-progress")
        self._timer.start()
        return lines.update

    def _tick(self, lines: ProgressLines) -> None:
        while not self._stop.wait(min(1.0, self.every)):
            lines.tick()

    def _start_bar(self) -> Callable[[str, int, int], None]:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        self._bar = Progress(TextColumn("{task.description:>6}"), BarColumn(), MofNCompleteColumn(),
                             TimeRemainingColumn(), transient=True, console=Console(file=self.out))
        self._bar.start()
        tasks: dict[str, int] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = self._bar.add_task(stage, total=total)
            self._bar.update(tasks[stage], completed=done, total=total)

        return update

    def __exit__(self, *exc) -> bool:
        if self._bar is not None:
            self._bar.stop()
        if self._stop is not None:
            self._stop.set()
            self._timer.join()
        return False
