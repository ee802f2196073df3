"""Warm search latency of the chosen ranking against main's chunk-level RRF, side by side in one
process on one store (issue 14): the settings alternate question by question, so load that
comes and goes on a shared machine falls on all alike. Round 2's chunk-level ranking (what
main searched by before the whole-article list), round 4's (each article shown by its
best-ranked chunk) and round 5's (no lead in that choice) run beside them the same way. Prints p50/p95 per setting, their
ratios, the mean of each search stage, and the load average.

    python -m bench.retrieval_latency [--store bench/out/full/stores/main] [--questions 96]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from bench import data as bench_data
from bench.metrics import latency_summary
from bench.phases import WARM_UP
from bench.retrieval_grid import BASELINE, ROUND2, START

ROUND4 = {"passage_choice": "score"}  # round 4's ranking: each article shown by its best-ranked chunk
MAIN_RRF = {**START, **BASELINE, **ROUND4}  # the ranking before issue 14 (chunk-level RRF, 50 candidates, no cap)
CHUNK_ROUND2 = {**START, **ROUND2, **ROUND4}  # round 2's chunk-level ranking (per-article cap, no whole-article list)
ROUND5 = {"passage_lead_bonus": 0.0}  # round 5's passage choice: the articles' leads not read


def measure(store_dir: Path, questions: list[str], rounds: int = 1, overrides: dict | None = None) -> dict:
    from rag.index.store import Store
    from rag.retrieval import search
    from rag.settings import Settings

    chosen = Settings(store_dir=store_dir, corpus_dir=store_dir.parent, **(overrides or {}))
    systems = {"chosen": chosen, "main_rrf": chosen.model_copy(update=MAIN_RRF),
               "round2": chosen.model_copy(update=CHUNK_ROUND2),
               "round4": chosen.model_copy(update=ROUND4), "round5": chosen.model_copy(update=ROUND5)}
    store = Store(chosen)
    seconds = {name: [] for name in systems}
    stages = {name: {} for name in systems}
    try:
        for settings in systems.values():
            store.settings = settings
            search(store, WARM_UP)
        for _ in range(rounds):
            for question in questions:
                for name, settings in systems.items():
                    store.settings = settings
                    start = time.perf_counter()
                    result = search(store, question)
                    seconds[name].append(time.perf_counter() - start)
                    for stage, value in result.timings.items():
                        stages[name][stage] = stages[name].get(stage, 0.0) + 1000 * value
    finally:
        store.close()
    n = len(questions) * rounds
    out = {name: {**latency_summary(s), "stages_ms": {k: round(v / n, 1) for k, v in stages[name].items()}}
           for name, s in seconds.items()}
    out["ratio_p50"] = out["chosen"]["p50_ms"] / out["main_rrf"]["p50_ms"]
    out["ratio_p95"] = out["chosen"]["p95_ms"] / out["main_rrf"]["p95_ms"]
    out["ratio_p50_round2"] = out["chosen"]["p50_ms"] / out["round2"]["p50_ms"]
    out["ratio_p95_round2"] = out["chosen"]["p95_ms"] / out["round2"]["p95_ms"]
    out["ratio_p50_round4"] = out["chosen"]["p50_ms"] / out["round4"]["p50_ms"]
    out["ratio_p95_round4"] = out["chosen"]["p95_ms"] / out["round4"]["p95_ms"]
    out["ratio_p50_round5"] = out["chosen"]["p50_ms"] / out["round5"]["p50_ms"]
    out["ratio_p95_round5"] = out["chosen"]["p95_ms"] / out["round5"]["p95_ms"]
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench.retrieval_latency", description=__doc__.splitlines()[0])
    p.add_argument("--store", type=Path, default=bench_data.ROOT / "bench" / "out" / "full" / "stores" / "main")
    p.add_argument("--questions", type=int, default=96)
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--data", type=Path, default=bench_data.DATA)
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="a setting of the chosen ranking (before it is the default)")
    p.add_argument("--results", type=lambda v: Path(v) if v else None,  # Path("") would be "."
                   default=bench_data.ROOT / "bench" / "out" / "full" / "results" / "retrieval.json",
                   help="add the figures to this results file (empty: print only)")
    args = p.parse_args(argv)
    questions = [q["question"] for q in bench_data.load_questions(args.data)][: args.questions]
    load = os.getloadavg()
    overrides = dict(item.split("=", 1) for item in args.set)
    out = measure(args.store, questions, args.rounds, overrides)
    out["overrides"] = overrides
    out["loadavg"] = [load[0], os.getloadavg()[0]]
    print(json.dumps(out, indent=1))
    if args.results:  # bench/retrieval_bench.py renders it beside its own latency table
        earlier = json.loads(args.results.read_text()) if args.results.exists() else {}
        args.results.write_text(json.dumps(earlier | {"latency": out}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
