"""rag log"""

from __future__ import annotations

from typing import Annotated

import typer

from rag.cli.app import app
from rag.cli.options import Json, Sets, StoreDir, settings_from
from rag.models import LLMLogReport


@app.command("log")
def log(
    n: Annotated[int, typer.Option("-n", "--number", help="How many recent calls to show.", min=0)] = 20,
    store_dir: StoreDir = None,
    sets: Sets = None,
    as_json: Json = False,
) -> None:
    """Recent LLM calls (model, prompt, tokens, cost, latency) and totals over the whole log."""
    from rag.llm.log import log_report

    report = log_report(settings_from(store_dir, None, sets), n)
    print(report.model_dump_json(indent=2) if as_json else log_text(report))


def log_text(report: LLMLogReport) -> str:
    if not report.recent and not report.calls and not report.cache_hits:
        return f"no LLM calls logged yet ({report.path})"
    out = [f"{'time (UTC)':19}  {'model':22} {'purpose':8} {'prompt':24} {'tokens':>11} {'cost $':>9} {'secs':>6}  note"]
    for c in report.recent:
        prompt = f"{c.prompt_name or '-'}@{(c.prompt_hash or '')[:6]}" if c.prompt_hash else (c.prompt_name or "-")
        tokens = f"{c.usage.prompt_tokens}+{c.usage.completion_tokens}"
        note = "cache hit" if c.cached else (f"error: {c.error}" if c.error else "")
        if c.attempts > 1:
            note = f"{c.attempts} attempts" + (f"; {note}" if note else "")
        out.append(f"{c.time:%Y-%m-%d %H:%M:%S}  {c.model[:22]:22} {c.purpose[:8]:8} {prompt[:24]:24} "
                   f"{tokens:>11} {c.usage.cost_usd:>9.6f} {c.latency_s:>6.2f}  {note}".rstrip())
    out.append("")
    out.append(f"total: {report.calls} calls sent ({report.errors} failed), {report.cache_hits} cache hits, "
               f"{report.prompt_tokens} prompt + {report.completion_tokens} completion tokens, "
               f"${report.cost_usd:.6f}, mean latency {report.mean_latency_s:.2f}s")
    out.append(f"log: {report.path}")
    return "\n".join(out)
