"""rag.brief.particulars: the numbers, names and dates of a sentence, and whether an earlier
sentence holds them all (the --new-since restatement test)."""

from __future__ import annotations

from rag.brief.particulars import Particulars, held_share, holds_all, missing, particulars


def test_numbers_in_digits_and_words_outside_dates():
    p = particulars("The toll rose to 14 on June 15, 2022, and eight villages were cut off; 1,200 fled.")
    assert p.numbers == {14.0, 8.0, 1200.0}  # 15 and 2022 are the date's
    assert p.dates == {(2022, 6, 15)}


def test_one_as_a_pronoun_is_no_number():
    assert particulars("No one was hurt, and one of the guards said so.").numbers == set()
    assert particulars("He won 1 of 3 races.").numbers == {1.0, 3.0}


def test_names_are_capitalised_words_that_do_not_open_the_sentence_or_a_quotation():
    p = particulars("The U.S. Senate passed the Saudi-led plan, “Today is a good day,” Biden said on Tuesday.")
    assert p.names == {"us", "senate", "saudi", "biden"}  # not "The", "Today", nor the weekday
    assert particulars("Officials said: Rescue crews arrived.").names == set()


def test_weekdays_and_relative_dates_are_no_particular():
    p = particulars("Rescuers arrived on Tuesday, two days ago, and left last week.")
    assert p == Particulars(numbers=frozenset(), names=frozenset(), dates=frozenset())
    assert not p


def test_an_earlier_sentence_holds_a_name_in_any_of_its_forms():
    assert holds_all("Ukrainian troops shelled the town, Russia's army said.", "Russian officials said Ukraine shelled it.")
    assert holds_all("Biden spoke first.", "Then Joe Biden spoke.") is False  # "Joe" is not held
    assert missing("Then Joe Biden spoke.", "Biden spoke first.").names == {"joe"}


def test_an_earlier_date_holds_a_new_one_when_it_agrees_on_what_the_new_one_writes():
    assert holds_all("The vote was on June 15, 2022.", "The vote was on June 15.")
    assert not holds_all("The vote was in June.", "The vote was on June 15.")
    assert missing("The vote was on June 15.", "The vote was on June 16.").dates == {(None, 6, 15)}


def test_every_particular_must_be_held():
    new = "The Fed raised rates by 0.75 points, its largest hike since 1994."
    assert not holds_all("The Fed is expected to raise rates by 0.5 points, its largest hike since 2000.", new)
    assert holds_all("The Fed raised rates 0.75 points on Wednesday, its largest hike since 1994.", new)
    assert holds_all("Anything at all.", "rates rose, as expected.")  # nothing particular to hold


def test_held_share_counts_numbers_names_and_dates_alike():
    new = "The Fed raised rates by 0.75 points on June 15, its largest hike since 1994."  # fed, 0.75, June 15, 1994
    assert held_share(new, "The Fed raised rates by 0.75 points, the largest since 1994.") == 0.75
    assert held_share(new, "The Fed raised rates by 0.75 points on June 15, the largest since 1994.") == 1.0
    assert held_share(new, "Rates went up.") == 0.0
    assert held_share("Rates went up, as expected.", "Nothing alike.") == 1.0  # no particular to hold
    assert particulars("- Voters in Kansas decided.").names == {"kansas"}  # a list marker opens the sentence too
