"""`rag eval` end to end through the CLI, on a small store built with the hash embedder."""

import json
import re

import pytest

from rag.api import Rag
from rag.eval.cases import load_cases
from rag.eval.runfile import load_run, save_run
from rag.eval.runner import run_eval
from rag.models import Briefing, BriefPoint, Citation

CASES = """
- id: rockets
  question: How many rockets were fired at the US embassy in Baghdad?
  facts: [[eight, "8"]]
  sources: [003_568550a85670bdb3.txt]
  tags: [number]
- id: impossible
  question: What did Trump say about Iran?
  facts: [[a phrase no article contains, zebra unicorn]]
  tags: [impossible]
- id: world-cup
  question: Who won the 2018 World Cup?
  refuse: true
  tags: [unanswerable]
- id: brief
  kind: briefing
  topic: the embassy attack
  facts: [[embassy]]
"""


@pytest.fixture
def store(small_corpus):
    rag = Rag(small_corpus)
    rag.ingest([small_corpus.corpus_dir])
    rag.close()
    return small_corpus


@pytest.fixture
def run_cli(cli, store, tmp_path):
    cases = tmp_path / "cases.yaml"
    cases.write_text(CASES)

    def run(*args, case_file=cases):
        return cli("eval", case_file, "--store-dir", store.store_dir, "--set", "embedding_model=hash", *args)

    return run


def test_eval_runs_saves_and_prints_a_table(run_cli, tmp_path):
    out = tmp_path / "run.json"
    code, stdout, err = run_cli("--out", out)
    assert code == 0, err
    run = load_run(out)
    assert [r.case.id for r in run.results] == ["rockets", "impossible", "world-cup", "brief"]
    assert run.engine == "extractive" and run.settings_hash and run.git_commit and run.created
    impossible = run.results[1].trials[0]
    assert not impossible.passed and "zebra unicorn" in impossible.scores["fact_recall"].explanation
    assert run.results[3].skipped is None and run.results[3].trials[0].scores["fact_recall"].value is not None
    for word in ("pass_rate", "fact_recall", "citation_validity", "refusal_accuracy", "impossible",
                 "failing cases", "missing: [a phrase no article contains | zebra unicorn]", str(out)):
        assert word in stdout, word


def test_default_run_path_is_under_the_store(run_cli, store):
    code, _, _ = run_cli("--tag", "number")
    assert code == 0
    [saved] = (store.store_dir / "eval-runs").glob("*.json")
    assert [r.case.id for r in load_run(saved).results] == ["rockets"]


@pytest.mark.parametrize("fmt, check", [
    ("json", lambda text: json.loads(text)["cases"][0]["id"] == "rockets"
     and "citation_validity" in json.loads(text)["invariants"] and "fact_recall" not in json.loads(text)["invariants"]),
    ("md", lambda text: "| metric | value |" in text and "| rockets |" in text
     and re.search(r"^\| citation_validity \|.*\| invariant \|$", text, re.MULTILINE)
     and re.search(r"^\| fact_recall \|.*\| quality \|$", text, re.MULTILINE)),
    ("html", lambda text: text.startswith("<!doctype html>") and "<table>" in text and "impossible" in text),
])
def test_report_formats(run_cli, fmt, check):
    code, stdout, _ = run_cli("--format", fmt)
    assert code == 0 and check(stdout)


def test_reports_are_written_by_extension(run_cli, tmp_path):
    html, md = tmp_path / "r.html", tmp_path / "r.md"
    code, _, err = run_cli("--report", html, "--report", md, "--format", "json")
    assert code == 0, err
    assert "<table>" in html.read_text() and "## Metrics" in md.read_text()


def test_fail_under_sets_the_exit_code(run_cli):
    code, stdout, _ = run_cli("--fail-under", "refusal_accuracy=0")
    assert code == 0 and "every --fail-under threshold met" in stdout
    code, stdout, _ = run_cli("--fail-under", "pass_rate=0.99", "--fail-under", "refusal_accuracy=0")
    assert code == 3 and "FAIL pass_rate" in stdout


def test_compare_with_a_better_baseline_is_a_regression(run_cli, tmp_path):
    base = tmp_path / "base.json"
    assert run_cli("--out", base)[0] == 0
    run = load_run(base)
    for result in run.results:
        for t in result.trials:  # pretend every case passed, with full scores, in the baseline
            t.passed = True
            for key, score in t.scores.items():
                if key not in ("latency_s", "tokens", "cost_usd") and score.value is not None:
                    score.value = 1.0
    from rag.eval.metrics import compute_metrics

    run.metrics = compute_metrics(run.results)
    save_run(run, base)
    code, stdout, _ = run_cli("--compare", base)
    assert code == 3
    assert "regression" in stdout and "impossible: pass → fail" in stdout
    assert "FAIL regression in pass_rate" in stdout
    code, stdout, _ = run_cli("--compare", base, "--format", "json")
    data = json.loads(stdout)
    assert "pass_rate" in data["gates"]["regressions"] and data["gates"]["exit_code"] == 3


def test_compare_with_itself_passes(run_cli, tmp_path):
    base = tmp_path / "base.jsonl"
    assert run_cli("--out", base)[0] == 0
    code, stdout, _ = run_cli("--compare", base)
    assert code == 0 and "no case flipped" in stdout and "no regression beyond the noise" in stdout


def test_repeat_records_every_trial_and_the_spread(run_cli, tmp_path):
    out = tmp_path / "run.json"
    code, stdout, _ = run_cli("--repeat", "2", "--out", out, "--tag", "number", "--tag", "impossible")
    assert code == 0
    run = load_run(out)
    assert run.repeat == 2 and all(len(r.trials) == 2 for r in run.results)
    assert run.metrics["pass_rate"].spread == 0.0  # the extractive engine is deterministic
    assert "±" in stdout


def test_prompt_variant_is_recorded(run_cli, tmp_path):
    variant = tmp_path / "answer_v2.md"
    variant.write_text("---\ndescription: test variant\nvariables: [question]\n---\nAnswer: {{question}}\n")
    out = tmp_path / "run.json"
    code, _, err = run_cli("--prompt", str(variant), "--out", out, "--tag", "number")
    assert code == 0, err
    run = load_run(out)
    assert run.prompt_name == "answer_v2" and run.prompt_hash
    assert any("uses no prompt" in n for n in run.notes)


@pytest.mark.parametrize("args, message", [
    (["--format", "xml"], "--format must be one of"),
    (["--fail-under", "speed=3"], "unknown metric 'speed'"),
    (["--compare", "missing.json"], "no run file missing.json"),
    (["--judge", "oracle"], "--judge must be"),
    (["--report", "out.pdf"], "use a .md, .json or .html"),
    (["--tag", "nothing-has-this"], "no cases to run with tag(s) nothing-has-this"),
    (["--prompt", "no/such/prompt.md"], "no prompt file"),
])
def test_bad_input_is_one_line_and_exit_1(run_cli, args, message):
    code, _, err = run_cli(*args)
    assert code == 1 and err.startswith("error: ") and message in err and len(err.strip().splitlines()) == 1


def test_a_broken_case_file_names_its_line(run_cli, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("- id: a\n  question: q\n  facts: [x]\n- id: b\n  question: q\n  facts: [x]\n  sauces: [y]\n")
    code, _, err = run_cli(case_file=bad)
    assert code == 1 and f"{bad}:7: case 'b': sauces: unknown field" in err


def test_a_case_expecting_a_source_not_in_the_index_is_an_error(run_cli, tmp_path):
    bad = tmp_path / "typo.yaml"
    bad.write_text("- id: typo\n  question: q?\n  facts: [x]\n  sources: [003_typo.txt]\n")
    code, _, err = run_cli(case_file=bad)
    assert code == 1 and "typo.yaml:1: case 'typo' expects source 003_typo.txt, which is not in the index" in err


def test_an_empty_store_says_to_ingest(cli, tmp_path):
    cases = tmp_path / "c.yaml"
    cases.write_text(CASES)
    code, _, err = cli("eval", cases, "--store-dir", tmp_path / "empty", "--set", "embedding_model=hash")
    assert code == 1 and "rag ingest" in err


class BriefingRag(Rag):
    """A Rag whose brief() records its call and returns a fixed one-sentence briefing."""

    def __init__(self, settings):
        super().__init__(settings)
        self.calls = []

    def brief(self, topic, filters=None):
        self.calls.append((topic, filters))
        quote = "U.S. considering closing Iraqi embassy after rocket attack"
        return Briefing(engine="extractive", settings_hash="test",
                        summary=[BriefPoint(text="The US is considering closing its embassy.", citations=[1])],
                        citations=[Citation(n=1, source="003_568550a85670bdb3.txt", line_start=3, line_end=3, quote=quote)])


def test_briefing_cases_run_with_their_filters(store, tmp_path):
    cases = tmp_path / "cases.yaml"
    cases.write_text(CASES + "  source: '003_*'\n")
    rag = BriefingRag(store)
    run = run_eval(rag, [c for c in load_cases([cases]) if c.kind == "briefing"])
    rag.close()
    [result] = run.results
    assert result.skipped is None and result.trials[0].passed
    assert result.trials[0].scores["citation_validity"].value == 1.0
    assert rag.calls[0][0] == "the embassy attack" and rag.calls[0][1].source == "003_*"
    assert run.metrics["brief_pass_rate"].mean == 1.0
