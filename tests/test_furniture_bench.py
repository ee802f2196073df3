"""Sentence kinds for page furniture, on real benchmark articles (read from ../shared/bench,
never copied). Each example was labelled by hand from the 2,210 RealTime QA articles: furniture
that must not be a statement, and statements that look like furniture but must stay one."""

import gzip
import json
from pathlib import Path

import pytest
from conftest import BENCH

from rag.text.document import parse_document
from rag.text.readers import SourceDoc

ARTICLES = BENCH / "articles.jsonl.gz"
pytestmark = pytest.mark.skipif(not ARTICLES.exists(), reason="benchmark data not present")

FURNITURE = [
    ("109cd9bf3c7a", 21, "Dinuka Liyanawatte/Reuters Protesters storm", "caption"),  # credit run into a caption
    ("fc6666bcd737", 29, "Keystone Features/Getty Images Hundreds", "caption"),
    ("f2b2115746d4", 147, "Photos: Russia invades Ukraine", "caption"),  # a gallery's caption
    ("9ebb34e2ebfa", 17, "Hide Caption 1 of 18 Photos:", "caption"),  # the gallery's counter, run into the next
    ("30bb78c7c15b", 91, "Video Ad Feedback 00:25", "promo"),  # a video widget
    ("fc44da46b368", 529, "24/7 Wall Street is a USA TODAY content partner", "promo"),  # a disclosure
    ("7bf0fbb3074f", 21, "Consider supporting our journalism", "promo"),
    ("0a2fee5f42bd", 5, "The WeekDay newsletter provides", "promo"),
    ("adcbdcb1f591", 19, "See the recall notice here.", "promo"),  # a link's text
    ("26c83f860670", 161, "Proud Boys:Who are the Proud Boys?", "links"),  # label glued to a linked headline
    ("ee2412da92be", 75, "More AP tennis:", "links"),
    ("c3bcb2cc6d0f", 37, "Who has backed out?", "subhead"),  # a question-shaped subhead
    ("290612e047e5", 7, "What did Harris say?", "subhead"),
    ("af34d8f0cade", 1, "In photos: Deadly earthquake hits Afghanistan", "headline"),  # the title again
    ("49b093a803ec", 7, "People flooded TikTok with their reactions 02:08", "timestamp"),  # a video's running time
]
STATEMENTS = [
    ("87d738111563", 37, "Susan Rice, the White House's domestic policy adviser"),  # "sign up" in prose
    ("853fd8cd4c52", 31, "McDonald's says on its website"),  # "download the app" in prose
    ("2cd5a28ab339", 31, "Through Prime Video, subscribers get access"),
    ("24b443156672", 571, "March 19:Arizona's reported coronavirus case count"),  # a dated log entry
    ("adcbdcb1f591", 33, "126,747 units are affected."),
    ("c8d1e7ee6d4e", 23, "In Tuesday's newsletter, Lopez wrote"),
    ("9b9835f2644d", 1221, "Municipalities can learn more"),  # a statement holding a URL
    ("80de10acb048", 25, "Published in November 2021 by former sports minister"),
    ("e36a642763b7", 169, "Updated vote totals have incumbent Phil Murphy ahead"),
    ("3fdfae418953", 19, "More high-level soccer to Nashville:"),  # a lead-in label, then prose
]


@pytest.fixture(scope="module")
def sentences():
    wanted = {i for i, *_ in FURNITURE + STATEMENTS}
    out = {}
    with gzip.open(ARTICLES, "rt") as handle:
        for article in map(json.loads, handle):
            if article["id"] in wanted:
                doc = SourceDoc(source=f"articles.jsonl#{article['id']}", path=Path("articles.jsonl"), format="jsonl",
                                raw=article["text"], content_hash=article["id"], fields={"title": article.get("title")})
                _, chunks = parse_document(doc, 160, 1)
                out[article["id"]] = {(s.line_start, s.text): s.kind for c in chunks for s in c.sentences}
    return out


def _kind(sentences, article, line, start):
    found = [kind for (n, text), kind in sentences[article].items() if n == line and text.startswith(start)]
    assert found, f"no sentence starting {start!r} on line {line}"
    return found[0]


@pytest.mark.parametrize("article, line, start, kind", FURNITURE)
def test_furniture_in_benchmark_articles_gets_its_kind(sentences, article, line, start, kind):
    assert _kind(sentences, article, line, start) == kind


@pytest.mark.parametrize("article, line, start", STATEMENTS)
def test_statements_that_look_like_furniture_stay_sentences(sentences, article, line, start):
    assert _kind(sentences, article, line, start) == "sentence"
