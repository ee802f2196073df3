"""Briefing scores read only the briefing's own prose; timeline dates are scored against
hand-labelled event dates; the real-news briefing cases name the benchmark corpus."""

import datetime as dt

import pytest

from rag.eval.cases import CaseFileError, load_case_file
from rag.eval.scorers import score_briefing
from rag.eval.scorers._briefing import briefing_prose
from rag.models import Briefing, BriefingCase, LabelledEvent


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
MODEL = Briefing.model_validate({**BRIEFING, "engine": "extractive", "settings_hash": "test"})


def test_facts_only_count_in_the_briefings_own_prose():
    prose = briefing_prose(BRIEFING)
    for own in ("near Baghdad", "British soldier", "Kataeb Hezbollah", "Esper", "not stand for it", "2020-03-11"):
        assert own in prose
    for elsewhere in ("will not tolerate", "Closing the embassy", "Soleimani", "Rockets hit Taji base"):
        assert elsewhere not in prose  # topic, source title, note, episode label
    case = BriefingCase(id="b", topic=BRIEFING["topic"], facts=[["Taji"], ["will not tolerate"], ["closing"], ["18"]])
    scores = score_briefing(case, MODEL, no_lookup)
    assert scores["fact_recall"].value == pytest.approx(2 / 4), scores["fact_recall"].explanation


def test_timeline_dates_are_scored_against_labelled_events():
    case = BriefingCase(id="b", facts=[["Taji"]], events=[
        LabelledEvent(what=["Camp Taji", "struck the base"], date="2020-03-11"),
        LabelledEvent(what=["air strikes"], date="2020-03-12"),
        LabelledEvent(what=["second barrage"], date="2020-03-15"),  # the briefing says the 14th: wrong
        LabelledEvent(what=["Soleimani"], date="2020-01-03"),  # not on this timeline
    ])
    scores = score_briefing(case, MODEL, no_lookup)
    accuracy, recall = scores["timeline_date_accuracy"], scores["timeline_event_recall"]
    assert accuracy.value == pytest.approx(2 / 3) and "second barrage" in accuracy.explanation
    assert recall.value == pytest.approx(2 / 4) and "Soleimani" in recall.explanation
    unlabelled = score_briefing(BriefingCase(id="c", facts=[["Taji"]]), MODEL, no_lookup)
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


def test_the_real_news_briefing_cases_name_the_benchmark_corpus_and_label_event_dates():
    from conftest import ROOT

    cases = load_case_file(ROOT / "evals" / "bench" / "briefings.yaml")
    assert len(cases) >= 8 and all(c.kind == "briefing" and c.corpus == "benchmark" for c in cases)
    held_out = load_case_file(ROOT / "evals" / "bench" / "briefings_held_out.yaml")
    assert len(held_out) >= 2 and not {c.id for c in held_out} & {c.id for c in cases}
    cases += held_out
    assert all(c.facts and c.events and c.topic for c in cases)
    for case in cases:  # every labelled date parses as a day or a range of days
        for event in case.events:
            first, _, last = event.date.partition("/")
            assert dt.date.fromisoformat(first) <= dt.date.fromisoformat(last or first)
