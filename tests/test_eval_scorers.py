"""Each scorer on hand-made answers: a right answer scores high, a wrong one low, and the
explanation says why."""

from pathlib import Path

import pytest

from rag.answer.refusal import REFUSAL_PHRASE
from rag.eval.entail import lexical_entails
from rag.eval.normalize import contains_phrase, normalize
from rag.eval.scorers import (
    citation_support,
    citation_validity,
    fact_recall,
    passed,
    refusal,
    score_answer,
    score_briefing,
    source_recall,
)
from rag.models import (
    Answer,
    AnswerSentence,
    Briefing,
    BriefingCase,
    BriefPoint,
    Citation,
    Disagreement,
    DisagreementSide,
    EvalCase,
    Usage,
)

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
EIGHT = ("An estimated eight rockets were fired overall, killing one Iraqi civilian and causing minor damage "
         "to the perimeter of the embassy complex.")
TWENTY = ("On Sunday, more than 20 missiles were launched at the heavily fortified Green Zone compound in Baghdad, "
          "which is home to the US Embassy and other official buildings.")
AXIOS, CNBC = "003_568550a85670bdb3.txt", "002_5cca6cf56978dda1.txt"


def lookup(source):
    path = CORPUS / source
    return (path.read_text(encoding="utf-8"), "txt") if path.is_file() else None


def cite(n, source, line, quote, end=None):
    return Citation(n=n, source=source, line_start=line, line_end=end or line, quote=quote)


def answer(sentences, citations, refused=False, **extra):
    text = " ".join(f"{s} " + "".join(f"[{n}]" for n in ns) for s, ns in sentences)
    return Answer(question="q", answer=REFUSAL_PHRASE if refused else text, refused=refused, citations=citations,
                  sentences=[AnswerSentence(text=s, citations=ns) for s, ns in sentences], engine="test",
                  settings_hash="x", **extra)


ROCKETS = EvalCase(id="rockets", question="How many rockets were fired at the US embassy in Baghdad?",
                   facts=[["eight", "8"], ["more than 20", "21"]], sources=[[AXIOS, "001_c31d4bc7025f9123.txt"], [CNBC]])
RIGHT = answer([(EIGHT, [1]), (TWENTY, [2])], [cite(1, AXIOS, 15, EIGHT), cite(2, CNBC, 7, TWENTY)],
               retrieved=[AXIOS, CNBC])


# ---- normalisation ---------------------------------------------------------------------------

PHRASES = [
    ("An estimated eight rockets", "8 rockets", True),
    ("twenty-one rockets", "21", True),
    ("154 Tomahawk cruise missiles", "one hundred fifty-four", True),
    ("from 3,000 to 2,500", "2500", True),
    ("“Guess where they were from: IRAN,”", '"guess where they were from: Iran"', True),
    ("Robert O’Brien", "O'Brien", True),
    ("a non-escalatory option", "non escalatory", True),
    ("Café", "cafe", True),
    ("18 rockets", "8", False),
    ("Iranian officials", "Iran", False),
    ("one two", "3", False),
]


@pytest.mark.parametrize("text, phrase, expected", PHRASES)
def test_matching_is_normalised_and_whole_word(text, phrase, expected):
    assert contains_phrase(text, phrase) is expected


@pytest.mark.parametrize("text, phrase, expected", PHRASES)
def test_fact_recall_finds_a_phrasing_exactly_as_contains_phrase_does(text, phrase, expected):
    assert fact_recall([["no such phrasing anywhere", phrase]], text).value == (1.0 if expected else 0.0)


def test_normalize_keeps_decimals_and_drops_punctuation():
    assert normalize("It rose 2.5%, to 3,000.") == "it rose 2.5 to 3000"


# ---- fact recall -----------------------------------------------------------------------------

def test_fact_recall_right_answer_scores_one():
    score = fact_recall(ROCKETS.facts, RIGHT.answer)
    assert score.value == 1.0 and score.explanation == "2/2 facts"


def test_fact_recall_missing_fact_scores_low_and_names_it():
    score = fact_recall(ROCKETS.facts, f"{EIGHT} [1]")
    assert score.value == 0.5 and "missing: [more than 20 | 21]" in score.explanation


def test_fact_recall_ignores_citation_marker_digits():
    assert fact_recall([["8"]], "Rockets were fired. [8]").value == 0.0


# ---- citation validity -----------------------------------------------------------------------

def test_citation_validity_verbatim_quotes_score_one():
    score = citation_validity(RIGHT.answer, RIGHT.citations, lookup)
    assert score.value == 1.0 and score.explanation == "2/2 citations verbatim at their lines"


def test_a_wrong_quote_is_invalid():
    wrong = EIGHT.replace("eight", "nine")
    score = citation_validity("x [1] y [2]", [cite(1, AXIOS, 15, wrong), cite(2, CNBC, 7, TWENTY)], lookup)
    assert score.value == 0.5 and "quote not found at those lines" in score.explanation


def test_a_right_quote_at_the_wrong_lines_is_invalid():
    score = citation_validity("x [1]", [cite(1, AXIOS, 13, EIGHT)], lookup)
    assert score.value == 0.0 and f"{AXIOS}:13-13" in score.explanation


def test_unknown_sources_out_of_range_lines_and_dangling_markers_are_invalid():
    citations = [cite(1, "nope.txt", 1, "x"), cite(2, AXIOS, 900, EIGHT), cite(3, AXIOS, 15, EIGHT)]
    score = citation_validity("a [1] b [2] c [3] d [7]", citations, lookup)
    assert score.value == pytest.approx(1 / 4)
    for problem in ("not in the index", "out of range", "[7] marks no citation"):
        assert problem in score.explanation


def test_an_answer_without_citations_is_invalid_but_a_refusal_needs_none():
    assert citation_validity("Eight rockets.", [], lookup).value == 0.0
    assert citation_validity(REFUSAL_PHRASE, [], lookup, refused=True).value is None


# ---- citation support (ALCE) -----------------------------------------------------------------

def test_support_of_verbatim_sentences_is_full():
    recall, precision = citation_support(RIGHT, lookup, lexical_entails)
    assert recall.value == 1.0 and precision.value == 1.0


def test_a_sentence_its_citation_does_not_support_lowers_recall_and_precision():
    made_up = "Twelve rockets hit the embassy, killing two US diplomats."
    bad = answer([(EIGHT, [1]), (made_up, [2])], [cite(1, AXIOS, 15, EIGHT), cite(2, CNBC, 7, TWENTY)])
    recall, precision = citation_support(bad, lookup, lexical_entails)
    assert recall.value == 0.5 and precision.value == 0.5
    assert "Twelve rockets" in recall.explanation


def test_a_changed_figure_is_not_supported():
    verdict = lexical_entails(EIGHT, EIGHT.replace("eight", "18"))
    assert not verdict.supported and "18" in verdict.reason


def test_a_negation_the_source_lacks_is_not_supported():
    assert not lexical_entails(TWENTY, TWENTY.replace("were launched", "were not launched")).supported


def test_a_close_paraphrase_is_supported():
    assert lexical_entails(EIGHT, "An estimated eight rockets were fired, killing an Iraqi civilian.").supported


def test_an_unneeded_extra_citation_lowers_precision_only():
    over = answer([(EIGHT, [1, 2])], [cite(1, AXIOS, 15, EIGHT), cite(2, CNBC, 7, TWENTY)])
    recall, precision = citation_support(over, lookup, lexical_entails)
    assert recall.value == 1.0 and precision.value == 0.5
    assert "[2] is not needed" in recall.explanation


def test_a_sentence_needing_two_citations_keeps_both():
    joined = "An estimated eight rockets were fired, and more than 20 missiles were launched at the Green Zone."
    both = answer([(joined, [1, 2])], [cite(1, AXIOS, 15, EIGHT), cite(2, CNBC, 7, TWENTY)])
    recall, precision = citation_support(both, lookup, lexical_entails)
    assert recall.value == 1.0 and precision.value == 1.0


def test_an_uncited_sentence_is_unsupported():
    bare = answer([(EIGHT, [])], [])
    recall, _ = citation_support(bare, lookup, lexical_entails)
    assert recall.value == 0.0 and "has no citation" in recall.explanation


def test_sentences_are_parsed_from_the_text_when_the_engine_gives_none():
    parsed = RIGHT.model_copy(update={"sentences": []})
    recall, precision = citation_support(parsed, lookup, lexical_entails)
    assert recall.value == 1.0 and precision.value == 1.0


# ---- sources and refusal ---------------------------------------------------------------------

def test_source_recall_counts_alternatives_once():
    assert source_recall(ROCKETS.sources, [AXIOS, CNBC], "cited").value == 1.0
    score = source_recall(ROCKETS.sources, ["001_c31d4bc7025f9123.txt"], "cited")
    assert score.value == 0.5 and f"missing: {CNBC}" in score.explanation


@pytest.mark.parametrize("should, did, value, word", [
    (True, True, 1.0, "as it should"), (False, False, 1.0, "as it should"),
    (True, False, 0.0, "cannot answer"), (False, True, 0.0, "refused a question the corpus answers"),
])
def test_refusal_accuracy(should, did, value, word):
    score = refusal(should, did)
    assert score.value == value and word in score.explanation


# ---- all scorers together --------------------------------------------------------------------

def test_a_right_answer_passes_with_every_score_high():
    scores = score_answer(ROCKETS, RIGHT, 0.25, lookup)
    assert passed(scores)
    for key in ("fact_recall", "citation_validity", "citation_recall", "citation_precision", "source_recall_cited",
                "source_recall_retrieved", "refusal"):
        assert scores[key].value == 1.0, key
    assert scores["latency_s"].value == 0.25 and scores["tokens"].value == 0


def test_a_false_refusal_fails():
    scores = score_answer(ROCKETS, answer([], [], refused=True), 0.1, lookup)
    assert not passed(scores)
    assert scores["refusal"].value == 0.0 and scores["fact_recall"].value == 0.0
    assert scores["citation_validity"].value is None


def test_answering_an_unanswerable_question_fails():
    case = EvalCase(id="cup", question="Who won the 2018 World Cup?", refuse=True)
    scores = score_answer(case, RIGHT, 0.1, lookup)
    assert not passed(scores) and scores["fact_recall"].value is None
    assert passed(score_answer(case, answer([], [], refused=True), 0.1, lookup))


def test_a_right_fact_with_a_wrong_quote_fails():
    bad = RIGHT.model_copy(update={"citations": [cite(1, AXIOS, 15, EIGHT), cite(2, CNBC, 6, TWENTY)]})
    scores = score_answer(ROCKETS, bad, 0.1, lookup)
    assert scores["fact_recall"].value == 1.0 and scores["citation_validity"].value == 0.5
    assert not passed(scores)


def test_usage_is_reported():
    costly = RIGHT.model_copy(update={"usage": Usage(prompt_tokens=900, completion_tokens=100, cost_usd=0.0021)})
    scores = score_answer(ROCKETS, costly, 1.5, lookup)
    assert scores["tokens"].value == 1000 and scores["cost_usd"].value == 0.0021


# ---- briefings -------------------------------------------------------------------------------

def test_briefing_scores_read_its_prose_and_every_citation():
    case = BriefingCase(id="b", topic="rockets", facts=[["eight"], ["more than 20"], ["Kataeb Hezbollah"]],
                        sources=[[AXIOS], [CNBC]])
    briefing = Briefing(engine="extractive", settings_hash="test", summary=[BriefPoint(text=EIGHT, citations=[1])],
                        disagreements=[Disagreement(about="the count", sides=[DisagreementSide(value="a count", citations=[2]),
                                                                              DisagreementSide(value="another", citations=[3])])],
                        citations=[cite(1, AXIOS, 15, EIGHT), cite(2, CNBC, 7, "Sunday, more"), cite(3, CNBC, 2, "no such text")])
    scores = score_briefing(case, briefing, lookup)
    assert scores["fact_recall"].value == pytest.approx(1 / 3)  # quotes are not the briefing's own prose
    assert scores["citation_validity"].value == pytest.approx(2 / 3)
    assert scores["source_recall_cited"].value == 1.0
    assert not passed(scores)
