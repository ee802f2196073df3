"""rag.passages: which of an article's chunks stands for it in the hits."""

from rag.passages import by_coverage, coverage

IDF = {"lea": 7.0, "michel": 6.9, "replac": 4.0, "broadway": 5.9}


def test_coverage_sums_the_idf_of_the_distinct_question_terms_a_chunk_holds():
    assert coverage("lea michel lea star", IDF) == 7.0 + 6.9  # a term counts once
    assert coverage("nothing here", IDF) == 0.0


def test_an_article_is_shown_by_its_best_covering_chunk_and_keeps_its_rank_and_score():
    chosen = [("a1", 1.0, ["copy-of-a"]), ("b1", 0.9, [])]
    article_of = {"a1": "A", "a2": "A", "b1": "B", "b2": "B"}
    covered = {"a1": 10.0, "a2": 20.0, "b1": 15.0, "b2": 16.0}
    got = by_coverage(chosen, ["a1", "b1", "a2", "b2"], article_of, covered, margin=0.1)
    # a2 covers twice what a1 does: it takes a1's place, score and folded copies; b2 covers
    # less than 1.1 times b1, so the ranking's choice stays
    assert got == [("a2", 1.0, ["copy-of-a"]), ("b1", 0.9, [])]


def test_two_hits_of_one_article_go_to_its_two_best_covering_chunks_in_rank_order():
    chosen = [("a1", 1.0, []), ("x", 0.8, []), ("a2", 0.5, [])]
    article_of = {"a1": "A", "a2": "A", "a3": "A", "x": "X"}
    covered = {"a1": 1.0, "a2": 2.0, "a3": 3.0, "x": 0.0}
    got = by_coverage(chosen, ["a3"], article_of, covered)
    assert got == [("a3", 1.0, []), ("x", 0.8, []), ("a2", 0.5, [])]  # each chunk shown once


def test_ties_keep_the_rankings_choice_and_unknown_chunks_stay():
    chosen = [("a1", 1.0, []), ("z", 0.7, [])]
    got = by_coverage(chosen, ["a2"], {"a1": "A", "a2": "A"}, {"a1": 5.0, "a2": 5.0})
    assert got == chosen


QUESTIONS = ("How many rockets were fired at the embassy?", "Who said the attack was a violation?",
             "What did the ministry announce?")


def test_the_shown_chunks_change_neither_the_articles_nor_their_order_nor_the_scores(corpus_rag):
    from rag.retrieval import search

    store = corpus_rag.store
    by_score = store.settings.model_copy(update={"passage_choice": "score"})
    for question in QUESTIONS:
        shown = search(store, question, 5).hits
        ranked = search(store, question, 5, settings=by_score).hits
        assert [h.chunk.source for h in shown] == [h.chunk.source for h in ranked]
        assert [h.score for h in shown] == [h.score for h in ranked]


def test_an_articles_lead_counts_its_bonus_times_and_the_rankings_choice_its_margin():
    chosen = [("a2", 1.0, []), ("b2", 0.9, [])]
    article_of = {"a0": "A", "a2": "A", "b0": "B", "b2": "B"}
    covered = {"a0": 9.0, "a2": 10.0, "b0": 7.0, "b2": 10.0}
    got = by_coverage(chosen, ["a0", "b0"], article_of, covered, margin=0.1, leads={"a0", "b0"}, lead_bonus=0.3)
    # a0: 9 x 1.3 = 11.7 beats a2's 10 x 1.1 = 11; b0: 7 x 1.3 = 9.1 does not
    assert got == [("a0", 1.0, []), ("b2", 0.9, [])]
    assert by_coverage(chosen, ["a0", "b0"], article_of, covered, margin=0.1, leads={"a0", "b0"}) == chosen


def test_the_chunk_shown_for_an_article_does_not_depend_on_k(corpus_rag):
    from rag.retrieval import search

    store = corpus_rag.store
    compared = 0
    for question in QUESTIONS:
        five = search(store, question, 5).hits
        twenty = search(store, question, 20).hits[:5]
        # MMR picks from a deeper pool for k = 20 and may pick other hits; where it picks the same
        # articles in the same order, each is shown by the same chunk
        if [h.chunk.source for h in five] == [h.chunk.source for h in twenty]:
            compared += 1
            assert [h.chunk.id for h in five] == [h.chunk.id for h in twenty]
    assert compared >= 2


def test_each_article_has_one_lead_its_first_chunk(corpus_rag):
    docs = corpus_rag.store.docs
    sources = docs.all_sources()
    leads = docs.lead_chunks(sources)
    assert set(leads) == set(sources)
    for source in sources:
        assert docs.chunks_of(source)[0].id == leads[source]
