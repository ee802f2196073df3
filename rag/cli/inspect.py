"""rag show, rag status"""

from __future__ import annotations

from typing import Annotated

import typer

from rag.cli.app import app
from rag.cli.options import Json, Sets, StoreDir, StoreOptions, grouped, settings_from


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
@grouped
def status(
    check: Annotated[bool, typer.Option("--check", help="Verify that the manifest, the lexical index and Chroma agree; exit 1 if not.")] = False,
    repair: Annotated[bool, typer.Option("--repair", help="Restore agreement: rebuild the lexical index or Chroma from the docstore "
                                                          "and the embedding cache, and remove garbage.")] = False,
    wait: Annotated[float, typer.Option("--wait", help="Seconds to wait for a running ingest.")] = 10.0,
    *,
    store: StoreOptions,
    as_json: Json = False,
) -> None:
    """What is indexed: documents, chunks, embedding model, store location and sizes."""
    from rag.api import Rag
    from rag.render import status_text

    settings = store.settings()
    if repair:
        from rag.index.repair import repair as repair_index

        fixed = repair_index(settings, lock_wait=wait)
        print(fixed.model_dump_json(indent=2) if as_json else _repair_text(fixed))
        if fixed.problems:
            raise typer.Exit(1)
        return
    from rag.index.status import status as index_status

    rag = Rag(settings)
    report = index_status(rag.store, check=check, lock_wait=wait)
    if as_json:
        print(report.model_dump_json(indent=2))
    else:
        print(status_text(report))
        for leftover in report.garbage:
            print(f"garbage    {leftover}")
        if check:
            print("check      " + ("INCONSISTENT: run `rag status --repair`" if report.problems else "consistent"))
    if report.problems:
        raise typer.Exit(1)


def _repair_text(report) -> str:
    out = [f"store      {report.store_dir}"]
    out += [f"found      {p}" for p in report.found]
    out += [f"repaired   {a}" for a in report.actions] or ["repaired   nothing: the index was consistent"]
    out += [f"problem    {p}" for p in report.problems]
    out += [f"garbage    {g}" for g in report.garbage]
    out.append("check      " + ("INCONSISTENT" if report.problems else "consistent") + f" · {report.seconds:.1f}s")
    return "\n".join(out)
