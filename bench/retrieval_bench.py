"""`make bench-retrieval` (issue 14): our search and every peer in one process, side by side, on
the same chunks and MiniLM vectors, each with and without the quiz date as `as_of`; scored on the
tune half, the check half and all questions. It reads the full benchmark run's store
(`python -m bench.run --phases ingest` builds it, from the embedding cache in minutes), writes
RUN/results/retrieval.json and bench/retrieval.md (the "Retrieval" section of BENCHMARKS.md, with
the tuning trail of bench/retrieval_grid.py).

With as_of, our search filters in its engines and applies its recency prior; a peer gets the same
date filter on its own ranking (its ranked list read deep enough, and articles dated after the
quiz date, or undated, dropped: what a native filter returns, for rankers whose scores do not
depend on the filter).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

from bench.answers import splice
from bench.data import article_id
from bench.metrics import latency_summary, retrieval_summary
from bench.phases import (
    WARM_UP,
    _chunk_data,
    _lines,
    deep,
    latency_loop,
    peer_builders,
    questions,
    score_rows,
    settings,
)
from bench.split import HALVES, select

_DEEPEST = 8000  # units a peer reads at most to fill n after the date filter


def date_filtered(search, days: dict[str, dt.date | None], last: dt.date):
    """`search(question, n)` restricted to documents dated on or before `last`."""
    def run(question: str, n: int):
        m = n
        while True:
            units = search(question, m)
            kept = [u for u in units if days.get(u[0]) is not None and days[u[0]] <= last]
            if len(kept) >= n or len(units) < m or m >= _DEEPEST:
                return kept[:n]
            m *= 4
    return run


def by_half(qs: list[dict], rows: list[dict]) -> dict:
    by_id = {r["id"]: r for r in rows}
    out = {half: retrieval_summary([by_id[q["id"]] for q in select(qs, half)]) for half in HALVES}
    out["all"] = retrieval_summary(rows)
    return out


def quiz_day(q: dict) -> dt.date:
    return dt.date.fromisoformat(q["date"])


def score_system(search, qs: list[dict], days=None) -> dict:
    """Retrieval scores per half; `days` given: each question searched as of its quiz date."""
    units = []
    for q in qs:
        run = search if days is None else date_filtered(search, days, quiz_day(q))
        units.append(deep(run, q["question"]))
    return by_half(qs, score_rows(qs, units))


def _ours(rag, qs: list[dict]) -> dict:
    from rag.retrieval import Filters

    def searcher(filters):
        def run(question: str, n: int):
            hits = rag.search(question, k=n, filters=filters).hits
            return [(article_id(s), h.chunk.text) for h in hits for s in [h.chunk.source, *h.duplicates]]
        return run

    rag.search(WARM_UP)
    seconds, results = latency_loop(rag.search, [q["question"] for q in qs])
    dated_s, _ = latency_loop(lambda q: rag.search(q["question"], filters=Filters(as_of=quiz_day(q))), qs)
    stages: dict[str, float] = {}
    for r in results:
        for stage, value in r.timings.items():
            stages[stage] = stages.get(stage, 0.0) + 1000 * value / len(results)
    without = by_half(qs, score_rows(qs, [deep(searcher(Filters()), q["question"]) for q in qs]))
    with_date = by_half(qs, score_rows(qs, [deep(searcher(Filters(as_of=quiz_day(q))), q["question"]) for q in qs]))
    return {"without": without, "as_of": with_date, "search": latency_summary(seconds),
            "search_as_of": latency_summary(dated_s), "search_stages_ms": stages}


def _peer(name: str, peer, qs: list[dict], days: dict, build_s: float) -> dict:
    peer.search(WARM_UP, 5)
    seconds, _ = latency_loop(lambda q: peer.search(q, 5), [q["question"] for q in qs])
    return {"build_s": build_s, "search": latency_summary(seconds),
            "without": score_system(peer.search, qs), "as_of": score_system(peer.search, qs, days)}


def phase_retrieval(cfg: dict, run: Path, llama: bool = False, parts=("ours", "peers")) -> dict:
    from bench.peers import LlamaPeer, llama_embedding, llama_offline
    from rag.api import Rag
    from rag.index.embed_cache import EmbeddingCache
    from rag.index.embedders import make_embedder

    corpus = Path(cfg["corpus"])
    qs = questions(run)
    articles = [json.loads(line) for line in _lines(corpus)]
    days = {a["id"]: dt.date.fromisoformat(a["date"]) if a.get("date") else None for a in articles}
    out = {"questions": {half: len(select(qs, half)) for half in HALVES} | {"all": len(qs)}}
    if "ours" in parts:
        rag = Rag(settings(run / "stores" / "main", corpus))
        try:
            out |= {"ours": _ours(rag, qs), "settings_hash": rag.settings.settings_hash()}
        finally:
            rag.close()
    if "peers" not in parts:
        return out
    data = _chunk_data(run, corpus)
    builders = peer_builders(run, corpus, data, articles)
    if llama:  # the same cosine ranking as chroma_dense on these vectors, at ~1 s a query: opt-in
        llama_offline(run)
        cache = EmbeddingCache(Path(cfg["llama_cache"]))
        embed_model = llama_embedding(make_embedder(settings(run / "stores" / "main", corpus)), cache)
        builders["llama_our_chunks"] = lambda: LlamaPeer.from_chunks(data["ids"], data["docs"], data["texts"],
                                                                     data["vectors"], embed_model)
    peers = {}
    for name, build in builders.items():
        start = time.perf_counter()
        peer = build()
        peers[name] = _peer(name, peer, qs, days, time.perf_counter() - start)
        del peer
    out["peers"] = peers
    return out


# ---------------------------------------------------------------- report

SECTION = Path(__file__).with_name("retrieval.md")
START, END = "<!-- retrieval: bench/retrieval_bench.py -->", "<!-- /retrieval -->"
COLUMNS = ("hits@1", "hits@5", "hits@10", "mrr@10", "answer_recall@5")
NAMES = {"ours": "**rag** (hybrid chunks + whole-article BM25, per-article cap, recency prior under as_of)",
         "bm25_chunks": "bm25s over our chunks",
         "bm25_articles": "bm25s over whole articles", "chroma_dense": "Chroma dense (our chunks, MiniLM)",
         "llama_our_chunks": "LlamaIndex VectorStoreIndex (our chunks, MiniLM)"}


def _table(results: dict, half: str, mode: str) -> list[str]:
    out = ["| system | " + " | ".join(c.replace("answer_recall", "answer recall") for c in COLUMNS) + " |",
           "|---|" + "---:|" * len(COLUMNS)]
    systems = {"ours": results["ours"], **results["peers"]}
    for name, r in systems.items():
        s = r[mode][half]
        out.append(f"| {NAMES.get(name, name)} | " + " | ".join(f"{s[c]:.3f}" for c in COLUMNS) + " |")
    return out


def _grid(chosen: dict | None) -> list[str]:
    if not chosen:
        return ["(bench/retrieval_grid.py has not been run: no tuning trail.)"]
    start = ", ".join(f"{k}={v}" for k, v in (chosen.get("start") or {}).items())
    out = [f"Chosen on the tune half only by `python -m bench.retrieval_grid --round {chosen.get('round', '2')}` "
           "(a coordinate search, one stage at a",
           "time from the values so far" + (f", starting from round {int(chosen.get('round', '3')) - 1}'s ({start})"
                                            if start else "")
           + "; objective on tune: Hits@5 + MRR@10 + answer recall@5; a stage moves a",
           "value only when its best gains at least one tune question on one metric, 1/102;",
           f"{chosen['evaluated']} settings evaluated). Stages, in order:", "",
           "| stage | settings tried | picked | tune objective before → after |", "|---|---:|---|---:|"]
    for t in chosen["trail"]:
        best = ", ".join(f"{k}={v}" for k, v in t["best"].items())
        picked = ", ".join(f"{k}={v}" for k, v in t["picked"].items()) or f"kept (best, within one question: {best})"
        out.append(f"| {t['stage']} | {t['tried']} | {picked} | {t['incumbent']:.3f} → {t['objective']:.3f} |")
    if not chosen.get("results"):  # a grid run with --no-finals: the tables above are the comparison
        return out
    out += ["", "Before (the chunk-level RRF ranking of main, same store) and after, by half"
            + (f" ({chosen['defaults_note']})" if chosen.get("defaults_note") else "") + ":", "",
            "| ranking | as_of | half | Hits@1 | Hits@5 | Hits@10 | MRR@10 | answer recall@5 |",
            "|---|---|---|---:|---:|---:|---:|---:|"]
    for name, by in chosen["results"].items():
        for mode in ("without", "as_of"):
            for half in ("tune", "check", "all"):
                s = by[half][mode]
                out.append(f"| {name} | {'quiz date' if mode == 'as_of' else '—'} | {half} | "
                           + " | ".join(f"{s[c]:.3f}" for c in COLUMNS) + " |")
    return out


def _targets(results: dict) -> list[str]:
    """Issue 14's targets on the check half, without as_of (the latency target is in the table below)."""
    ours = results["ours"]["without"]["check"]
    peers = {n: r["without"]["check"] for n, r in results["peers"].items()}
    out = ["**Targets** (check half, without as_of):", ""]
    for metric, goal in (("hits@5", 0.86), ("mrr@10", 0.70), ("answer_recall@5", 0.85)):
        out.append(f"- {metric} ≥ {goal}: {ours[metric]:.3f} ({'met' if ours[metric] >= goal else '**not met**'})")
    for metric in ("hits@1", "hits@5", "hits@10", "mrr@10"):
        best = max(peers, key=lambda n: peers[n][metric])
        ahead = ours[metric] > peers[best][metric]
        out.append(f"- ahead of every peer on {metric}: {ours[metric]:.3f} against the best peer's "
                   f"{peers[best][metric]:.3f} ({NAMES.get(best, best)}): {'yes' if ahead else '**no**'}")
    return [*out, ""]


def _side_by_side(latency: dict | None) -> list[str]:
    """bench.retrieval_latency's figures: the chosen ranking and main's chunk-level RRF alternating
    question by question in one warm process (the ratio is what load does not blur)."""
    if not latency:
        return []
    c, m = latency["chosen"], latency["main_rrf"]
    load = latency["loadavg"]
    return [(f"Side by side (`python -m bench.retrieval_latency`: {c['n']} questions, the settings alternating "
             f"question by question in one warm process, load {load[0]:.1f} → {load[1]:.1f}):"), "",
            "| ranking | p50 ms | p95 ms | stages, mean ms |", "|---|---:|---:|---|",
            *(f"| {name} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | "
              + ", ".join(f"{k} {v:.1f}" for k, v in r["stages_ms"].items()) + " |"
              for name, r in (("chosen", c), ("main's chunk RRF", m),
                              *((("round 2's chunk ranking", latency["round2"]),) if "round2" in latency else ()),
                              *((("round 4's (best-ranked chunk shown)", latency["round4"]),) if "round4" in latency else ()),
                              *((("round 5's (no lead in the passage choice)", latency["round5"]),)
                                if "round5" in latency else ()))),
            "", f"Ratio chosen / main: p50 {latency['ratio_p50']:.2f}, p95 {latency['ratio_p95']:.2f}"
            + (f"; chosen / round 2: p50 {latency['ratio_p50_round2']:.2f}, p95 {latency['ratio_p95_round2']:.2f}"
               if "round2" in latency else "")
            + (f"; chosen / round 4: p50 {latency['ratio_p50_round4']:.2f}, p95 {latency['ratio_p95_round4']:.2f}"
               if "round4" in latency else "")
            + (f"; chosen / round 5: p50 {latency['ratio_p50_round5']:.2f}, p95 {latency['ratio_p95_round5']:.2f}"
               if "round5" in latency else "") + ".", ""]


def render(results: dict, chosen: dict | None, config: dict) -> str:
    q = results["questions"]
    ours = results["ours"]
    lines = [
        "## Retrieval (issue 14, round 6: tuned on the tune half, reported on check)", "",
        (f"Store of the run started {config.get('started', '?')}; settings {results['settings_hash']}; 1-minute load "
        f"average at the start of our part {results['loadavg_ours'][0]:.1f}, of the peers' "
        f"{results['loadavg_peers'][0]:.1f} (2 cores). Questions: tune {q['tune']}, check {q['check']}, "
        f"all {q['all']}. Every system reads the same 2,210 articles; the chunk peers read our chunks and "
        "MiniLM vectors. Documents are ranked to depth 10 (Hits@k, MRR@10); answer recall@5: the gold answer "
        "string in the first 5 chunks."), "",
    ]
    for mode, title in (("without", "without as_of"), ("as_of", "as_of = the quiz date (peers: the same date filter)")):
        for half in ("check", "tune", "all"):
            lines += [f"**{half} half, {title}**" if half != "all" else f"**all questions, {title}**", "",
                      *_table(results, half, mode), ""]
    lines += _targets(results)
    s, d = ours["search"], ours["search_as_of"]
    load = results["loadavg_ours"][0]
    lines += ["**Latency** (warm process, default k, the same questions one after another"
              + (f"; measured at load {load:.0f} on 2 cores, so the milliseconds say little: compare the stages "
                 "with `embed`, the same MiniLM query embedding as before" if load > 4 else "") + "):", "",
              "| system | p50 ms | p95 ms |", "|---|---:|---:|",
              f"| rag search | {s['p50_ms']:.1f} | {s['p95_ms']:.1f} |",
              f"| rag search, as_of | {d['p50_ms']:.1f} | {d['p95_ms']:.1f} |"]
    for name, r in results["peers"].items():
        lines.append(f"| {NAMES.get(name, name)} | {r['search']['p50_ms']:.1f} | {r['search']['p95_ms']:.1f} |")
    stages = ", ".join(f"{k} {v:.1f}" for k, v in ours["search_stages_ms"].items())
    lines += ["", f"rag search stages, mean ms: {stages}.", "", *_side_by_side(results.get("latency")),
              "**Tuning**", "", *_grid(chosen)]
    return "\n".join(lines) + "\n"


def report_section() -> list[str]:
    """For bench/report.py: the section as last generated (bench/retrieval.md), between markers."""
    if not SECTION.exists():
        return []
    return ["", START, SECTION.read_text(encoding="utf-8").rstrip(), END]


def main(argv: list[str] | None = None) -> int:
    import argparse
    import os

    from bench import data as bench_data

    p = argparse.ArgumentParser(prog="bench.retrieval_bench", description=__doc__.splitlines()[0])
    p.add_argument("--run", type=Path, default=bench_data.ROOT / "bench" / "out" / "full",
                   help="a benchmark run directory whose main store is built (bench.run --phases ingest)")
    p.add_argument("--grid", type=Path, default=bench_data.ROOT / "bench" / "out" / "grid" / "chosen.json")
    p.add_argument("--render-only", action="store_true")
    p.add_argument("--llama", action="store_true", help="also LlamaIndex's retriever over our chunks (slow)")
    p.add_argument("--parts", default="ours,peers", help="ours, peers or both (each replaces its part of the results)")
    args = p.parse_args(argv)
    config = json.loads((args.run / "config.json").read_text())
    target = args.run / "results" / "retrieval.json"
    if not args.render_only:
        load = os.getloadavg()[0]
        results = phase_retrieval(config, args.run, args.llama, args.parts.split(","))
        for part in args.parts.split(","):
            results[f"loadavg_{part}"] = [load, os.getloadavg()[0]]
        target.parent.mkdir(exist_ok=True)
        earlier = json.loads(target.read_text()) if target.exists() else {}
        target.write_text(json.dumps(earlier | results, indent=1, default=str))
    results = json.loads(target.read_text())
    if not {"ours", "peers"} <= set(results):
        print(f"[bench] {target} lacks {'ours' if 'ours' not in results else 'peers'}: run that part before rendering")
        return 0
    chosen = json.loads(args.grid.read_text()) if args.grid.exists() else None
    section = render(results, chosen, config)
    SECTION.write_text(section, encoding="utf-8")
    splice(section, start=START, end=END)
    print(f"[bench] {SECTION} and its section of BENCHMARKS.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
