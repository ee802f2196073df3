"""Where a `rag ingest` process spends its time: wall and CPU seconds per phase, and peak memory.

    python bench/ingest_phases.py OUT.json ingest <dir> --store-dir <store> [--set ...]

Runs the `rag` command line in this process with timers around the phases that could grow with
the store (Chroma's open and upsert, the vector file append, the docstore and lexical writes,
parsing). CPU seconds are the whole process's (Chroma's Rust threads included), so phases run
one at a time. To measure a store written by an older index format, put that version's `rag`
first on PYTHONPATH (a scale build's code snapshot, bench/out/scale*/snapshot; run this file by its
path then, as the snapshot has its own `bench` package): the phases are
found by name and skipped where a version lacks them. BENCHMARKS.md "Scale", session 7.
"""

from __future__ import annotations

import functools
import json
import resource
import sys
import time

PHASES = [("rag.index.store", "Store", "write_vectors"), ("rag.index.vectorstore", "ChromaStore", "add"),
          ("rag.index.vectorstore", "ChromaStore", "delete"), ("rag.index.store", None, "chroma_client"),
          ("rag.index.store", "Store", "append_vector_file"), ("rag.index.ingest", None, "_write_postings"),
          ("rag.index.ingest", None, "_plan"), ("rag.index.ingest", None, "parse_document"),
          ("rag.index.ingest", None, "_collect_garbage"), ("rag.index.docstore", "DocStore", "commit"),
          ("rag.index.tail", None, "flush")]


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _timed(owner, name: str, label: str, totals: dict) -> None:
    original = getattr(owner, name)

    @functools.wraps(original)
    def run(*args, **kwargs):
        wall, cpu = time.perf_counter(), _cpu()
        try:
            return original(*args, **kwargs)
        finally:
            entry = totals.setdefault(label, {"wall_s": 0.0, "cpu_s": 0.0, "calls": 0})
            entry["wall_s"] += time.perf_counter() - wall
            entry["cpu_s"] += _cpu() - cpu
            entry["calls"] += 1

    setattr(owner, name, run)


def main(argv: list[str]) -> int:
    out, args = argv[0], argv[1:]
    wall, cpu = time.perf_counter(), _cpu()
    import importlib

    import rag.cli

    totals: dict = {}
    for module_name, cls, name in PHASES:
        try:
            module = importlib.import_module(module_name)
        except ImportError:  # a version without it
            continue
        owner = getattr(module, cls, None) if cls else module
        if owner is not None and callable(getattr(owner, name, None)):
            _timed(owner, name, f"{cls or module_name}.{name}", totals)
    totals["imports"] = {"wall_s": time.perf_counter() - wall, "cpu_s": _cpu() - cpu, "calls": 1}
    sys.argv = ["rag", *args]
    code = 0
    try:
        rag.cli.main()
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    totals["whole process"] = {"wall_s": time.perf_counter() - wall, "cpu_s": _cpu() - cpu, "calls": 1}
    totals["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with open(out, "w") as handle:
        json.dump(totals, handle, indent=1)
    for label, entry in totals.items():
        print(label, entry if isinstance(entry, float) else f"{entry['wall_s']:.2f} s wall, {entry['cpu_s']:.2f} s CPU",
              file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
