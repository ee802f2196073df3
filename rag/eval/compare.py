"""Comparing a run with a baseline: the change in every metric, and the cases that flipped.

Both runs are re-scored on the cases they share. A change counts as a regression only when a
gated (quality) metric gets worse by more than the noise: NOISE_Z standard errors of the
difference of the two means, each estimated from the spread across repeats (`--repeat N`).
When only one run has repeats, its spread stands in for the other's. With no repeats on either
side there is no noise estimate, so any drop is a regression: right for the deterministic
extractive engine, and the reason to use --repeat with an LLM.
"""

from __future__ import annotations

import math

from rag.eval.metrics import METRICS, case_status, compute_metrics
from rag.models import CaseFlip, Comparison, EvalRun, MetricChange, MetricSummary

NOISE_Z = 2.0
_EPSILON = 1e-9  # floating-point slack: smaller changes are no change


def noise_margin(a: MetricSummary, b: MetricSummary) -> float:
    na = sum(v is not None for v in a.epochs) or 1
    nb = sum(v is not None for v in b.epochs) or 1
    sa, sb = a.spread, b.spread
    if na < 2 <= nb:
        sa = sb
    if nb < 2 <= na:
        sb = sa
    return max(_EPSILON, NOISE_Z * math.sqrt(sa * sa / na + sb * sb / nb))


def compare_runs(baseline: EvalRun, current: EvalRun, baseline_path: str | None = None) -> Comparison:
    ran_b = {r.case.id: r for r in baseline.results if r.skipped is None and r.trials}
    ran_c = {r.case.id: r for r in current.results if r.skipped is None and r.trials}
    shared = [i for i in ran_c if i in ran_b]
    mb = compute_metrics(baseline.results, set(shared))
    mc = compute_metrics(current.results, set(shared))
    changes = [_change(name, mb.get(name), mc.get(name)) for name in METRICS if name in mb or name in mc]
    flips = []
    for case_id in shared:
        before, after = case_status(ran_b[case_id]), case_status(ran_c[case_id])
        if before != after:
            direction = ("pass→fail" if (before, after) == ("pass", "fail") else
                         "fail→pass" if (before, after) == ("fail", "pass") else "changed")
            flips.append(CaseFlip(id=case_id, baseline=before, current=after, direction=direction))
    return Comparison(
        baseline_id=baseline.id, baseline_path=baseline_path, shared_cases=len(shared),
        only_in_baseline=sorted(set(ran_b) - set(ran_c)), only_in_current=sorted(set(ran_c) - set(ran_b)),
        metrics=changes, flips=flips, warnings=_warnings(baseline, current, shared, ran_b, ran_c),
    )


def _change(name: str, before: MetricSummary | None, after: MetricSummary | None) -> MetricChange:
    metric = METRICS[name]
    if before is None or after is None or before.mean is None or after.mean is None:
        return MetricChange(name=name, baseline=before.mean if before else None,
                            current=after.mean if after else None, delta=None, noise=0.0,
                            higher_is_better=metric.higher_is_better, gated=metric.gated, verdict="n/a")
    delta = after.mean - before.mean
    noise = noise_margin(before, after)
    if abs(delta) <= _EPSILON:
        verdict = "unchanged"
    elif abs(delta) <= noise:
        verdict = "within noise"
    else:
        verdict = "improvement" if (delta > 0) == metric.higher_is_better else "regression"
    return MetricChange(name=name, baseline=before.mean, current=after.mean, delta=delta, noise=noise,
                        higher_is_better=metric.higher_is_better, gated=metric.gated, verdict=verdict)


def _warnings(baseline: EvalRun, current: EvalRun, shared: list[str], ran_b, ran_c) -> list[str]:
    out = []
    for label, before, after in (("engine", baseline.engine, current.engine), ("model", baseline.model, current.model),
                                 ("judge", baseline.judge, current.judge)):
        if before != after:
            out.append(f"{label} differs: {before} → {after}")
    if (baseline.prompt_name, baseline.prompt_hash) != (current.prompt_name, current.prompt_hash):
        out.append(f"prompt: {baseline.prompt_name or '-'} {baseline.prompt_hash or ''} → "
                   f"{current.prompt_name or '-'} {current.prompt_hash or ''}".replace("  ", " "))
    if baseline.settings_hash != current.settings_hash:
        keys = sorted(set(baseline.settings) | set(current.settings))
        changed = [f"{k} {baseline.settings.get(k)!r} → {current.settings.get(k)!r}"
                   for k in keys if baseline.settings.get(k) != current.settings.get(k)]
        out.append("settings differ: " + ("; ".join(changed) if changed else f"{baseline.settings_hash} → "
                                          f"{current.settings_hash}"))
    edited = [i for i in shared if _definition(ran_b[i].case) != _definition(ran_c[i].case)]
    if edited:
        out.append(f"{len(edited)} case(s) changed definition between the runs: {', '.join(edited[:10])}")
    return out


def _definition(case) -> dict:
    return case.model_dump(exclude={"file", "line"})
