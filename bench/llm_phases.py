"""Phases of `make bench-llm`, each run in its own process against one snapshot of rag/
(`python -m bench.llm_phases NAME RUN_DIR`, PYTHONPATH = the snapshot). They only ask and
record: every answer is written as JSON, and bench.llm scores them all with one scorer.

- index-<code>: ingest corpus/ (the seed eval), the benchmark corpus and its unanswerable
  variant into stores of that code version (embedding caches seeded from the full benchmark);
- ask-<engine>-<code>: ask every question of the three sets and record the Answer.
The LLM phases share one response cache, so the "before" and "after" code see the same model
output for the same request: the difference between them is the verification alone.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

SETS = ("seed", "check", "unanswerable", "unanswerable-strict", "tune", "tune-unanswerable",
        "tune-unanswerable-strict")
# set -> the corpus it is asked of (bench/llm_unanswerable.py); the store of a corpus is named after it
CORPUS_OF = {"check": "main", "tune": "main", "unanswerable": "unanswerable", "tune-unanswerable": "unanswerable",
             "unanswerable-strict": "strict", "tune-unanswerable-strict": "strict"}
LLM_MODEL = "qwen2.5-coder-1.5b-instruct-q4_k_m"


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def stores(run: Path, code: str) -> dict[str, tuple[Path, Path]]:
    """set → (store dir, corpus dir) for one code version."""
    corpus = Path(json.loads((run / "config.json").read_text())["seed_corpus"])
    out = {"seed": (run / "stores" / code / "seed", corpus)}
    for name, of in CORPUS_OF.items():
        out[name] = (run / "stores" / code / of, run / "corpus" / of)
    return out


def base_settings(store: Path, corpus: Path, **values):
    from rag.settings import Settings

    return Settings(store_dir=store, corpus_dir=corpus, **values)


def llm_values(run: Path, cfg: dict, phase: str) -> dict:
    from rag.settings import Settings

    values = {"llm_model": LLM_MODEL, "llm_temperature": 0.0, "llm_extra_body": {"cache_prompt": False},
              "llm_timeout": 1800.0, "llm_retries": 1, "cache_dir": run / "cache" / "llm",
              "llm_log": run / "logs" / f"{phase}-calls.jsonl"}
    if "llm_local_model" in Settings.model_fields:
        values["llm_local_model"] = Path(cfg["model"])
    if "llm_entailment" in Settings.model_fields:  # off by default; its column measures turning it on (round 6)
        values["llm_entailment"] = os.environ.get("BENCH_LLM_ENTAILMENT", "1") != "0"  # 0: the shipped default
    return values


def phase_index(cfg: dict, run: Path, code: str, only: list[str]) -> dict:
    from bench.phases import seed_cache
    from rag.api import Rag

    out, seen = {}, set()
    for name, (store, corpus) in stores(run, code).items():
        if (only and name not in only and store.name not in only) or store in seen:
            continue  # sets asked of one corpus share its store
        seen.add(store)
        donor = _donor(cfg, run, name, code)
        if donor and donor != store and not (store / "cache" / "embeddings.sqlite").exists():
            seed_cache(store, donor)
        started = time.perf_counter()
        rag = Rag(base_settings(store, corpus))
        try:
            report = rag.ingest([corpus])
            out[name] = {"seconds": time.perf_counter() - started, "added": len(report.added),
                         "skipped": len(report.skipped), "embedded": report.embedded,
                         "documents": rag.status().documents}
        finally:
            rag.close()
    return out


def _donor(cfg: dict, run: Path, name: str, code: str) -> Path | None:
    """Where a new store's embedding cache comes from: a benchmark store this run already built
    (it holds every chunk text of the corpus), of this code version first (its chunking), else
    the full benchmark's store."""
    if name != "seed":
        for built in (run / "stores" / code / "main", run / "stores" / "after" / "main",
                      run / "stores" / "before" / "main"):
            if (built / "rag.db").exists() and (built / "cache" / "embeddings.sqlite").exists():
                return built
    return Path(cfg["embedding_donor"]) if cfg.get("embedding_donor") else None


def questions(run: Path, name: str) -> list[dict]:
    return _lines(run / f"questions-{name}.jsonl")


def phase_ask(cfg: dict, run: Path, engine: str, code: str, only: list[str]) -> dict:
    from rag.api import Rag

    phase = f"ask-{engine}-{code}"
    out_path = run / "answers" / f"{phase}.jsonl"
    out_path.parent.mkdir(exist_ok=True)
    done = {(r["set"], r["id"]) for r in _lines(out_path)} if out_path.exists() else set()
    # BENCH_LLM_FOLLOW=CODE (1: "before"): cache hits only, never a model server. What the LLM
    # phase of CODE has answered is recorded in any case (a miss as not recorded); any other
    # question only when it needs no model (the gate refuses it) or its request is in the cache.
    follow = None
    leader = {"1": "before"}.get(os.environ.get("BENCH_LLM_FOLLOW", ""), os.environ.get("BENCH_LLM_FOLLOW"))
    if leader and leader != code:
        led = run / "answers" / f"ask-llm-{leader}.jsonl"
        follow = {(r["set"], r["id"]) for r in _lines(led)} if led.exists() else set()
    # BENCH_LLM_LIVE=1 with BENCH_LLM_FOLLOW: only the questions the leader answered, but with a model
    # server for requests the cache lacks (a new verification step's calls; the answers are hits).
    live = follow is not None and os.environ.get("BENCH_LLM_LIVE") == "1"
    server = None  # one server for the phase: with `llm_local_model` each set's Rag would start its own
    if engine == "llm" and (follow is None or live):
        server = _old_server(cfg)
    rags: dict[Path, object] = {}
    asked: dict[str, int] = {}
    try:
        for name, q in interleaved(run, only):
            if (name, q["id"]) in done or ((engine != "llm" or live) and follow is not None
                                           and (name, q["id"]) not in follow):
                continue  # following: only what the LLM phase followed has answered
            store, corpus = stores(run, code)[name]
            if store not in rags:
                values = {"engine": engine}
                if engine == "llm":
                    values.update(llm_values(run, cfg, phase))
                    values.pop("llm_local_model", None)
                    if server is not None:
                        values["llm_base_url"] = server[1]
                    if follow is not None and not live:  # cache hits only: a miss is an error, never a server
                        values["llm_base_url"] = "http://127.0.0.1:9/v1"
                rags[store] = Rag(base_settings(store, corpus, **values))
            _ask_one(rags[store], name, q, out_path, follow is not None,
                     keep_miss=follow is None or (name, q["id"]) in follow)
            asked[name] = asked.get(name, 0) + 1
    finally:
        for rag in rags.values():
            rag.close()
        if server is not None:
            del server
    return {"asked": asked}


def interleaved(run: Path, only: list[str]) -> list[tuple[str, dict]]:
    """Every question of the chosen sets, the sets advancing in proportion (a run stopped early
    has asked a like share of each); seed cases alternate between their case files."""
    order = []
    for rank, name in enumerate(SETS):
        if only and name not in only:
            continue
        rows = questions(run, name)
        if name == "seed":
            rows = _round_robin(rows)
        order += [((i + 0.5) / len(rows), rank, name, q) for i, q in enumerate(rows)]
    return [(name, q) for _, _, name, q in sorted(order, key=lambda t: t[:2])]


def _round_robin(cases: list[dict]) -> list[dict]:
    groups: dict[str, list[dict]] = {}
    for case in cases:
        groups.setdefault(case.get("file", ""), []).append(case)
    out = []
    while any(groups.values()):
        for rows in groups.values():
            if rows:
                out.append(rows.pop(0))
    return out


def _ask_one(rag, name: str, q: dict, out_path: Path, following: bool = False, keep_miss: bool = True) -> None:
    from rag.errors import LLMError, RagError

    started = time.perf_counter()
    row = {"set": name, "id": q["id"], "question": q["question"]}
    try:
        row["answer"] = rag.ask(q["question"], filters=as_of(q)).model_dump(mode="json")
    except RagError as err:
        row["error"] = str(err).splitlines()[0] if str(err) else type(err).__name__
        # Following the "before" phase, a miss means this code sent the model another request
        # (its retrieval gave another context): no recorded output to verify, not an engine error.
        row["not_recorded"] = following and isinstance(err, LLMError)
    row["seconds"] = time.perf_counter() - started
    if row.get("not_recorded") and not keep_miss:
        return  # not asked yet by the phase followed: left for a later run
    with open(out_path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{name} {q['id']} {row['seconds']:.1f}s {'ERROR ' + row['error'] if 'error' in row else ''}", flush=True)


def as_of(q: dict):
    """A benchmark question is asked as of its date (the quiz's): no article published after it
    is used, and "this week" means the week before it. Code without `Filters.as_of` gets none."""
    import dataclasses
    import datetime as dt

    from rag.retrieval import Filters

    if not q.get("date") or "as_of" not in {f.name for f in dataclasses.fields(Filters)}:
        return Filters()
    return Filters(as_of=dt.date.fromisoformat(q["date"]))


def _old_server(cfg: dict):
    from rag.llm.local_server import start

    return start(Path(cfg["model"]), 0, cfg["n_ctx"], cfg["threads"])


def main() -> None:
    name, run = sys.argv[1], Path(sys.argv[2])
    only = sys.argv[3].split(",") if len(sys.argv) > 3 and sys.argv[3] else []
    cfg = json.loads((run / "config.json").read_text())
    load_start = os.getloadavg()[0]
    started = time.perf_counter()
    kind, *rest = name.split("-")
    if kind == "index":
        result = phase_index(cfg, run, rest[0], only)
    elif kind == "ask":
        result = phase_ask(cfg, run, rest[0], rest[1], only)
    else:
        raise SystemExit(f"unknown phase {name}")
    result["phase_wall_s"] = time.perf_counter() - started
    result["loadavg"] = [load_start, os.getloadavg()[0]]
    (run / "results").mkdir(exist_ok=True)
    (run / "results" / f"{name}.json").write_text(json.dumps(result, indent=1, default=str))


if __name__ == "__main__":
    main()
