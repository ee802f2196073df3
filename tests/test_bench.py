"""The benchmark harness (bench/): its scoring, its corpora, and `bench --quick` end to end.

The quick run asserts that every phase ran and wrote consistent results, never how fast."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench import data as bench_data
from bench.metrics import (
    contains,
    distinct,
    gold_rank,
    latency_summary,
    normalise,
    retrieval_summary,
)

ROOT = Path(__file__).resolve().parent.parent
HAVE_DATA = (bench_data.DATA / "articles.jsonl.gz").is_file()


def test_answer_matching_is_whole_words_ignoring_case_accents_and_punctuation():
    assert contains("Netflix said “Squid Game” is back.", "Squid Game")
    assert contains("Le président Macron", "president macron")
    assert contains("It cost $5 a month", "$5")
    assert not contains("European regulators", "Europe")
    assert not contains("It cost $50", "$5")
    assert not contains("anything", "  ")
    assert normalise("U.S.-led") == " u s led "


def test_gold_rank_and_summary():
    rows = [
        {"docs": ["a", "g", "b"], "chunks": ["x", "the answer is Idaho"], "gold": ["g"], "answer": "Idaho"},
        {"docs": ["g2", "c"], "chunks": ["Idaho"], "gold": ["g2", "zz"], "answer": "Ohio"},
        {"docs": [str(i) for i in range(12)] + ["g"], "chunks": [], "gold": ["g"], "answer": "x"},
    ]
    assert [gold_rank(r["docs"], r["gold"]) for r in rows] == [2, 1, None]  # rank 13 is past depth 10
    s = retrieval_summary(rows)
    assert s["hits@1"] == pytest.approx(1 / 3)
    assert s["hits@5"] == s["hits@10"] == pytest.approx(2 / 3)
    assert s["mrr@10"] == pytest.approx((1 / 2 + 1) / 3)
    assert s["answer_recall@5"] == pytest.approx(1 / 3)
    assert distinct(["a", "b", "a", "c", "b"]) == ["a", "b", "c"]


def test_latency_summary_percentiles():
    s = latency_summary([0.001 * i for i in range(1, 101)])
    assert s["p50_ms"] == pytest.approx(50.5)
    assert s["p95_ms"] == pytest.approx(95.05)
    assert s["n"] == 100 and latency_summary([]) == {}


ARTICLES = [
    {"id": "a1", "title": "Idaho fires", "date": "2022/06/12", "source": "cnn.com", "url": "u1", "text": "Fires in Idaho."},
    {"id": "a2", "title": "", "date": "2022-06-13", "source": "cnn.com", "url": "u2", "text": "Rain in Ohio."},
    {"id": "a3", "title": "Other", "date": "", "source": "x", "url": "", "text": "Nothing here."},
]
QUESTIONS = [
    {"id": "q1", "question": "Where were the fires?", "answer": "Idaho", "gold_ids": ["a1"]},
    {"id": "q2", "question": "Where did it rain?", "answer": "Ohio", "gold_ids": ["a3"]},
]


def test_records_are_what_ingest_reads():
    rec = bench_data.record(ARTICLES[0])
    assert rec == {"id": "a1", "text": "Fires in Idaho.", "title": "Idaho fires", "source": "cnn.com", "url": "u1",
                   "date": "2022-06-12"}
    assert "title" not in bench_data.record(ARTICLES[1]) and "date" not in bench_data.record(ARTICLES[2])


def test_scale_copies_are_distinct_documents_with_identical_text():
    records, copies = bench_data.scale_copies(ARTICLES, 7)
    assert copies == 3 and len(records) == 9
    assert len({r["id"] for r in records}) == 9
    assert {bench_data.article_id(f"articles.jsonl#{r['id']}") for r in records} == {"a1", "a2", "a3"}
    assert {r["text"] for r in records if r["id"].startswith("a1")} == {"Fires in Idaho."}


def test_unanswerable_split_drops_gold_and_keeps_only_questions_whose_answer_is_gone():
    rest, blind = bench_data.unanswerable_split(ARTICLES, QUESTIONS)
    assert [a["id"] for a in rest] == ["a2"]
    assert [q["id"] for q in blind] == ["q1"]  # "Ohio" still appears in a2, so q2 is still answerable


def test_quick_subset_holds_the_gold_articles():
    articles, questions = bench_data.quick_subset(ARTICLES, QUESTIONS, 1, 2)
    assert [q["id"] for q in questions] == ["q1"]
    assert [a["id"] for a in articles] == ["a1", "a2"]


@pytest.mark.parametrize("args, message", [
    (["--floor-fraction", "0"], "--floor-fraction must be in (0, 1]"),
    (["--phases", "ingest,nope"], "unknown phases: nope"),
    (["--data", "/nonexistent"], "no benchmark data in /nonexistent"),
])
def test_bad_arguments_exit_2_with_one_line(args, message):
    proc = subprocess.run([sys.executable, "-m", "bench.run", *args], cwd=ROOT, capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr


def test_render_only_without_a_run_is_one_line_error(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "bench.run", "--render-only", "--out", str(tmp_path / "none")],
                          cwd=ROOT, capture_output=True, text=True, check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip() == f"bench: no benchmark run in {tmp_path / 'none'} to render"


@pytest.mark.slow
@pytest.mark.skipif(not HAVE_DATA, reason="the benchmark data (../shared/bench) is not beside this checkout")
def test_quick_run_end_to_end(tmp_path):
    out, report = tmp_path / "run", tmp_path / "BENCHMARKS.md"
    proc = subprocess.run([sys.executable, "-m", "bench.run", "--quick", "--out", str(out), "--report", str(report)],
                          cwd=ROOT, capture_output=True, text=True, timeout=1200, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    check_quick_run(out, report)


def check_quick_run(out: Path, report: Path) -> None:
    config = json.loads((out / "config.json").read_text())
    results = {p.stem: json.loads(p.read_text()) for p in (out / "results").glob("*.json")}
    assert set(results) == {"cold", "floor", "noop", "ingest", "ours", "peers", "llama", "unanswerable",
                            "scale_ingest", "scale_query", "briefs"}
    briefs = results["briefs"]["fuzz"]
    assert briefs["crashes"] == [] and briefs["unverified_citations"] == 0 and sum(briefs["calls"].values()) >= 10
    assert all(r["rag_from"] == str(out / "snapshot" / "rag") for r in results.values())

    cold, noop, full = results["cold"], results["noop"], results["ingest"]
    assert cold["documents"] > 0 and cold["embedded"] == cold["chunks"] > 0  # cold: everything embedded
    assert noop["embedded"] == 0 and noop["skipped"] == cold["documents"]
    assert results["floor"]["texts"] == cold["embedded"]
    assert full["documents"] == cold["documents"] and full["embedded"] == 0  # quick: the sample is everything
    assert results["scale_ingest"]["documents"] == config["scale_copies"] * full["documents"]
    assert results["scale_ingest"]["embedded"] == 0  # every copy's vectors came from the cache

    systems = {name: value for name, value in {"ours": results["ours"], **results["peers"], **results["llama"]}.items()
               if isinstance(value, dict) and "retrieval" in value}
    assert set(systems) == {"ours", "bm25_chunks", "bm25_articles", "chroma_dense", "llama_default", "llama_our_chunks"}
    for name, system in systems.items():
        r = system["retrieval"]
        assert r["questions"] == config["questions"], name
        assert 0 <= r["hits@1"] <= r["hits@5"] <= r["hits@10"] <= 1, name
        assert r["hits@1"] <= r["mrr@10"] <= r["hits@10"], name
        assert system["search"]["n"] == config["questions"], name
    # The quick corpus is tiny and holds each question's gold article: plain BM25 must find some.
    assert results["peers"]["bm25_articles"]["retrieval"]["hits@10"] > 0
    answers = results["ours"]["answers"]
    assert answers["questions"] == config["questions"] and 0 <= answers["refused"] <= 1
    assert results["unanswerable"]["questions"] == config["unanswerable_questions"]
    assert all(r["maxrss_mb"] > 0 for r in results.values())

    text = report.read_text()
    assert "Quick run" in text and "| bm25s over whole articles |" in text and "## Scale" in text
    assert "## Briefings" in text
    rows = (out / "rows-ours.jsonl").read_text().splitlines()
    assert len(rows) == config["questions"]


def test_cold_start_table_puts_before_and_after_side_by_side_with_their_ratios(tmp_path):
    from bench.cold_start import section

    def p50(wall, cpu):
        return {"p50_s": wall, "cpu_p50_s": cpu}

    def phase(ask, before, load):
        return {"python_pass": p50(0.04, 0.03), "reference": p50(0.5 * load, 0.4), "ask": p50(*ask),
                "ask_before": p50(*before), "loadavg": [1.0, 2.0]}

    results = {"runs": 10, "reference_cpu_s": 0.4, "before": "/src/main",
               "in_process_alone": phase((0.6, 0.5), (0.8, 0.8), 1), "server_alone": phase((0.4, 0.3), (0.5, 0.3), 1),
               "in_process_cpu_load_2": phase((0.9, 0.5), (1.6, 0.8), 1.7),
               "server_cpu_load_2": phase((0.6, 0.3), (0.8, 0.3), 1.7)}
    path = tmp_path / "results.json"
    path.write_text(json.dumps(results))
    rows = {row.split(" | ")[0]: row for row in section(path) if row.startswith("| ") and "---" not in row}
    assert "0.80 s (0.80 s CPU)" in rows["| before, alone"]
    assert "1.60 s (0.80 s CPU): 2.00×" in rows["| before, with 2 busy processes"]
    after = rows["| after, with 2 busy processes"]
    assert "0.90 s (0.50 s CPU): 1.50×" in after and "0.60 s (0.30 s CPU): 1.50×" in after
    assert "0.85 s (0.40 s CPU): 1.70×" in after  # the reference's ratio: the scheduler's share
