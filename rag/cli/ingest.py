"""rag ingest"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from rag.cli.app import app
from rag.cli.options import Json, StoreOptions, grouped
from rag.cli.progress import ingest_progress


@app.command()
@grouped
def ingest(
    paths: Annotated[Optional[list[str]], typer.Argument(
        help="Files or directories (default: corpus/), or http(s) URLs of article pages to fetch.")] = None,
    feed: Annotated[Optional[str], typer.Option("--feed", help="An RSS/Atom feed URL: fetch its new items.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the plan and change nothing.")] = False,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Start over (embeddings stay cached).")] = False,
    wait: Annotated[float, typer.Option("--wait", help="Seconds to wait for another ingest to finish.")] = 10.0,
    verify: Annotated[bool, typer.Option("--verify", help="Hash every file, even those whose size and "
                                                          "modification time are unchanged.")] = False,
    *,
    store: StoreOptions,
    as_json: Json = False,
) -> None:
    """Clean, chunk and index articles (.txt, .md, .html, .jsonl). Unchanged files are skipped."""
    from rag.api import Rag
    from rag.render import ingest_text

    settings = store.settings()
    urls = [p for p in paths or [] if p.startswith(("http://", "https://"))]
    if urls or feed:
        from rag.cli.fetch import fetch_and_ingest

        if len(urls) != len(paths or []) or dry_run or rebuild:
            raise typer.BadParameter("URLs and --feed cannot be mixed with files, --dry-run or --rebuild")
        with ingest_progress() as progress:
            code = fetch_and_ingest(settings, urls, feed, progress, wait, as_json)
        raise typer.Exit(code)
    paths = [Path(p) for p in paths] if paths else None
    with ingest_progress() as progress:
        report = Rag(settings).ingest(paths or None, dry_run=dry_run, rebuild=rebuild, progress=progress, lock_wait=wait,
                                     verify=verify)
    for where, reason in report.failed.items():
        print(f"skipped {where}: {reason}", file=sys.stderr)
    print(report.model_dump_json(indent=2) if as_json else ingest_text(report))
    nothing_done = not (report.added or report.updated or report.removed or report.skipped or report.duplicates)
    if report.failed and nothing_done:
        print("error: nothing could be ingested", file=sys.stderr)
        raise typer.Exit(1)
