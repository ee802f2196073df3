"""Verification of LLM answers beyond one window: claims resting on two sentences, relative time
phrases, and supported answers that do not speak to the question."""

import datetime as dt

from rag.answer.grounding import ScoreSupport, ground
from rag.answer.llm_engine import off_echo, off_kind, off_period, off_question
from rag.answer.question_period import question_period
from rag.answer.support import SupportScorer
from rag.index.embedders import HashEmbedder
from rag.models import Answer, AnswerSentence, Chunk, Citation, Sentence


def chunk_of(*texts: str, chunk_id: str = "c") -> Chunk:
    sentences, offset = [], 0
    for line, text in enumerate(texts, start=1):
        sentences.append(Sentence(char_start=offset, char_end=offset + len(text), line_start=line,
                                  line_end=line, text=text))
        offset += len(text) + 1
    return Chunk(id=chunk_id, source=f"{chunk_id}.txt", ordinal=0, text="\n".join(texts), sentences=sentences,
                 tokens=10, char_start=0, char_end=offset - 1, line_start=1, line_end=len(texts), title="T",
                 date=dt.date(2020, 1, 5))


EVENT = chunk_of("Rockets struck the Green Zone on December 20, the military said.",
                 "The embassy compound has been a target before.", "Iraq condemned the strike.",
                 "No Americans were killed or injured by the rockets.")
CLAIM = "No Americans were killed or injured by the December 20 rockets on the Green Zone."


def test_a_claim_stated_by_two_sentences_apart_rests_on_both():
    scorer = SupportScorer(HashEmbedder())
    assert not scorer.anchor(CLAIM, EVENT).supports(0.5)  # no window of one or two adjacent sentences holds it
    joint = scorer.across(CLAIM, [EVENT])
    assert [s.line_start for a in joint for s in a.sentences] == [1, 4] and joint[0].supports(0.5)


def test_two_sentences_together_pass_the_same_rules_as_one_window():
    scorer = SupportScorer(HashEmbedder())
    wrong_day = "No Americans were killed or injured by the December 21 rockets on the Green Zone."
    negated = "Americans were killed by the December 20 rockets on the Green Zone."
    for claim in (wrong_day, negated):
        joint = scorer.across(claim, [EVENT])
        assert not (joint and all(a.supports(0.5) for a in joint))


def test_a_sentence_that_only_names_someone_is_no_part_of_a_claim_about_what_they_did():
    scorer = SupportScorer(HashEmbedder())
    tournament = chunk_of("Since Germany won the Olympic gold medal in 2016, Euro 2022 marks the first time it has got "
                          "past the quarterfinals of a tournament.", "The team trained in London.",
                          "Forwards Alexandra Popp and Alessia Russo have made very different contributions.")
    claim = "Alessia Russo scored the winning goal in the Euro 2022 final against Germany."
    assert scorer.across(claim, [tournament]) == []
    side_by_side = chunk_of(tournament.sentences[0].text, tournament.sentences[2].text)
    assert not scorer.anchor(claim, side_by_side).supports(0.5)  # two adjacent sentences: a window


def test_a_name_and_a_sentence_that_refers_back_to_the_person_together_support_a_claim():
    scorer = SupportScorer(HashEmbedder())
    report = chunk_of("Police arrested Cory Allan Martin on Friday.",
                      "He told them he was trying to kill a spider with a lighter when the fire started.")
    anchor = scorer.anchor("Cory Allan Martin was trying to kill a spider with a lighter when the fire started.", report)
    assert anchor.verdict.rule != "name" and len(anchor.sentences) == 2


def test_two_cited_sources_together_support_a_claim_and_both_are_cited():
    from rag.answer.context import Context, Source

    trial = chunk_of("The jury heard the Sandy Hook defamation case.", chunk_id="a")
    attack = chunk_of("Weather was mild.", "The boy was killed in the 2012 school shooting in Newtown.", chunk_id="b")
    context = Context([Source(1, trial), Source(2, attack)], "")
    found = ground("The Sandy Hook defamation case is about a boy killed in the 2012 school shooting in Newtown.", [1, 2],
                   context, ScoreSupport(HashEmbedder(), 0.5))
    assert found.supported and sorted(e.n for e in found.evidence) == [1, 2]
    assert any("two sentences together" in n for n in found.notes)


def _answer(question: str, quote: str) -> Answer:
    return Answer(question=question, answer=f"{quote} [1]", engine="llm", settings_hash="",
                  sentences=[AnswerSentence(text=quote, citations=[1], support=0.9)],
                  citations=[Citation(n=1, source="001.txt", line_start=3, line_end=3, quote=quote)])


def test_a_supported_answer_beside_the_question_is_a_refusal_with_the_reason():
    answer = off_question(_answer("What did Joe Biden say about the rocket attack on the US embassy in Baghdad?",
                                  "Biden is expected to try to rejoin the Iran nuclear accord."), 0.3, 0.5,
                          HashEmbedder())
    assert answer.refused and not answer.sentences and not answer.citations
    assert "do not speak to the question" in answer.refusal_reason
    assert answer.rejected.sentences[0].text == "Biden is expected to try to rejoin the Iran nuclear accord."


def test_an_answer_whose_quotes_hold_the_question_stays():
    answer = _answer("How many rockets hit the US embassy in Baghdad?", "Eight rockets hit the US embassy in Baghdad.")
    assert off_question(answer, 0.3, 0.5, HashEmbedder()) == answer


def test_a_paraphrase_of_the_question_is_not_off_question():
    answer = _answer("Where in the US is it illegal to pump your own gas?",
                     "New Jersey and Oregon are the only places in the nation that ban self-service gasoline.")
    assert off_question(answer, 0.3, 0.0, HashEmbedder()) == answer  # no key term, but close enough
    assert off_question(answer, 0.3, 0.99, HashEmbedder()).refused


def test_a_claim_two_uncited_sources_state_together_is_re_cited_to_both():
    from rag.answer.context import Context, Source

    other = chunk_of("The weather in Connecticut was mild all week.", chunk_id="x")
    trial = chunk_of("The jury heard the Sandy Hook defamation case.", chunk_id="a")
    attack = chunk_of("Weather was mild.", "The boy was killed in the 2012 school shooting in Newtown.", chunk_id="b")
    context = Context([Source(1, other), Source(2, trial), Source(3, attack)], "")
    found = ground("The Sandy Hook defamation case is about a boy killed in the 2012 school shooting in Newtown.", [1],
                   context, ScoreSupport(HashEmbedder(), 0.5))
    assert found.supported and found.repaired_from == [1] and sorted(e.n for e in found.evidence) == [2, 3]


def test_an_answer_to_this_week_resting_only_on_older_articles_is_a_refusal():
    question = "The IRS announced it will do what this week?"
    period = question_period(question, dt.date(2022, 6, 23))
    old = _answer(question, "The IRS will begin processing 2021 tax returns as soon as Jan. 24.")
    old.citations[0].date = dt.date(2022, 1, 10)
    refused = off_period(old, period)
    assert refused.refused and "this week" in refused.refusal_reason and refused.rejected.sentences
    recent = old.model_copy(deep=True)
    recent.citations[0].date = dt.date(2022, 6, 21)
    assert off_period(recent, period) == recent
    assert off_period(old, None) == old  # no as-of date, no period


def test_the_articles_own_headline_is_evidence_and_other_furniture_is_not():
    chunk = chunk_of("Liz Cheney, from Trump backer - then critic - to considering 2024 run",
                     "Photos: Liz Cheney considering a 2024 run after her years as a Trump backer and critic",
                     "The Wyoming lawmaker lost her primary on Tuesday.")
    kinds = ["headline", "caption", "sentence"]
    chunk = chunk.model_copy(update={"sentences": [s.model_copy(update={"kind": k}) for s, k in zip(chunk.sentences, kinds)]})
    anchor = SupportScorer(HashEmbedder()).anchor("Liz Cheney went from Trump backer, then critic, to considering a 2024 run.",
                                                  chunk)
    assert anchor.supports(0.5) and [s.line_start for s in anchor.sentences] == [1]
    captioned = chunk.model_copy(update={"sentences": [chunk.sentences[1], chunk.sentences[2]]})
    assert not SupportScorer(HashEmbedder()).anchor("Liz Cheney is considering a 2024 run.", captioned).supports(0.5)


def test_a_how_many_question_answered_without_a_number_is_a_refusal():
    vague = _answer("Netflix says it lost how many subscribers in the three months ending June 30?",
                    "Netflix reported that it lost subscribers in the first quarter of 2022, on April 19.")
    assert off_kind(vague).refused and "number" in off_kind(vague).refusal_reason
    counted = _answer("How many rockets hit the embassy?", "Eight rockets hit the embassy.")
    assert off_kind(counted) == counted
    other = _answer("Which country won?", "France won the final.")
    assert off_kind(other) == other


def test_an_answer_that_only_restates_its_question_is_a_refusal():
    question = "NASA released astonishing images from space this week. What did the images show?"
    echo = off_echo(_answer(question, "NASA released astonishing images from space this week."))
    assert echo.refused and "only restates the question" in echo.refusal_reason
    assert echo.rejected.sentences[0].text == "NASA released astonishing images from space this week."
    told = _answer(question, "The images show distant galaxies, released by NASA this week.")
    assert off_echo(told) == told


def test_a_yes_no_question_may_be_answered_in_its_own_words():
    answer = _answer("Did NASA release images from space this week?", "NASA released images from space this week.")
    assert off_echo(answer) == answer
