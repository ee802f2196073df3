"""Run files, metrics over repeats, comparisons with the noise rule, and the gates."""

import datetime as dt
import json

import pytest

from rag.errors import ConfigError, InputError
from rag.eval.compare import compare_runs
from rag.eval.gates import GATE_EXIT, parse_thresholds, threshold_failures
from rag.eval.metrics import case_status, compute_metrics
from rag.eval.runfile import load_run, save_run
from rag.models import Answer, CaseResult, EvalCase, EvalRun, Score, Trial


def trial(epoch, ok, fact=None, seconds=0.1):
    fact = (1.0 if ok else 0.0) if fact is None else fact
    scores = {"refusal": Score(value=1.0, explanation=""), "fact_recall": Score(value=fact, explanation=""),
              "citation_validity": Score(value=1.0, explanation=""), "latency_s": Score(value=seconds, explanation="")}
    answer = Answer(question="q", answer="a [1]", engine="extractive", settings_hash="abc")
    return Trial(epoch=epoch, answer=answer, scores=scores, passed=ok, seconds=seconds)


def make_run(outcomes: dict[str, list[bool]], **extra) -> EvalRun:
    """outcomes: case id → pass/fail per repeat."""
    results = [CaseResult(case=EvalCase(id=i, question=f"{i}?", facts=[["x"]]),
                          trials=[trial(e + 1, ok) for e, ok in enumerate(oks)]) for i, oks in outcomes.items()]
    repeat = max(len(v) for v in outcomes.values())
    run = EvalRun(id=extra.pop("id", "run"), created=dt.datetime(2020, 12, 24, tzinfo=dt.UTC),
                  engine="extractive", settings_hash=extra.pop("settings_hash", "abc"), repeat=repeat, results=results, **extra)
    run.metrics = compute_metrics(results)
    return run


# ---- metrics ---------------------------------------------------------------------------------

def test_metrics_are_mean_and_spread_over_repeats():
    run = make_run({"a": [True, True, False], "b": [True, False, False]})
    m = run.metrics["pass_rate"]
    assert m.epochs == [1.0, 0.5, 0.0] and m.mean == 0.5 and m.spread == pytest.approx(0.5) and m.cases == 2
    assert run.metrics["latency_mean_s"].mean == pytest.approx(0.1)
    assert [case_status(r) for r in run.results] == ["2/3", "1/3"]


def test_metrics_skip_cases_a_score_does_not_apply_to():
    run = make_run({"a": [True]})
    run.results[0].trials[0].scores["fact_recall"] = Score(value=None, explanation="n/a")
    assert "fact_recall" not in compute_metrics(run.results)


# ---- run files -------------------------------------------------------------------------------

@pytest.mark.parametrize("suffix", [".json", ".jsonl"])
def test_run_files_round_trip(tmp_path, suffix):
    run = make_run({"a": [True, False], "b": [True, True]}, git_commit="deadbeef", prompt_hash="p1")
    path = save_run(run, tmp_path / f"sub/run{suffix}")
    again = load_run(path)
    assert again == run
    if suffix == ".jsonl":
        lines = path.read_text().splitlines()
        assert json.loads(lines[0])["type"] == "run" and len(lines) == 3
        assert json.loads(lines[1])["case"]["id"] == "a"


def test_a_run_file_records_provenance(tmp_path):
    data = json.loads(save_run(make_run({"a": [True]}, git_commit="c0ffee"), tmp_path / "r.json").read_text())
    for key in ("settings_hash", "prompt_hash", "engine", "model", "git_commit", "created", "results", "metrics"):
        assert key in data
    assert data["results"][0]["trials"][0]["answer"]["answer"] == "a [1]"
    assert "fact_recall" in data["results"][0]["trials"][0]["scores"]


@pytest.mark.parametrize("content, message", [
    (None, "no run file"),
    ("{not json", "is not an eval run file"),
    ('{"id": "x"}', "is not an eval run file"),
])
def test_bad_run_files_are_clear_errors(tmp_path, content, message):
    path = tmp_path / "run.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(InputError, match=message):
        load_run(path)


def test_a_bad_jsonl_line_is_named(tmp_path):
    path = tmp_path / "run.jsonl"
    path.write_text('{"type": "run"}\nnot json\n')
    with pytest.raises(InputError, match=r"run.jsonl:2: invalid JSON"):
        load_run(path)


# ---- comparison ------------------------------------------------------------------------------

def test_deterministic_drop_is_a_regression_with_flips_listed():
    base = make_run({"a": [True], "b": [True], "c": [False]}, id="base")
    cur = make_run({"a": [True], "b": [False], "c": [True], "d": [True]}, id="cur")
    cmp_ = compare_runs(base, cur)
    assert cmp_.shared_cases == 3 and cmp_.only_in_current == ["d"]
    flips = {(f.id, f.direction) for f in cmp_.flips}
    assert flips == {("b", "pass→fail"), ("c", "fail→pass")}
    assert {m.name: m.verdict for m in cmp_.metrics}["pass_rate"] == "unchanged"  # d is not compared
    worse = make_run({"a": [True], "b": [False], "c": [False]})
    cmp_ = compare_runs(base, worse)
    change = {m.name: m for m in cmp_.metrics}["pass_rate"]
    assert change.verdict == "regression" and change.delta == pytest.approx(-1 / 3)
    assert cmp_.regressions == ["pass_rate", "fact_recall"]


def test_a_change_within_the_noise_of_repeats_is_not_a_regression():
    # pass rate per repeat: baseline 1.0, 0.5, 1.0 ; current 0.5, 1.0, 0.5 → the means differ by 1/3,
    # but the repeats spread by ~0.29 each, so the difference is within 2 standard errors.
    base = make_run({"a": [True, True, True], "b": [True, False, True]})
    cur = make_run({"a": [True, True, True], "b": [False, True, False]})
    change = {m.name: m for m in compare_runs(base, cur).metrics}["pass_rate"]
    assert change.delta == pytest.approx(-1 / 6)
    assert change.verdict == "within noise" and change.noise > abs(change.delta)
    assert compare_runs(base, cur).regressions == []
    assert [f.direction for f in compare_runs(base, cur).flips] == ["changed"]


def test_a_drop_beyond_the_noise_of_repeats_is_a_regression():
    base = make_run({"a": [True] * 3, "b": [True] * 3, "c": [True, True, False]})
    cur = make_run({"a": [False] * 3, "b": [False] * 3, "c": [False, False, True]})
    cmp_ = compare_runs(base, cur)
    assert "pass_rate" in cmp_.regressions
    assert {(f.id, f.direction) for f in cmp_.flips} >= {("a", "pass→fail"), ("b", "pass→fail")}


def test_one_sided_repeats_lend_their_spread():
    base = make_run({"a": [True, False, True, False]})
    cur = make_run({"a": [True]})
    change = {m.name: m for m in compare_runs(base, cur).metrics}["pass_rate"]
    assert change.noise > 0.5 and change.verdict == "within noise"


def test_latency_changes_are_shown_but_never_gated():
    base = make_run({"a": [True]})
    cur = make_run({"a": [True]})
    cur.results[0].trials[0].scores["latency_s"] = Score(value=9.0, explanation="")
    cur.metrics = compute_metrics(cur.results)
    change = {m.name: m for m in compare_runs(base, cur).metrics}["latency_mean_s"]
    assert change.verdict == "regression" and not change.gated
    assert compare_runs(base, cur).regressions == []


def test_provenance_differences_are_warned_about():
    base = make_run({"a": [True]}, prompt_name="answer", prompt_hash="111", settings={"answer_k": 8})
    cur = make_run({"a": [True]}, prompt_name="answer_v2", prompt_hash="222", settings={"answer_k": 5},
                   settings_hash="def")
    warnings = " ".join(compare_runs(base, cur).warnings)
    assert "answer 111 → answer_v2 222" in warnings and "answer_k 8 → 5" in warnings


# ---- gates -----------------------------------------------------------------------------------

def test_thresholds_parse_and_fail_clearly():
    assert parse_thresholds(["pass_rate=0.5", "fact_recall = 0.7"]) == {"pass_rate": 0.5, "fact_recall": 0.7}
    for bad, message in (("pass_rate", "METRIC=VALUE"), ("speed=1", "unknown metric"),
                         ("pass_rate=high", "not a number"), ("latency_mean_s=1", "better when lower")):
        with pytest.raises(ConfigError, match=message):
            parse_thresholds([bad])


def test_threshold_failures_name_the_metric_and_value():
    metrics = make_run({"a": [True], "b": [False]}).metrics
    assert threshold_failures(metrics, {"pass_rate": 0.5}) == []
    assert threshold_failures(metrics, {"pass_rate": 0.75}) == ["pass_rate 0.500 is under 0.75"]
    assert "not measured" in threshold_failures(metrics, {"brief_fact_recall": 0.5})[0]
    assert GATE_EXIT not in (0, 1, 2)
