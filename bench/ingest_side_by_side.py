"""One-article ingests into copies of one store, by several versions in turn (bench/ingest_phases.py).

    python -m bench.ingest_side_by_side STORE OUT.json --version main=/tmp/main-snap \\
        --version tail=. --version flush=.:dense_tail_rows=0 [--articles 4]

Each version is NAME=PYTHONPATH[:SETTING=VALUE,...]. For each of `--articles` new articles (copies
of benchmark articles under new ids, as bench.scale writes them; `--batch` of them at once for a
bulk ingest), every version in turn ingests it
into its own fresh copy of STORE, in a fresh process under bench/ingest_phases.py's timers, so the
versions share the machine's load minute by minute. Writes every run's phases to OUT.json and
prints the CPU seconds per phase. BENCHMARKS.md "Scale", session 8.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import data as bench_data
from bench.scale import article_file, child_env

ROOT = Path(__file__).resolve().parent.parent


def run_one(python_path: Path, sets: list[str], store: Path, corpus: Path, probe: Path, out: Path) -> dict:
    env = {**child_env(store.parent), "PYTHONPATH": str(python_path)}
    command = [sys.executable, "-P", str(ROOT / "bench" / "ingest_phases.py"), str(out), "ingest", str(probe),
               "--store-dir", str(store), "--set", "embedding_model=hash", "--set", f"corpus_dir={corpus}"]
    for value in sets:
        command += ["--set", value]
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return json.loads(out.read_text())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("store", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--version", action="append", required=True, help="NAME=PYTHONPATH[:SETTING=VALUE,...]")
    parser.add_argument("--articles", type=int, default=4)
    parser.add_argument("--batch", type=int, default=1, help="articles per ingest (a bulk ingest when more than 1)")
    parser.add_argument("--delete", action="store_true", help="then remove the articles and ingest again (a delete)")
    parser.add_argument("--work", type=Path, default=None, help="where the copies go (default: beside OUT)")
    args = parser.parse_args(argv)
    versions = {}
    for spec in args.version:
        name, rest = spec.split("=", 1)
        path, _, sets = rest.partition(":")
        versions[name] = (Path(path).resolve(), [s for s in sets.split(",") if s])
    articles = [a for a in bench_data.load_articles(bench_data.DATA) if a["text"].strip()]
    work = Path(tempfile.mkdtemp(dir=args.work or args.out.parent.resolve(), prefix="side-by-side-"))
    corpus = work / "corpus"
    results: list[dict] = []
    try:
        for n in range(args.articles):
            probe = corpus / f"probe{n}"
            probe.mkdir(parents=True)
            for k in range(args.batch):
                name, text = article_file(articles[(7 * n + 3 + 11 * k) % len(articles)], 30_000 + n * args.batch + k)
                (probe / name).write_text(text, encoding="utf-8")
            for version, (path, sets) in versions.items():
                copy = work / "store"
                shutil.rmtree(copy, ignore_errors=True)
                shutil.copytree(args.store, copy)
                runs = [(version, None)] + ([(f"{version} delete", f"{probe}.removed")] if args.delete else [])
                for label, moved in runs:
                    if moved:
                        probe.rename(moved)
                        probe.mkdir()
                    phases = run_one(path, sets, copy, corpus, probe, work / "phases.json")
                    if moved:
                        shutil.rmtree(probe)
                        Path(moved).rename(probe)
                    results.append({"article": name, "version": label, "loadavg": os.getloadavg()[0], **phases})
                    print(f"{name} {label:15s} whole {phases['whole process']['cpu_s']:.2f} s CPU, "
                          f"{phases['whole process']['wall_s']:.2f} s wall, {phases['maxrss_mb']:.0f} MB, "
                          f"load {os.getloadavg()[0]:.1f}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    args.out.write_text(json.dumps({"store": str(args.store), "versions": {k: [str(p), s] for k, (p, s) in
                                                                          versions.items()}, "runs": results}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
