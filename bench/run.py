"""Run the benchmark: `python -m bench.run` (all 2,210 articles, 193 questions), or `--quick`.

Writes the corpora, questions and results under the run directory (bench/out/<mode>/, which
git ignores), runs each phase in its own process one after another, and renders the report
(BENCHMARKS.md for a full run; <run dir>/BENCHMARKS.md for a quick one).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench import data as bench_data
from bench.phases import PHASES
from bench.report import commit, machine, render

OUT = bench_data.ROOT / "bench" / "out"
QUICK = {"questions": 5, "articles": 12, "scale_docs": 24}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bench", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="a small subset for CI (about a minute)")
    p.add_argument("--data", type=Path, default=bench_data.DATA, help="the rtqa-2022-summer directory")
    p.add_argument("--out", type=Path, help="run directory (default bench/out/full or bench/out/quick)")
    p.add_argument("--phases", default=",".join(PHASES), help=f"comma-separated subset of {','.join(PHASES)}")
    p.add_argument("--floor-fraction", type=float, default=1.0,
                   help="embed every n-th chunk text for the raw-embedding floor and scale by wordpieces")
    p.add_argument("--cold-every", type=int, default=8,
                   help="the cold ingest and the raw-embedding floor use every n-th article (1 = all)")
    p.add_argument("--scale-docs", type=int, default=10_000, help="documents in the scale point")
    p.add_argument("--report", type=Path, help="where to write the report")
    p.add_argument("--render-only", action="store_true", help="only re-render the report from the run's results")
    p.add_argument("--note", help="a sentence for the report about this run (kept in its config)")
    p.add_argument("--worktree", action="store_true",
                   help="benchmark the checkout's rag/ as it is now (default: the committed HEAD)")
    args = p.parse_args(argv)
    unknown = set(args.phases.split(",")) - set(PHASES)
    if unknown:
        p.error(f"unknown phases: {', '.join(sorted(unknown))}")
    if args.cold_every < 1:
        p.error("--cold-every must be at least 1")
    if not 0 < args.floor_fraction <= 1:
        p.error("--floor-fraction must be in (0, 1]")
    if not args.render_only and not (args.data / "articles.jsonl.gz").is_file():
        p.error(f"no benchmark data in {args.data} (expected articles.jsonl.gz and questions.jsonl)")
    return args


def prepare(args: argparse.Namespace, run: Path) -> dict:
    """Write the corpora and question files the phases read, and the run's config."""
    articles = bench_data.load_articles(args.data)
    questions = bench_data.load_questions(args.data)
    scale_docs = args.scale_docs
    if args.quick:
        articles, questions = bench_data.quick_subset(articles, questions, QUICK["questions"], QUICK["articles"])
        scale_docs = QUICK["scale_docs"]
    records = [bench_data.record(a) for a in articles]
    corpus = bench_data.write_corpus(run / "corpus" / "main", records)
    cold_every = 1 if args.quick else args.cold_every
    cold = bench_data.write_corpus(run / "corpus" / "cold", records[::cold_every])
    rest, blind = bench_data.unanswerable_split(articles, questions)
    scale, copies = bench_data.scale_copies(articles, scale_docs)
    _write_jsonl(run / "questions.jsonl", questions)
    _write_jsonl(run / "unanswerable.jsonl", blind)
    config = {
        "mode": "quick" if args.quick else "full",
        "corpus": str(corpus), "articles": len(records), "questions": len(questions),
        "cold_corpus": str(cold), "cold_every": cold_every, "cold_articles": len(records[::cold_every]),
        "unanswerable_corpus": str(bench_data.write_corpus(run / "corpus" / "unanswerable",
                                                           [bench_data.record(a) for a in rest])),
        "unanswerable_articles": len(rest), "unanswerable_questions": len(blind),
        "scale_corpus": str(bench_data.write_corpus(run / "corpus" / "scale", scale)),
        "scale_docs": len(scale), "scale_copies": copies, "scale_target": scale_docs,
        "floor_fraction": args.floor_fraction,
        "llama_cache": str(OUT / "cache" / "llama-embeddings.sqlite"),
        "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "note": args.note,
        "commit": snapshot(run, args.worktree), "machine": machine(),
    }
    (run / "config.json").write_text(json.dumps(config, indent=1))
    return config


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def snapshot(run: Path, worktree: bool) -> str:
    """Copy rag/ (prompts included) into the run directory; every phase imports that copy, so edits to
    the checkout during a long run cannot mix two versions of the library in one run.
    Returns the commit label for the report."""
    target = run / "snapshot"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    # bench/ itself is copied too, so the phases import nothing from the live checkout.
    shutil.copytree(bench_data.ROOT / "bench", target / "bench", ignore=shutil.ignore_patterns("__pycache__", "out"))
    if worktree:
        shutil.copytree(bench_data.ROOT / "rag", target / "rag", ignore=shutil.ignore_patterns("__pycache__"))
        return commit()
    archive = subprocess.run(["git", "archive", "HEAD", "rag"], cwd=bench_data.ROOT,
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=bench_data.ROOT,
                          capture_output=True, text=True, check=True).stdout.strip()
    return f"{head} (committed code; uncommitted changes excluded)"


def phase_env(run: Path, quick: bool) -> dict[str, str]:
    """Default settings only: no RAG_* variables and no rag.toml, so results mean the defaults."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    if quick:  # one BLAS thread: a busy machine makes spinning BLAS threads crawl (quick measures nothing)
        env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    env.update(RAG_CONFIG=str(run / "no-rag.toml"), HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false",
               PYTHONPATH=str(run / "snapshot"))
    return env


def run_phase(name: str, run: Path, quick: bool) -> bool:
    log = run / "logs" / f"{name}.log"
    log.parent.mkdir(exist_ok=True)
    (run / "results" / f"{name}.json").unlink(missing_ok=True)
    return run_logged("bench", name, [sys.executable, "-m", "bench.phases", name, str(run)], log,
                      phase_env(run, quick), run)


def run_logged(tag: str, name: str, command: list[str], log: Path, env: dict, cwd: Path, mode: str = "w") -> bool:
    """Run one phase's process with its output in `log`; say how it went in one line."""
    start = time.perf_counter()
    print(f"[{tag}] {name} ...", flush=True)
    with open(log, mode) as handle:
        code = subprocess.call(command, stdout=handle, stderr=subprocess.STDOUT, env=env, cwd=cwd)
    took = time.perf_counter() - start
    if code != 0:
        tail = log.read_text(errors="replace").strip().splitlines()[-1:] or ["(no output)"]
        print(f"[{tag}] {name} FAILED after {took:.0f} s: {tail[0]} (log: {log})", flush=True)
        return False
    print(f"[{tag}] {name} done in {took:.0f} s", flush=True)
    return True


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    run = (args.out or OUT / ("quick" if args.quick else "full")).resolve()
    report = args.report or (run / "BENCHMARKS.md" if args.quick else bench_data.ROOT / "BENCHMARKS.md")
    if args.render_only:
        if not (run / "config.json").is_file():
            print(f"bench: no benchmark run in {run} to render", file=sys.stderr)
            return 1
        if args.note:
            config = json.loads((run / "config.json").read_text())
            (run / "config.json").write_text(json.dumps({**config, "note": args.note}, indent=1))
        report.write_text(render(run))
        print(f"[bench] report: {report}")
        return 0
    run.mkdir(parents=True, exist_ok=True)
    config = prepare(args, run)
    print(f"[bench] {config['mode']} run in {run}: {config['articles']} articles, {config['questions']} questions",
          flush=True)
    failed = [name for name in args.phases.split(",") if not run_phase(name, run, args.quick)]
    report.write_text(render(run))
    print(f"[bench] report: {report}", flush=True)
    if failed:
        print(f"[bench] failed phases: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
