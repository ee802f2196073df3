"""rag show, rag status"""

from __future__ import annotations

from typing import Annotated

import typer

from rag.cli.app import ChromaUrl, Json, Sets, StoreDir, app, settings_from


@app.command()
def show(
    spec: Annotated[str, typer.Argument(metavar="SOURCE[:START-END]", help="e.g. 003_568550a85670bdb3.txt:13-15")],
    raw: Annotated[bool, typer.Option("--raw", help="Mark the lines the cleaner dropped, with the reason.")] = False,
    store_dir: StoreDir = None,
    sets: Sets = None,
    as_json: Json = False,
) -> None:
    """Print lines of an indexed article: the target of a citation."""
    from rag.api import Rag
    from rag.render import passage_text

    passage = Rag(settings_from(store_dir, None, sets)).show(spec)
    print(passage.model_dump_json(indent=2) if as_json else passage_text(passage, raw))


@app.command()
def status(
    check: Annotated[bool, typer.Option("--check", help="Verify that the manifest, BM25 and Chroma agree.")] = False,
    store_dir: StoreDir = None,
    chroma_url: ChromaUrl = None,
    sets: Sets = None,
    as_json: Json = False,
) -> None:
    """What is indexed: documents, chunks, embedding model, store location and sizes."""
    from rag.api import Rag
    from rag.render import status_text

    report = Rag(settings_from(store_dir, chroma_url, sets)).status(check=check)
    print(report.model_dump_json(indent=2) if as_json else status_text(report))
    if report.problems and any("missing" in p or "unreadable" in p or "extra" in p for p in report.problems):
        raise typer.Exit(1)
