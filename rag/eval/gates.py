"""`--fail-under METRIC=VALUE` thresholds, and the exit code of a gated run."""

from __future__ import annotations

from rag.errors import ConfigError
from rag.eval.metrics import METRICS
from rag.models import MetricSummary

GATE_EXIT = 3  # distinct from 1 (a user error) and 2 (a usage error), so CI can tell them apart


def parse_thresholds(pairs: list[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ConfigError(f"--fail-under expects METRIC=VALUE, got {pair!r}")
        if name not in METRICS:
            raise ConfigError(f"--fail-under: unknown metric {name!r}; known: {', '.join(METRICS)}")
        if not METRICS[name].higher_is_better:
            raise ConfigError(f"--fail-under: {name} is better when lower; a floor on it means nothing")
        try:
            out[name] = float(value)
        except ValueError:
            raise ConfigError(f"--fail-under {name}: {value.strip()!r} is not a number") from None
    return out


def threshold_failures(metrics: dict[str, MetricSummary], thresholds: dict[str, float]) -> list[str]:
    """One line per threshold the run misses; a metric the run did not measure misses too."""
    failures = []
    for name, floor in thresholds.items():
        summary = metrics.get(name)
        if summary is None or summary.mean is None:
            failures.append(f"{name} was not measured in this run (needs --fail-under {name}={floor:g})")
        elif summary.mean < floor:
            failures.append(f"{name} {summary.mean:.3f} is under {floor:g}")
    return failures
