"""Estimated cost of a call from the price table in the settings (USD per million tokens)."""

from __future__ import annotations


def price_of(model: str, prices: dict[str, tuple[float, float]]) -> tuple[float, float] | None:
    """Exact name first, then the longest listed prefix ('gpt-4o-mini-2024-07-18' → 'gpt-4o-mini')."""
    if model in prices:
        return prices[model]
    for name in sorted(prices, key=len, reverse=True):
        if model.startswith(name):
            return prices[name]
    return None


def cost_usd(model: str, prompt_tokens: int, completion_tokens: int, prices: dict) -> float:
    price = price_of(model, prices)
    if price is None:
        return 0.0
    return round((prompt_tokens * price[0] + completion_tokens * price[1]) / 1e6, 8)
