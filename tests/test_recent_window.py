"""The recent window (recent_window_days): under as_of, the dense and lexical searches are also
run over the articles dated in the days before as_of, so a recent article that older, better-
matching coverage keeps out of the candidate lists is still ranked. Invented articles."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from rag.api import Rag
from rag.ranking import RankingParams, merged, rank_chunks
from rag.retrieval import Filters, recent_window, search
from rag.settings import Settings

AS_OF = dt.date(2023, 9, 14)
QUERY = "Which tram line did the Velmora council extend to the harbour?"

# Ten older stories that match the question's words better than the week's report does.
OLD = [{"id": f"old{n}", "title": f"Velmora council debates the harbour tram line extension, part {n}",
        "date": f"2023-06-{n + 1:02d}",
        "text": f"The Velmora council debated whether to extend the tram line to the harbour. Councillor {n} "
                f"said the harbour tram line extension would cost more than planned."} for n in range(10)]
RECENT = {"id": "recent", "title": "Line 7 reaches the waterfront", "date": "2023-09-12",
          "text": "Velmora opened Line 7 to the harbour on Tuesday, the council said."}
LATER = {"id": "later", "title": "Velmora council extends the harbour tram line", "date": "2023-09-20",
         "text": "The Velmora council will extend the tram line to the harbour again."}


@pytest.fixture(scope="module")
def newsroom(tmp_path_factory):
    root = tmp_path_factory.mktemp("recent")
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "archive.jsonl").write_text("".join(json.dumps(r) + "\n" for r in OLD))
    (corpus / "desk.jsonl").write_text("".join(json.dumps(r) + "\n" for r in (RECENT, LATER)))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RAG_CONFIG", str(root / "none.toml"))
        base = Settings(store_dir=root / "store", corpus_dir=corpus, embedding_model="hash", candidates=5,
                        article_bm25_weight_as_of=0.0, article_bm25_weight=0.0)
        rag = Rag(base)
        rag.ingest()
        yield rag, base
        rag.close()


def sources(rag, base, filters, **changes):
    settings = base.model_copy(update=changes)
    return [h.chunk.source for h in search(rag.store, QUERY, 5, filters, settings).hits]


def test_without_the_window_the_recent_article_is_out_of_reach(newsroom):
    rag, base = newsroom
    found = sources(rag, base, Filters(as_of=AS_OF))
    assert found and not any("recent" in s for s in found)


@pytest.mark.parametrize("weight", [0.0, 1.0])
def test_the_window_ranks_the_weeks_article_under_as_of(newsroom, weight):
    rag, base = newsroom
    found = sources(rag, base, Filters(as_of=AS_OF), recent_window_days=7, recent_window_weight=weight)
    assert found[0] == "desk.jsonl#recent"  # in the lists now, and the recency prior counts for it
    assert "desk.jsonl#later" not in found  # as_of still excludes what came after it


def test_a_window_that_ends_before_the_article_does_not_reach_it(newsroom):
    rag, base = newsroom
    found = sources(rag, base, Filters(as_of=dt.date(2023, 9, 30)), recent_window_days=7)
    assert "desk.jsonl#recent" not in found  # dated 18 days before: outside a 7-day window


def test_no_change_without_as_of(newsroom):
    rag, base = newsroom
    for filters in (Filters(), Filters(until=AS_OF), Filters(since=dt.date(2023, 6, 1), until=AS_OF)):
        assert sources(rag, base, filters, recent_window_days=7) == sources(rag, base, filters)


def test_the_users_filters_still_hold_in_the_window(newsroom):
    rag, base = newsroom
    for filters in (Filters(source="archive.jsonl#*", as_of=AS_OF),
                    Filters(sources=tuple(f"archive.jsonl#old{n}" for n in range(10)), as_of=AS_OF)):
        found = sources(rag, base, filters, recent_window_days=7)
        assert found and all(s.startswith("archive.jsonl#") for s in found)
    assert sources(rag, base, Filters(source="desk.jsonl#*", as_of=AS_OF), recent_window_days=7) == \
        ["desk.jsonl#recent"]


def test_the_window_is_the_searchs_own_filters_from_its_start():
    as_of = dt.date(2023, 9, 14)
    window = recent_window(Filters(source="desk/*", since=dt.date(2023, 1, 1), as_of=as_of), 7)
    assert (window.source, window.since, window.last_day) == ("desk/*", dt.date(2023, 9, 7), as_of)
    assert recent_window(Filters(as_of=as_of), 0) is None
    assert recent_window(Filters(until=as_of), 7) is None  # no as_of: no window
    assert recent_window(Filters(since=dt.date(2023, 9, 10), as_of=as_of), 7) is None  # already inside it


def test_merged_lists_keep_each_id_at_its_best_score():
    assert merged([("a", 0.9), ("b", 0.5)], [("b", 0.5), ("c", 0.7), ("d", 0.1)]) == \
        [("a", 0.9), ("c", 0.7), ("b", 0.5), ("d", 0.1)]


def test_recent_lists_are_fused_at_their_weight():
    p = RankingParams.of(Settings(fusion="rrf", rrf_k=60, dense_weight=1.0, lexical_weight=2.0, article_share=0.0,
                                  article_bm25_weight=0.0, article_bm25_weight_as_of=None, recent_window_weight=0.5))
    ranked = dict(rank_chunks([("a", 0.9)], [("a", 5.0)], None, p, recent=([("b", 0.4)], [("b", 2.0)])))
    assert ranked["a"] == pytest.approx(1.0)
    assert ranked["b"] == pytest.approx((0.5 * 1 / 61 + 0.5 * 2 / 61) / (1 / 61 + 2 / 61))
