"""rag eval: run the eval cases, save the run, compare with a baseline, gate on thresholds."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from rag.cli.app import app
from rag.cli.options import LocalModel, StoreOptions, grouped


@app.command("eval")
@grouped
def eval_(
    cases: Annotated[list[Path] | None, typer.Argument(help="Case files or directories (default: evals/).")] = None,
    engine: Annotated[str | None, typer.Option("--engine", help="extractive or llm.")] = None,
    prompt: Annotated[str | None, typer.Option("--prompt", help="Prompt variant for the llm engine: a name in prompts/ or a .md file.")] = None,
    repeat: Annotated[int, typer.Option("--repeat", min=1, max=100, help="Ask every case N times; report mean and spread.")] = 1,
    out: Annotated[Path | None, typer.Option("--out", help="Run file, .json or .jsonl (default: <store>/eval-runs/<id>.json).")] = None,
    compare: Annotated[Path | None, typer.Option("--compare", help="Baseline run file: show every metric's change and the flipped cases.")] = None,
    fail_under: Annotated[list[str] | None, typer.Option("--fail-under", help="METRIC=VALUE: exit 3 when a metric is below (repeatable).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table, md, json or html (printed).")] = "table",
    report: Annotated[list[Path] | None, typer.Option("--report", help="Also write a report; .md, .json or .html by extension (repeatable).")] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="Only cases with this tag (repeatable).")] = None,
    judge: Annotated[str, typer.Option("--judge", help="Who decides citation support: lexical (offline) or llm.")] = "lexical",
    corpus: Annotated[str, typer.Option("--corpus", help="Run the cases of this corpus (a case file's `corpus:`; default the seed corpus/).")] = "corpus",
    local_model: LocalModel = None,
    *,
    store: StoreOptions,
) -> None:
    """Score answers against the hand-written cases in evals/; exit 3 when a gate fails."""
    from rag.errors import ConfigError
    from rag.eval.report import FORMATS, print_table, render
    from rag.eval.session import EvalRequest, evaluate

    if fmt not in FORMATS:
        raise ConfigError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    reports = [(p, _report_format(p)) for p in report or []]
    request = EvalRequest(cases=cases or [Path("evals")], tags=tag or [], prompt=prompt, repeat=repeat, judge=judge,
                          out=out, baseline=compare, fail_under=fail_under or [], corpus=corpus)
    outcome = evaluate(store.settings(engine=engine, llm_local_model=local_model), request,
                       progress=_progress())
    for path, kind in reports:
        try:
            path.write_text(render(outcome, kind), encoding="utf-8")
        except OSError as err:
            raise ConfigError(f"cannot write report {path}: {err.strerror or err}") from None
    if fmt == "table":
        print_table(outcome)
    else:
        print(render(outcome, fmt), end="" if fmt == "md" else "\n")
    raise typer.Exit(outcome.exit_code)


def _report_format(path: Path) -> str:
    from rag.errors import ConfigError

    kind = {".md": "md", ".json": "json", ".html": "html", ".htm": "html"}.get(path.suffix.lower())
    if kind is None:
        raise ConfigError(f"--report {path}: use a .md, .json or .html file name")
    return kind


def _progress():
    """A one-line counter on stderr when it is a terminal; nothing otherwise."""
    if not sys.stderr.isatty():
        return None

    def show(done: int, total: int, case_id: str) -> None:
        end = "\n" if done == total else ""
        print(f"\r\033[Keval {done}/{total} {case_id}", end=end, file=sys.stderr, flush=True)

    return show
