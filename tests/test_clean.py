"""Cleaning: each rule on its own, on the real corpus, and its span safety."""

from pathlib import Path

import pytest

from rag.text.clean import classify_line, clean_lines

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


@pytest.mark.parametrize("line, reason", [
    ("FILE - This file photo taken on Jan. 3, 2020 shows a general view.", "caption"),
    ("Iraqi police stand guard. Photo: Ameer Al Mohammedaw/picture alliance via Getty Images", "caption"),
    ("Tensions are rising again as the anniversary nears. (AFP)", "caption"),
    ("Ameer Al Mohammedaw | DPA | Getty Images", "photo-credit"),
    ("Go deeper", "link-stub"),
    ("Read More", "link-stub"),
    ("RELATED: Ten things to know about the vote", "link-stub"),
    ("Sign up for CNN's Wonder Theory science newsletter.", "promo"),
    ("Contributing: The Associated Press", "byline"),
    ("– David Jackson", "byline"),
    ("Follow Jordan Mendoza on Twitter: @jordan_mendoza5.", "byline"),
    ("Accessibility links", "navigation"),
    ("___", "separator"),
])
def test_boilerplate_lines_are_recognised(line, reason):
    assert classify_line(line) == reason


@pytest.mark.parametrize("line", [
    "The big picture: The rocket volley was the latest in a string dating back to 2018.",
    "The protective enclave within the capital is where many diplomats live.",
    "(APPLAUSE)",
    "“Guess where they came from: IRAN,” he added.",
    "Blame game",
])
def test_article_prose_is_kept(line):
    assert classify_line(line) is None


def test_duplicate_caption_dropped_once():
    caption = "FILE - This file photo taken on Jan. 3, 2020 shows a general view of the embassy."
    lines = ["Headline about an embassy", "", caption, caption, "",
             "The embassy in Baghdad was hit by rockets on Sunday, officials said in a statement today."]
    dropped = clean_lines(lines)
    assert dropped[3] == "caption" and dropped[4] == "caption"
    assert 6 not in dropped


def test_repeated_prose_caption_is_duplicate_but_data_items_are_not():
    caption = "A resident reacts as a wildfire approaches her house in the village on August 8."
    lines = [
        "Wildfires spread across southern Europe as temperatures broke records this week, officials said.",
        caption, "Firefighters worked through the night to contain the blaze near the coast.", caption,
        "• Birth rate: 16 births per 1,000 people", "• Birth rate: 16 births per 1,000 people",
    ]
    dropped = clean_lines(lines)
    assert dropped.get(4) == "duplicate"
    assert 5 not in dropped and 6 not in dropped


def test_trailing_unrelated_headlines_dropped_but_schedules_kept():
    body = ["Secretary of State Mike Pompeo warned Iraq on Monday that the US would retaliate against attacks."]
    junk = ["-", "Celebrity Couple Part Ways After 3 Years Of Marriage -", "Actor Rejects Sex Symbol Label -",
            "Singer Says Life With Fiancee Feels Like Coming Home -", "Royal Feud Handling Revealed"]
    dropped = clean_lines(body + junk)
    assert [dropped.get(n) for n in range(3, 7)] == ["trailing-headlines"] * 4
    schedule = ["The park service has released its free entrance days for 2022, the agency said on Monday.",
                "Monday, Jan. 17 – Martin Luther King, Jr. Day", "Saturday, April 16 – First day of National Park Week",
                "Thursday, Aug. 4 – Anniversary of the Great American Outdoors Act"]
    assert clean_lines(schedule) == {}


def test_header_navigation_without_shared_words_is_dropped():
    lines = ["Accessibility links", "", "Labari da Dumi-Duminsa", "", "Trump Warns Iran over Rocket Attacks", "",
             "U.S. President Donald Trump has warned Iran against any attack on personnel in Iraq, officials said."]
    dropped = clean_lines(lines)
    assert dropped == {1: "navigation", 3: "navigation"}


def test_real_corpus_cleaning_decisions():
    """The five articles: what is dropped, and that headlines and body lines stay."""
    expected = {
        "000_eb6e83a28ce734ce.txt": {1: "dateline", 5: "caption"},
        "001_c31d4bc7025f9123.txt": {1: "navigation", 3: "navigation", 7: "caption", 8: "caption",
                                     52: "caption", 70: "caption"},
        "002_5cca6cf56978dda1.txt": {1: "caption", 2: "photo-credit"},
        "003_568550a85670bdb3.txt": {1: "dateline", 7: "caption", 37: "link-stub"},
    }
    for name, drops in expected.items():
        lines = (CORPUS / name).read_text().split("\n")
        assert clean_lines(lines) == drops, name
    lines = (CORPUS / "004_bd0859deabb9f25c.txt").read_text().split("\n")
    dropped = clean_lines(lines)
    assert dropped[9] == "separator"
    assert all(dropped[n] == "trailing-headlines" for n in range(10, 26))
    assert not any(n in dropped for n in range(1, 9))


def test_a_file_of_unpunctuated_lines_is_the_article_not_a_link_list():
    log = [f"line {n} of the harbour log notes tide height and wind" for n in range(1, 200)]
    assert clean_lines(log) == {}
    assert clean_lines(["The harbour master published the log on Monday."] + log) == {}
