"""Ingest progress when the output is not a terminal (issue 18): a plain line at least every 10
seconds, from the ingest's own reports or, between them, from a timer; nothing for a short ingest
and nothing before the ingest reports a stage. Driven by a fake clock, not by waiting."""

from __future__ import annotations

import io
import threading

from rag.cli.progress import EVERY, ProgressLines, ingest_progress


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_line_at_least_every_ten_seconds_and_none_for_a_short_ingest():
    out, clock = io.StringIO(), Clock()
    lines = ProgressLines(out, clock=clock)
    assert EVERY == 10.0
    lines.update("parse", 1, 3)
    clock.now += 9.9
    lines.update("parse", 3, 3)
    lines.tick()
    assert out.getvalue() == ""  # under 10 s: silent
    clock.now += 0.1
    lines.update("embed", 256, 10_000)
    assert out.getvalue() == "ingest: embed 256/10,000 · 10 s\n"
    for _ in range(30):  # one long batch: no report from the ingest, the timer ticks every second
        clock.now += 1.0
        lines.tick()
    assert out.getvalue().splitlines()[1:] == ["ingest: embed 256/10,000 · 20 s", "ingest: embed 256/10,000 · 30 s",
                                               "ingest: embed 256/10,000 · 40 s"]


def test_nothing_is_printed_before_the_ingest_reports_a_stage():
    out, clock = io.StringIO(), Clock()
    lines = ProgressLines(out, clock=clock)
    clock.now += 60  # waiting for another ingest's lock, or failing to reach the store
    lines.tick()
    assert out.getvalue() == ""
    lines.update("parse", 0, 5)
    assert out.getvalue() == "ingest: parse 0/5 · 60 s\n"


def test_off_a_terminal_the_context_gives_the_line_printer_and_stops_its_timer():
    out = io.StringIO()  # not a tty
    with ingest_progress(out, every=3600) as progress:
        progress("parse", 1, 2)
        timer = [t for t in threading.enumerate() if t.name == "ingest-progress"]
        assert len(timer) == 1
    assert not timer[0].is_alive() and out.getvalue() == ""
