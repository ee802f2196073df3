"""Tune retrieval on the *tune* half only: a small, resumable coordinate search over BM25 k1/b,
fusion, signal weights, MMR λ and the per-article cap, then the chosen values on tune, check and all,
with and without the quiz date as `as_of`.

    python -m bench.retrieval_grid [--store bench/out/full/stores/main] [--out bench/out/grid] [--round 3]

Round 3 (the default) starts from round 2's values and adds the whole-article BM25 list
(rag.index.articles): its weight, how many of an article's chunks it credits, how many
articles it lists, its own k1/b, RM3 feedback on it, then fusion (RRF or a convex combination
with its own weights), the signal weights, MMR and the cap again.

Each evaluated setting is one line of OUT/grid.jsonl (keyed by its overrides), so a rerun skips
what is done. Stages run in order; each starts from the best of the stage before it (objective on
tune: Hits@5 + MRR@10 + answer recall@5, the three targets of issue 14). A stage changes the
values so far only when its best beats them by at least one question's worth on one metric
(1 / questions in tune): smaller gains are noise. The recency half-life is chosen the same way,
on tune, with as_of set. OUT/chosen.json holds the result that
bench/report.py renders (BENCHMARKS.md "Retrieval").
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import time
from pathlib import Path

from bench import data as bench_data
from bench.data import article_id
from bench.metrics import retrieval_summary
from bench.phases import deep, score_rows
from bench.split import select

# Where the search starts: the values before tuning (main's, and this first guesses). Every
# evaluated setting is START updated by its overrides, whatever rag/settings.py's defaults say now.
START = {"bm25_k1": 1.5, "bm25_b": 0.75, "mmr_lambda": 0.75, "candidates": 50, "rrf_k": 60, "dense_weight": 1.0,
         "lexical_weight": 1.0, "fusion": "rrf", "article_weight": 0.0, "article_share": 0.0,
         "max_per_article": 2, "article_cap_window": 0, "recency_half_life_days": 30.0,
         "article_bm25_weight": 0.0, "article_chunks": 2, "article_candidates": 20, "article_bm25_k1": 1.2,
         "article_bm25_b": 0.75, "article_feedback_terms": 0, "article_feedback_docs": 3,
         "article_feedback_original": 0.6, "article_bm25_weight_as_of": None,
         "passage_choice": "score", "passage_margin": 0.1, "passage_lead_bonus": 0.0,
         "near_duplicate": 0.92}
# The chunk-level RRF ranking before issue 14 (article share 0, no cap, no recency prior).
BASELINE = {"recency_half_life_days": 0.0}
STAGES: list[tuple[str, list[dict]]] = [
    ("chunk bm25", [{"bm25_k1": k1, "bm25_b": b} for k1 in (1.0, 1.5, 2.0) for b in (0.5, 0.75, 0.9)]),
    ("article share", [{"article_share": w} for w in (0.0, 0.1, 0.2, 0.33, 0.5, 0.67)]),
    ("fusion", [{"fusion": f} for f in ("rrf", "convex")]),
    ("article weight (CombSUM)", [{"article_weight": w} for w in (0.0, 0.5, 1.0, 2.0)]),
    ("dense/lexical", [{"dense_weight": d, "lexical_weight": lex}
                       for d, lex in ((1.0, 1.0), (1.0, 0.5), (1.0, 1.5), (0.7, 1.0), (1.3, 1.0))]),
    ("article share, again", [{"article_share": w} for w in (0.0, 0.1, 0.2, 0.33)]),
    ("mmr", [{"mmr_lambda": m} for m in (0.6, 0.75, 0.9, 1.0)]),
    ("candidates", [{"candidates": n} for n in (50, 100)]),
    # The cap leaves the article order alone (Hits@k, MRR@10 move only through MMR); it moves answer recall@5.
    ("article cap", [{"article_cap_window": 0}] + [{"article_cap_window": 5, "max_per_article": n} for n in (1, 2, 3)]),
]
RECENCY = [{"recency_half_life_days": h} for h in (0.0, 7.0, 14.0, 30.0, 60.0, 120.0, 365.0)]

# Round 3 (the whole-article BM25 list) starts from round 2's defaults, the settings before it.
ROUND2 = {"article_cap_window": 5, "recency_half_life_days": 14.0}
ROUND3: list[tuple[str, list[dict]]] = [
    # Weight, chunks credited and the cap jointly: each is a no-op, or misjudged, while another is at
    # its old value (weight 0 credits nothing; two chunks of each of the first articles crowd the
    # other articles out of the first five).
    ("whole-article weight x chunks credited x cap", [{"article_bm25_weight": 0.0}] + [
        {"article_bm25_weight": w, "article_chunks": n, "max_per_article": cap}
        for w in (1.0, 2.0, 3.0, 5.0, 8.0) for n in (1, 2) for cap in (1, 2)]),
    ("articles listed", [{"article_candidates": n} for n in (20, 40)]),
    # (The whole-article k1/b stay at 1.2/0.75: every other value is a new read of all the evidence,
    # which the shared machine of round 3 could not afford.)
    ("RM3 feedback on the article list", [{"article_feedback_terms": 0},
                                          {"article_feedback_terms": 10, "article_feedback_original": 0.7}]),
    ("fusion (convex, with its weights)", [{"fusion": "rrf"}] + [
        {"fusion": "convex", "article_bm25_weight": a, "lexical_weight": lex}
        for a in (0.25, 0.5, 1.0) for lex in (0.5, 1.0)]),
    ("dense/lexical", [{"dense_weight": d, "lexical_weight": lex}
                       for d, lex in ((1.0, 1.0), (1.0, 0.5), (1.0, 1.5), (0.7, 1.0), (1.3, 1.0))]),
    ("whole-article weight, again", [{"article_bm25_weight": w} for w in (0.0, 2.0, 3.0, 5.0, 8.0, 12.0)]),
    ("mmr", [{"mmr_lambda": m} for m in (0.6, 0.75, 0.9, 1.0)]),
    ("article cap", [{"article_cap_window": 0}] + [{"article_cap_window": 5, "max_per_article": n} for n in (1, 2, 3)]),
]
# Round 4 starts from round 3's choices and aims at Hits@5 and answer recall@5 (the two targets round 3
# left short): the fusion constant, how many chunks an article credits, the cap, MMR, the lists' lengths.
ROUND3_CHOSEN = {**ROUND2, "recency_half_life_days": 60.0, "article_bm25_weight": 8.0, "article_chunks": 1,
                 "max_per_article": 1, "lexical_weight": 1.5, "article_bm25_weight_as_of": 1.0}
ROUND4: list[tuple[str, list[dict]]] = [
    ("rrf k", [{"rrf_k": k} for k in (20, 40, 60, 100)]),
    ("whole-article weight x chunks credited", [{"article_bm25_weight": w, "article_chunks": n}
                                                for w in (5.0, 8.0, 12.0) for n in (1, 2, 3)]),
    ("article cap", [{"article_cap_window": 0}] + [{"article_cap_window": w, "max_per_article": n}
                                                   for w in (3, 5, 8) for n in (1, 2)]),
    ("mmr", [{"mmr_lambda": m} for m in (0.6, 0.75, 0.9, 1.0)]),
    ("articles listed", [{"article_candidates": n} for n in (10, 20, 40)]),
    ("candidates", [{"candidates": n} for n in (50, 100)]),
]
# Round 6 starts from round 5's (round 3's ranking, each article shown by its best-covering chunk) and
# aims at answer recall@5: the lead's bonus in that choice (scored with and without as_of, the one
# value serving both), then the whole-article BM25 k1/b, RM3 on the article list and the depth.
ROUND5_CHOSEN = {**ROUND3_CHOSEN, "passage_choice": "coverage"}
ROUND6: list[tuple[str, list[dict]]] = [
    ("lead bonus (both)", [{"passage_lead_bonus": b} for b in (0.0, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0)]),
    ("whole-article k1/b", [{"article_bm25_k1": k1, "article_bm25_b": b}
                            for k1 in (0.9, 1.2, 1.5, 2.0) for b in (0.6, 0.75, 0.9)]),
    ("RM3 feedback on the article list", [{"article_feedback_terms": 0},
                                          {"article_feedback_terms": 10, "article_feedback_original": 0.7},
                                          {"article_feedback_terms": 20, "article_feedback_original": 0.5}]),
    ("candidates", [{"candidates": n} for n in (50, 80)]),
]
# Round 7 starts from round 6's and aims at Hits@5 (bench/retrieval-notes.md has the miss diagnosis). Its
# other stages (a dense article list, a title list, a best-sentence list, the asking sentence in the
# passage choice, relative dates out of the lexical query) gained nothing on tune; their code is in
# commit 4c1c601 and was removed after. What is left re-runs on the settings that exist.
ROUND6_CHOSEN = {**ROUND5_CHOSEN, "passage_lead_bonus": 0.3}
ROUND7: list[tuple[str, list[dict]]] = [
    # the same story from several outlets: chunks this close to a better-ranked one of another article
    # are folded into its hit (which lists their sources) instead of taking a place of their own
    ("near-duplicate folding", [{"near_duplicate": t} for t in (0.8, 0.85, 0.88, 0.9, 0.92, 0.95)]),
    ("mmr", [{"mmr_lambda": m} for m in (0.6, 0.7, 0.75, 0.8, 0.85, 0.9)]),
    ("whole-article weight", [{"article_bm25_weight": w} for w in (5.0, 8.0, 12.0)]),
    ("articles listed", [{"article_candidates": n} for n in (10, 20, 40)]),
]
# Round 9 (chunk size): round 6's ranking on a store chunked otherwise (bench/chunk_store.py), then a small
# re-tune of the settings most tied to chunk length: how many of an article's chunks take its whole-article
# credit and how much more another chunk must cover to show instead of the best-ranked (larger chunks: fewer
# per article, each covering more), the lead's bonus, the lexical and whole-article weights, chunk BM25's b.
ROUND9: list[tuple[str, list[dict]]] = [
    ("article chunks x passage margin", [{"article_chunks": n, "passage_margin": m}
                                         for n in (1, 2) for m in (0.0, 0.1, 0.2, 0.35)]),
    ("lead bonus", [{"passage_lead_bonus": b} for b in (0.0, 0.15, 0.3, 0.5)]),
    ("dense/lexical", [{"lexical_weight": w} for w in (1.0, 1.5, 2.0)]),
    ("whole-article weight", [{"article_bm25_weight": w} for w in (5.0, 8.0, 12.0)]),
    ("chunk bm25 b", [{"bm25_b": b} for b in (0.6, 0.75, 0.9)]),
]
ROUNDS = {"2": (START, {}, STAGES), "3": (START, ROUND2, ROUND3), "4": (START, ROUND3_CHOSEN, ROUND4),
          "6": (START, ROUND5_CHOSEN, ROUND6), "7": (START, ROUND6_CHOSEN, ROUND7), "9": (START, ROUND6_CHOSEN, ROUND9)}


def objective(summary: dict) -> float:
    return summary["hits@5"] + summary["mrr@10"] + summary["answer_recall@5"]


class Evaluator:
    """One store; each question's evidence (candidates, chunks, article terms, vectors) read once per
    setting it depends on, so the grid re-runs only the ranking: rag.retrieval's own rank and choose."""

    # the settings `gather` depends on (it always reads the whole-article list; the weight only ranks)
    READ = ("bm25_k1", "bm25_b", "candidates", "article_candidates", "article_bm25_k1", "article_bm25_b",
            "article_feedback_terms", "article_feedback_docs", "article_feedback_original",
            "recent_window_days", "recent_window_weight")

    def __init__(self, store_dir: Path, corpus_dir: Path):
        from rag.index.store import Store
        from rag.settings import Settings

        self.base = Settings(store_dir=store_dir, corpus_dir=corpus_dir)
        self.store = Store(self.base)
        self.read: dict[tuple, dict] = {}

    def evidence(self, question: str, filters, settings):
        from rag.retrieval import gather

        reads = tuple(getattr(settings, name) for name in self.READ)
        if reads not in self.read:  # the evidence of the two settings last read, no more (memory)
            self.read = {k: v for k, v in list(self.read.items())[-1:]}
            self.read[reads] = {}
        read = self.read.pop(reads)
        self.read[reads] = read  # most recently used last
        if (question, filters) not in read:
            # the question's idf too (passage_choice "coverage"), whichever setting reads the evidence first
            reading = settings.model_copy(update={"article_bm25_weight": 1.0, "article_bm25_weight_as_of": None,
                                                  "passage_choice": "coverage"})
            self.store.settings = reading
            with self.store.reading():
                evidence = gather(self.store, question, filters, reading, heads=True)
                chunks = self.store.docs.chunks(list(evidence.heads))
                vectors = self.store.chunk_vectors(list(evidence.heads))
            read[question, filters] = (evidence, chunks, vectors)
        return read[question, filters]

    def evaluate(self, qs: list[dict], overrides: dict, as_of: bool = False) -> dict:
        from rag.retrieval import Filters, PassageReader, choose, rank

        settings = self.base.model_copy(update={**START, **overrides})

        def run(q: dict):
            filters = Filters(as_of=dt.date.fromisoformat(q["date"])) if as_of else Filters()
            evidence, chunks, vectors = self.evidence(q["question"], filters, settings)
            ranked = rank(evidence, settings, filters.as_of)
            reader = (PassageReader(self.store, evidence)
                      if settings.passage_choice == "coverage" and evidence.idf is not None else None)

            def units(question: str, n: int):
                hits = choose(evidence, ranked, chunks, vectors, n, settings, reader)
                return [(article_id(s), h.chunk.text) for h in hits for s in [h.chunk.source, *h.duplicates]]

            return deep(units, q["question"])

        start = time.perf_counter()
        rows = score_rows(qs, [run(q) for q in qs])
        out = retrieval_summary(rows)
        out["seconds"] = time.perf_counter() - start
        return out


def _key(overrides: dict, half: str, as_of: bool) -> str:
    """One setting's key: its overrides that differ from the defaults (so {} and START spelled out
    are one setting), the half and as_of."""
    changed = {k: v for k, v in overrides.items() if START[k] != v}
    return json.dumps({"half": half, "as_of": as_of, **changed}, sort_keys=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench.retrieval_grid", description=__doc__.splitlines()[0])
    p.add_argument("--store", type=Path, default=bench_data.ROOT / "bench" / "out" / "full" / "stores" / "main")
    p.add_argument("--out", type=Path, default=bench_data.ROOT / "bench" / "out" / "grid")
    p.add_argument("--data", type=Path, default=bench_data.DATA)
    p.add_argument("--round", choices=sorted(ROUNDS), default="3",
                   help="2: the whole grid from the values before issue 14; 3: the whole-article list, from round 2's; "
                        "4: Hits@5 and answer recall@5, from round 3's; 6: the lead in the passage choice, "
                        "whole-article k1/b, RM3, depth, from round 5's; 7: near-duplicates, MMR, the article list again, from round 6's; "
                        "9: chunk-length settings (article chunks, passage margin, lead bonus, weights, chunk b), from round 6's")
    p.add_argument("--no-finals", action="store_true",
                   help="skip the chosen values' scores on every half (bench.retrieval_bench reports them)")
    p.add_argument("--start-only", action="store_true",
                   help="evaluate only the round's start settings on tune (no stages, no finals)")
    args = p.parse_args(argv)
    _, start, stages = ROUNDS[args.round]
    if args.start_only:
        stages = [("start (tune)", [])]
    args.out.mkdir(parents=True, exist_ok=True)
    log = args.out / "grid.jsonl"
    done = {}
    if log.exists():
        for line in log.read_text().splitlines():
            row = json.loads(line)
            key = json.loads(row["key"])
            half, as_of = key.pop("half"), key.pop("as_of")
            done[_key(key, half, as_of)] = row["summary"]
    questions = bench_data.load_questions(args.data)
    halves = {"tune": select(questions, "tune"), "check": select(questions, "check"), "all": questions}
    ev = Evaluator(args.store, args.store.parent)

    def measure(overrides: dict, half: str = "tune", as_of: bool = False) -> dict:
        key = _key(overrides, half, as_of)
        if key not in done:
            done[key] = ev.evaluate(halves[half], overrides, as_of)
            with open(log, "a") as handle:
                handle.write(json.dumps({"key": key, "summary": done[key]}) + "\n")
            s = done[key]
            print(f"{half:5} as_of={as_of!s:5} {json.dumps(overrides, sort_keys=True)}: hits@1 {s['hits@1']:.3f} "
                  f"hits@5 {s['hits@5']:.3f} mrr {s['mrr@10']:.3f} ar@5 {s['answer_recall@5']:.3f} "
                  f"({s['seconds']:.0f} s)", flush=True)
        return done[key]

    margin = 1 / len(halves["tune"])  # one question on one metric: smaller gains are noise on 102 questions
    chosen: dict = dict(start)
    trail = []
    as_of_stages = [("recency (as_of)", RECENCY)]
    if args.round in ("4", "6", "7", "9") or args.start_only:  # round 3 chose the as_of values; rounds 4, 6 and 7 leave them
        as_of_stages = []
    elif args.round == "3":  # under as_of the recency prior ranks too: the whole-article weight there is its own
        as_of_stages = [("whole-article weight x recency (as_of)", [
            {"article_bm25_weight_as_of": w, "recency_half_life_days": h}
            for w in (None, 0.0, 1.0, 3.0) for h in (7.0, 14.0, 30.0, 60.0, 120.0)])]
    def score(overrides: dict, stage: str) -> float:
        if stage.endswith("(both)"):  # one value for searches with and without as_of: the two objectives summed
            return objective(measure(overrides)) + objective(measure(overrides, as_of=True))
        return objective(measure(overrides, as_of=stage.endswith("(as_of)")))

    for stage, grid in [*stages, *as_of_stages]:
        incumbent = score(chosen, stage)  # the values so far (defaults for this stage's keys)
        scored = [(score({**chosen, **step}, stage), step) for step in grid]
        best = max(scored or [(incumbent, {})], key=lambda item: item[0])  # ties: the first setting listed
        kept = best[0] < incumbent + margin
        if not kept:
            chosen = {**chosen, **best[1]}
        trail.append({"stage": stage, "tried": len(grid), "picked": {} if kept else best[1],
                      "best": best[1], "objective": round(max(best[0], incumbent) if not kept else incumbent, 4),
                      "incumbent": round(incumbent, 4)})
    results = {} if args.no_finals or args.start_only else {
        name: {half: {"without": measure(cfg, half), "as_of": measure(cfg, half, as_of=True)} for half in halves}
        for name, cfg in (("before (chunk RRF)", BASELINE), *((("round 2", ROUND2),) if start else ()),
                          *((("round 3", ROUND3_CHOSEN),) if args.round in ("4", "6") else ()),
                          *((("round 5", ROUND5_CHOSEN),) if args.round == "6" else ()),
                          *((("round 6", ROUND6_CHOSEN),) if args.round in ("7", "9") else ()), ("chosen", chosen))}
    summary = {"round": args.round, "start": start, "chosen": chosen, "trail": trail, "results": results,
               "questions": {h: len(qs) for h, qs in halves.items()}, "evaluated": len(done),
               "loadavg": os.getloadavg()[0], "finished": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    (args.out / "chosen.json").write_text(json.dumps(summary, indent=1))
    print(json.dumps({"chosen": chosen, "trail": trail}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
