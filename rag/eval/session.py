"""One `rag eval` invocation as a library call: load cases, run, save, compare, apply the gates.
The CLI only parses flags and prints what this returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rag.errors import ConfigError
from rag.eval.cases import load_cases
from rag.eval.compare import compare_runs
from rag.eval.entail import lexical_entails
from rag.eval.gates import GATE_EXIT, parse_thresholds, threshold_failures
from rag.eval.runfile import default_run_path, load_run, save_run
from rag.eval.runner import Progress, run_eval
from rag.models import Comparison, EvalRun
from rag.prompts import load_prompt
from rag.settings import Settings


@dataclass
class EvalRequest:
    cases: list[Path] = field(default_factory=lambda: [Path("evals")])
    tags: list[str] = field(default_factory=list)
    prompt: str | None = None
    repeat: int = 1
    judge: str = "lexical"
    out: Path | None = None
    baseline: Path | None = None
    fail_under: list[str] = field(default_factory=list)
    corpus: str = "corpus"  # only cases that run on this corpus are asked


@dataclass
class EvalOutcome:
    run: EvalRun
    path: Path
    comparison: Comparison | None = None
    thresholds: dict[str, float] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    @property
    def regressions(self) -> list[str]:
        return self.comparison.regressions if self.comparison else []

    @property
    def exit_code(self) -> int:
        return GATE_EXIT if self.failures or self.regressions else 0


def evaluate(settings: Settings, request: EvalRequest, progress: Progress | None = None, rag=None) -> EvalOutcome:
    from rag.api import Rag

    thresholds = parse_thresholds(request.fail_under)  # bad flags fail before any work
    baseline = load_run(request.baseline) if request.baseline else None
    cases = load_cases(request.cases)
    if request.tags:
        cases = [c for c in cases if set(c.tags) & set(request.tags)]
    notes: list[str] = []
    elsewhere = [c for c in cases if c.corpus != request.corpus]
    if elsewhere:
        others = ", ".join(sorted({c.corpus for c in elsewhere}))
        notes.append(f"{len(elsewhere)} case(s) not run: they run on another corpus ({others}; --corpus selects)")
        cases = [c for c in cases if c.corpus == request.corpus]
    if not cases:
        raise ConfigError("no cases to run" + (f" with tag(s) {', '.join(request.tags)}" if request.tags else "")
                          + (f" on corpus {request.corpus!r}" if elsewhere else ""))
    settings = _with_prompt(settings, request.prompt, notes)
    own = rag is None
    rag = rag or Rag(settings)
    judge = _judge(rag, request.judge)
    try:
        run = run_eval(rag, cases, repeat=request.repeat, entails=judge or lexical_entails, judge=judge.name if judge else "lexical",
                       case_files=[str(p) for p in request.cases], notes=notes, progress=progress)
    finally:
        if own:
            rag.close()
    if judge is not None:
        run.notes.append(judge.summary())
    if request.prompt and run.prompt_hash is None:
        run.prompt_name, run.prompt_hash = _prompt_identity(request.prompt)
    path = save_run(run, request.out or default_run_path(settings.store_dir, run))
    comparison = compare_runs(baseline, run, str(request.baseline)) if baseline else None
    return EvalOutcome(run=run, path=path, comparison=comparison, thresholds=thresholds,
                       failures=threshold_failures(run.metrics, thresholds))


def _with_prompt(settings: Settings, prompt: str | None, notes: list[str]) -> Settings:
    """Point the LLM engine at a prompt variant; other engines only record it."""
    if not prompt:
        return settings
    _prompt_identity(prompt)  # a missing or malformed prompt fails now, with its own message
    if settings.engine != "llm":
        notes.append(f"--prompt {prompt}: the {settings.engine} engine uses no prompt; recorded only")
    return settings.model_copy(update={"llm_prompt": prompt})


def _prompt_identity(prompt: str) -> tuple[str, str]:
    loaded = load_prompt(prompt)
    return loaded.name, loaded.hash


def _judge(rag, name: str):
    if name == "lexical":
        return None
    if name != "llm":
        raise ConfigError(f"--judge must be 'lexical' or 'llm', not {name!r}")
    from rag.eval.judge import LLMJudge

    return LLMJudge(rag.llm)  # the Rag's client: with --local-model, the same local server
