"""The LLM call log: one JSON line per call, appended (O_APPEND, one write per line, so
concurrent processes do not interleave lines). `rag log` reads it back."""

from __future__ import annotations

import os
from pathlib import Path

from rag.models import LLMCall, LLMLogReport, Usage


def log_path(settings) -> Path:
    return Path(settings.llm_log) if settings.llm_log else Path(settings.store_dir) / "llm-log.jsonl"


def append_call(settings, call: LLMCall) -> None:
    path = log_path(settings)
    line = (call.model_dump_json() + "\n").encode("utf-8")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)
    except OSError:
        pass  # the log is provenance, not a reason to fail an answer


def read_calls(settings) -> list[LLMCall]:
    path = log_path(settings)
    if not path.exists():
        return []
    calls = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            calls.append(LLMCall.model_validate_json(line))
        except ValueError:
            continue  # a torn or foreign line does not hide the rest
    return calls


def log_report(settings, limit: int = 20) -> LLMLogReport:
    calls = read_calls(settings)
    sent = [c for c in calls if not c.cached]
    ok = [c for c in sent if c.error is None]
    used = sum((c.usage for c in sent), Usage())
    return LLMLogReport(
        path=str(log_path(settings)),
        recent=calls[-limit:] if limit > 0 else [],
        calls=len(sent),
        cache_hits=len(calls) - len(sent),
        errors=sum(1 for c in sent if c.error),
        prompt_tokens=used.prompt_tokens,
        completion_tokens=used.completion_tokens,
        cost_usd=round(used.cost_usd, 6),
        mean_latency_s=round(sum(c.latency_s for c in ok) / len(ok), 3) if ok else 0.0,
    )
