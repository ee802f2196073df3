"""The workspace endpoints and their library (issue 20): GET /sources pages the docstore in SQL,
the `sources` filter scopes asks, searches and briefings, GET /suggestions draws questions from
the names recent articles share, and a saved HTML briefing carries its pictures."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from fastapi.testclient import TestClient
from workspace_corpus import OUTLETS, article, write_feed

from rag.api import Rag
from rag.index.catalog import SourceQuery
from rag.pictures import plotly_js, with_pictures
from rag.retrieval import Filters
from rag.server import create_app
from rag.suggest import names


@pytest.fixture
def feed(hash_settings):
    write_feed(hash_settings.corpus_dir, 60)
    rag = Rag(hash_settings)
    rag.ingest()
    yield rag
    rag.close()


def client(rag) -> TestClient:
    return TestClient(create_app(rag.settings, rag=rag, warm=False), base_url="http://localhost")


def test_a_page_of_sources_is_sorted_filtered_and_counted(feed):
    everything = feed.sources(SourceQuery(limit=1000))
    assert everything.total == 60 and len(everything.sources) == 60
    dates = [s.date for s in everything.sources]
    assert dates == sorted(dates, reverse=True)  # newest first by default
    first = everything.sources[0]
    assert first.title.startswith("Dispatch") and first.outlet in OUTLETS and first.chars > 0 and first.n_lines >= 1

    pages = [feed.sources(SourceQuery(offset=o, limit=25, sort="source")) for o in (0, 25, 50)]
    assert [len(p.sources) for p in pages] == [25, 25, 10] and {p.total for p in pages} == {60}
    assert [s.source for p in pages for s in p.sources] == sorted(s.source for s in everything.sources)

    harbour = feed.sources(SourceQuery(outlet="Harbour Times", limit=1000))
    assert harbour.total == 20 and {s.outlet for s in harbour.sources} == {"Harbour Times"}
    day = dt.date.fromisoformat(article(4)["date"])
    june5 = feed.sources(SourceQuery(since=day, until=day, limit=1000))
    assert june5.total == 3 and {str(s.date) for s in june5.sources} == {article(4)["date"]}
    words = feed.sources(SourceQuery(text="ferry dispatch", limit=1000))
    assert words.total == 15 and all("Ferry" in s.title for s in words.sources)
    assert feed.sources(SourceQuery(text="100%_", limit=5)).total == 0  # LIKE's wildcards are literal

    sizes = [s.chars for s in feed.sources(SourceQuery(sort="size", limit=1000)).sources]
    assert sizes == sorted(sizes, reverse=True) and sizes[0] > sizes[-1]
    titles = [s.title for s in feed.sources(SourceQuery(sort="title", limit=1000)).sources]
    assert titles == sorted(titles, key=str.lower)


def test_facets_give_every_outlet_and_the_date_range(feed):
    page = feed.sources(SourceQuery(limit=1), facets=True)
    assert {(o.outlet, o.articles) for o in page.outlets} == {(o, 20) for o in OUTLETS}
    assert str(page.first) == "2022-06-01" and str(page.last) == "2022-06-20"


def test_the_sources_endpoint_pages_and_refuses_bad_parameters(feed):
    with client(feed) as http:
        body = http.get("/sources", params={"limit": 10, "offset": 5, "sort": "date", "outlet": "Island Post",
                                            "facets": "true"}).json()
        assert body["total"] == 20 and len(body["sources"]) == 10 and body["offset"] == 5 and body["outlets"]
        assert all(s["outlet"] == "Island Post" for s in body["sources"])
        for bad in ({"sort": "random"}, {"limit": 0}, {"limit": 5000}, {"offset": -1}, {"since": "yesterday"}):
            response = http.get("/sources", params=bad)
            assert response.status_code == 422 and response.json()["error"]


def test_a_list_of_sources_scopes_search_ask_and_brief(feed):
    chosen = ("feed.jsonl#a004", "feed.jsonl#a010")
    hits = feed.search("Port Authority ferries", k=10, filters=Filters(sources=chosen)).hits
    assert hits and {h.chunk.source for h in hits} <= set(chosen)
    # with a glob as well, both apply
    both = feed.search("Port Authority ferries", k=10, filters=Filters(source="*a004", sources=chosen)).hits
    assert {h.chunk.source for h in both} == {"feed.jsonl#a004"}
    assert feed.search("Port Authority", filters=Filters(sources=())).hits == []  # an empty selection passes nothing
    with client(feed) as http:
        answer = http.post("/ask", json={"question": "How many ferries sailed?", "sources": list(chosen)}).json()
        assert answer["citations"] and {c["source"] for c in answer["citations"]} <= set(chosen)
        briefing = http.post("/brief", json={"sources": list(chosen)}).json()
        assert {s["source"] for s in briefing["sources"]} <= set(chosen) and briefing["citations"]
        too_many = http.post("/ask", json={"question": "ferries?", "sources": [f"x{i}" for i in range(1001)]})
        assert too_many.status_code in (413, 422)


def test_names_are_capitalised_runs_and_know_a_sentence_start():
    found = dict(names("The Bank of England raised rates. Police said Andrew Bailey spoke in London on Monday."))
    assert found["Bank of England"] is True  # "The" stripped: the name stands inside the sentence
    assert found["Andrew Bailey"] is True and found["London"] is True
    assert found["Police"] is False  # only ever a sentence's first word
    assert "Monday" not in found and "The" not in found


def test_suggestions_are_names_several_recent_articles_share(feed):
    suggestions = feed.suggestions(n=4)
    abouts = [s.about for s in suggestions if s.kind == "ask"]
    assert "Port Authority" in abouts and "Ferry Union" in abouts
    assert "Harbour Times" not in abouts  # an outlet is not a story
    for s in suggestions:
        assert s.articles >= 2 and s.titles and s.latest is not None
        assert s.text == (f"What is the latest on {s.about}?" if s.kind == "ask" else s.about)
    with client(feed) as http:
        assert http.get("/suggestions", params={"n": 2}).json() == [s.model_dump(mode="json") for s in feed.suggestions(2)]


def test_a_saved_html_briefing_carries_its_pictures_and_escapes_the_data(feed):
    briefing = feed.brief("Port Authority ferries")
    briefing.citations[0].quote = "A </script><script>alert(1)</script> line"
    page = with_pictures("<html><head></head><body><h1>x</h1><h2>Summary</h2></body></html>", briefing)
    assert page.index('<section id="pictures"') < page.index("<h2>Summary</h2>")
    assert plotly_js().read_text(encoding="utf-8")[:200] in page and "function drawBriefingPictures" in page
    data = page[page.index("drawBriefingPictures(document.getElementById('pictures'), ") + 58:]
    assert "</script><script>alert" not in data
    assert json.loads(data[:data.index(", {onCite")])["citations"][0]["quote"] == briefing.citations[0].quote
