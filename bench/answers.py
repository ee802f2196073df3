"""`make bench-answers`: the extractive engine's answers on the benchmark, by half and by type.

For the tune and check halves (bench/split.toml) and each question type (bench/qtypes.py):
- answer accuracy: the gold answer string is in the answer (citation markers removed), over
  every answerable question (a refusal is not correct);
- false refusals: answerable questions refused;
- answered when unanswerable, on two sets of questions whose answer the index does not hold:
  `blind`, bench.data.unanswerable_split (the index without every question's gold articles; the
  questions whose answer string no remaining article holds), and `held-out` (below);
- citation validity: each quote is verbatim at its cited lines of the stored original. For the
  extractive engine this is an invariant (its sentences are spans of the file), not a result;
- a risk–coverage curve of the refusal threshold (a table and a PNG);
- `search` and `ask` latency, side by side in one warm process, over the same questions. The
  full index's cache is re-seeded before this run with what an ingest with sentence vectors
  leaves in it (chunk vectors and the sentence vectors), nothing an earlier question embedded.

Held-out unanswerable set: for each question, the articles that could hold its answer are its
gold articles and every article containing the answer string or one of its distinctive words
(a word of the answer that is not a stopword and at least 4 letters, or its number). Questions
with at most HELD_OUT_CAP such articles qualify; in each half they are dealt alternately into
two groups, and each group is asked of the whole corpus minus every article that could hold any
of its group's answers. So each index is realistic (most of the corpus), near-topic articles
that do not hold the answer stay in it, and many more questions qualify than in `blind`.

Stores are built once from an embedding cache (chunk vectors reused by text) and kept while the
pipeline fingerprint and the corpus are unchanged, so a re-run after an engine change only asks.
They are ingested with `sentence_vectors` off, then given the sentence vectors of every sentence
the run reads (bench/answers_sentences.py: embedded once, tune first, kept by text).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
import time
from pathlib import Path

from bench import data as bench_data
from bench.answers_sentences import embed_read, seed_sentences
from bench.metrics import contains, latency_summary, normalise
from bench.qtypes import TYPES, question_type
from bench.split import HALVES, half_of, weeks

OUT = bench_data.ROOT / "bench" / "out" / "answers"
SECTION = bench_data.ROOT / "bench" / "answers.md"
BASELINE = bench_data.ROOT / "bench" / "answers-baseline.json"  # the same harness on the engine before issue 12
ROUND1 = bench_data.ROOT / "bench" / "answers-round1.json"  # ... and after its first round (summary only)
ROUND2 = bench_data.ROOT / "bench" / "answers-round2.json"  # ... and after its second round (main 136c0d1, no as_of)
ROUND3 = bench_data.ROOT / "bench" / "answers-round3.json"  # ... and its third (b6f537e, as_of, before i14's round 2)
MAIN_R4 = bench_data.ROOT / "bench" / "answers-main-r4base.json"  # ... main 0a45f43 (i14 round 2), before round 4
ROUND5 = bench_data.ROOT / "bench" / "answers-round5.json"  # ... round 5 (e7a8ecb, on main), before stored sentence vectors
ROUND6 = bench_data.ROOT / "bench" / "answers-round6.json"  # ... round 6 (main b53e0a7), before the fitted support floor
PLOT = bench_data.ROOT / "bench" / "answers-risk-coverage.png"
NOTES = bench_data.ROOT / "bench" / "answers-notes.md"  # hand-written notes on the latest round, shown after the figures
BENCHMARKS = bench_data.ROOT / "BENCHMARKS.md"
START, END = "<!-- bench-answers:start -->", "<!-- bench-answers:end -->"
DONOR_CACHES = (
    OUT / "cache" / "embeddings.sqlite",
    bench_data.ROOT / "bench" / "out" / "full" / "stores" / "main" / "cache" / "embeddings.sqlite",
    bench_data.ROOT.parent / "main" / "bench" / "out" / "full" / "stores" / "main" / "cache" / "embeddings.sqlite",
)
HELD_OUT_CAP = 80
HELD_OUT_GROUPS = 2  # per half
_MARKER = re.compile(r"\[\d+\]")
_STOP = set(["the", "and", "for", "with", "from", "that", "this", "was", "were", "are", "has", "have", "its", "their", "his", "her", "into", "over"])
WARM_UP = "What happened in the news this week?"


# ---------------------------------------------------------------- question sets

def _words(answer: str) -> list[str]:
    return [w for w in normalise(answer).split() if (len(w) >= 4 or w.isdigit()) and w not in _STOP]


def holders(articles: list[dict], texts: list[str], question: dict) -> set[str]:
    """Articles that could hold the question's answer (see the module doc)."""
    needles = [normalise(question["answer"])] + [f" {w} " for w in _words(question["answer"])]
    found = {a["id"] for a, t in zip(articles, texts) if any(n.strip() and n in t for n in needles)}
    return found | set(question["gold_ids"])


def held_out_groups(articles: list[dict], questions: list[dict], cap: int = HELD_OUT_CAP,
                    groups: int = HELD_OUT_GROUPS) -> list[dict]:
    """[{name, half, questions, removed: article ids}] (see the module doc)."""
    texts = [normalise(f"{a.get('title') or ''}\n{a['text']}") for a in articles]
    table = weeks()
    out = []
    for half in HALVES:
        qualified = []
        for q in (q for q in questions if half_of(q, table) == half):
            held = holders(articles, texts, q)
            if len(held) <= cap:
                qualified.append((q, held))
        for g in range(groups):
            members = qualified[g::groups]
            removed = set().union(*(h for _, h in members)) if members else set()
            out.append({"name": f"held-out-{half}-{g + 1}", "half": half, "questions": [q for q, _ in members],
                        "removed": sorted(removed)})
    return out


QUICK = {"per_half": 15, "distractors": 40, "unanswerable": 10}


def quick_set(articles: list[dict], questions: list[dict]) -> tuple[list[dict], list[dict], list[dict]]:
    """The fixed subset `make test` measures (tests/test_answers_quick.py): the first 15
    single-gold-article questions of each half, their gold articles and the first 40 other
    articles of the benchmark's own order; and, asked of the same index, the first 10 other
    questions whose answer string no indexed article holds. Returns (articles, answerable,
    unanswerable)."""
    table = weeks()
    answerable = []
    for half in HALVES:
        answerable += [q for q in questions if half_of(q, table) == half and len(q["gold_ids"]) == 1][:QUICK["per_half"]]
    keep = list(dict.fromkeys(q["gold_ids"][0] for q in answerable))
    gold = {g for q in questions for g in q["gold_ids"]}
    keep += [a["id"] for a in articles if a["id"] not in gold][:QUICK["distractors"]]
    by_id = {a["id"]: a for a in articles}
    chosen = [by_id[i] for i in keep]
    texts = [normalise(f"{a.get('title') or ''}\n{a['text']}") for a in chosen]
    asked = {q["id"] for q in answerable}
    unanswerable = [q for q in questions if q["id"] not in asked and not set(q["gold_ids"]) & set(keep)
                    and not any(contains(t, q["answer"], normalised=True) for t in texts)][:QUICK["unanswerable"]]
    return chosen, answerable, unanswerable


# ---------------------------------------------------------------- stores

def _settings(store: Path, corpus: Path, **overrides):
    from rag.settings import Settings

    return Settings(store_dir=store, corpus_dir=corpus.parent, **overrides)


def isolate(out: Path) -> None:
    """The engine's settings as bench-answers has them: no RAG_ variable, the run's own config file."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    for key in [k for k in os.environ if k.startswith("RAG_")]:
        del os.environ[key]
    os.environ["RAG_CONFIG"] = str(out / "no-rag.toml")


def donor_cache(explicit: Path | None) -> Path | None:
    for path in ([explicit] if explicit else []) + list(DONOR_CACHES):
        if path and path.is_file():
            return path
    return None


def corpus_text(records: list[dict]) -> str:
    return "".join(json.dumps(rec, ensure_ascii=False) + "\n" for rec in records)


def bench_stamp(settings, text: str) -> str:
    """What a store's bench-stamp records: the pipeline's fingerprint and the corpus it was built from."""
    from rag.index.store import fingerprint

    return hashlib.sha256((json.dumps(fingerprint(settings), sort_keys=True) + text).encode()).hexdigest()


def ensure_store(name: str, records: list[dict], run: Path, cache: Path | None,
                 derive_from: Path | None = None, **overrides) -> tuple[Path, Path, dict]:
    """A store of `records`, rebuilt only when the corpus or the pipeline fingerprint changed.
    `overrides`: settings the store is built with (e.g. other chunking; bench/chunk_store.py).

    Every store is ingested from the same corpus path (run/corpus/articles.jsonl, rewritten for
    each), so a store `derive_from` names (the full index) can be copied and brought to a subset
    by an incremental ingest, which only removes the missing articles: minutes less than a build."""
    import shutil

    from bench.phases import seed_cache
    from rag.api import Rag

    corpus = run / "corpus" / bench_data.CORPUS_FILE
    store = run / "stores" / name
    settings = _settings(store, corpus, **overrides)
    text = corpus_text(records)
    stamp = bench_stamp(settings, text)
    stamp_file = store / "bench-stamp"
    if stamp_file.is_file() and stamp_file.read_text() == stamp:
        return store, corpus, {"built": False}
    shutil.rmtree(store, ignore_errors=True)
    if derive_from is not None and (derive_from / "bench-stamp").is_file():
        shutil.copytree(derive_from, store, ignore=shutil.ignore_patterns("lock", "bench-stamp"))
    else:
        store.mkdir(parents=True)
        if cache is not None:  # every donor path is <store>/cache/embeddings.sqlite
            seed_cache(store, cache.parent.parent)
    corpus.parent.mkdir(parents=True, exist_ok=True)
    corpus.write_text(text, encoding="utf-8")
    start = time.perf_counter()
    # Sentence vectors: only those the run reads, from their own cache (bench/answers_sentences.py).
    rag = Rag(settings.model_copy(update={"sentence_vectors": False}))
    try:
        report = rag.ingest([corpus])
    finally:
        rag.close()
    stamp_file.write_text(stamp)
    return store, corpus, {"built": True, "derived": derive_from is not None, "seconds": round(time.perf_counter() - start, 1),
                           "embedded": report.embedded, "chunks": report.total_chunks, "removed": len(report.removed)}


# ---------------------------------------------------------------- asking

AS_OF = True  # ask each question as of its own date (main(): --no-as-of turns it off)


def question_date(q: dict):
    """The date the question was asked (RealTime QA's quiz: the day before the quiz week's date).
    Asked as of it, as a live index would be, nothing published later is read."""
    import datetime as dt

    return dt.date.fromisoformat(q["date"].replace("/", "-")[:10])


def _filters(q: dict):
    from rag.retrieval import Filters

    return Filters(as_of=question_date(q)) if AS_OF else Filters()

# The sets of bench/llm_still_answerable.jsonl whose corpus is the blind store's ("rest":
# bench.data.unanswerable_split): a question listed there is still answered by a line of it.
BLIND_SETS = ("unanswerable", "tune-unanswerable")


def still_answerable_blind(store: Path) -> tuple[set[str], list[str]]:
    """Ids of blind questions a person found still answerable in the blind corpus (the LLM
    benchmark's hand check, bench/llm_still_answerable.jsonl), each entry checked against this
    store's copy of the line it cites; and one problem per entry that does not check out."""
    from bench.llm_unanswerable import still_answerable, verify
    from rag.index.docstore import DocStore

    docs = DocStore(store / "rag.db")
    try:
        def line_of(_set: str, source: str, number: int) -> str | None:
            lines = (docs.raw(source) or "").splitlines()
            return lines[number - 1] if 1 <= number <= len(lines) else None

        good, problems = verify([e for e in still_answerable() if e["set"] in BLIND_SETS], line_of)
    finally:
        docs.close()
    return {i for _, i in good}, problems


def _answer_row(q: dict, answer, raw_of) -> dict:
    from rag.answer.verify import quote_is_verbatim

    text = _MARKER.sub(" ", answer.answer)
    valid = []
    for c in answer.citations:
        raw = raw_of(c.source)
        valid.append(raw is not None and quote_is_verbatim(c, raw[0], raw[1]))
    return {
        "id": q["id"], "type": question_type(q), "question": q["question"], "gold": q["answer"],
        "refused": answer.refused, "correct": (not answer.refused) and contains(text, q["answer"]),
        "confidence": getattr(answer, "confidence", None), "answer": answer.answer[:600],
        "sentences": len(answer.sentences), "words": len(text.split()) if not answer.refused else 0,
        "citations": len(answer.citations), "valid_citations": sum(valid),
        "notes": answer.notes,
    }


def ask_all(store: Path, corpus: Path, qs: list[dict], latency: bool = False, **overrides) -> dict:
    """Every question asked once (warm process). With `latency`, search and ask are timed side by
    side over the same questions, search first."""
    from rag.api import Rag

    rag = Rag(_settings(store, corpus, **overrides))
    out: dict = {}
    try:
        rag.search(WARM_UP)
        rag.ask(WARM_UP)
        asked = [(q["question"], _filters(q)) for q in qs]
        if latency:
            seconds = []
            for t, f in asked:
                start = time.perf_counter()
                rag.search(t, filters=f)
                seconds.append(time.perf_counter() - start)
            out["search"] = latency_summary(seconds)
        seconds, answers = [], []
        for t, f in asked:
            start = time.perf_counter()
            answers.append(rag.ask(t, filters=f))
            seconds.append(time.perf_counter() - start)
        if latency:
            out["ask"] = latency_summary(seconds)
            out["ask_stages_ms"] = {k: 1000 * sum(a.timings.get(k, 0.0) for a in answers) / len(answers)
                                    for k in answers[0].timings} if answers else {}
        from rag.eval.runner import store_lookup

        raw_of = store_lookup(rag)
        out["rows"] = [_answer_row(q, a, raw_of) for q, a in zip(qs, answers)]
    finally:
        rag.close()
    return out


# ---------------------------------------------------------------- scoring

def _rate(rows: list[dict], key) -> float | None:
    return sum(1 for r in rows if key(r)) / len(rows) if rows else None


def answerable_summary(rows: list[dict]) -> dict:
    answered = [r for r in rows if not r["refused"]]
    cited = sum(r["citations"] for r in rows)
    return {
        "questions": len(rows),
        "accuracy": _rate(rows, lambda r: r["correct"]),
        "false_refusals": _rate(rows, lambda r: r["refused"]),
        "correct_of_answered": _rate(answered, lambda r: r["correct"]),
        "citation_validity": sum(r["valid_citations"] for r in rows) / cited if cited else None,
        "sentences": sum(r["sentences"] for r in answered) / len(answered) if answered else None,
        "words": sum(r["words"] for r in answered) / len(answered) if answered else None,
    }


def unanswerable_summary(rows: list[dict]) -> dict:
    return {"questions": len(rows), "answered": _rate(rows, lambda r: not r["refused"])}


def by(rows: list[dict], key: str, values) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {v: [] for v in values}
    for r in rows:
        out.setdefault(r[key], []).append(r)
    return out


def curve(answerable: list[dict], unanswerable: list[dict], thresholds: list[float]) -> list[dict]:
    """Refusal at each threshold, from the open run (threshold 0): answered iff confidence >= t.
    Coverage = answered share of the answerable questions; risk = wrong share of those answered."""
    out = []
    for t in thresholds:
        def answered(r, t=t):
            return not r["refused"] and r["confidence"] is not None and r["confidence"] >= t
        ans = [r for r in answerable if answered(r)]
        out.append({
            "threshold": t, "coverage": len(ans) / len(answerable) if answerable else None,
            "risk": 1 - sum(r["correct"] for r in ans) / len(ans) if ans else None,
            "accuracy": sum(r["correct"] for r in ans) / len(answerable) if answerable else None,
            "answered_unanswerable": (sum(1 for r in unanswerable if answered(r)) / len(unanswerable)
                                      if unanswerable else None),
        })
    return out


# ---------------------------------------------------------------- the run

def run(args) -> dict:
    articles = bench_data.load_articles(args.data)
    questions = bench_data.load_questions(args.data)
    cache = donor_cache(args.cache)
    run_dir = args.out
    run_dir.mkdir(parents=True, exist_ok=True)
    table = weeks()
    halves = {q["id"]: half_of(q, table) for q in questions}
    builds = {}

    main, main_corpus, builds["main"] = ensure_store("main", [bench_data.record(a) for a in articles], run_dir, cache)
    rest, blind = bench_data.unanswerable_split(articles, questions)
    blind_store, blind_corpus, builds["blind"] = ensure_store("blind", [bench_data.record(a) for a in rest], run_dir,
                                                              cache, derive_from=main)
    groups = held_out_groups(articles, questions)
    group_stores = []
    for g in groups:
        removed = set(g["removed"])
        kept = [bench_data.record(a) for a in articles if a["id"] not in removed]
        store, corpus, builds[g["name"]] = ensure_store(g["name"], kept, run_dir, cache, derive_from=main)
        group_stores.append((g, store, corpus))

    if args.half:  # one half only (its figures; the other half's rows are absent)
        questions = [q for q in questions if halves[q["id"]] == args.half]
        blind = [q for q in blind if halves[q["id"]] == args.half]
        group_stores = [(g, store, corpus) for g, store, corpus in group_stores if g["half"] == args.half]
    sets = [(main, questions), (blind_store, blind)] + [(store, g["questions"]) for g, store, _ in group_stores]
    results_sentences = embed_read(sets, _filters, lambda q: halves[q["id"]],
                                   halves=(args.half,) if args.half else ("tune", "check"))
    if cache is not None and main not in cache.parents:
        # The latency run asks with what an ingest with sentence vectors leaves in the cache:
        # chunk vectors and sentence vectors, nothing a question embedded earlier.
        from bench.phases import seed_cache

        seed_cache(main, cache.parent.parent)
    for store, _ in sets:
        seed_sentences(store)
    if args.prepare:
        return {"sentences_embedded": results_sentences}
    results: dict = {"builds": builds, "sentences_embedded": results_sentences, "loadavg_start": os.getloadavg()[0]}
    still, results["still_answerable_problems"] = still_answerable_blind(blind_store)
    results["still_answerable"] = sorted(still)
    modes = [("default", {})] + ([] if args.no_curve else [("open", {"min_answerable": 0.0})])
    for mode, overrides in modes:
        main_run = ask_all(main, main_corpus, questions, latency=(mode == "default"), **overrides)
        (run_dir / f"{args.label}-{mode}-answerable.json").write_text(json.dumps(main_run, default=str))  # kept if stopped
        blind_rows = ask_all(blind_store, blind_corpus, blind, **overrides)["rows"]
        for r in blind_rows:
            r["still_answerable"] = r["id"] in still
        held_rows = []
        for g, store, corpus in group_stores:
            held_rows += ask_all(store, corpus, g["questions"], **overrides)["rows"]
        for rows in (main_run["rows"], blind_rows, held_rows):
            for r in rows:
                r["half"] = halves[r["id"]]
        results[mode] = {"answerable": main_run["rows"], "blind": blind_rows, "held_out": held_rows}
        if mode == "default":
            results["latency"] = {k: main_run[k] for k in ("search", "ask", "ask_stages_ms")}
    results["loadavg_end"] = os.getloadavg()[0]
    from rag.settings import Settings

    # The curve is of the answerability threshold; the support floor fitted with it stays.
    results["min_support"] = Settings.model_fields["min_answerable"].default  # the curve marks it
    results["summary"] = summarise(results)
    results["held_out_groups"] = [{"name": g["name"], "questions": len(g["questions"]), "removed": len(g["removed"]),
                                   "kept": len(articles) - len(g["removed"])} for g in groups]
    results["blind_articles"] = len(rest)
    results["commit"] = _commit()
    results["as_of"] = AS_OF
    results["half"] = args.half
    results["started"] = args.started
    return results


def summarise(results: dict) -> dict:
    out: dict = {}
    default = results["default"]
    for half in (*HALVES, "all"):
        def pick(rows, half=half):
            return [r for r in rows if half == "all" or r["half"] == half]
        answerable = pick(default["answerable"])
        blind, held = pick(default["blind"]), pick(default["held_out"])
        out[half] = {
            "answerable": answerable_summary(answerable),
            "types": {t: answerable_summary(rows) for t, rows in by(answerable, "type", TYPES).items()},
            "blind": unanswerable_summary(blind), "held_out": unanswerable_summary(held),
            # without the blind questions a hand check found still answerable (still_answerable_blind)
            "blind_truly": unanswerable_summary([r for r in blind if not r.get("still_answerable")]),
            "unanswerable_truly": unanswerable_summary([r for r in blind + held if not r.get("still_answerable")]),
            "blind_types": {t: unanswerable_summary(rows) for t, rows in by(blind, "type", TYPES).items()},
            "held_out_types": {t: unanswerable_summary(rows) for t, rows in by(held, "type", TYPES).items()},
        }
        opened = results.get("open")
        chosen = results.get("min_support")
        grid = [round(0.05 * i, 2) for i in range(21)]
        if chosen is not None and chosen not in grid:
            grid = sorted(grid + [chosen])
        if not opened and chosen is not None:
            # Without the open run (--no-curve), the default run still gives every threshold at or
            # above the chosen one: a question answered there is answered at a higher one iff its
            # score reaches it, with the same answer.
            opened, grid = default, [t for t in grid if t >= chosen]
        if opened and any(r["confidence"] is not None for r in opened["answerable"]):
            out[half]["curve"] = curve(pick(opened["answerable"]), pick(opened["blind"]) + pick(opened["held_out"]), grid)
    return out


def _commit() -> str:
    import subprocess

    def git(*a):
        return subprocess.run(["git", *a], cwd=bench_data.ROOT, capture_output=True, text=True).stdout.strip()
    dirty = git("status", "--porcelain", "--", "rag", "bench")
    return git("rev-parse", "--short", "HEAD") + (" (with uncommitted changes)" if dirty else "")


# ---------------------------------------------------------------- report

def _f(x, digits: int = 3) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def _ms(x) -> str:
    return "–" if x is None else f"{x:.0f} ms"


def render(results: dict, plot: str | None) -> str:
    s = results["summary"]
    lat = results.get("latency", {})
    lines = [
        "## Answers on the benchmark, tune and check (`make bench-answers`)", "",
        (f"_Generated by `make bench-answers` (`python -m bench.answers`) at commit {results['commit']}, "
         f"started {results['started']}; 1-minute load average {results['loadavg_start']:.1f}→"
         f"{results['loadavg_end']:.1f} on 2 cores. Thresholds and rules are chosen on **tune**; **check** is "
         "the figure to quote._"
         + (" Each question is asked as of its date (`Filters.as_of`: nothing published after it is read), as a "
            "live index would be." if results.get("as_of") else " Every question is asked of the whole index (no as_of).")
         + (f" This run asked the {results['half']} half only (`--half {results['half']}`)." if results.get("half") else "")),
        "",
        "| Half | Questions | Answer accuracy | False refusals | Correct among answered | Answered when unanswerable: blind | held-out | Citation validity (invariant) | Sentences / words per answer |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for half in (*HALVES, "all"):
        a, b, h = s[half]["answerable"], s[half]["blind"], s[half]["held_out"]
        name = f"**{half}**" if half == "check" else half
        lines.append(
            f"| {name} | {a['questions']} | {_f(a['accuracy'])} | {_f(a['false_refusals'])} | {_f(a['correct_of_answered'])} "
            f"| {_f(b['answered'])} (of {b['questions']}) | {_f(h['answered'])} (of {h['questions']}) "
            f"| {_f(a['citation_validity'])} | {_f(a['sentences'], 1)} / {_f(a['words'], 0)} |")
    if "blind_truly" in s["all"]:
        truly = "; ".join(
            f"{half} blind {_f(s[half]['blind_truly']['answered'])} (of {s[half]['blind_truly']['questions']}), "
            f"pooled with held-out {_f(s[half]['unanswerable_truly']['answered'])} (of {s[half]['unanswerable_truly']['questions']})"
            for half in HALVES if s[half]["blind_truly"]["questions"])
        lines += ["", (f"Answered when truly unanswerable: {truly}. Left out: the blind questions that the LLM benchmark's "
                       "hand check found still answered by a line of the blind corpus (bench/llm_still_answerable.jsonl, "
                       f"each line checked against this run's blind store: {', '.join(results.get('still_answerable', [])) or 'none'}"
                       + (f"; not confirmed: {'; '.join(results['still_answerable_problems'])}" if results.get("still_answerable_problems") else "")
                       + ").")]
    for path, label in ((ROUND6, "Round 6 of issue 12 (main before this round: support floor 0.55, answerability 0.6)"),
                        (ROUND5, "Round 5 of issue 12 (8 shortlisted sentences scored semantically)"),
                        (MAIN_R4, "On main with retrieval round 2 (issue 14), before round 4 of issue 12"),
                        (ROUND3, "After round 3 of issue 12, before retrieval round 2 (issue 14)"),
                        (ROUND2, "After round 2 of issue 12, asked without as_of"), (ROUND1, "After round 1 of issue 12"),
                        (BASELINE, "Before issue 12")):
        if not path.exists():
            continue
        base = json.loads(path.read_text())
        lines += ["", (f"{label} (commit {base['commit']}, the same harness, run {base['started']}; ask p95 "
                       f"{_ms(base['latency']['ask']['p95_ms'])} against search p95 {_ms(base['latency']['search']['p95_ms'])}"
                       f" in that run):"), "",
                  "| Half | Answer accuracy | False refusals | Answered when unanswerable: blind | held-out |", "|---|---|---|---|---|"]
        for half in (*HALVES, "all"):
            a, b, h = (base["summary"][half][k] for k in ("answerable", "blind", "held_out"))
            lines.append(f"| {half} | {_f(a['accuracy'])} | {_f(a['false_refusals'])} | {_f(b['answered'])} | {_f(h['answered'])} |")
    lines += ["", "By question type (answerable questions: accuracy / false refusals; unanswerable, blind and held-out "
              "pooled: answered):", "",
              "| Type | tune: n | accuracy | false refusals | unanswerable answered (n) | check: n | accuracy | false refusals | unanswerable answered (n) |",
              "|---|---|---|---|---|---|---|---|---|"]
    for t in TYPES:
        cells = []
        for half in HALVES:
            a = s[half]["types"][t]
            un = [r for k in ("blind", "held_out") for r in results["default"][k] if r["half"] == half and r["type"] == t]
            u = unanswerable_summary(un)
            cells += [str(a["questions"]), _f(a["accuracy"]), _f(a["false_refusals"]), f"{_f(u['answered'])} ({u['questions']})"]
        lines.append(f"| {t} | " + " | ".join(cells) + " |")
    if "curve" in s["check"]:
        chosen = results.get("min_support")
        lines += ["", (f"Risk–coverage of the refusal threshold (`min_answerable`, now {chosen}; the support floor "
                       "fitted with the model stays): the engine answers when its refusal score reaches the threshold. Coverage = share of answerable questions answered, risk = "
                       "share of those answers without the gold answer, unanswerable = share of the blind and held-out "
                       "questions answered. " + ("From one run with the threshold at 0 (the score does not depend on it)."
                                                 if "open" in results else
                                                 "From the run at the chosen threshold, so only thresholds at or above it.")), "",
                  "| Threshold | tune: coverage | risk | accuracy | unanswerable answered | check: coverage | risk | accuracy | unanswerable answered |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for i, row in enumerate(s["tune"]["curve"]):
            other = s["check"]["curve"][i]
            t = row["threshold"]
            if not (abs(t * 10 - round(t * 10)) < 1e-9 or t == chosen):
                continue
            mark = f"**{t:.2f}**" if t == chosen else f"{t:.2f}"
            lines.append(f"| {mark} | " + " | ".join(
                _f(x[k]) for x in (row, other) for k in ("coverage", "risk", "accuracy", "answered_unanswerable")) + " |")
        if plot:
            lines += ["", f"![Risk–coverage of the refusal threshold]({plot})"]
    if lat:
        lines += ["", (f"Latency, warm process, {lat['search']['n']} questions on the full index, `search` then `ask` in "
                       f"one run: search p50 / p95 {_ms(lat['search']['p50_ms'])} / {_ms(lat['search']['p95_ms'])}; "
                       f"**ask p50 / p95 {_ms(lat['ask']['p50_ms'])} / {_ms(lat['ask']['p95_ms'])}** (target p95 ≤ 150 ms). "
                       "ask, mean per stage: " + ", ".join(f"{k} {v:.1f} ms" for k, v in lat["ask_stages_ms"].items()) + ".")]
    groups = results.get("held_out_groups", [])
    lines += ["", (
        "Answer accuracy: the gold answer string is in the answer text (citation markers removed; case, accents and "
        "punctuation ignored, whole words); a refusal counts as not correct. False refusals: answerable questions "
        "refused. *Blind*: the index without every question's gold articles, asked the questions whose answer no "
        f"remaining article holds ({results.get('blind_articles', '?')} articles). *Held-out*: per half, questions "
        f"with at most {HELD_OUT_CAP} articles that could hold their answer (gold articles, and articles containing the "
        "answer or one of its distinctive words), dealt into two groups; each group is asked of the corpus minus every "
        "such article of its group (" + ", ".join(f"{g['name']}: {g['questions']} questions, {g['kept']} articles"
                                                    for g in groups) + "). Citation validity: every quote verbatim at "
        "its cited lines of the stored original; the extractive engine quotes spans of the file, so this is an "
        "invariant, not a result. Question types are read from the wording (bench/qtypes.py).")]
    lines += _type_change(s, ROUND6, "round 6")
    if NOTES.exists():
        lines += ["", NOTES.read_text(encoding="utf-8").strip()]
    return "\n".join(lines) + "\n"


def _type_change(summary: dict, path: Path, label: str) -> list[str]:
    """Accuracy and false refusals by question type and half: an earlier run (`path`) → this one."""
    if not path.exists():
        return []
    base = json.loads(path.read_text())["summary"]
    out = ["", f"By question type, {label} → this run (answerable questions: accuracy, false refusals):", "",
           "| Type | tune: n | accuracy | false refusals | check: n | accuracy | false refusals |", "|---|---|---|---|---|---|---|"]
    for t in TYPES:
        cells = []
        for half in HALVES:
            before, now = base[half]["types"].get(t), summary[half]["types"].get(t)
            if not now:
                cells += ["0", "–", "–"]
                continue
            cells += [str(now["questions"])] + [
                f"{_f(before.get(k) if before else None)} → {_f(now[k])}" for k in ("accuracy", "false_refusals")]
        out.append(f"| {t} | " + " | ".join(cells) + " |")
    return out


def write_plot(results: dict, path: Path) -> bool:
    s = results["summary"]
    if "curve" not in s.get("check", {}):
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for half, style in (("tune", "--"), ("check", "-")):
        rows = [r for r in s[half]["curve"] if r["risk"] is not None]
        left.plot([r["coverage"] for r in rows], [r["risk"] for r in rows], style, marker=".", label=half)
        rows = [r for r in s[half]["curve"] if r["coverage"] is not None]  # none for a half not asked (--half)
        right.plot([r["threshold"] for r in rows], [1 - r["coverage"] for r in rows], style, label=f"{half}: false refusals")
        right.plot([r["threshold"] for r in rows], [r["answered_unanswerable"] for r in rows], style,
                   label=f"{half}: unanswerable answered")
    chosen = results.get("min_support")
    if chosen is not None:
        right.axvline(chosen, color="grey", linewidth=0.8)
    left.set(xlabel="coverage (answerable questions answered)", ylabel="risk (answers without the gold answer)",
             title="Risk–coverage")
    right.set(xlabel="refusal threshold", ylabel="share", title="Refusals against the threshold")
    left.legend()
    right.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def splice(section: str, path: Path = BENCHMARKS, start: str = START, end: str = END) -> None:
    """Replace this benchmark's section of BENCHMARKS.md (between its markers), or append it."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    block = f"{start}\n{section.rstrip()}\n{end}"
    if start in text and end in text:
        head, rest = text.split(start, 1)
        text = head + block + rest.split(end, 1)[1]
    else:
        marker = "\n## Re-running"
        text = text.replace(marker, f"\n{block}\n{marker}", 1) if marker in text else text.rstrip() + f"\n\n{block}\n"
    path.write_text(text, encoding="utf-8")


def report_section() -> list[str]:
    """For bench/report.py: the section as last generated (bench/answers.md), between its markers."""
    if not SECTION.exists():
        return []
    return ["", START, SECTION.read_text(encoding="utf-8").rstrip(), END]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench.answers", description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=bench_data.DATA)
    p.add_argument("--out", type=Path, default=OUT, help="run directory (stores, corpora, results)")
    p.add_argument("--cache", type=Path, help="an embeddings.sqlite holding the benchmark's chunk vectors")
    p.add_argument("--no-report", action="store_true", help="do not rewrite bench/answers.md and BENCHMARKS.md")
    p.add_argument("--label", default="results", help="name of the results file in the run directory")
    p.add_argument("--no-curve", action="store_true", help="skip the open run (threshold 0) the risk–coverage curve needs")
    p.add_argument("--render-only", action="store_true", help="re-render the report from the run's results file")
    p.add_argument("--no-as-of", action="store_true", help="ask every question of the whole index, not as of its date")
    p.add_argument("--half", choices=HALVES, help="ask only this half's questions")
    p.add_argument("--prepare", action="store_true", help="only build the stores and give them the sentence vectors the "
                   "run reads (bench/answers_sentences.py), as the fitting scripts need them")
    args = p.parse_args(argv)
    global AS_OF
    AS_OF = not args.no_as_of
    if args.render_only:
        results = json.loads((args.out / f"{args.label}.json").read_text())
        results["summary"] = summarise(results)
        section = render(results, PLOT.name if write_plot(results, args.out / PLOT.name) else None)
        PLOT.write_bytes((args.out / PLOT.name).read_bytes()) if (args.out / PLOT.name).exists() else None
        SECTION.write_text(section.replace(f"]({PLOT.name})", f"](bench/{PLOT.name})"), encoding="utf-8")
        splice(SECTION.read_text(encoding="utf-8"))
        print(section)
        return 0
    if not (args.data / "articles.jsonl.gz").is_file():
        p.error(f"no benchmark data in {args.data}")
    isolate(args.out)
    args.started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    results = run(args)
    if args.prepare:
        print(json.dumps(results))
        return 0
    (args.out / f"{args.label}.json").write_text(json.dumps(results, indent=1, default=str))
    section = render(results, PLOT.name if write_plot(results, args.out / PLOT.name) else None)
    print(section)
    if not args.no_report:
        if (args.out / PLOT.name).exists():
            PLOT.write_bytes((args.out / PLOT.name).read_bytes())
        SECTION.write_text(section.replace(f"]({PLOT.name})", f"](bench/{PLOT.name})"), encoding="utf-8")
        splice(SECTION.read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
