"""Article-level ranking (rag.ranking) on small hand-made inputs, and its settings."""

import datetime as dt
import math

import pytest

from rag.errors import ConfigError
from rag.ranking import (
    ArticleText,
    Corpus,
    Head,
    RankingParams,
    article_bm25,
    best_per_article,
    fuse,
    rank_chunks,
    recency,
    rm3_weights,
)
from rag.settings import Settings, load_settings
from rag.text.lexical import content_words


def head(source, title="", date=None):
    return Head(source=source, title=title, date=date)


def params(**changes) -> RankingParams:
    """Pinned values (not the tuned defaults), so each test shows one mechanism."""
    pinned = {"prf_terms": 0, "fusion": "rrf", "chunk_weight": 0.5, "article_weight": 1.0, "title_weight": 2.0,
              "recency_half_life_days": 30.0, "dense_weight": 1.0, "lexical_weight": 1.0, "rrf_k": 60}
    return RankingParams.of(Settings(**{**pinned, **changes}))


CORPUS = Corpus(n_articles=10, n_chunks=100, total_terms=2000, idf=lambda t: 1.0)


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


def test_maxp_keeps_each_articles_best_chunk():
    article_of = {"a1": "A", "a2": "A", "b1": "B"}
    assert best_per_article([("a2", 0.3), ("b1", 0.5), ("a1", 0.9)], article_of) == [("A", 0.9), ("B", 0.5)]


def test_article_bm25_counts_a_title_once_with_its_weight():
    # Two articles with the same body mentions; A's title repeats in each of its 3 chunks' terms.
    title = content_words("Volcano erupts")
    texts = {"A": ArticleText(" ".join(title * 3 + ["lava", "town"]), 8, 3),
             "B": ArticleText("volcano lava town road", 8, 3)}
    titles = {"A": title, "B": []}
    weights = {"volcano": 1.0}
    flat = dict(article_bm25(weights, texts, titles, CORPUS, params(title_weight=1.0), title_in_chunks=True))
    assert flat["A"] == pytest.approx(flat["B"])  # one mention each, once the copies are counted out
    heavy = dict(article_bm25(weights, texts, titles, CORPUS, params(title_weight=3.0), title_in_chunks=True))
    assert heavy["A"] > heavy["B"]
    assert "road" not in weights and all(s > 0 for s in heavy.values())


def test_article_bm25_skips_articles_without_a_query_term():
    texts = {"A": ArticleText("lava", 1, 1), "B": ArticleText("road", 1, 1)}
    assert [s for s, _ in article_bm25({"lava": 1.0}, texts, {}, CORPUS, params(), True)] == ["A"]


def test_whole_article_evidence_lifts_the_article_with_more_mentions():
    """Chunk b1 of B leads a1 of A on both chunk lists, narrowly; A's other chunks name the query's
    terms again, B's do not: the article signal puts A first, then A's best chunk leads."""
    chunks = {"a1": head("A"), "b1": head("B")}
    texts = {"A": ArticleText("eruption lava eruption evacuation lava", 40, 2),
             "B": ArticleText("eruption weather", 40, 2)}
    dense = [("b1", 0.81), ("a1", 0.8)]
    sparse = [("b1", 3.1), ("a1", 3.0)]
    chunk_only = rank_chunks("lava eruption", dense, sparse, chunks, texts, CORPUS,
                             params(article_weight=0.0), title_in_chunks=False)
    assert chunk_only[0][0] == "b1"
    with_articles = rank_chunks("lava eruption", dense, sparse, chunks, texts, CORPUS,
                                params(article_weight=2.0), title_in_chunks=False)
    assert with_articles[0][0] == "a1"


def test_rm3_adds_feedback_terms_and_keeps_the_query():
    texts = {"A": ArticleText("lava lava crater crater crater town", 6, 1)}
    weights = rm3_weights({"eruption": 1.0}, [("A", 1.0)], texts, params(prf_terms=2, prf_weight=0.4, prf_docs=1),
                          idf=lambda t: 1.0)
    assert weights["eruption"] == pytest.approx(0.6)
    assert set(weights) == {"eruption", "crater", "lava"}
    assert sum(weights.values()) == pytest.approx(1.0)
    assert weights["crater"] > weights["lava"]


def test_recency_prior_halves_each_half_life_and_ignores_later_days():
    as_of = dt.date(2022, 7, 1)
    assert recency(as_of, as_of, 30) == 1.0
    assert recency(dt.date(2022, 6, 1), as_of, 30) == pytest.approx(0.5)
    assert recency(dt.date(2022, 5, 2), as_of, 30) == pytest.approx(0.25)
    assert recency(None, as_of, 30) == 1.0
    assert recency(dt.date(2022, 1, 1), as_of, 0) == 1.0  # half-life 0: no prior


def test_recency_prior_favours_the_latest_coverage_only_with_as_of():
    old, new = dt.date(2022, 5, 1), dt.date(2022, 6, 28)
    chunks = {"o": head("OLD", date=old), "n": head("NEW", date=new)}
    texts = {}
    dense, sparse = [("o", 0.9), ("n", 0.85)], [("o", 5.0), ("n", 4.0)]
    plain = rank_chunks("q", dense, sparse, chunks, texts, CORPUS, params(), False)
    assert plain[0][0] == "o"
    dated = rank_chunks("q", dense, sparse, chunks, texts, CORPUS, params(recency_half_life_days=14),
                        False, as_of=dt.date(2022, 7, 1))
    assert dated[0][0] == "n"
    assert math.isclose(dated[0][1], 1 + 0.5 * chunk_share(dense, sparse, "n"), rel_tol=1e-9)


def chunk_share(dense, sparse, i):
    """A chunk's own RRF score relative to the best chunk's (the chunk_weight term)."""
    score = lambda c: sum(1 / (60 + r) for lst in (dense, sparse) for r, (x, _) in enumerate(lst, 1) if x == c)
    return score(i) / max(score(c) for c, _ in dense)


@pytest.mark.parametrize("key, value", [("fusion", "sum"), ("article_weight", "-1"), ("title_weight", "-0.5"),
                                        ("prf_weight", "1.5"), ("recency_half_life_days", "-1"),
                                        ("article_bm25_b", "2"), ("article_pool", "0")])
def test_ranking_settings_are_validated(key, value):
    with pytest.raises(ConfigError, match=key):
        load_settings(**{key: value})


def test_ranking_settings_change_the_settings_hash():
    assert Settings().settings_hash() != Settings(article_weight=0.0).settings_hash()
