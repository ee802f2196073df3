"""rag ingest URL, rag ingest --feed URL: the fetching half (its printing); the logic is rag/fetch."""

from __future__ import annotations

import sys

from rag.models import FetchOutcome, FetchReport


def fetch_and_ingest(settings, urls: list[str], feed: str | None, ingest_progress, wait: float, as_json: bool) -> int:
    """Fetch, save, ingest; one progress line per URL on stderr. Returns the exit code."""
    from rag.api import Rag

    def progress(done: int, total: int, outcome: FetchOutcome) -> None:
        print(f"[{done}/{total}] {outcome_line(outcome)}", file=sys.stderr, flush=True)

    rag = Rag(settings)
    try:
        report = rag.fetch(urls, feed=feed, progress=progress, ingest_progress=ingest_progress, lock_wait=wait)
    finally:
        rag.close()
    print(report.model_dump_json(indent=2) if as_json else fetch_text(report))
    usable = [o for o in report.items if o.status != "refused"]
    if not usable:
        print("error: nothing could be fetched", file=sys.stderr)
        return 1
    return 0


def outcome_line(outcome: FetchOutcome) -> str:
    if outcome.status == "refused":
        return f"refused {outcome.url}: {outcome.reason}"
    return f"{outcome.status} {outcome.url} -> {outcome.source}"


def fetch_text(report: FetchReport) -> str:
    from rag.render import ingest_text

    counts: dict[str, int] = {}
    for o in report.items:
        counts[o.status] = counts.get(o.status, 0) + 1
    order = ("saved", "updated", "unchanged", "known", "refused")
    head = ", ".join(f"{counts[s]} {s}" for s in order if counts.get(s)) or "no items"
    lines = [f"{'feed ' + report.feed + ': ' if report.feed else ''}{head} · {report.requests} requests · "
             f"{report.seconds:.1f}s"]
    lines += [f"  refused {o.url}: {o.reason}" for o in report.items if o.status == "refused"]
    lines.append(ingest_text(report.ingest) if report.ingest else "nothing new to index")
    return "\n".join(lines)
