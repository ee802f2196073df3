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
