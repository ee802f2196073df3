"""The eval harness, in inspect_ai's shape: cases (dataset) → engine (solver) → scorers that each
return a Score(value, explanation) → metrics over repeats → runs saved as files → comparisons.

    from rag.eval import load_cases, run_eval, compare_runs
    run = run_eval(Rag(settings), load_cases([Path("evals")]), repeat=3)
"""

from rag.eval.cases import CaseFileError, load_cases
from rag.eval.compare import compare_runs
from rag.eval.entail import Entailment, lexical_entails
from rag.eval.gates import GATE_EXIT, parse_thresholds, threshold_failures
from rag.eval.judge import LLMJudge
from rag.eval.metrics import METRICS, case_status, compute_metrics
from rag.eval.runfile import load_run, save_run
from rag.eval.runner import run_eval, store_lookup
from rag.eval.scorers import score_answer, score_briefing
from rag.eval.session import EvalOutcome, EvalRequest, evaluate

__all__ = [
    "GATE_EXIT",
    "METRICS",
    "CaseFileError",
    "Entailment",
    "EvalOutcome",
    "EvalRequest",
    "LLMJudge",
    "case_status",
    "compare_runs",
    "compute_metrics",
    "evaluate",
    "lexical_entails",
    "load_cases",
    "load_run",
    "parse_thresholds",
    "run_eval",
    "save_run",
    "score_answer",
    "score_briefing",
    "store_lookup",
    "threshold_failures",
]
