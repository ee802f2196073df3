"""The labelled set behind BENCHMARKS.md "Support check" (bench/support_pairs.py) and its run
(bench/support_bench.py), on the five corpus/ articles with the hash embedder: deterministic,
labelled by kind, split by article, and rendered into its own section."""

from __future__ import annotations

from conftest import CORPUS

from bench.support_bench import judge, rates, tuned
from bench.support_pairs import NEGATIVE, POSITIVE, build, half_of
from bench.support_report import END, START, render, write_section
from rag.index.embedders import HashEmbedder


def articles() -> list[dict]:
    return [{"id": p.stem, "text": p.read_text(encoding="utf-8")} for p in sorted(CORPUS.glob("*.txt"))]


def test_pairs_are_deterministic_labelled_and_split_by_article():
    first, again = build(articles(), n_articles=5), build(articles(), n_articles=5)
    assert [p.as_dict() for p in first] == [p.as_dict() for p in again]
    kinds = {p.kind for p in first}
    assert {"verbatim", "appended", "injected", "negated"} <= kinds
    for p in first:
        assert p.supported == (p.kind in POSITIVE) and p.kind in POSITIVE + NEGATIVE
        assert p.half == half_of(p.article) and p.window and p.sentence
    verbatim = [p for p in first if p.kind == "verbatim"]
    assert all(p.sentence in p.window for p in verbatim)
    injected = [p for p in first if p.kind == "injected"]
    assert injected and all(p.sentence.rstrip(".").lower() in " ".join(p.window).lower() for p in injected)


def test_a_run_scores_both_checks_and_renders_its_own_section(tmp_path):
    pairs = build(articles(), n_articles=5)
    rows = judge(pairs, HashEmbedder())
    assert len(rows) == len(pairs)
    before, after = rates(rows, lambda r: r["before"]), rates(rows, lambda r: r["after"])
    assert before["recall"] is not None and after["precision"] is not None
    assert before["fp"] > after["fp"]  # today's check accepts altered sentences the new one refuses
    choice = tuned(rows) or {"coverage": None, "clause_coverage": None}
    halves = {"tune": {"before": before, "after": after, "before_by_kind": {}, "after_by_kind": {}}}
    halves["check"] = halves["tune"]
    result = {"date": "2026-01-01", "articles": 5, "pairs": len(rows), "seconds": 1.0,
              "sizes": {h: {"pairs": 1, "supported": 1, "articles": 1} for h in ("tune", "check")},
              "tuned_on_tune_half": choice, "code_constants": {}, "constants_match": False, "halves": halves,
              "failing_rules_on_check_positives": {}}
    page = tmp_path / "BENCHMARKS.md"
    page.write_text("# Benchmarks\n\nintro\n\n## Re-running\n\nmake bench\n")
    write_section(page, result)
    write_section(page, result)  # replaced, not repeated
    text = page.read_text()
    assert text.count(START) == 1 and text.count(END) == 1 and text.index(START) < text.index("## Re-running")
    assert "**the code uses" in render(result)
