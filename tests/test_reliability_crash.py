"""SIGKILL during `rag ingest`, through tests/crash_harness.py (see its docstring for what each run
checks). CI runs at least 35 kills at random moments and 28 at named points with the hash embedder (kinds
that flush every ingest into Chroma, and `tail`, whose ingests never open it), plus 3
kills of a real `rag ingest` process with MiniLM and embedded Chroma: about 4-5 minutes on two
busy cores. `make reliability` runs the long campaign reported in docs/reliability.md."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HARNESS = ROOT / "tests" / "crash_harness.py"

pytestmark = pytest.mark.slow


def harness(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess, dict]:
    out = tmp_path / "crash.json"
    proc = subprocess.run([sys.executable, str(HARNESS), "--work", str(tmp_path / "work"), "--out", str(out), *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=3600, check=False)
    assert out.exists(), proc.stdout[-2000:] + proc.stderr[-4000:]
    return proc, json.loads(out.read_text())


def test_sigkill_at_any_moment_leaves_the_old_or_the_new_index(tmp_path):
    proc, summary = harness(tmp_path, "--runs", "35", "--min-killed", "35", "--targeted", "--minilm", "3",
                            "--kinds", "incremental,rebuild,first,tail")
    assert proc.returncode == 0 and summary["failed"] == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    kinds = summary["by_kind"]
    hashed = [row for kind, row in kinds.items() if kind != "minilm"]
    assert sum(row["runs"] for row in hashed) >= 50
    assert sum(row["killed"] for row in hashed) >= 50  # really killed mid-ingest, not finished first
    assert sum(row["old"] for row in hashed) and sum(row["new"] for row in hashed)  # both sides of the commit
    assert sum(row["with_garbage"] for row in hashed) >= 10  # kills left debris that queries ignored
    for point in ("upsert", "lexical", "commit", "committed", "gc", "watermark"):  # upsert, watermark: in the flush
        assert kinds["incremental"]["phases"][f"{point}(targeted)"] == 1
    assert kinds["tail"]["failed"] == 0 and kinds["tail"]["killed"] > 0  # never opening Chroma
    assert kinds["minilm"]["runs"] == 3 and kinds["minilm"]["failed"] == 0


def test_the_harness_catches_an_ingest_that_is_not_atomic(tmp_path):
    """Its checks can fail: an ingest that writes vectors after the commit, killed in between."""
    proc, summary = harness(tmp_path, "--runs", "0", "--kinds", "incremental", "--points", "committed", "--sabotage")
    assert proc.returncode == 1 and summary["failed"] == 1
    failures = summary["failures"][0]["failures"]
    assert any("inconsistent after the kill" in f and "Chroma is missing" in f for f in failures)
    assert any("differs from the reference" in f for f in failures)


def test_a_kill_inside_chromas_hnsw_save_heals_without_a_repair(tmp_path):
    """A flush killed with its HNSW files as a kill inside Chroma's save leaves them (the targeted
    point `save`): the run passes only if searches after the kill answer from committed chunks,
    commit nothing, and the next ingest (or the repair) leaves a store the check finds clean."""
    proc, summary = harness(tmp_path, "--runs", "0", "--kinds", "flush", "--points", "save")
    assert proc.returncode == 0 and summary["failed"] == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    row = summary["by_kind"]["flush"]
    assert row["killed"] == 1 and row["healing"] == 1
