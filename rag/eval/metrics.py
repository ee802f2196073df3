"""Run-level metrics: each is computed per repeat (epoch) over the cases it applies to, then
summarised as the mean over repeats and their spread (sample standard deviation)."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass

from rag.models import CaseResult, MetricSummary, Trial


@dataclass(frozen=True)
class Metric:
    name: str
    description: str
    kind: str  # "question" or "briefing": the cases it is computed over
    higher_is_better: bool = True
    gated: bool = True  # a drop beyond the noise is a regression
    score: str | None = None  # the per-trial score it averages
    reduce: str = "mean"  # mean | p95 | sum | pass
    when: Callable[[CaseResult], bool] | None = None  # restricts the cases
    # Engines under which it is 1.0 by construction (the extractive engine's sentences are quotes
    # of what they cite): there it is an invariant that checks the code, not a measure of quality.
    invariant_for: frozenset[str] = frozenset()


_QUOTES = frozenset({"extractive"})


def invariants(engine: str) -> list[str]:
    """The metrics that cannot fail with this engine, in report order."""
    return [m.name for m in METRICS.values() if engine in m.invariant_for]


def _answerable(r: CaseResult) -> bool:
    return not getattr(r.case, "refuse", False)


def _unanswerable(r: CaseResult) -> bool:
    return bool(getattr(r.case, "refuse", False))


METRICS: dict[str, Metric] = {m.name: m for m in [
    Metric("pass_rate", "Share of cases that pass: right refusal decision, every fact, every citation verbatim.",
           "question", reduce="pass"),
    Metric("fact_recall", "Share of expected facts stated (answerable cases; a refusal scores 0).", "question",
           score="fact_recall"),
    Metric("citation_validity", "Share of citations whose quote is verbatim at the cited lines.", "question",
           score="citation_validity", invariant_for=_QUOTES),
    Metric("citation_recall", "ALCE citation recall: share of sentences their citations support.", "question",
           score="citation_recall", invariant_for=_QUOTES),
    Metric("citation_precision", "ALCE citation precision: share of citations that are relevant.", "question",
           score="citation_precision"),
    Metric("source_recall_cited", "Share of expected sources among those cited.", "question",
           score="source_recall_cited"),
    Metric("source_recall_retrieved", "Share of expected sources among those retrieved.", "question",
           score="source_recall_retrieved"),
    Metric("refusal_accuracy", "Share of cases refused exactly when they should be.", "question", score="refusal"),
    Metric("answered_when_answerable", "Share of answerable cases answered (1 - false refusals).", "question",
           score="refusal", when=_answerable),
    Metric("refused_when_unanswerable", "Share of unanswerable cases refused.", "question", score="refusal",
           when=_unanswerable),
    Metric("latency_mean_s", "Mean wall-clock seconds per answer.", "question", higher_is_better=False,
           gated=False, score="latency_s"),
    Metric("latency_p95_s", "95th percentile of seconds per answer.", "question", higher_is_better=False,
           gated=False, score="latency_s", reduce="p95"),
    Metric("tokens_per_case", "Mean LLM tokens (prompt + completion) per answer.", "question",
           higher_is_better=False, gated=False, score="tokens"),
    Metric("cost_usd", "Estimated LLM cost of one pass over the cases.", "question", higher_is_better=False,
           gated=False, score="cost_usd", reduce="sum"),
    Metric("brief_pass_rate", "Share of briefing cases with every fact and every citation verbatim.", "briefing",
           reduce="pass"),
    Metric("brief_fact_recall", "Share of expected facts a briefing covers.", "briefing", score="fact_recall"),
    Metric("brief_citation_validity", "Share of briefing citations verbatim at their lines.", "briefing",
           score="citation_validity", invariant_for=_QUOTES),
    Metric("brief_source_recall", "Share of expected sources a briefing cites.", "briefing",
           score="source_recall_cited"),
    Metric("brief_timeline_accuracy", "Share of timeline entries about a labelled event dated as labelled.",
           "briefing", score="timeline_date_accuracy"),
    Metric("brief_timeline_recall", "Share of labelled events the timeline gives with their date.", "briefing",
           score="timeline_event_recall"),
    Metric("brief_old_facts_left_out", "--new-since cases: share of the earlier articles' facts a briefing of "
           "what is new leaves out.", "briefing", score="old_facts_left_out"),
]}


def metric_value(metric: Metric, trials: list[tuple[CaseResult, Trial]]) -> tuple[float | None, int]:
    """The metric over (case, trial) pairs of one epoch, and how many cases it applied to."""
    if metric.reduce == "pass":
        values = [1.0 if t.passed else 0.0 for _, t in trials]
    else:
        values = [v for _, t in trials if (s := t.scores.get(metric.score)) is not None and (v := s.value) is not None]
    if not values:
        return None, 0
    if metric.reduce == "sum":
        return sum(values), len(values)
    if metric.reduce == "p95":
        ordered = sorted(values)
        return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)], len(values)
    return sum(values) / len(values), len(values)


def compute_metrics(results: list[CaseResult], only: set[str] | None = None) -> dict[str, MetricSummary]:
    """Every metric with at least one applicable case; `only` restricts to those case ids."""
    run = [r for r in results if r.skipped is None and r.trials and (only is None or r.case.id in only)]
    epochs = sorted({t.epoch for r in run for t in r.trials})
    out: dict[str, MetricSummary] = {}
    for metric in METRICS.values():
        cases = [r for r in run if r.case.kind == metric.kind and (metric.when is None or metric.when(r))]
        per_epoch, counts = [], []
        for epoch in epochs:
            value, n = metric_value(metric, [(r, t) for r in cases for t in r.trials if t.epoch == epoch])
            per_epoch.append(value)
            counts.append(n)
        known = [v for v in per_epoch if v is not None]
        if not known:
            continue
        out[metric.name] = MetricSummary(
            mean=sum(known) / len(known),
            spread=statistics.stdev(known) if len(known) > 1 else 0.0,
            epochs=per_epoch,
            cases=max(counts),
        )
    return out


def case_status(result: CaseResult) -> str:
    """'pass', 'fail', 'skipped', or 'k/n' when a case passed k of n repeats."""
    if result.skipped is not None or not result.trials:
        return "skipped"
    wins = sum(t.passed for t in result.trials)
    if wins == len(result.trials):
        return "pass"
    if wins == 0:
        return "fail"
    return f"{wins}/{len(result.trials)}"
