"""Cold `rag ask` of two versions of the code, run in turn so that each pair shares the load.

    python -m bench.cold_start_pairs STORE SRC_A SRC_B [--runs 12]

SRC_A and SRC_B are directories holding a `rag` package (a worktree, or `git archive <commit> rag
| tar -x -C <dir>`); each run is `python -m rag ask` with that directory first on PYTHONPATH,
started from a directory holding no `rag` of its own. A running `rag serve` for STORE (its
`server.json`) makes these hand-off runs. Prints the p50 of wall and CPU seconds (user and system
apart) per version and the load average. On a shared machine one version's runs move with the
load by more than two versions differ; taken in turn, the pairs compare (BENCHMARKS.md "Cold start").
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile

from bench.cold_start import QUESTION


def one_run(source: str, store: str, cwd: str) -> tuple[float, float, float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_") and k != "PYTHONDONTWRITEBYTECODE"}
    env.update(PYTHONPATH=source, RAG_CONFIG=os.devnull, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = os.times().elapsed
    subprocess.run([sys.executable, "-m", "rag", "ask", QUESTION, "--store-dir", store], env=env, cwd=cwd,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return os.times().elapsed - started, after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("store")
    parser.add_argument("sources", nargs=2)
    parser.add_argument("--runs", type=int, default=12)
    args = parser.parse_args(argv)
    store = os.path.abspath(args.store)
    sources = [os.path.abspath(s) for s in args.sources]
    runs: dict[str, list] = {s: [] for s in sources}
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as empty:
        for source in sources:  # a first run of each writes its bytecode caches
            one_run(source, store, empty)
        for _ in range(args.runs):
            for source in sources:
                runs[source].append(one_run(source, store, empty))
    for source, values in runs.items():
        wall, user, system = (statistics.median(v[i] for v in values) for i in range(3))
        cpu = statistics.median(v[1] + v[2] for v in values)
        print(f"{source}: {wall:.2f} s ({cpu:.2f} s CPU: {user:.2f} user, {system:.2f} sys), p50 of {len(values)}")
    print(f"load average {load:.1f}-{os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
