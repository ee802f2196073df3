"""Warm search latency of two checkouts' code on one store, side by side (issue 14): two
processes, each importing `rag` from its own checkout, take turns question by question (which goes
first alternates), so load that comes and goes on a shared machine falls on both alike. Prints
p50/p95 of each and their ratios (B / A), and the load average before and after.

    python -m bench.search_ab --a /work/main --b . --store bench/out/art/stores/main [--as-of] [--rounds 1]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from bench import data as bench_data
from bench.metrics import latency_summary

# The worker: only `rag` of its own checkout (PYTHONPATH), the default settings, one warm store.
# Reads a question (JSON: text, as_of or null) per line, answers with the search's seconds.
WORKER = r"""
import datetime as dt, json, sys, time
from pathlib import Path
from rag.index.store import Store
from rag.retrieval import Filters, search
from rag.settings import Settings
store_dir = Path(sys.argv[1])
store = Store(Settings(store_dir=store_dir, corpus_dir=store_dir.parent))
search(store, "What happened this week?")
print(json.dumps({"ready": True}), flush=True)
for line in sys.stdin:
    q = json.loads(line)
    filters = Filters(as_of=dt.date.fromisoformat(q["as_of"])) if q["as_of"] else Filters()
    start = time.perf_counter()
    search(store, q["text"], None, filters)
    print(json.dumps({"seconds": time.perf_counter() - start}), flush=True)
store.close()
"""


def _worker(code: Path, store: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(code.resolve())}
    proc = subprocess.Popen([sys.executable, "-c", WORKER, str(store.resolve())], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, env=env, cwd=str(code.resolve()))
    assert json.loads(proc.stdout.readline())["ready"]
    return proc


def _ask(proc: subprocess.Popen, text: str, as_of: str | None) -> float:
    proc.stdin.write(json.dumps({"text": text, "as_of": as_of}) + "\n")
    proc.stdin.flush()
    return json.loads(proc.stdout.readline())["seconds"]


def measure(a: Path, b: Path, store: Path, questions: list[dict], as_of: bool, rounds: int) -> dict:
    workers = {"a": _worker(a, store), "b": _worker(b, store)}
    seconds: dict[str, list[float]] = {"a": [], "b": []}
    try:
        for r in range(rounds):
            for n, q in enumerate(questions):
                date = q["date"] if as_of else None
                for name in (("a", "b") if (n + r) % 2 == 0 else ("b", "a")):
                    seconds[name].append(_ask(workers[name], q["question"], date))
    finally:
        for proc in workers.values():
            proc.stdin.close()
            proc.wait()
    out = {name: latency_summary(s) for name, s in seconds.items()}
    out["ratio_p50"] = out["b"]["p50_ms"] / out["a"]["p50_ms"]
    out["ratio_p95"] = out["b"]["p95_ms"] / out["a"]["p95_ms"]
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench.search_ab", description=__doc__.splitlines()[0])
    p.add_argument("--a", type=Path, required=True, help="a checkout whose rag is A (e.g. /work/main)")
    p.add_argument("--b", type=Path, required=True, help="a checkout whose rag is B")
    p.add_argument("--store", type=Path, default=bench_data.ROOT / "bench" / "out" / "art" / "stores" / "main")
    p.add_argument("--data", type=Path, default=bench_data.DATA)
    p.add_argument("--questions", type=int, default=0, help="the first this many (0: all)")
    p.add_argument("--as-of", action="store_true", help="each question searched with its quiz date as as_of")
    p.add_argument("--rounds", type=int, default=1)
    args = p.parse_args(argv)
    questions = bench_data.load_questions(args.data)
    questions = questions[: args.questions] if args.questions else questions
    load = os.getloadavg()
    out = measure(args.a, args.b, args.store, questions, args.as_of, args.rounds)
    out.update(code_a=str(args.a), code_b=str(args.b), as_of=args.as_of, n=len(questions) * args.rounds,
               loadavg=[round(load[0], 2), round(os.getloadavg()[0], 2)])
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
