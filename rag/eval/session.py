"""One `rag eval` invocation as a library call: load cases, run, save, compare, apply the gates.
The CLI only parses flags and prints what this returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rag.errors import ConfigError
from rag.eval.cases import load_cases
from rag.eval.compare import compare_runs
from rag.eval.corpora import NamedCorpus, corpus_settings
from rag.eval.gates import GATE_EXIT, parse_thresholds, threshold_failures
from rag.eval.metrics import compute_metrics
from rag.eval.runfile import default_run_path, load_run, save_run
from rag.eval.runner import Progress, run_eval
from rag.models import Comparison, EvalRun
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
    build_corpora: bool = False  # build the store of a corpus a case file names when it is missing


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
    if not cases:
        raise ConfigError("no cases to run" + (f" with tag(s) {', '.join(request.tags)}" if request.tags else ""))
    notes: list[str] = []
    settings = _with_prompt(settings, request.prompt, notes)
    judge = _judge(settings, request.judge)
    runs = []
    for corpus, group in _by_corpus(cases).items():
        own = rag is None or corpus is not None
        group_settings = settings if corpus is None else corpus_settings(settings, NamedCorpus(Path(corpus)),
                                                                         request.build_corpora, notes)
        if group_settings is None:
            continue
        group_rag = Rag(group_settings) if own else rag
        try:
            runs.append(run_eval(group_rag, group, repeat=request.repeat, entails=judge or _lexical(),
                                 judge=judge.name if judge else "lexical", case_files=[str(p) for p in request.cases],
                                 notes=[], progress=progress))
        finally:
            if own:
                group_rag.close()
    if not runs:
        raise ConfigError("no cases could run: " + "; ".join(notes))
    run = merge_runs(runs, notes)
    if judge is not None:
        run.notes.append(judge.summary())
    if request.prompt and run.prompt_hash is None:
        run.prompt_name, run.prompt_hash = _prompt_identity(request.prompt)
    path = save_run(run, request.out or default_run_path(settings.store_dir, run))
    comparison = compare_runs(baseline, run, str(request.baseline)) if baseline else None
    return EvalOutcome(run=run, path=path, comparison=comparison, thresholds=thresholds,
                       failures=threshold_failures(run.metrics, thresholds))


def _by_corpus(cases: list) -> dict[str | None, list]:
    """Cases grouped by the corpus their file names (None: the store's own), in file order."""
    groups: dict[str | None, list] = {}
    for case in cases:
        groups.setdefault(case.corpus, []).append(case)
    return groups


def merge_runs(runs: list[EvalRun], notes: list[str]) -> EvalRun:
    """One run of several corpora's cases: the first run's provenance, every result, metrics
    computed over all of them."""
    run = runs[0]
    for other in runs[1:]:
        run.results += other.results
        run.notes += [n for n in other.notes if n not in run.notes]
    run.notes = notes + run.notes
    run.metrics = compute_metrics(run.results)
    return run


def _lexical():
    from rag.eval.entail import lexical_entails

    return lexical_entails


def _with_prompt(settings: Settings, prompt: str | None, notes: list[str]) -> Settings:
    """Point the LLM engine at a prompt variant; other engines only record it."""
    if not prompt:
        return settings
    _prompt_identity(prompt)  # a missing or malformed prompt fails now, with its own message
    if "llm_prompt" not in Settings.model_fields:
        notes.append(f"--prompt {prompt}: this version has no prompt setting; recorded only")
        return settings
    if settings.engine != "llm":
        notes.append(f"--prompt {prompt}: the {settings.engine} engine uses no prompt; recorded only")
    return settings.model_copy(update={"llm_prompt": prompt})


def _prompt_identity(prompt: str) -> tuple[str, str]:
    try:
        from rag.prompts import load_prompt
    except ImportError:  # before prompts existed: identify the file by its content
        import hashlib

        path = Path(prompt)
        if not path.is_file():
            raise ConfigError(f"no prompt file {prompt}") from None
        return path.stem, hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    loaded = load_prompt(prompt)
    return loaded.name, loaded.hash


def _judge(settings: Settings, name: str):
    if name == "lexical":
        return None
    if name != "llm":
        raise ConfigError(f"--judge must be 'lexical' or 'llm', not {name!r}")
    try:
        from rag.llm import make_llm
    except ImportError:
        raise ConfigError("--judge llm needs the LLM client (rag.llm), which this version lacks") from None
    from rag.eval.judge import LLMJudge

    return LLMJudge(make_llm(settings))
