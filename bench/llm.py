"""`make bench-llm`: the extractive and the LLM engine side by side on the same questions, the
LLM engine with a real model (Qwen2.5-Coder-1.5B-Instruct Q4_K_M, bench/llm_model.py) served
by llama.cpp through `--local-model`, before and after the unsupported-text policy.

    python -m bench.llm                     # everything; rewrites the LLM section of BENCHMARKS.md
    python -m bench.llm --render-only       # score and render an existing run again

Questions (fixed): the question cases of evals/ on corpus/ ("seed"); 40 benchmark questions
drawn once from the *check* half (bench/split.py) on the full benchmark corpus ("check"); and
the check-half questions of bench.data.unanswerable_split, asked of the corpus without any
question's gold articles ("unanswerable"). Nothing here is chosen on them.

Each phase runs in its own process against a snapshot of rag/ (the "before" code is
`git archive` of --before; "after" is HEAD), niced, with one llama.cpp server at a time.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench import data as bench_data
from bench import split
from bench.llm_model import ModelError, assemble
from bench.llm_report import FIRST_BEFORE
from bench.llm_unanswerable import corpora_and_sets
from bench.run import run_logged

ROOT = bench_data.ROOT
OUT = ROOT / "bench" / "out" / "llm"
CHECK_SAMPLE = 40
SAMPLE_SEED = 16  # the sample is drawn once with this seed; never re-drawn to suit a result
DONOR = ROOT / "bench" / "out" / "full" / "stores" / "main"
BEFORE = FIRST_BEFORE


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bench.llm", description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=OUT)
    p.add_argument("--before", default=BEFORE, help="the commit measured as 'before' (default %(default)s)")
    p.add_argument("--phases", default="index-after,index-before,ask-extractive-after,ask-llm-before,ask-llm-after,"
                                       "first-answer")
    p.add_argument("--sets", default="", help="only these question sets (seed,check,unanswerable)")
    p.add_argument("--worktree", action="store_true", help="'after' is the checkout as it is, not HEAD")
    p.add_argument("--render-only", action="store_true")
    p.add_argument("--report", type=Path, default=ROOT / "BENCHMARKS.md")
    return p.parse_args(argv)


def seed_cases() -> list[dict]:
    from rag.eval.cases import load_cases
    from rag.models import EvalCase

    return [{"id": c.id, "question": c.question, "refuse": c.refuse, "facts": c.facts, "sources": c.sources,
             "tags": c.tags, "file": Path(c.file).name} for c in load_cases([ROOT / "evals"])
            if isinstance(c, EvalCase) and getattr(c, "corpus", "corpus") == "corpus"]  # not evals/bench/


def check_sample(questions: list[dict]) -> list[dict]:
    check = split.select(questions, "check")
    chosen = {q["id"] for q in random.Random(SAMPLE_SEED).sample(check, CHECK_SAMPLE)}
    return [q for q in check if q["id"] in chosen]


def prepare(args, run: Path) -> dict:
    model = assemble()
    articles = bench_data.load_articles(bench_data.DATA)
    questions = bench_data.load_questions(bench_data.DATA)
    corpora, variant_sets = corpora_and_sets(articles, questions)
    sets = {"seed": seed_cases(), "check": check_sample(questions), **variant_sets}
    for name, rows in sets.items():  # the same content every time (fixed sample), rewritten in place
        (run / f"questions-{name}.jsonl").write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    for name, chosen in (("main", articles), *corpora.items()):
        if not (run / "corpus" / name / bench_data.CORPUS_FILE).exists():  # a phase may be reading it
            bench_data.write_corpus(run / "corpus" / name, [bench_data.record(a) for a in chosen])
    config = {"model": str(model), "seed_corpus": str(ROOT / "corpus"),
              "embedding_donor": str(DONOR) if (DONOR / "cache" / "embeddings.sqlite").exists() else None,
              "n_ctx": 8192, "threads": os.cpu_count() or 2, "before": args.before,
              "sets": {k: len(v) for k, v in sets.items()}, "machine": _machine()}
    config["commits"] = {"before": snapshot(run, "before", args.before), "after": snapshot(run, "after",
                                                                                            None if args.worktree else "HEAD")}
    old = run / "config.json"
    if old.exists():
        config = {**json.loads(old.read_text()), **config}
    old.write_text(json.dumps(config, indent=1))
    return config


def _machine() -> dict:
    from bench.report import machine

    return machine()


def snapshot(run: Path, code: str, ref: str | None) -> str:
    """rag/ and prompts/ at `ref` (None: the checkout as it is), and the live bench/."""
    target = run / f"snapshot-{code}"
    label = target / "COMMIT"
    want = _git("rev-parse", ref) if ref else None
    if want and label.exists() and label.read_text().strip() == want:
        return _git("rev-parse", "--short", ref)  # unchanged: a phase still running may be importing from it
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    shutil.copytree(ROOT / "bench", target / "bench", ignore=shutil.ignore_patterns("__pycache__", "out"))
    if want:
        label.write_text(want)
    if ref is None:
        for name in ("rag", "prompts"):  # prompts/ is inside rag/ since issue 19
            if (ROOT / name).is_dir():
                shutil.copytree(ROOT / name, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        return _git("rev-parse", "--short", "HEAD") + " (with uncommitted changes)"
    paths = ["rag"] + (["prompts"] if _git("ls-tree", "--name-only", ref, "prompts") else [])
    archive = subprocess.run(["git", "archive", ref, *paths], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return _git("rev-parse", "--short", ref)


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False).stdout.strip()


def run_phase(run: Path, name: str, sets: str) -> bool:
    code = name.rsplit("-", 1)[-1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(RAG_CONFIG=str(run / "no-rag.toml"), HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false",
               OMP_WAIT_POLICY="PASSIVE", PYTHONPATH=str(run / f"snapshot-{code}"))
    log = run / "logs" / f"{name}.log"
    log.parent.mkdir(exist_ok=True)
    command = ["nice", "-n", "15", sys.executable, "-m", "bench.llm_phases", name, str(run), sets]
    return run_logged("bench-llm", name, command, log, env, run, mode="a")


def first_answer(run: Path) -> dict:
    """`rag ask --local-model` from a cold start, timed: no server runs before it, none after it."""
    config = json.loads((run / "config.json").read_text())
    question = json.loads((run / "questions-seed.jsonl").read_text().splitlines()[0])["question"]
    store = run / "stores" / "after" / "seed"
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(RAG_CONFIG=str(run / "no-rag.toml"), HF_HUB_OFFLINE="1", PYTHONPATH=str(run / "snapshot-after"))
    command = ["nice", "-n", "15", sys.executable, "-m", "rag", "ask", question, "--engine", "llm", "--local-model",
               config["model"], "--no-cache", "--json", "--store-dir", str(store),
               "--set", f"corpus_dir={config['seed_corpus']}", "--set", f"llm_log={run / 'logs' / 'first-answer.jsonl'}"]
    print("[bench-llm] first answer with --local-model ...", flush=True)
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=run)
    out, err = proc.communicate()
    seconds = time.perf_counter() - started
    left = _servers_of(proc.pid)
    answered = proc.returncode == 0 and bool(json.loads(out).get("answer"))
    result = {"seconds": seconds, "code": proc.returncode, "answered": answered, "left_behind": len(left),
              "error": err.strip().splitlines()[-1] if proc.returncode else None}
    config["first_answer"] = result
    (run / "config.json").write_text(json.dumps(config, indent=1))
    return result


def _servers_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0") if entry.name.isdigit() else []
        except OSError:
            continue
        if b"rag.llm.local_server" in args and str(pid).encode() in args:
            found.append(int(entry.name))
    return found


def main(argv=None) -> int:
    args = parse_args(argv)
    run = args.out.resolve()
    run.mkdir(parents=True, exist_ok=True)
    if not args.render_only:
        try:
            prepare(args, run)
        except ModelError as err:
            print(f"bench-llm: {err}", file=sys.stderr)
            return 1
        failed = [p for p in args.phases.split(",") if p and p != "first-answer" and not run_phase(run, p, args.sets)]
        if "first-answer" in args.phases.split(","):
            print(f"[bench-llm] {first_answer(run)}", flush=True)
        if failed:
            print(f"[bench-llm] failed phases: {', '.join(failed)}", file=sys.stderr)
    try:
        from bench.llm_report import write_report
    except ImportError:
        return 0
    write_report(run, args.report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
