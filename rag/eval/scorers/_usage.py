"""Latency, tokens and cost: measurements, not judgements (lower is better)."""

from __future__ import annotations

from rag.models import Answer, Score


def latency(seconds: float, timings: dict[str, float]) -> Score:
    parts = ", ".join(f"{k} {v:.3f}" for k, v in timings.items())
    return Score(value=round(seconds, 4), explanation=f"{seconds:.3f} s wall clock" + (f" ({parts})" if parts else ""))


def tokens(answer: Answer) -> Score:
    u = answer.usage
    return Score(value=float(u.prompt_tokens + u.completion_tokens),
                 explanation=f"{u.prompt_tokens} prompt + {u.completion_tokens} completion tokens")


def cost(answer: Answer) -> Score:
    return Score(value=answer.usage.cost_usd, explanation=f"${answer.usage.cost_usd:.6f}")
