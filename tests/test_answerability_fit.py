"""bench.answerability_fit ranks its rows with the settings it is given (`--set`), so that a model
meant to answer with a retrieval setting (the recent window) is fitted on evidence ranked with it."""

from __future__ import annotations

import json
import os
import random

import pytest
from pydantic import ValidationError

from bench import answerability_fit as fit
from rag.answer.answerable_score import FEATURES


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for key in [k for k in os.environ if k.startswith("RAG_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("RAG_CONFIG", str(tmp_path / "none.toml"))


class _Ranked(Exception):
    pass


def test_collect_ranks_with_the_overrides(monkeypatch, tmp_path, clean_env):
    import rag.answer.extractive as extractive
    import rag.index.store as store_module

    seen = []

    class FakeStore:
        def __init__(self, settings):
            self.settings = settings

        def close(self):
            pass

    def fake_rank(store, question, filters):
        seen.append((store.settings, filters))
        raise _Ranked

    monkeypatch.setattr(store_module, "Store", FakeStore)
    monkeypatch.setattr(extractive, "rank", fake_rank)
    q = {"id": "20220701_0_nota", "question": "Which tram line was extended?", "date": "2022/07/01"}
    with pytest.raises(_Ranked):
        fit.collect(tmp_path / "store", [q], 1, True, {"recent_window_days": "3"})
    with pytest.raises(_Ranked):
        fit.collect(tmp_path / "store", [q], 1, True)
    (with_window, filters), (without, _) = seen
    assert with_window.recent_window_days == 3 and filters.as_of is not None
    assert without.recent_window_days == 0


def test_an_unknown_setting_fails_before_any_ranking(tmp_path, clean_env):
    with pytest.raises(ValidationError):
        fit.main(["--out", str(tmp_path), "--set", "recent_window_dayz=3", "--rows", str(tmp_path / "absent.json")])


def test_the_written_model_records_the_settings_of_its_rows(tmp_path, clean_env):
    rng = random.Random(0)
    rows = []
    for n in range(80):
        label = n % 2
        rows.append({"id": f"w{n % 4}_{n}", "week": f"w{n % 4}", "label": label, "unknown": False, "lead": True,
                     "support": 0.5 + 0.1 * label,
                     "features": {f: rng.gauss(label * 0.8, 1.0) for f in FEATURES}})
    path = tmp_path / "rows.json"
    path.write_text(json.dumps(rows))
    model = tmp_path / "model.json"
    assert fit.main(["--out", str(tmp_path), "--rows", str(path), "--set", "recent_window_days=7",
                     "--write", "--model", str(model)]) == 0
    written = json.loads(model.read_text())
    assert written["collected_with"] == {"recent_window_days": "7"}
    assert written["features"] == list(FEATURES)
