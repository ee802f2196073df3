"""rag.answer.conflicts: the one disagreement finder of answers, briefings and LLM contexts.

Two figures conflict only when they measure the same quantity of the same event, place and time
window, in different sources. The thresholds are chosen on labelled benchmark pairs
(bench/conflicts.py); these tests pin the rules with the real MiniLM embedder."""

import datetime as dt
from dataclasses import dataclass

import pytest

from rag.answer.conflicts import find_conflicts, find_disagreements
from rag.answer.question import analyse
from rag.index.embedders import MiniLMEmbedder
from rag.models import Sentence


@dataclass
class Chunk:
    source: str
    date: dt.date | None = None
    outlet: str | None = None


@dataclass
class Stated:
    sentence: Sentence
    chunk: Chunk
    score: float = 1.0
    coverage: float = 1.0


def stated(text: str, source: str, date=None, outlet=None) -> Stated:
    return Stated(Sentence(char_start=0, char_end=len(text), line_start=1, line_end=1, text=text),
                  Chunk(source, date, outlet))


@pytest.fixture(scope="module")
def embedder():
    return MiniLMEmbedder(32)


D = dt.date(2022, 9, 30)


def test_the_same_count_from_two_sources_that_disagree(embedder):
    a = stated("At least 21 people were killed when the storm hit the coast of Florida on Wednesday.", "a", D, "AP")
    b = stated("The storm killed at least 47 people on the coast of Florida on Wednesday, officials said.", "b",
               D + dt.timedelta(days=2), "Reuters")
    [found] = find_disagreements([a, b], embedder)
    assert {s.value for s in found.sides} == {"At least 21", "at least 47"}
    # a count reported on different dates is a running tally: the latest first, marked
    assert found.tally and found.sides[0].value == "at least 47" and found.sides[0].latest
    assert found.sides[0].date == D + dt.timedelta(days=2) and found.sides[0].outlets == ["Reuters"]
    assert not found.sides[1].latest
    conflict = found.to_conflict(lambda s: {"a": 1, "b": 2}[s.chunk.source])
    assert conflict.tally and [(c.citation, c.latest, c.outlet) for c in conflict.claims] == [(2, True, "Reuters"),
                                                                                                (1, False, "AP")]


def test_one_source_giving_two_figures_is_a_change_not_a_dispute(embedder):
    a = stated("At least 21 people were killed when the storm hit the coast of Florida on Wednesday.", "a", D)
    b = stated("By Friday the storm had killed at least 47 people along the coast of Florida.", "a", D)
    assert find_disagreements([a, b], embedder) == []


@pytest.mark.parametrize("first, second", [
    # different quantities: an identifier and a speed, a duration and a count
    ("Ian made landfall as a Category 4 hurricane on Wednesday.", "Ian made landfall with winds of 150 mph on Wednesday."),
    ("She reigned for seven decades over the United Kingdom.", "Fourteen monarchs reigned over the United Kingdom."),
    # different places
    ("The storm killed 3 people in Cuba on Tuesday.", "The storm killed 47 people in Florida on Tuesday."),
    # different time windows: another storm's toll
    ("Hurricane Andrew killed 65 people in 1992 in southern Florida.", "Hurricane Ian has killed 47 people in southern Florida."),
    # how many sources a report has is not what it reports
    ("Agents searched the home, two people familiar with the search said.",
     "Agents searched the home, three people familiar with the situation told CNN."),
    # counts an order of magnitude apart count different things
    ("The court has had 115 justices in its history.", "The court has nine justices today."),
    # measures in different units measure different things (rain, a river's crest)
    ("Yellowstone got 2.5 inches of rain on Monday.", "The Yellowstone River reached 13.88 feet on Monday."),
    # two outlets that each compare the same two figures agree
    ("The river reached 13.88 feet on Monday, surpassing the historical crest of 11.5 feet from 1918.",
     "The river gauge reached 13.88 feet Monday, surpassing the historical high crest of 11.5 feet from 1918."),
])
def test_figures_of_different_quantities_events_places_or_times_never_conflict(embedder, first, second):
    a, b = stated(first, "a", D), stated(second, "b", D)
    assert find_disagreements([a, b], embedder) == [], (first, second)


def test_answers_keep_conflicts_about_what_the_question_counts(embedder):
    question = analyse("How many rockets were fired at the US embassy in Baghdad?")
    eight = stated("An estimated eight rockets were fired overall, killing one Iraqi civilian.", "axios")
    twenty = stated("On Sunday, more than 20 missiles were launched at the heavily fortified Green Zone in Baghdad.",
                    "cnbc")
    [found] = find_conflicts([eight, twenty], [eight], question, embedder)
    assert found.about == "rockets" and [s.number for s in found.sides] == [8.0, 20.0] and not found.tally
    assert {id(s) for s in found.statements} == {id(eight), id(twenty)}
