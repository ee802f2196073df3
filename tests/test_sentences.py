"""The news-aware sentence splitter on tricky cases, and its spans."""

import pytest

from rag.text.sentences import split_sentences

CASES = [
    ("U.S. President Donald Trump has warned Iran. He said so.",
     ["U.S. President Donald Trump has warned Iran.", "He said so."]),
    ("He was killed on Jan. 3, 2020, when U.S. missiles rained down. Iran responded.",
     ["He was killed on Jan. 3, 2020, when U.S. missiles rained down.", "Iran responded."]),
    ("Gen. Qasem Soleimani was killed. Lt. Col. Smith said so.",
     ["Gen. Qasem Soleimani was killed.", "Lt. Col. Smith said so."]),
    ("In Dec. 2020 prices fell. Then they rose.", ["In Dec. 2020 prices fell.", "Then they rose."]),
    ("It moved to the U.S. The next day it left.", ["It moved to the U.S.", "The next day it left."]),
    ("U.S. Ambassador Matthew Tueller could be relocated. He is a diplomat.",
     ["U.S. Ambassador Matthew Tueller could be relocated.", "He is a diplomat."]),
    ("“Our embassy got hit Sunday. Three rockets failed to launch,” Trump wrote. Then he left.",
     ["“Our embassy got hit Sunday. Three rockets failed to launch,” Trump wrote.", "Then he left."]),
    ('"Guess where they came from: IRAN," he added. Officials agreed.',
     ['"Guess where they came from: IRAN," he added.', "Officials agreed."]),
    ("“Is this it?” she asked. “Yes.”", ["“Is this it?” she asked.", "“Yes.”"]),
    ("Mr. Smith went to Washington, D.C. He arrived Tuesday.",
     ["Mr. Smith went to Washington, D.C.", "He arrived Tuesday."]),
    ("The deal is worth $1.5 billion. Shares rose 2.5%.", ["The deal is worth $1.5 billion.", "Shares rose 2.5%."]),
    ("She joined No. 10 Downing St. in 2019. She left.", ["She joined No. 10 Downing St. in 2019.", "She left."]),
    ("Sen. Joe Manchin, D-W.Va., said no. He won't.", ["Sen. Joe Manchin, D-W.Va., said no.", "He won't."]),
    ("The U.N. Security Council met. It voted.", ["The U.N. Security Council met.", "It voted."]),
]


@pytest.mark.parametrize("text, expected", CASES)
def test_tricky_news_sentences(text, expected):
    spans = split_sentences(text, {1})
    assert [text[s.start:s.end] for s in spans] == expected


def test_bullets_are_not_part_of_the_sentence_and_headings_are_marked():
    text = "Blame game\n\n  • An estimated eight rockets were fired overall. It was Sunday.\n"
    spans = split_sentences(text, {1, 3})
    assert [(text[s.start:s.end], s.kind) for s in spans] == [
        ("Blame game", "heading"),
        ("An estimated eight rockets were fired overall.", "sentence"),
        ("It was Sunday.", "sentence"),
    ]


def test_hard_wrapped_paragraph_joins_across_lines():
    text = "The officials met at the White House on Wednesday\nand agreed on options. A second sentence."
    spans = split_sentences(text, {1, 2})
    assert text[spans[0].start:spans[0].end] == "The officials met at the White House on Wednesday\nand agreed on options."


def test_dropped_lines_are_never_in_a_sentence():
    text = "First line is kept.\nDropped caption here.\nThird line is kept."
    spans = split_sentences(text, {1, 3})
    assert all("Dropped" not in text[s.start:s.end] for s in spans)
