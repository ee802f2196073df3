"""The cleaning rules on real benchmark articles (read from ../shared/bench, never copied).

Each line below was labelled by hand from the 2,210 RealTime QA articles: what must go, and
content that must stay although it looks like furniture (headings, schedules, data items).
"""

import gzip
import json

import pytest
from conftest import BENCH

from rag.text.clean import clean_lines

ARTICLES = BENCH / "articles.jsonl.gz"
pytestmark = pytest.mark.skipif(not ARTICLES.exists(), reason="benchmark data not present")

DROP = [
    ("ddd2c45d0c3f", 11, "link-stub"),  # Read More
    ("2bba5ddab1a9", 13, "link-stub"),  # More:These are the 25 worst cities ...
    ("5746778a09c2", 67, "promo"),  # Get CNN Health's weekly newsletter Sign up here ...
    ("d382dad0adbd", 5, "promo"),  # — Recommendations are independently chosen ...
    ("d382dad0adbd", 9, "promo"),  # Sign up for text message alerts ...
    ("d382dad0adbd", 37, "promo"),  # Prices were accurate at the time ...
    ("fcccbc5cc9e1", 1, "promo"),  # A version of this article first appeared in the newsletter
    ("8cc209cc45e7", 1, "dateline"),  # CNN —
    ("978b0d87a001", 1, "dateline"),  # Jackson, Wyoming CNN —
    ("b16526f94ff9", 25, "byline"),  # Contributing: The Associated Press
    ("b7d01952aeb2", 63, "byline"),  # Follow Chris Bumbaca on Twitter @BOOMbaca.
    ("5de257627d20", 127, "caption"),  # Photos: Russia invades Ukraine ... Hide Caption 64 of 226
    ("90f4c85d0952", 51, "promo"),  # JUST WATCHED ... Replay More Videos ...
    ("464e97591b95", 3, "promo"),  # Video player was slow to load content ...
    ("30bb78c7c15b", 99, "caption"),  # ... washed out by rushing waters. National Park Service/AP
]
KEEP = [
    ("d5c01e030c7d", 11),  # Tiwa Savage (a heading in a list article)
    ("59e82024f19c", 79),  # "These fictions have consequences," Meijer said.
    ("5746778a09c2", 55),  # How to feel safe?
    ("d382dad0adbd", 25),  # How can I sign up for HBO Max?
    ("c8d1e7ee6d4e", 23),  # In Tuesday's newsletter, Lopez wrote that ...
    ("2bba5ddab1a9", 19),  # Avg. total moving cost: $3,741
    ("901f40e0bbd5", 19),  # Monday, Jan. 17 – Martin Luther King, Jr. Day
    ("ada40cfd0089", 67),  # Tuesday: NY Fed President John Williams speaks about the economy
    ("e203b4a2d2c1", 5),  # SAN FRANCISCO — Welcome to the iUniverse.
    ("61c8f9c9a86a", 683),  # (APPLAUSE)
]


@pytest.fixture(scope="module")
def articles():
    with gzip.open(ARTICLES, "rt") as f:
        return {a["id"]: a["text"].split("\n") for a in map(json.loads, f)}


@pytest.fixture(scope="module")
def decisions(articles):
    wanted = {i for i, *_ in DROP} | {i for i, _ in KEEP}
    return {i: clean_lines(articles[i]) for i in wanted}


@pytest.mark.parametrize("article, line, reason", DROP)
def test_furniture_in_benchmark_articles_is_dropped(decisions, articles, article, line, reason):
    assert decisions[article].get(line) == reason, articles[article][line - 1]


@pytest.mark.parametrize("article, line", KEEP)
def test_content_in_benchmark_articles_is_kept(decisions, articles, article, line):
    assert line not in decisions[article], articles[article][line - 1]


def test_long_prose_is_rarely_dropped_across_the_whole_benchmark(articles):
    """Over all 2,210 articles, lines of 30+ words ending in a period are only dropped as
    promos, repeated captions or credits, and make up a small share of what is dropped."""
    dropped = long_prose = 0
    reasons = set()
    for lines in articles.values():
        for n, reason in clean_lines(lines).items():
            dropped += 1
            text = lines[n - 1]
            if len(text.split()) >= 30 and text.rstrip().endswith("."):
                long_prose += 1
                reasons.add(reason)
    assert reasons <= {"promo", "duplicate", "caption", "byline"}
    assert long_prose / dropped < 0.05
