"""Article-level ranking (rag.ranking) on small hand-made inputs, and its settings."""

import datetime as dt
import math

import pytest

from rag.errors import ConfigError
from rag.ranking import (
    Head,
    RankingParams,
    best_per_article,
    fuse,
    needs_heads,
    rank_articles,
    rank_chunks,
    recency,
    sum_per_article,
)
from rag.settings import Settings, load_settings


def head(source, date=None):
    return Head(source=source, date=date)


def params(**changes) -> RankingParams:
    """Pinned values (not the tuned defaults), so each test shows one mechanism."""
    pinned = {"fusion": "rrf", "article_share": 2 / 3, "article_weight": 1.0, "recency_half_life_days": 30.0,
              "dense_weight": 1.0, "lexical_weight": 1.0, "rrf_k": 60, "article_bm25_weight": 0.0,
              "article_bm25_weight_as_of": None}
    return RankingParams.of(Settings(**{**pinned, **changes}))


def test_rrf_fusion_rewards_agreement():
    fused = fuse([(1.0, [("a", 0.9), ("b", 0.8)]), (1.0, [("b", 5.0), ("c", 4.0)])], "rrf", rrf_k=60)
    assert max(fused, key=fused.get) == "b"
    assert fused["b"] == pytest.approx(1 / 62 + 1 / 61)


def test_convex_fusion_adds_min_max_normalised_scores():
    fused = fuse([(0.5, [("a", 0.9), ("b", 0.5)]), (2.0, [("b", 10.0), ("c", 4.0), ("a", 1.0)])], "convex", rrf_k=60)
    assert fused["a"] == pytest.approx(0.5 * 1 + 2.0 * 0)
    assert fused["b"] == pytest.approx(0.5 * 0 + 2.0 * 1)
    assert fused["c"] == pytest.approx(2.0 * (4 - 1) / 9)
    assert fuse([(0.5, [("a", 0.3)])], "convex", rrf_k=60) == {"a": 0.5}  # one candidate: the list's best


def test_maxp_keeps_each_articles_best_chunk_and_combsum_adds_them():
    article_of = {"a1": "A", "a2": "A", "b1": "B"}
    ranked = [("a2", 0.3), ("b1", 0.5), ("a1", 0.9)]
    assert best_per_article(ranked, article_of) == [("A", 0.9), ("B", 0.5)]
    assert sum_per_article(ranked, article_of) == [("A", pytest.approx(1.2)), ("B", 0.5)]


def test_summed_lexical_evidence_lifts_the_article_with_more_matching_chunks():
    """B's chunk b1 leads A's a1 on both lists, narrowly; A has two more chunks that match the
    question's words and B none: the CombSUM signal puts A first, then A's best chunk leads."""
    heads = {"a1": head("A"), "a2": head("A"), "a3": head("A"), "b1": head("B")}
    dense = [("b1", 0.81), ("a1", 0.8)]
    sparse = [("b1", 3.1), ("a1", 3.0), ("a2", 2.0), ("a3", 1.5)]
    pinned = {"fusion": "convex", "article_share": 0.9}
    chunk_only = rank_chunks(dense, sparse, heads, params(article_weight=0.0, **pinned))
    assert chunk_only[0][0] == "b1"
    with_articles = rank_chunks(dense, sparse, heads, params(article_weight=3.0, **pinned))
    assert with_articles[0][0] == "a1"
    articles = rank_articles(dense, sparse, heads, params(article_weight=3.0, **pinned))
    assert articles == {"A": pytest.approx(3.0), "B": pytest.approx(2.0)}  # sum 1 x 3 against best chunk 1 + 1


def test_share_zero_ranks_the_chunk_lists_alone_without_heads():
    ranked = rank_chunks([("a1", 0.9), ("b1", 0.8)], [("b1", 5.0)], None, params(article_share=0.0))
    assert [i for i, _ in ranked] == ["b1", "a1"]
    assert needs_heads(params(article_share=0.0), None) is False
    assert needs_heads(params(article_share=0.0), dt.date(2022, 7, 1)) is True
    assert needs_heads(params(article_share=0.2), None) is True


def test_candidates_without_a_head_are_left_out():
    """A chunk the docstore no longer holds (an interrupted ingest's leftover) is not ranked."""
    ranked = rank_chunks([("gone", 0.99), ("a1", 0.5)], [("a1", 2.0)], {"a1": head("A")}, params())
    assert [i for i, _ in ranked] == ["a1"]


def test_recency_prior_halves_each_half_life_and_ignores_later_days():
    as_of = dt.date(2022, 7, 1)
    assert recency(as_of, as_of, 30) == 1.0
    assert recency(dt.date(2022, 6, 1), as_of, 30) == pytest.approx(0.5)
    assert recency(dt.date(2022, 5, 2), as_of, 30) == pytest.approx(0.25)
    assert recency(None, as_of, 30) == 1.0
    assert recency(dt.date(2022, 1, 1), as_of, 0) == 1.0  # half-life 0: no prior


def test_recency_prior_favours_the_latest_coverage_only_with_as_of():
    old, new = dt.date(2022, 5, 1), dt.date(2022, 6, 28)
    heads = {"o": head("OLD", date=old), "n": head("NEW", date=new)}
    dense, sparse = [("o", 0.9), ("n", 0.85)], [("o", 5.0), ("n", 4.0)]
    plain = rank_chunks(dense, sparse, heads, params())
    assert plain[0][0] == "o"
    dated = rank_chunks(dense, sparse, heads, params(recency_half_life_days=14), as_of=dt.date(2022, 7, 1))
    assert dated[0][0] == "n"
    # NEW's article is second on both lists (61/62 of OLD's RRF score), 3 days before as_of.
    expected = (2 / 3 * 61 / 62 + 1 / 3 * chunk_share(dense, sparse, "n")) * 0.5 ** (3 / 14)
    assert math.isclose(dated[0][1], expected, rel_tol=1e-9)


def test_recency_prior_holds_when_chunks_alone_rank():
    """With no article share (chunk-level ranking) the prior still favours NEW."""
    heads = {"o": head("OLD", date=dt.date(2022, 5, 1)), "n": head("NEW", date=dt.date(2022, 6, 28))}
    dense, sparse = [("o", 0.9), ("n", 0.85)], [("o", 5.0), ("n", 4.0)]
    dated = rank_chunks(dense, sparse, heads, params(article_share=0.0, recency_half_life_days=14),
                        as_of=dt.date(2022, 7, 1))
    assert dated[0][0] == "n"


def chunk_share(dense, sparse, i):
    """A chunk's own RRF score relative to the best chunk's (the rest beside article_share)."""
    score = lambda c: sum(1 / (60 + r) for lst in (dense, sparse) for r, (x, _) in enumerate(lst, 1) if x == c)
    return score(i) / max(score(c) for c, _ in dense)


@pytest.mark.parametrize("key, value", [("fusion", "sum"), ("article_weight", "-1"), ("article_share", "1.5"),
                                        ("recency_half_life_days", "-1"), ("max_per_article", "0"),
                                        ("article_cap_window", "-1")])
def test_ranking_settings_are_validated(key, value):
    with pytest.raises(ConfigError, match=key):
        load_settings(**{key: value})


def test_ranking_settings_change_the_settings_hash():
    assert Settings().settings_hash() != Settings(article_weight=0.5).settings_hash()
    assert Settings().settings_hash() != Settings(max_per_article=3).settings_hash()


# --- the whole-article BM25 list (rag.ranking.credit_best_chunks) ---------------------------------

def test_a_whole_article_lends_its_weight_to_its_best_chunks_only():
    """Article b is first in the whole-article list: its two best chunks (by their own fused score,
    then by cosine) take its RRF weight; its third chunk and article a's chunks get none."""
    dense = [("a1", 0.9), ("b1", 0.5)]
    sparse = [("a1", 7.0), ("b2", 3.0)]
    heads = {i: head(i[0]) for i in ("a1", "b1", "b2", "b3")}
    p = params(article_share=0.0, article_bm25_weight=1.0, article_chunks=2)
    own = fuse([(1.0, dense), (1.0, sparse)], "rrf", 60)
    ranked = dict(rank_chunks(dense, sparse, heads, p, articles=[("b", 12.0), ("a", 4.0)],
                              cosines={"b1": 0.5, "b2": 0.1, "b3": 0.3}))
    top = max(own["a1"] + 1 / 62, own["b1"] + 1 / 61)
    assert math.isclose(ranked["b1"], (own["b1"] + 1 / 61) / top)
    assert math.isclose(ranked["b2"], (own["b2"] + 1 / 61) / top)
    assert "b3" not in ranked  # not among b's two best: no credit, and no chunk list found it
    assert math.isclose(ranked["a1"], (own["a1"] + 1 / 62) / top)


def test_an_article_no_chunk_list_found_brings_its_nearest_chunk():
    """The whole-article list is a candidate source of its own: an article whose chunks neither
    engine returned enters by its chunk nearest the question."""
    heads = {i: head(i[0]) for i in ("a1", "c1", "c2")}
    p = params(article_share=0.0, article_bm25_weight=1.0, article_chunks=1)
    ranked = rank_chunks([("a1", 0.9)], [("a1", 5.0)], heads, p, articles=[("c", 9.0)],
                         cosines={"c1": 0.2, "c2": 0.4})
    assert [i for i, _ in ranked] == ["a1", "c2"]


def test_the_whole_article_weight_zero_leaves_the_chunk_ranking_alone():
    dense, sparse = [("a1", 0.9), ("b1", 0.5)], [("b1", 3.0)]
    heads = {i: head(i[0]) for i in ("a1", "b1", "b2")}
    p = params(article_share=0.0)
    assert rank_chunks(dense, sparse, heads, p, articles=[("b", 1.0)], cosines={"b2": 0.9}) == \
        rank_chunks(dense, sparse, heads, p)
    assert needs_heads(params(article_share=0.0, article_bm25_weight=0.5), None)
