"""Cold start of `rag ask`: a fresh process to its printed answer, with and without a running server.

    python -m bench.cold_start STORE [--runs 10] [--out bench/out/cold/results.json]

STORE is a full benchmark index (`rag ingest` of the benchmark corpus with MiniLM). Each run is a
new `rag ask` process, timed from spawn to exit, beside `python -c pass`: answering in process
(no server), then handed to a running `rag serve` for the same store (found through the file it
announces in the store directory), each alone and under a concurrent CPU load of 2 (two busy
processes). The p50 of the runs is reported, with the load average before and after.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from bench.data import ROOT

QUESTION = "How many episodes are in the second season of Squid Game?"
OUT = ROOT / "bench" / "out" / "cold" / "results.json"


def _burn(stop) -> None:
    while not stop.is_set():
        sum(i * i for i in range(10_000))


def run(command: list[str], env: dict) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one process. On a shared machine the wall time mostly
    measures the queue for a core; the CPU time is what a quiet machine's wall time would be
    made of (the process reads warm files and waits for nothing else)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def series(store: Path, runs: int, env: dict) -> dict:
    ask = [sys.executable, "-m", "rag", "ask", QUESTION, "--store-dir", str(store)]
    load = os.getloadavg()[0]
    out = {"python_pass": [run([sys.executable, "-c", "pass"], env) for _ in range(runs)],
           "ask": [run(ask, env) for _ in range(runs)]}
    return {**{k: {"p50_s": statistics.median(w for w, _ in v), "runs": [w for w, _ in v],
                   "cpu_p50_s": statistics.median(c for _, c in v), "cpu_runs": [c for _, c in v]}
               for k, v in out.items()},
            "loadavg": [load, os.getloadavg()[0]]}


def serve(store: Path, env: dict, port: int = 18731) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "rag", "serve", "--port", str(port), "--store-dir", str(store)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                if json.loads(response.read())["ready"] and (store / "server.json").exists():
                    return proc
        except OSError:
            pass
        time.sleep(0.5)
    proc.kill()
    raise RuntimeError("rag serve did not become ready")


def measure(store: Path, runs: int) -> dict:
    # Bytecode caches as an installed `rag` has them (PYTHONDONTWRITEBYTECODE would recompile every module).
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_") and k != "PYTHONDONTWRITEBYTECODE"}
    env.update(RAG_CONFIG=os.devnull, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    results = {"question": QUESTION, "store": str(store), "runs": runs}
    for loaded in (False, True):
        stop = multiprocessing.Event()
        burners = [multiprocessing.Process(target=_burn, args=(stop,)) for _ in range(2 if loaded else 0)]
        for b in burners:
            b.start()
        try:
            key = "cpu_load_2" if loaded else "alone"
            results[f"in_process_{key}"] = series(store, runs, env)
            server = serve(store, env)
            try:
                results[f"server_{key}"] = series(store, runs, env)
            finally:
                server.send_signal(signal.SIGINT)
                server.wait(60)
        finally:
            stop.set()
            for b in burners:
                b.join()
    return results


def section(path: Path = OUT) -> list[str]:
    if not path.exists():
        return []
    r = json.loads(path.read_text())
    rows = ["## Cold start: `rag ask` from a fresh process", "",
            (f"p50 of {r['runs']} fresh `rag ask` processes over the full benchmark index, spawn to exit "
             "(the answer is printed last), beside `python -c pass` in the same minutes: wall seconds, "
             "and in brackets the process's own CPU seconds (user + system), which is what its wall time "
             "is made of on a quiet machine."), "",
            "| | `python -c pass` | `rag ask`, in process | `rag ask`, handed to `rag serve` | load average |",
            "|---|---|---|---|---|"]

    def cell(x: dict) -> str:
        return f"{x['p50_s']:.2f} s" + (f" ({x['cpu_p50_s']:.2f} s CPU)" if "cpu_p50_s" in x else "")

    for key, label in (("alone", "alone"), ("cpu_load_2", "with 2 busy processes")):
        a, b = r.get(f"in_process_{key}"), r.get(f"server_{key}")
        if a is None:
            continue
        rows.append(f"| {label} | {cell(a['python_pass'])} | {cell(a['ask'])} "
                    f"| {cell(b['ask']) if b else '–'} | {a['loadavg'][0]:.1f}–{(b or a)['loadavg'][1]:.1f} |")
    if r.get("note"):
        rows += ["", r["note"]]
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("store", type=Path)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--note", help="a sentence on how this run went, printed under the table")
    args = parser.parse_args(argv)
    results = measure(args.store.resolve(), args.runs)
    if args.note:
        results["note"] = args.note
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1))
    print("\n".join(section(args.out)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
