"""The retrieval benchmark's own logic: the peers' date filter and the grid's setting keys."""

import datetime as dt

from bench.retrieval_bench import date_filtered
from bench.retrieval_grid import START, _key


def test_a_peer_date_filter_reads_deeper_until_it_has_n_and_drops_later_and_undated():
    ranked = [(f"d{i}", f"t{i}") for i in range(50)]
    days = {f"d{i}": dt.date(2022, 6, 1) + dt.timedelta(days=i % 10) for i in range(50)}
    days["d0"] = None
    asked = []

    def search(question, n):
        asked.append(n)
        return ranked[:n]

    got = date_filtered(search, days, dt.date(2022, 6, 2))("q", 5)
    assert [d for d, _ in got] == ["d1", "d10", "d11", "d20", "d21"]  # ranked order kept
    assert asked == [5, 20, 80]  # four times deeper each time, until n are kept or the ranking ends


def test_grid_keys_name_only_what_differs_from_the_start():
    assert _key({}, "tune", False) == _key(dict(START), "tune", False)
    assert _key({"fusion": "convex"}, "tune", False) != _key({}, "tune", False)
    assert _key({}, "tune", True) != _key({}, "check", True)


def test_the_diagnosis_counts_where_each_gold_article_was_lost():
    from bench.retrieval_diagnose import first_place, gold_text, summarise

    assert first_place(["a", "a", "b", "c"], {"c"}) == 3  # places count distinct documents
    assert first_place(["a"], {"z"}) is None
    assert gold_text({"gold_ids": ["g"], "answer": "Ford"}, {"g": "Ford recalled cars. " * 30}) == \
        {"gold_stub": False, "gold_has_answer": True}
    assert gold_text({"gold_ids": ["g"], "answer": "Ford"}, {"g": "How relevant is this ad to you?"})["gold_stub"]
    base = {"gold_stub": False, "gold_has_answer": True, "recall5": False}
    rows = [{**base, "rank": 1, "dense": 1, "sparse": None, "articles": 2, "recall5": True,
             "shown_has_answer": True, "article_has_answer": True},
            {**base, "rank": 3, "dense": 2, "sparse": 4, "articles": None,
             "shown_has_answer": False, "article_has_answer": True},
            {**base, "rank": 7, "dense": None, "sparse": 9, "articles": None, "top5_as_of": True},
            {**base, "rank": None, "dense": None, "sparse": None, "articles": None, "top5_as_of": False,
             "gold_stub": True, "gold_has_answer": False}]
    s = summarise(rows)
    assert (s["top5"], s["top5_shown_chunk_has_answer"], s["top5_shown_lacks_answer_article_has_it"]) == (2, 1, 1)
    assert s["missed_top5"] == {"a candidate, ranked 6-10": 1, "in the sparse list": 1, "in no candidate list": 1,
                                "every gold article a page stub": 1, "no gold text holds the answer": 1,
                                "a story found in the first 5 as of the quiz date": 1}
    assert s["answer_recall@5"] == 0.25


def test_every_grid_round_names_only_settings_that_exist():
    # a stage over a removed setting would be scored as the incumbent, silently (round 7 removed some)
    from bench.retrieval_grid import RECENCY, ROUNDS
    from rag.settings import Settings

    fields = set(Settings.model_fields)
    for start, values, stages in ROUNDS.values():
        assert set(start) <= fields and set(values) <= fields
        for _, grid in [*stages, ("recency", RECENCY)]:
            for step in grid:
                assert set(step) <= fields, step
