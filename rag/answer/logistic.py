"""The small fitted models the extractive engine reads: a logistic regression on standardised
features, stored as JSON (features, weights, bias, mean, scale) beside the module that uses it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def read_model(path: Path, known: tuple[str, ...]) -> dict:
    model = json.loads(path.read_text(encoding="utf-8"))
    missing = set(model["features"]) - set(known)
    if missing:
        raise ValueError(f"{path.name}: unknown features {sorted(missing)}")
    return model


def predict(values: dict[str, float], model: dict) -> float:
    return predict_many([values], model)[0]


def predict_many(rows: list[dict[str, float]], model: dict) -> list[float]:
    """`predict` for many rows at once: one matrix product instead of a vector per row (the
    answer stage scores a few hundred candidate sentences per question)."""
    if not rows:
        return []
    names = model["features"]
    x = np.array([[r[f] for f in names] for r in rows], dtype=float)
    z = ((x - np.array(model["mean"])) / np.array(model["scale"])) @ np.array(model["weights"]) + model["bias"]
    return (1.0 / (1.0 + np.exp(-z))).tolist()
