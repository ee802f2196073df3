"""Saved eval runs (`rag eval` writes them under <store>/eval-runs/), readable over HTTP.

Running an eval takes minutes of CPU, so it stays a command (`rag eval`, `make eval`); the API
shows what the runs found.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pydantic import BaseModel, Field

from rag.errors import NotFoundError
from rag.eval.runfile import load_run
from rag.models import EvalRun

RUN_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,119}$"


class EvalRunSummary(BaseModel):
    id: str
    created: dt.datetime
    engine: str
    model: str | None = None
    prompt_name: str | None = None
    settings_hash: str
    repeat: int
    cases: int
    metrics: dict[str, float | None] = Field(description="Each metric's mean over the repeats.")


def _runs_dir(store_dir: Path) -> Path:
    return Path(store_dir) / "eval-runs"


def run_summaries(store_dir: Path) -> list[EvalRunSummary]:
    runs = []
    for path in sorted(_runs_dir(store_dir).glob("*.json*")):
        if path.suffix in (".json", ".jsonl"):
            run = load_run(path)
            runs.append(EvalRunSummary(
                id=run.id, created=run.created, engine=run.engine, model=run.model, prompt_name=run.prompt_name,
                settings_hash=run.settings_hash, repeat=run.repeat, cases=len(run.results),
                metrics={name: m.mean for name, m in run.metrics.items()},
            ))
    return sorted(runs, key=lambda r: r.created, reverse=True)


def eval_run(store_dir: Path, run_id: str) -> EvalRun:
    for suffix in (".json", ".jsonl"):
        path = _runs_dir(store_dir) / f"{run_id}{suffix}"
        if path.is_file():
            return load_run(path)
    raise NotFoundError(f"no eval run {run_id!r}; GET /evals lists the saved runs")
