"""Briefings on the benchmark (issue 13): a crash fuzz, the real-news briefing cases, and speed.

Phase `briefs` (`python -m bench.run --phases briefs`, after `ingest`) on the full index:
- fuzz: 200 topics taken from benchmark article titles (a fixed sample), each briefed plainly,
  with a date filter (the article's date +/- 7 days) and with a source filter (a glob that
  matches that article and a few others). A crash is any exception but rag's own one-line
  errors (an InputError such as "nothing to brief" is a correct answer to a filter that matches
  nothing). Every briefing's citations are checked verbatim against the files;
- cases: `rag eval` of evals/bench/briefings.yaml (hand-written facts and labelled event dates;
  these eight stories were looked at while the date rules were written) and, reported apart, of
  evals/bench/briefings_held_out.yaml (two stories of the check quiz weeks, never looked at);
- speed: a topic briefing the process has not seen (its sentences not yet embedded) and the same
  again, in one warm process; and a whole-corpus briefing restricted to about 250 articles.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
import traceback
from pathlib import Path

from bench.metrics import latency_summary

TOPICS = 200
METHOD = ("Phase `briefs` on the full index. Fuzz: 200 topics taken from article titles (a fixed sample), each "
          "briefed plainly, with a date filter (the article's date ± 7 days) and with a source filter (a glob that "
          "matches that article and a few others); a crash is any exception but rag's own one-line errors, and every "
          "citation is checked verbatim. Each fuzz topic is new to the process: its latency includes embedding "
          "the sentences it reads (about 150) unless an earlier briefing on the store cached them. Cases: `rag eval` of "
          "evals/bench/briefings.yaml (hand-written facts, hand-labelled event dates) and, apart, of the held-out "
          "evals/bench/briefings_held_out.yaml. Speed: one topic and a "
          "whole-corpus briefing of about 250 articles, each twice in one warm process.")
QUICK_TOPICS = 5  # bench --quick (CI): the phase runs end to end; its figures mean nothing
SEED = 13
CASES = Path(__file__).resolve().parent.parent / "evals" / "bench" / "briefings.yaml"
HELD_OUT = CASES.with_name("briefings_held_out.yaml")
SPEED_TOPIC = "the heat wave in Europe and the record temperatures in the UK"


def topics(corpus: Path, n: int = TOPICS) -> list[dict]:
    """A fixed sample of articles with titles: each gives a topic, a date window and a source
    glob. (A corpus with too few titles, such as bench --quick's, takes the opening words of
    untitled articles as their topics.)"""
    articles = [json.loads(line) for line in corpus.read_text(encoding="utf-8").splitlines() if line.strip()]
    titled = [a for a in articles if (a.get("title") or "").strip()]
    sample = random.Random(SEED).sample(titled, min(n, len(titled)))
    for a in articles:
        if len(sample) >= n:
            break
        if a not in sample and a["text"].split():
            sample.append({**a, "title": " ".join(a["text"].split()[:12])})
    return sample


def _calls(article: dict):
    from rag.retrieval import Filters

    title = article["title"].strip()
    yield "topic", title, Filters()
    if article.get("date"):
        day = dt.date.fromisoformat(article["date"][:10])
        yield "topic + dates", title, Filters(since=day - dt.timedelta(days=7), until=day + dt.timedelta(days=7))
    yield "topic + source", title, Filters(source=f"*#{article['id'][:2]}*")


def fuzz(rag, sample: list[dict]) -> dict:
    from rag.brief.citing import unverified
    from rag.errors import RagError

    crashes, refused, seconds, unverified_total, counts = [], {}, {}, 0, {}
    for article in sample:
        for kind, topic, filters in _calls(article):
            counts[kind] = counts.get(kind, 0) + 1
            start = time.perf_counter()
            try:
                briefing = rag.brief(topic, filters)
            except RagError as err:  # one line for the user: not a crash
                refused.setdefault(kind, []).append(str(err)[:120])
                continue
            except Exception as err:  # noqa: BLE001 - what the fuzz is looking for
                crashes.append({"kind": kind, "topic": topic, "error": f"{type(err).__name__}: {err}"[:300],
                                "where": traceback.format_exc(limit=-3)[-600:]})
                continue
            seconds.setdefault(kind, []).append(time.perf_counter() - start)
            unverified_total += len(unverified(briefing.citations, rag.store.docs))
    return {"topics": len(sample), "calls": counts, "crashes": crashes, "refused": {k: len(v) for k, v in refused.items()},
            "refused_examples": {k: v[:3] for k, v in refused.items()}, "unverified_citations": unverified_total,
            "latency": {k: latency_summary(v) for k, v in seconds.items()}}


def cases(rag, path: Path = CASES) -> dict:
    from rag.eval.cases import load_cases
    from rag.eval.runner import run_eval

    run = run_eval(rag, load_cases([path]))
    return {"metrics": {k: v.mean for k, v in run.metrics.items()},
            "cases": {r.case.id: {k: s.value for k, s in r.trials[0].scores.items()} for r in run.results if r.trials}}


def speed(rag) -> dict:
    from rag.retrieval import Filters

    out = {}
    for label in ("first", "again"):
        start = time.perf_counter()
        briefing = rag.brief(SPEED_TOPIC)
        out[f"topic_{label}_s"] = time.perf_counter() - start
        out["topic_sources"] = len(briefing.sources)
    days = sorted({a.date for a in (rag.store.docs.article(s) for s in rag.store.docs.sources(None, None, None)) if a.date})
    window = _window(rag, days, 250)
    if window:
        for label in ("first", "again"):
            start = time.perf_counter()
            briefing = rag.brief(None, Filters(since=window[0], until=window[1]))
            out[f"window_{label}_s"] = time.perf_counter() - start
        out["window"] = [str(window[0]), str(window[1])]
        out["window_articles"] = len(rag.store.docs.sources(None, window[0], window[1]))
        out["window_sources_read"] = len(briefing.sources)
    return out


def _window(rag, days: list[dt.date], articles: int) -> tuple[dt.date, dt.date] | None:
    """The latest date range ending on the newest day that holds at least `articles` articles."""
    if not days:
        return None
    end = days[-1]
    for start in reversed(days):
        if len(rag.store.docs.sources(None, start, end)) >= articles:
            return start, end
    return days[0], end


def phase_briefs(cfg: dict, run: Path) -> dict:
    from rag.api import Rag
    from rag.settings import Settings

    corpus = Path(cfg["corpus"])
    rag = Rag(Settings(store_dir=run / "stores" / "main", corpus_dir=corpus.parent))
    try:
        rag.search("warm up", 1)
        timings = {"speed": speed(rag)}
        sample = topics(corpus, TOPICS if cfg["mode"] == "full" else QUICK_TOPICS)
        full = cfg["mode"] == "full"
        return {**timings, "fuzz": fuzz(rag, sample), "cases": cases(rag) if full else None,
                "held_out": cases(rag, HELD_OUT) if full else None}
    finally:
        rag.close()


def section(results: dict) -> list[str]:
    """The BENCHMARKS.md section (bench/report.py includes it)."""
    r = results.get("briefs")
    if not r:
        return []
    f = r["fuzz"]
    calls = sum(f["calls"].values())
    out = ["", "## Briefings (`rag brief`, extractive)", "", f"{METHOD} Load average {r['loadavg'][0]:.1f} → "
           f"{r['loadavg'][1]:.1f} (2 cores).", "",
           "| Measure | Value |", "|---|---|",
           f"| Fuzz: {f['topics']} title topics, {calls} briefings ({', '.join(f'{k} {v}' for k, v in f['calls'].items())}) "
           f"| **{len(f['crashes'])} crashes**; {sum(f['refused'].values())} one-line refusals "
           f"({', '.join(f'{k} {v}' for k, v in f['refused'].items()) or 'none'}); "
           f"{f['unverified_citations']} citations not verbatim |"]
    for kind, lat in f["latency"].items():
        out.append(f"| Fuzz latency, {kind} ({lat['n']} briefings): p50 / p95 / max | {lat['p50_ms'] / 1000:.2f} s / "
                   f"{lat['p95_ms'] / 1000:.2f} s / {lat['max_ms'] / 1000:.2f} s |")
    s = r["speed"]
    out.append(f"| A topic briefing on the full index, warm process: first time / again "
               f"| {s['topic_first_s']:.2f} s / {s['topic_again_s']:.2f} s ({s['topic_sources']} sources) |")
    if "window_first_s" in s:
        out.append(f"| A whole-corpus briefing of {s['window_articles']} articles ({s['window'][0]} to {s['window'][1]}; "
                   f"reads the leads, {s['window_sources_read']} sources): first / again "
                   f"| {s['window_first_s']:.2f} s / {s['window_again_s']:.2f} s |")
    for key, what in (("cases", "evals/bench/briefings.yaml, looked at while the date rules were written"),
                      ("held_out", "evals/bench/briefings_held_out.yaml, check-week stories never looked at")):
        if not r.get(key):
            continue
        m = r[key]["metrics"]
        out.append(f"| Real-news briefing cases ({len(r[key]['cases'])}, {what}): fact recall / "
                   f"timeline date accuracy / timeline event recall / citation validity (an invariant) | "
                   f"{m.get('brief_fact_recall', 0):.3f} / {m.get('brief_timeline_accuracy', 0):.3f} / "
                   f"{m.get('brief_timeline_recall', 0):.3f} / {m.get('brief_citation_validity', 0):.3f} |")
    for crash in f["crashes"][:5]:
        out.append(f"| crash: {crash['kind']} {crash['topic'][:60]!r} | {crash['error'][:120]} |")
    return out
