"""The one definition of "the same statement" (rag/text/sameness.py), at each rule's edges."""

from __future__ import annotations

import pytest

from rag.text.lexical import content_words
from rag.text.sameness import (
    ALREADY_STATED,
    SAME_STATEMENT,
    SAME_WORDS,
    WIRE_COPY,
    Sameness,
    same_statement,
    word_share,
)


def terms(text: str) -> set[str]:
    return set(content_words(text))


def test_the_three_shares_count_against_what_they_say():
    a, b = {"w", "x", "y", "z"}, {"w", "x", "q"}
    assert word_share(a, b, "union") == 2 / 5
    assert word_share(a, b, "shorter") == 2 / 3
    assert word_share(a, b, "first") == 2 / 4
    assert word_share(b, a, "first") == 2 / 3
    assert word_share(set(), set(), "union") == word_share(set(), {"w"}, "first") == 0.0


def test_same_words_is_the_jaccard_share_of_the_extractive_answer():
    a, b = {"a", "b", "c"}, {"a", "b", "c", "d", "e"}  # 3 / 5 = 0.6: the bound itself counts
    assert same_statement(a, b, SAME_WORDS)
    assert not same_statement(a, b | {"f"}, SAME_WORDS)  # 3 / 6
    assert not same_statement(set(), set(), SAME_WORDS) and not same_statement({"a"}, set(), SAME_WORDS)


def test_a_briefing_statement_needs_the_cosine_and_half_the_shorter_sentences_words():
    long = terms("The embassy compound in Baghdad was hit by eight rockets on Sunday night, officials said.")
    short = terms("Eight rockets hit the embassy compound.")
    assert same_statement(short, long, SAME_STATEMENT, cosine=0.6)
    assert not same_statement(short, long, SAME_STATEMENT, cosine=0.59)
    assert not same_statement(terms("Eight rockets hit."), long, SAME_STATEMENT, cosine=0.99)  # 3 words say too little
    with pytest.raises(ValueError):
        same_statement(short, long, SAME_STATEMENT)


def test_wire_copy_is_almost_every_word_and_a_cosine_of_point_nine():
    a = {"one", "two", "three", "four", "five"}
    b = a | {"six"}  # 5 / 6 >= 0.8
    assert same_statement(a, b, WIRE_COPY, cosine=0.9)
    assert not same_statement(a, b, WIRE_COPY, cosine=0.89)
    assert not same_statement(a, b | {"seven"}, WIRE_COPY, cosine=0.95)  # 5 / 7


def test_already_stated_is_directional_and_only_the_item_must_be_long_enough():
    item = {"toll", "rises", "nine", "dead"}
    earlier = {"toll", "rises", "nine"}  # three words: short, but it holds 3 / 4 of the item
    assert same_statement(item, earlier, ALREADY_STATED)
    assert same_statement(earlier, item, ALREADY_STATED)  # three words are enough for an item
    assert not same_statement({"toll", "rises"}, item, ALREADY_STATED)  # two words are no statement
    assert not same_statement(item, {"toll", "rises"}, ALREADY_STATED)  # 2 / 4 < 0.6
    assert not same_statement(earlier, {"toll", "rises", "x"}, ALREADY_STATED)  # 2 / 3 >= 0.6, but only 2 words


def test_the_rules_keep_the_numbers_their_callers_chose():
    assert SAME_WORDS == Sameness(0.6, "union")
    assert SAME_STATEMENT == Sameness(0.5, "shorter", cosine=0.6, min_terms=4)
    assert WIRE_COPY == Sameness(0.8, "union", cosine=0.9)
    assert ALREADY_STATED == Sameness(0.6, "first", min_terms=3, min_shared=3)
