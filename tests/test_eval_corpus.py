"""The CI gate: the extractive eval over evals/ on corpus/ must meet the quality floors in
evals/thresholds.toml and keep its invariants (the citation metrics that are 1.0 by construction
with the extractive engine); the README documents both (checked here, so they cannot drift)."""

import re
import tomllib
from pathlib import Path

from rag.eval.runfile import load_run

ROOT = Path(__file__).resolve().parent.parent
_FILE = tomllib.loads((ROOT / "evals" / "thresholds.toml").read_text())
THRESHOLDS, INVARIANTS = _FILE["fail_under"], _FILE["invariants"]


def test_the_readme_documents_the_ci_thresholds():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Evaluation", 1)[1].split("\n## ", 1)[0]
    documented = dict(re.findall(r"^\| `(\w+)` \| [^|]+ \| ≥ ([0-9.]+) \|", section, re.MULTILINE))
    assert {k: float(v) for k, v in documented.items()} == THRESHOLDS
    fixed = dict(re.findall(r"^\| `(\w+)` \| [^|]+ \| = ([0-9.]+), an invariant \|", section, re.MULTILINE))
    assert {k: float(v) for k, v in fixed.items()} == INVARIANTS


def test_the_invariants_are_the_metrics_the_extractive_engine_cannot_fail():
    from rag.eval.metrics import invariants

    assert sorted(INVARIANTS) == sorted(invariants("extractive")) and not set(INVARIANTS) & set(THRESHOLDS)


def test_extractive_eval_on_the_corpus_meets_the_thresholds(cli, corpus_store, tmp_path):
    out = tmp_path / "run.json"
    gates = [f"--fail-under={name}={value}" for name, value in THRESHOLDS.items()]
    code, stdout, err = cli("eval", ROOT / "evals", "--store-dir", corpus_store, "--out", out, *gates)
    print(stdout)  # the full table, for the CI log when the gate fails
    assert code == 0, "\n".join(line for line in stdout.splitlines() if line.startswith("FAIL")) or err
    run = load_run(out)
    assert run.engine == "extractive" and run.settings_hash and run.git_commit
    broken = {k: run.metrics[k].mean for k, v in INVARIANTS.items() if run.metrics[k].mean != v}
    assert not broken, f"invariants broken (a bug in citing, not a quality drop): {broken}"
    assert len([r for r in run.results if r.case.kind == "question"]) >= 40
