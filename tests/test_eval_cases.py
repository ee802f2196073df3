"""Reading case files: the repository's cases, and clear file:line errors for broken ones."""

from pathlib import Path

import pytest

from rag.eval.cases import CaseFileError, load_cases
from rag.models import BriefingCase, EvalCase

ROOT = Path(__file__).resolve().parent.parent


def write(tmp_path, text, name="cases.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_repository_cases_cover_what_the_issue_asks_for():
    cases = load_cases([ROOT / "evals"])
    questions = [c for c in cases if isinstance(c, EvalCase)]
    assert len(questions) >= 40
    assert sum(c.refuse for c in questions) >= 8
    tags = {t for c in questions for t in c.tags}
    assert {"single-fact", "multi-source", "conflict", "date", "quote", "who-said", "march-2020",
            "december-2020", "unanswerable"} <= tags
    assert any(isinstance(c, BriefingCase) for c in cases)
    corpus = {p.name for p in (ROOT / "corpus").iterdir()}
    for case in cases:
        if case.corpus == "corpus":
            for alternatives in case.sources:
                assert set(alternatives) <= corpus, (case.id, alternatives)


def test_benchmark_cases_name_benchmark_articles_and_enough_unanswerable_ones():
    import gzip
    import json

    from conftest import BENCH

    bench = [c for c in load_cases([ROOT / "evals"]) if c.corpus == "benchmark"]
    questions = [c for c in bench if isinstance(c, EvalCase)]
    assert len(questions) >= 60 and sum(c.refuse for c in questions) >= 12
    if not (BENCH / "articles.jsonl.gz").exists():
        return
    with gzip.open(BENCH / "articles.jsonl.gz", "rt") as handle:
        ids = {json.loads(line)["id"] for line in handle}
    for case in bench:
        for alternatives in case.sources:
            assert {a.split("#", 1)[1] for a in alternatives} <= ids, (case.id, alternatives)


def test_a_case_file_can_name_its_corpus(tmp_path):
    path = write(tmp_path, """
corpus: benchmark
cases:
  - id: one
    question: How many rockets?
    facts: [eight]
""")
    (case,) = load_cases([path])
    assert case.corpus == "benchmark"
    bad = write(tmp_path, "corpus: [x]\ncases: []\n", name="bad.yaml")
    with pytest.raises(CaseFileError, match="corpus"):
        load_cases([bad])


def test_facts_and_sources_accept_single_items_and_alternatives(tmp_path):
    path = write(tmp_path, """
- id: count
  question: How many rockets?
  facts: [eight, [more than 20, 21], 154]
  sources: [a.txt, [b.txt, c.txt]]
  tags: [number]
- id: nothing
  question: Who won the 2018 World Cup?
  refuse: true
""")
    count, nothing = load_cases([path])
    assert count.facts == [["eight"], ["more than 20", "21"], ["154"]]
    assert count.sources == [["a.txt"], ["b.txt", "c.txt"]]
    assert (count.file, count.line) == (str(path), 2)
    assert nothing.refuse and nothing.facts == [] and nothing.line == 7


@pytest.mark.parametrize("text, line, message", [
    ("- id: a\n  question: q\n  facts: [x]\n  fact: [y]\n", 4, "fact: unknown field"),
    ("- id: a\n  question: q\n  facts: [x\n", 4, "invalid YAML"),
    ("- id: a\n  question: q\n  refuse: true\n  facts: [x]\n", 4, "cannot list facts"),
    ("- id: a\n  question: q\n", 1, "needs at least one fact"),
    ("- question: q\n  facts: [x]\n", 1, "needs an id"),
    ("- id: a\n  question: q\n  facts: [x]\n- id: b\n  question: q\n  facts: {a: 1}\n", 6, "facts must be a list"),
    ("- id: a\n  question: q\n  facts: [[]]\n", 3, "empty list"),
    ("- id: a\n  question: q\n  facts: [x]\n  refuse: maybe\n", 4, "refuse"),
    ("- id: a\n  kind: summary\n  question: q\n", 2, "kind must be"),
    ("- id: b\n  kind: briefing\n  topic: t\n", 1, "needs at least one fact"),
    ("id: a\nquestion: q\n", 1, "must be a YAML list"),
])
def test_a_broken_case_file_names_the_line(tmp_path, text, line, message):
    path = write(tmp_path, text)
    with pytest.raises(CaseFileError) as err:
        load_cases([path])
    assert str(err.value).startswith(f"{path}:{line}:"), str(err.value)
    assert message in str(err.value)


def test_duplicate_ids_across_files_name_both_places(tmp_path):
    first = write(tmp_path, "- id: same\n  question: q\n  facts: [x]\n", "a.yaml")
    write(tmp_path, "- id: other\n  question: q\n  facts: [x]\n- id: same\n  question: q\n  facts: [y]\n", "b.yaml")
    with pytest.raises(CaseFileError, match=rf"b.yaml:4: duplicate case id 'same' \(first at {first}:1\)"):
        load_cases([tmp_path])


def test_missing_paths_and_empty_directories_are_errors(tmp_path):
    with pytest.raises(CaseFileError, match="no such case file"):
        load_cases([tmp_path / "nope.yaml"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(CaseFileError, match="no .yaml case files"):
        load_cases([tmp_path / "empty"])
