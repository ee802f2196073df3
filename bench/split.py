"""The fixed tune/check split of the benchmark questions (bench/split.toml), by quiz week."""

from __future__ import annotations

import tomllib
from pathlib import Path

SPLIT_FILE = Path(__file__).with_name("split.toml")
HALVES = ("tune", "check")


def weeks() -> dict[str, str]:
    """Quiz week (YYYYMMDD) → 'tune' or 'check'."""
    table = tomllib.loads(SPLIT_FILE.read_text(encoding="utf-8"))
    return {week: half for half in HALVES for week in table[half]}


def half_of(question: dict, table: dict[str, str] | None = None) -> str:
    """The half a question belongs to; a week the split does not name is an error, not a guess."""
    week = question["id"].split("_", 1)[0]
    half = (table or weeks()).get(week)
    if half is None:
        raise KeyError(f"quiz week {week} of question {question['id']} is in neither half of {SPLIT_FILE.name}")
    return half


def select(questions: list[dict], half: str | None) -> list[dict]:
    """The questions of one half (None: all of them), in their original order."""
    if half is None:
        return list(questions)
    if half not in HALVES:
        raise ValueError(f"half must be one of {', '.join(HALVES)}, got {half!r}")
    table = weeks()
    return [q for q in questions if half_of(q, table) == half]
