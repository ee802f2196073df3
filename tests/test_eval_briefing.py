"""Briefing scores read only the briefing's own prose; timeline dates are scored against
hand-labelled event dates; a case file can name the corpus its cases run on."""

import datetime as dt
import json

import pytest

from rag.eval.cases import CaseFileError, load_case_file
from rag.eval.corpora import NamedCorpus, corpus_settings
from rag.eval.scorers import score_briefing
from rag.eval.scorers._briefing import briefing_prose
from rag.models import BriefingCase, LabelledEvent
from rag.settings import Settings


def no_lookup(source):
    return None


BRIEFING = {
    "topic": "the Taji rocket attack and what the US will not tolerate",
    "episodes": [{"n": 1, "label": "Rockets hit Taji base", "sources": ["a.txt"]}],
    "summary": [{"text": "Rockets struck the base near Baghdad on Wednesday.", "citations": [1]}],
    "key_facts": [{"text": "Two Americans and a British soldier were killed.", "citations": [2]}],
    "timeline": [
        {"date": "2020-03-11", "end": "2020-03-11", "when": "2020-03-11 (Wednesday)",
         "text": "Rockets struck Camp Taji on Wednesday.", "citations": [1]},
        {"date": "2020-03-12", "end": "2020-03-12", "when": "2020-03-12 (Thursday)",
         "text": "The US launched air strikes on Kataeb Hezbollah sites.", "citations": [3]},
        {"date": "2020-03-14", "end": "2020-03-14", "when": "2020-03-14 (Saturday)",
         "text": "A second barrage hit the base, wounding three.", "citations": [4]},
    ],
    "quotes": [{"speaker": "Esper", "words": "we will not stand for it", "citations": [5]}],
    "disagreements": [{"about": "rockets", "sides": [{"value": "18", "citations": [1]}, {"value": "30", "citations": [6]}]}],
    "sources": [{"source": "a.txt", "title": "Closing the embassy? Taji attack", "cited": 3}],
    "notes": ["left out episode 2 (Soleimani): less relevant"],
    "citations": [],
}


def test_facts_only_count_in_the_briefings_own_prose():
    prose = briefing_prose(BRIEFING)
    for own in ("near Baghdad", "British soldier", "Kataeb Hezbollah", "Esper", "not stand for it", "2020-03-11"):
        assert own in prose
    for elsewhere in ("will not tolerate", "Closing the embassy", "Soleimani", "Rockets hit Taji base"):
        assert elsewhere not in prose  # topic, source title, note, episode label
    case = BriefingCase(id="b", topic=BRIEFING["topic"], facts=[["Taji"], ["will not tolerate"], ["closing"], ["18"]])
    scores = score_briefing(case, BRIEFING, no_lookup)
    assert scores["fact_recall"].value == pytest.approx(2 / 4), scores["fact_recall"].explanation


def test_timeline_dates_are_scored_against_labelled_events():
    case = BriefingCase(id="b", facts=[["Taji"]], events=[
        LabelledEvent(what=["Camp Taji", "struck the base"], date="2020-03-11"),
        LabelledEvent(what=["air strikes"], date="2020-03-12"),
        LabelledEvent(what=["second barrage"], date="2020-03-15"),  # the briefing says the 14th: wrong
        LabelledEvent(what=["Soleimani"], date="2020-01-03"),  # not on this timeline
    ])
    scores = score_briefing(case, BRIEFING, no_lookup)
    accuracy, recall = scores["timeline_date_accuracy"], scores["timeline_event_recall"]
    assert accuracy.value == pytest.approx(2 / 3) and "second barrage" in accuracy.explanation
    assert recall.value == pytest.approx(2 / 4) and "Soleimani" in recall.explanation
    unlabelled = score_briefing(BriefingCase(id="c", facts=[["Taji"]]), BRIEFING, no_lookup)
    assert unlabelled["timeline_date_accuracy"].value is None


def test_event_labels_are_checked_when_the_file_is_read(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text("- id: b\n  kind: briefing\n  facts: [x]\n  events:\n    - what: [the strike]\n      date: 2022-07-30\n"
                    "    - what: trial\n      date: 2022-07-01/2022-07-27\n")
    [case] = load_case_file(good)
    assert [(e.what, e.date) for e in case.events] == [(["the strike"], "2022-07-30"), (["trial"], "2022-07-01/2022-07-27")]
    for events, message in (("    - what: [x]\n      date: July\n", "is not YYYY-MM-DD"),
                            ("    - what: [x]\n", "needs 'what'"),
                            ("    - what: [x]\n      date: 2022-07-02/2022-07-01\n", "ends before it starts")):
        bad = tmp_path / "bad.yaml"
        bad.write_text(f"- id: b\n  kind: briefing\n  facts: [x]\n  events:\n{events}")
        with pytest.raises(CaseFileError, match=message):
            load_case_file(bad)


def _articles(path, ids):
    with open(path, "w") as handle:
        handle.writelines(json.dumps({"id": n, "title": f"Story {n}", "date": f"2022/07/0{i + 1}", "source": "cnn.com",
                                     "text": f"Rockets hit the base on Monday, officials said in article {n}.\n\n"
                                             "The attack damaged two buildings and a fuel depot near the river."}) + "\n" for i, n in enumerate(ids))


def test_a_case_file_names_its_corpus_and_the_eval_builds_its_store(tmp_path):
    data = tmp_path / "shared" / "bench"
    data.mkdir(parents=True)
    _articles(data / "articles.jsonl", ["a1", "a2"])
    evals = tmp_path / "repo" / "evals"
    evals.mkdir(parents=True)
    cases = evals / "bench.yaml"
    cases.write_text("corpus: ../../shared/bench/articles.jsonl\ncases:\n"
                     "  - id: rockets\n    question: What did rockets hit on Monday?\n    facts: [base]\n"
                     "    sources: ['articles.jsonl#a1']\n")
    [case] = load_case_file(cases)
    assert case.corpus == str((data / "articles.jsonl").resolve())
    settings = Settings(store_dir=tmp_path / "store", corpus_dir=tmp_path / "corpus", embedding_model="hash")
    notes: list[str] = []
    corpus = NamedCorpus(data / "articles.jsonl")
    assert corpus_settings(settings, corpus, build=False, notes=notes) is None and "--build-corpora" in notes[-1]
    built = corpus_settings(settings, corpus, build=True, notes=notes)
    assert built.store_dir.parent == settings.store_dir / "corpora" and "2 articles" in notes[-1]
    assert corpus_settings(settings, corpus, build=False, notes=notes) == built  # found, not rebuilt
    assert not any((tmp_path / "repo").rglob("*.jsonl")), "no article text is copied next to the case file"


def test_rag_eval_runs_cases_of_several_corpora_in_one_run(cli, tmp_path, small_corpus):
    from rag.api import Rag

    Rag(small_corpus).ingest([small_corpus.corpus_dir])
    data = tmp_path / "shared"
    data.mkdir()
    _articles(data / "articles.jsonl", ["a1"])
    cases = tmp_path / "cases"
    cases.mkdir()
    (cases / "own.yaml").write_text("- id: own\n  question: How many rockets were fired?\n  facts: [rockets]\n")
    (cases / "named.yaml").write_text("corpus: ../shared/articles.jsonl\ncases:\n"
                                      "  - id: named\n    question: What did rockets hit on Monday?\n    facts: [base]\n")
    out = tmp_path / "run.json"
    args = ("eval", cases, "--store-dir", small_corpus.store_dir, "--set", "embedding_model=hash", "--out", out)
    code, stdout, err = cli(*args)
    assert code == 0, err
    run = json.loads(out.read_text())
    assert [r["case"]["id"] for r in run["results"]] == ["own"]
    assert any("--build-corpora" in n for n in run["notes"])
    code, stdout, err = cli(*args, "--build-corpora")
    assert code == 0, err
    run = json.loads(out.read_text())
    assert sorted(r["case"]["id"] for r in run["results"]) == ["named", "own"]
    named = next(r for r in run["results"] if r["case"]["id"] == "named")
    assert named["trials"][0]["answer"]["citations"][0]["source"] == "articles.jsonl#a1"
    assert dt.date.fromisoformat(named["trials"][0]["answer"]["citations"][0]["date"]) == dt.date(2022, 7, 1)
