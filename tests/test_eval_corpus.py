"""The CI gate: the extractive eval over evals/ on corpus/ must meet the thresholds in
evals/thresholds.toml, which the README documents (checked here, so they cannot drift)."""

import re
import tomllib
from pathlib import Path

from rag.eval.runfile import load_run

ROOT = Path(__file__).resolve().parent.parent
THRESHOLDS = tomllib.loads((ROOT / "evals" / "thresholds.toml").read_text())["fail_under"]


def test_the_readme_documents_the_ci_thresholds():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Evaluation", 1)[1].split("\n## ", 1)[0]
    documented = dict(re.findall(r"^\| `(\w+)` \| [^|]+ \| ≥ ([0-9.]+) \|", section, re.MULTILINE))
    assert {k: float(v) for k, v in documented.items()} == THRESHOLDS


def test_extractive_eval_on_the_corpus_meets_the_thresholds(cli, corpus_store, tmp_path):
    out = tmp_path / "run.json"
    gates = [f"--fail-under={name}={value}" for name, value in THRESHOLDS.items()]
    code, stdout, err = cli("eval", ROOT / "evals", "--store-dir", corpus_store, "--out", out, *gates)
    print(stdout)  # the full table, for the CI log when the gate fails
    assert code == 0, "\n".join(line for line in stdout.splitlines() if line.startswith("FAIL")) or err
    run = load_run(out)
    assert run.engine == "extractive" and run.settings_hash and run.git_commit
    assert len([r for r in run.results if r.case.kind == "question"]) >= 40
