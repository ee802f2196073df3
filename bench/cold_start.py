"""Cold start of `rag ask`: a fresh process to its printed answer, with and without a running server.

    python -m bench.cold_start STORE [--runs 10] [--out bench/out/cold/results.json]
                               [--before SRC STORE_COPY]

STORE is a full benchmark index (`rag ingest` of the benchmark corpus with MiniLM). Each run is a
new `rag ask` process, timed from spawn to exit, beside `python -c pass`: answering in process
(no server), then handed to a running `rag serve` for the same store (found through the file it
announces in the store directory), each alone and under a concurrent CPU load of 2 (two busy
processes). The p50 of the runs is reported, with the load average before and after.

Each run also times a reference: one thread spinning for REFERENCE_CPU seconds of CPU. Its ratio
(with 2 busy processes / alone) is what the scheduler gives any single-threaded process in those
minutes, the yardstick for `rag ask`'s own ratio.

`--before SRC STORE_COPY` times an earlier version of the code in the same run: SRC is a directory
holding its `rag` package (`git archive <commit> rag | tar -x -C SRC`), STORE_COPY a copy of STORE
for its own server (a store announces one). Its runs take turns with this version's, so the two
share the machine's load.
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
import tempfile
import time
import urllib.request
from pathlib import Path

from bench.data import ROOT

QUESTION = "How many episodes are in the second season of Squid Game?"
OUT = ROOT / "bench" / "out" / "cold" / "results.json"
REFERENCE_CPU = 0.4  # seconds: about what a cold `rag ask` spends
REFERENCE = ("import time\nstart = time.process_time()\n"
             f"while time.process_time() - start < {REFERENCE_CPU}:\n    pass")


def _burn(stop) -> None:
    while not stop.is_set():
        sum(i * i for i in range(10_000))


def run(command: list[str], env: dict, cwd: str | None = None) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one process. On a shared machine the wall time mostly
    measures the queue for a core; the CPU time is what a quiet machine's wall time would be
    made of (the process reads warm files and waits for nothing else)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=cwd, check=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def series(versions: dict, runs: int, env: dict, cwd: str) -> dict:
    """p50s of `python -c pass`, the reference and each version's `rag ask` (`versions`: key ->
    (source directory, store)), the runs of all of them taken in turn."""
    commands = {"python_pass": ([sys.executable, "-c", "pass"], env),
                "reference": ([sys.executable, "-c", REFERENCE], env)}
    for key, (source, store) in versions.items():
        commands[key] = ([sys.executable, "-m", "rag", "ask", QUESTION, "--store-dir", str(store)],
                         {**env, "PYTHONPATH": str(source)})
    load = os.getloadavg()[0]
    out: dict[str, list] = {key: [] for key in commands}
    for _ in range(runs):
        for key, (command, command_env) in commands.items():
            out[key].append(run(command, command_env, cwd))
    return {**{k: {"p50_s": statistics.median(w for w, _ in v), "runs": [w for w, _ in v],
                   "cpu_p50_s": statistics.median(c for _, c in v), "cpu_runs": [c for _, c in v]}
               for k, v in out.items()},
            "loadavg": [load, os.getloadavg()[0]]}


def serve(store: Path, env: dict, cwd: str, port: int) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "rag", "serve", "--port", str(port), "--store-dir", str(store)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=cwd)
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


def measure(store: Path, runs: int, before: tuple[Path, Path] | None = None) -> dict:
    # Bytecode caches as an installed `rag` has them (PYTHONDONTWRITEBYTECODE would recompile every module).
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("RAG_") and k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH")}
    env.update(RAG_CONFIG=os.devnull, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    # Each version runs with its source first on PYTHONPATH, from a directory holding no `rag`.
    versions = {"ask": (ROOT, store), **({"ask_before": before} if before else {})}
    results = {"question": QUESTION, "store": str(store), "runs": runs, "reference_cpu_s": REFERENCE_CPU,
               **({"before": str(before[0])} if before else {})}
    with tempfile.TemporaryDirectory() as empty:
        for source, version_store in versions.values():  # a first run of each writes its bytecode caches
            run([sys.executable, "-m", "rag", "ask", QUESTION, "--store-dir", str(version_store)],
                {**env, "PYTHONPATH": str(source)}, empty)
        for loaded in (False, True):
            stop = multiprocessing.Event()
            burners = [multiprocessing.Process(target=_burn, args=(stop,)) for _ in range(2 if loaded else 0)]
            for b in burners:
                b.start()
            try:
                key = "cpu_load_2" if loaded else "alone"
                results[f"in_process_{key}"] = series(versions, runs, env, empty)
                servers = [serve(version_store, {**env, "PYTHONPATH": str(source)}, empty, 18731 + i)
                           for i, (source, version_store) in enumerate(versions.values())]
                try:
                    results[f"server_{key}"] = series(versions, runs, env, empty)
                finally:
                    for server in servers:
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
    before = r.get("before")
    rows = ["## Cold start: `rag ask` from a fresh process", "",
            (f"p50 of {r['runs']} fresh `rag ask` processes over the full benchmark index, spawn to exit "
             "(the answer is printed last), beside `python -c pass` in the same minutes: wall seconds, "
             "and in brackets the process's own CPU seconds (user + system), which is what its wall time "
             "is made of on a quiet machine."
             + (f" The reference is one thread spinning for {r['reference_cpu_s']:.1f} s of CPU: its ratio "
                "under load is what the scheduler gives any single-threaded process." if "reference_cpu_s" in r else "")
             + (f" 'before' is the code in {before}, its runs taken in turn with these." if before else "")), "",
            "| | `python -c pass` | reference | `rag ask`, in process | `rag ask`, handed to `rag serve` | load average |",
            "|---|---|---|---|---|---|"]

    def cell(x: dict | None, quiet: dict | None = None) -> str:
        if x is None:
            return "–"
        ratio = f": {x['p50_s'] / quiet['p50_s']:.2f}×" if quiet else ""
        return f"{x['p50_s']:.2f} s" + (f" ({x['cpu_p50_s']:.2f} s CPU)" if "cpu_p50_s" in x else "") + ratio

    for version, label in (("ask_before", "before"), ("ask", "after" if before else "")):
        for key, state in (("alone", "alone"), ("cpu_load_2", "with 2 busy processes")):
            a, b = r.get(f"in_process_{key}"), r.get(f"server_{key}")
            if a is None or version not in a:
                continue
            qa, qb = (r.get("in_process_alone"), r.get("server_alone")) if key != "alone" else (None, None)
            pick = lambda x, k: x.get(k) if x else None  # noqa: E731
            rows.append(f"| {', '.join(filter(None, (label, state)))} | {cell(a['python_pass'], pick(qa, 'python_pass'))} "
                        f"| {cell(a.get('reference'), pick(qa, 'reference'))} | {cell(a[version], pick(qa, version))} "
                        f"| {cell(pick(b, version), pick(qb, version))} | {a['loadavg'][0]:.1f}–{(b or a)['loadavg'][1]:.1f} |")
    if r.get("note"):
        rows += ["", r["note"]]
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("store", type=Path)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--note", help="a sentence on how this run went, printed under the table")
    parser.add_argument("--before", nargs=2, type=Path, metavar=("SRC", "STORE_COPY"),
                        help="an earlier version's source directory and a copy of STORE for its server")
    args = parser.parse_args(argv)
    before = tuple(p.resolve() for p in args.before) if args.before else None
    results = measure(args.store.resolve(), args.runs, before)
    if args.note:
        results["note"] = args.note
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1))
    print("\n".join(section(args.out)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
