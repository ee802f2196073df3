"""What an LLM answer may take from its question, and what it may not (issue 16, round 7): the
question's premise restated around a supported answer;
one article's attribution lent to another article's claim."""

import datetime as dt

from rag.answer.support import SupportScorer
from rag.answer.support_check import supports
from rag.index.embedders import HashEmbedder
from rag.models import Chunk, Sentence

VISIT = ["The speaker landed in Lisbon on Tuesday, a show of support for Portugal despite Spain's protests over the visit."]
QUESTION = "Speaker Ana Costa made a controversial visit to which country this week, angering a close neighbour?"


def test_a_sentence_may_restate_its_question_around_the_supported_answer():
    sentence = "Speaker Ana Costa made a controversial visit to Portugal this week, angering a close neighbour."
    assert not supports(sentence, VISIT)  # the question's framing is not in the window
    assert supports(sentence, VISIT, given=QUESTION)


def test_the_answer_itself_must_still_be_in_the_window():
    wrong = "Speaker Ana Costa made a controversial visit to Morocco this week, angering a close neighbour."
    assert not supports(wrong, VISIT, given=QUESTION)
    invented = "Speaker Ana Costa made a controversial visit this week, signing a fisheries treaty with its navy."
    assert not supports(invented, VISIT, given=QUESTION)


def test_a_sentence_that_only_restates_its_question_gains_nothing_from_it():
    echo = "Speaker Ana Costa made a controversial visit this week, angering a close neighbour."
    assert not supports(echo, VISIT, given=QUESTION)


def test_a_name_from_the_question_needs_a_window_that_names_the_question_s_subject():
    festival = ["Millions of Muslims worldwide this week will celebrate Eid al-Adha, an Islamic festival."]
    assert supports("India celebrated Eid al-Adha this week.", festival,
                    given="Which major holiday did India celebrate this week?").rule == "name"
    grants = ["The Biden administration on Thursday announced $400 million in grants for rural internet projects."]
    question = "The Biden administration announced $400 million in grants for what in rural areas of the US?"
    claim = "The Biden administration announced $400 million in grants for rural internet projects in the US."
    assert not supports(claim, grants) and supports(claim, grants, given=question)


def test_a_year_from_the_question_is_its_premise_and_a_new_figure_is_not():
    window = ["Red Sox pitcher Chris Sale broke his right wrist in a bike accident and will miss the rest of the season."]
    question = "Boston Red Sox pitcher Chris Sale will miss the rest of the 2022 season after fracturing his wrist in what?"
    assert supports("Chris Sale will miss the rest of the 2022 season after breaking his wrist in a bike accident.",
                    window, given=question)
    assert supports("Chris Sale will miss the rest of the 2022 season and 40 games after breaking his wrist in a bike "
                    "accident.", window, given=question).rule == "number"


def chunk_of(text: str, source: str) -> Chunk:
    sentence = Sentence(char_start=0, char_end=len(text), line_start=1, line_end=1, text=text)
    return Chunk(id=source, source=source, ordinal=0, text=text, sentences=[sentence], tokens=10, char_start=0,
                 char_end=len(text), line_start=1, line_end=1, title="T", date=dt.date(2022, 8, 1))


def test_one_article_may_not_lend_another_only_its_attribution():
    place = chunk_of("SW19 is the postcode district in Southwest London that holds Wimbledon and other boroughs.", "a")
    data = chunk_of("Rents have gone up 8.8% in metro Detroit, according to March data from Realtor.com.", "b")
    claim = "The cheapest London borough to rent in is SW19, according to March data from Realtor.com."
    assert SupportScorer(HashEmbedder()).across(claim, [place, data]) == []


def test_sentences_about_what_the_sources_lack_are_the_models_refusal_and_news_is_not():
    from rag.answer.reply import is_refusal_sentence

    for own in ("The sources do not contain an answer to this question.",
                "The provided context does not mention who won the trophy.",
                "However, the sources do not specify the age range.",
                "There is no information about the winner in the sources.",
                "I cannot answer this question from the sources."):
        assert is_refusal_sentence(own), own
    for news in ("Police did not name the suspect.", "The report does not include a price, officials said.",
                 "The documents do not mention Trump.", "Kyle Connor won the Lady Byng Trophy."):
        assert not is_refusal_sentence(news), news


def test_a_capitalised_stopword_both_open_with_does_not_tie_the_window_to_the_question():
    window = ["The festival this week drew Muslims worldwide to celebrate Eid al-Adha in Mecca."]
    assert supports("The holiday India celebrated this week was Eid al-Adha.", window,
                    given="The holiday India celebrated this week was which one?").rule == "name"
