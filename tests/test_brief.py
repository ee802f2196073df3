"""`rag brief` with the offline extractive engine: on corpus/ (the session index built with
MiniLM), through the CLI, and on a sample of benchmark articles about two stories."""

import datetime as dt
import gzip
import itertools
import json

import pytest
from conftest import BENCH

from rag.answer.verify import quote_is_verbatim
from rag.api import Rag
from rag.brief.render import to_html, to_markdown
from rag.retrieval import Filters
from rag.settings import Settings
from rag.text.dates import find_date_mentions, resolve_mention

TAJI = "004_bd0859deabb9f25c.txt"
DECEMBER = {"000_eb6e83a28ce734ce.txt", "001_c31d4bc7025f9123.txt", "002_5cca6cf56978dda1.txt",
            "003_568550a85670bdb3.txt"}


@pytest.fixture(scope="module")
def whole(corpus_rag):
    return corpus_rag.brief()


def all_points(b):
    return b.summary + b.key_facts + b.timeline + b.quotes


def assert_verified(rag, b):
    docs = rag.store.docs
    numbers = {c.n for c in b.citations}
    assert b.citations
    for c in b.citations:
        assert quote_is_verbatim(c, docs.raw(c.source), docs.article(c.source).format), c
    for p in all_points(b):
        assert p.citations and set(p.citations) <= numbers, p
    for d in b.disagreements:
        assert all(side.citations and set(side.citations) <= numbers for side in d.sides)


# --- dates ----------------------------------------------------------------------------------


@pytest.mark.parametrize("text, published, expected", [
    ("rockets hit the Green Zone on Sunday", dt.date(2020, 12, 23), "2020-12-20"),
    ("the president tweeted Wednesday afternoon", dt.date(2020, 12, 23), "2020-12-23"),
    ("an attack on Dec. 20 damaged", dt.date(2020, 12, 24), "2020-12-20"),
    ("the drone strike that killed Soleimani outside Baghdad's airport on January 3", dt.date(2020, 12, 23),
     "2020-01-03"),  # the past tense: the last January 3, not next week's
    ("the strike on January 3", dt.date(2020, 12, 30), "2021-01-03"),  # no tense, days ahead: upcoming
    ("he said yesterday", dt.date(2020, 3, 16), "2020-03-15"),
    ("He was killed on Jan. 3, 2020, when", None, "2020-01-03"),  # absolute: no publication date needed
])
def test_dates_resolve_against_the_publication_date(text, published, expected):
    [mention] = find_date_mentions(text)
    assert resolve_mention(mention, published).start.isoformat() == expected


def test_relative_dates_need_a_publication_date():
    for text in ("on Sunday", "last week", "yesterday"):
        [mention] = find_date_mentions(text)
        assert resolve_mention(mention, None) is None
    [december] = find_date_mentions("on December 20, rockets")
    assert resolve_mention(december, None) is None
    hinted = resolve_mention(december, None, year_hint=2020)
    assert hinted.start == dt.date(2020, 12, 20) and "no publication date" in hinted.basis


def test_last_week_is_a_week_and_months_are_months():
    [week] = find_date_mentions("The United States last week launched air strikes")
    r = resolve_mention(week, dt.date(2020, 3, 16))
    assert (r.start, r.end, r.precision) == (dt.date(2020, 3, 9), dt.date(2020, 3, 15), "week")
    [month] = find_date_mentions("A rocket attack in December 2019 killed a contractor")
    assert resolve_mention(month, None).label() == "December 2019"
    assert find_date_mentions("It may be that he will go") == []


# --- corpus/, whole corpus ------------------------------------------------------------------


def test_whole_corpus_briefing_has_every_section_and_verified_citations(corpus_rag, whole):
    assert 2 <= len(whole.summary) <= 4
    assert whole.key_facts and whole.timeline and whole.quotes and whole.disagreements
    assert {s.source for s in whole.sources} == DECEMBER | {TAJI}
    for s in whole.sources:
        assert s.cited > 0 and s.title
        assert (s.date is None) == ("no publication date" in (s.note or ""))
    assert_verified(corpus_rag, whole)


def test_the_march_and_december_episodes_stay_distinct(whole):
    by_source = {s: e.n for e in whole.episodes for s in e.sources}
    assert by_source[TAJI] not in {by_source[s] for s in DECEMBER}
    assert len({by_source[s] for s in DECEMBER}) == 1, "the December articles report one attack"
    taji = by_source[TAJI]
    cited = {c.n: c.source for c in whole.citations}
    for p in all_points(whole):  # nothing mixes the two episodes
        assert len({by_source[cited[n]] for n in p.citations}) == 1, p
    assert {p.episode for p in whole.summary} >= {taji, by_source["003_568550a85670bdb3.txt"]}
    undated = next(e for e in whole.episodes if e.n == taji)
    assert undated.start is None and "no publication date" in " ".join(undated.placed_by)


def test_timeline_resolves_relative_dates_and_merges_outlets(whole):
    sunday = [e for e in whole.timeline if e.date == dt.date(2020, 12, 20) and "Sunday" in e.when]
    assert sunday, [e.when for e in whole.timeline]
    attack = max(sunday, key=lambda e: len(e.citations))
    cited = {c.n: c.source for c in whole.citations}
    assert len({cited[n] for n in attack.citations}) >= 2, "several outlets report the Sunday attack"
    assert any("published" in d for d in attack.dating)
    assert [e.date for e in whole.timeline] == sorted(e.date for e in whole.timeline)
    assert all(cited[n] != TAJI for e in whole.timeline for n in e.citations), \
        "the undated Taji article's weekdays cannot be placed"
    assert any(TAJI in n and "not placed on the timeline" in n for n in whole.notes)


def test_disagreement_on_the_rocket_count_shows_both_sides(whole):
    rockets = [d for d in whole.disagreements if {"eight", "20"} & {w for s in d.sides for w in s.value.lower().split()}]
    assert rockets
    cited = {c.n: c.source for c in whole.citations}
    sides = rockets[0].sides
    assert len(sides) >= 2 and len({cited[n] for s in sides for n in s.citations}) >= 2


def test_quotes_are_verbatim_and_attributed(corpus_rag, whole):
    cited = {c.n: c for c in whole.citations}
    for q in whole.quotes:
        assert any(q.words in cited[n].quote for n in q.citations)
    assert any(q.speaker and "Trump" in q.speaker or q.speaker == "the president" for q in whole.quotes)


# --- topics and filters ---------------------------------------------------------------------


def test_topic_briefing_leaves_out_the_other_episode_and_says_so(corpus_rag):
    b = corpus_rag.brief("the rocket attacks on Taji air base and the US response")
    assert {s.source for s in b.sources if s.cited} == {TAJI}
    assert any("left out episode" in n for n in b.notes)
    assert_verified(corpus_rag, b)


def test_filters_restrict_the_sources(corpus_rag):
    b = corpus_rag.brief(None, Filters(source="003_*"))
    assert {s.source for s in b.sources} == {"003_568550a85670bdb3.txt"}
    dated = corpus_rag.brief(None, Filters(since=dt.date(2020, 12, 24)))
    assert {s.source for s in dated.sources} == {"000_eb6e83a28ce734ce.txt"}  # undated ones fail a date filter


def test_eval_briefing_cases_run_and_score(corpus_rag):
    from conftest import ROOT

    from rag.eval.cases import load_cases
    from rag.eval.runner import run_eval

    cases = [c for c in load_cases([ROOT / "evals" / "briefings.yaml"])]
    run = run_eval(corpus_rag, cases)
    assert all(r.skipped is None and r.trials[0].error is None for r in run.results)
    assert run.metrics["brief_citation_validity"].mean == 1.0
    assert run.metrics["brief_fact_recall"].mean is not None


# --- CLI ------------------------------------------------------------------------------------


def test_cli_formats_and_output_file(cli, corpus_store, tmp_path):
    code, out, err = cli("brief", "--store-dir", corpus_store)
    assert code == 0, err
    for heading in ("## Summary", "## Key facts", "## Timeline", "## Who said what", "## Where sources disagree",
                    "## Sources", "## Citations"):
        assert heading in out
    code, out, err = cli("brief", "Iran's reaction", "--store-dir", corpus_store, "--format", "json")
    assert code == 0 and json.loads(out)["topic"] == "Iran's reaction"
    target = tmp_path / "b.html"
    code, out, err = cli("brief", "--store-dir", corpus_store, "--format", "html", "-o", target)
    assert code == 0 and out == "" and "wrote" in err
    page = target.read_text()
    assert page.startswith("<!doctype html>") and 'id="c1"' in page and "Where sources disagree" in page


@pytest.mark.parametrize("args, message", [
    (["--format", "pdf"], "--format must be one of"),
    (["--engine", "magic"], "invalid setting engine"),
    (["", ], "the question is empty"),
    (["--since", "2021-01-01", "--until", "2020-01-01"], "is after --until"),
    (["--since", "2030-01-01"], "nothing to brief"),
    (["-o", "/nonexistent-dir/b.md"], "no directory"),
])
def test_bad_input_is_one_line_and_exit_1(cli, corpus_store, args, message):
    code, out, err = cli("brief", *args, "--store-dir", corpus_store)
    assert code == 1 and not out
    assert err.startswith("error: ") and message in err and len(err.strip().splitlines()) == 1


def test_empty_store_says_to_ingest(cli, tmp_path):
    code, _, err = cli("brief", "--store-dir", tmp_path / "empty")
    assert code == 1 and "rag ingest" in err


def test_html_escapes_article_text(hash_settings):
    (hash_settings.corpus_dir / "evil.md").write_text(
        "---\ntitle: <script>alert(1)</script> attack\ndate: 2021-05-02\n---\n"
        "Officials said on Sunday that <b>rockets</b> hit the base near the river at dawn.\n\n"
        "\"We will respond to every attack on our forces,\" <i>General Smith</i> said on Monday.\n")
    rag = Rag(hash_settings)
    rag.ingest([hash_settings.corpus_dir])
    b = rag.brief()
    rag.close()
    page = to_html(b)
    assert "<script>" not in page and "&lt;script&gt;" in page and "<b>rockets" not in page
    assert "2021-05-02" in page or "2021-05-0" in to_markdown(b)


# --- benchmark sample -----------------------------------------------------------------------

STORIES = {"webb": ("James Webb", "webb"), "sri-lanka": ("Sri Lanka", "sri lanka")}


@pytest.fixture(scope="module")
def bench_rag(tmp_path_factory):
    """Articles about two stories, each told over months (the Webb telescope's launch and its
    first images; Sri Lanka's crisis), written to a .jsonl and ingested with MiniLM."""
    path = BENCH / "articles.jsonl.gz"
    if not path.exists():
        pytest.skip("benchmark articles not present (../shared/bench)")
    picked = []
    with gzip.open(path, "rt") as handle:
        for line in handle:
            a = json.loads(line)
            if any(key in a["title"].lower() for _, key in STORIES.values()) and len(a["text"]) > 1500:
                picked.append(a)
    picked = sorted(picked, key=lambda a: a["id"])[:14]
    root = tmp_path_factory.mktemp("bench-brief")
    corpus = root / "corpus"
    corpus.mkdir()
    with open(corpus / "sample.jsonl", "w") as out:
        for a in picked:
            out.write(json.dumps({k: a[k] for k in ("id", "title", "date", "source", "url", "text")}) + "\n")
    rag = Rag(Settings(store_dir=root / "store", corpus_dir=corpus))
    rag.ingest([corpus])
    yield rag, picked
    rag.close()


def test_bench_briefing_is_verified_and_keeps_months_apart_separate(bench_rag):
    rag, _ = bench_rag
    b = rag.brief("the James Webb Space Telescope")
    assert_verified(rag, b)
    for e in b.episodes:  # dated articles more than two weeks apart are never one episode
        dates = sorted(s.date for s in b.sources if s.source in e.sources and s.date)
        for a, later in itertools.pairwise(dates):
            assert (later - a).days <= 14, (e.label, dates)  # no gap an episode could not bridge
    for event in b.timeline:
        assert event.dating and dt.date(1900, 1, 1) <= event.date <= dt.date(2023, 1, 1)
    assert b.summary and b.key_facts


def test_bench_whole_sample_covers_both_stories(bench_rag):
    rag, _ = bench_rag
    b = rag.brief()
    assert_verified(rag, b)
    text = " ".join(p.text for p in b.summary + b.key_facts).lower()
    assert "webb" in text and "sri lanka" in text
    assert len(b.episodes) >= 2


# --- episodes that follow stories -----------------------------------------------------------


def _units(source: str, date, vectors):
    import numpy as np

    from rag.brief.scope import Unit
    from rag.models import Article, Chunk, Sentence

    article = Article(source=source, path=source, content_hash=source, title=source, date=date)
    out = []
    for i, v in enumerate(vectors):
        text = f"sentence {i} of {source} with several different words"
        s = Sentence(char_start=i * 100, char_end=i * 100 + len(text), line_start=i + 1, line_end=i + 1, text=text)
        c = Chunk(id=f"{source}{i}", source=source, ordinal=i, text=text, sentences=[s], tokens=9, char_start=0,
                  char_end=1, line_start=1, line_end=1)
        vector = np.asarray(v, dtype=np.float32)
        out.append(Unit(chunk=c, sentence=s, article=article, position=i, terms={f"{source}{i}"},
                        vector=vector / np.linalg.norm(vector)))
    return article, out


def test_daily_coverage_of_one_story_is_one_episode_and_other_events_stay_apart():
    from rag.brief.episodes import find_episodes

    story = [[1, 0.2, 0], [1, 0.1, 0.1]]  # paraphrases: similar vectors, no statement in common
    other = [[0, 1, 0.2], [0.1, 1, 0]]
    monday, tuesday, saturday = dt.date(2022, 9, 26), dt.date(2022, 9, 27), dt.date(2022, 10, 1)
    parts = {"live-mon": _units("live-mon", monday, story), "live-tue": _units("live-tue", tuesday, story),
             "later": _units("later", saturday, story), "other-tue": _units("other-tue", tuesday, other)}
    articles = {s: a for s, (a, _) in parts.items()}
    units = [u for _, us in parts.values() for u in us]
    episodes = find_episodes(units, articles, episode_days=14, min_links=2)
    groups = sorted(sorted(e.sources) for e in episodes)
    assert ["live-mon", "live-tue"] in groups, groups  # a day apart, the same story: one episode
    assert ["later"] in groups, groups  # five days later: daily coverage no longer chains it
    assert ["other-tue"] in groups, groups  # the same day, another event


def test_relevance_never_leaves_out_the_article_that_covers_the_topic_most_fully():
    from rag.brief.extractive import _fullest

    _, full = _units("explainer", dt.date(2022, 7, 7), [[1, 0, 0]] * 5)
    _, brief_mention = _units("digest", dt.date(2022, 7, 8), [[1, 0, 0]] * 8)
    for u in full:
        u.relevance = 0.8
    for u in brief_mention:
        u.relevance = 0.3  # many passing mentions
    brief_mention[0].relevance = 0.9
    assert _fullest(full + brief_mention, 0.8) == "explainer"


def test_one_event_read_a_week_apart_by_a_stale_dateline_gets_the_date_most_sources_give():
    from rag.brief.timeline import build_timeline
    from rag.models import Sentence

    parts = [_units("live", dt.date(2022, 7, 11), [[1, 0, 0]]), _units("a", dt.date(2022, 7, 14), [[1, 0, 0]]),
             _units("b", dt.date(2022, 7, 15), [[1, 0, 0]])]
    units = []
    for _, (u,) in parts:
        text = "The president fled the country on Wednesday on a military plane."
        u.sentence = Sentence(char_start=0, char_end=len(text), line_start=1, line_end=1, text=text)
        u.episode, u.score = 1, 1.0
        units.append(u)
    events, _ = build_timeline(units, 12, {}, {1: (dt.date(2022, 7, 11), dt.date(2022, 7, 15))})
    [event] = events
    assert event.date.start == dt.date(2022, 7, 13) and event.sources == {"live", "a", "b"}
    assert any("live" in d and "2022-07-06" in d for d in event.dating)


def _dated(units_by_text, episode=1):
    from rag.models import Sentence

    out = []
    for text, (_, (u,)) in units_by_text:
        u.sentence = Sentence(char_start=0, char_end=len(text), line_start=1, line_end=1, text=text)
        u.episode, u.score = episode, 1.0
        out.append(u)
    return out


@pytest.mark.parametrize("odd, others, expected", [
    # a weekday a week from the date other sources give the same report (a live page's first date)
    (("The president fled the country on Wednesday on a military plane.", dt.date(2022, 7, 11)),
     ("The president fled the country on July 13 on a military plane.", dt.date(2022, 7, 14)), dt.date(2022, 7, 13)),
    # "this afternoon" in a page dated the morning after, against what more sources give
    (("The prime minister announced his resignation this afternoon.", dt.date(2022, 7, 8)),
     ("The prime minister announced his resignation on Thursday.", dt.date(2022, 7, 7)), dt.date(2022, 7, 7)),
])
def test_one_report_read_on_another_day_by_one_source_takes_the_day_the_others_give(odd, others, expected):
    from rag.brief.timeline import build_timeline

    units = _dated([(odd[0], _units("odd", odd[1], [[1, 0, 0]])), (others[0], _units("a", others[1], [[1, 0, 0]])),
                    (others[0], _units("b", others[1], [[1, 0, 0]]))])
    [event] = build_timeline(units, 12, {}, {1: (min(odd[1], others[1]), max(odd[1], others[1]))})[0]
    assert event.date.start == expected and event.sources == {"odd", "a", "b"}


def test_a_scheduled_event_and_a_range_keep_their_own_dates_beside_similar_reports():
    from rag.brief.timeline import build_timeline

    units = _dated([("The river reached a record crest on Monday.", _units("a", dt.date(2022, 6, 15), [[1, 0, 0]])),
                    ("The river reached a record crest on Monday.", _units("b", dt.date(2022, 6, 15), [[1, 0, 0]])),
                    ("The park could partially reopen as early as Monday.",
                     _units("c", dt.date(2022, 6, 16), [[1, 0, 0]])),
                    ("Rain fell from June 10 to June 13, the weather service said.",
                     _units("d", dt.date(2022, 6, 15), [[1, 0, 0]])),
                    ("It rained on Saturday.", _units("e", dt.date(2022, 6, 13), [[1, 0, 0]])),
                    ("It rained on Saturday.", _units("f", dt.date(2022, 6, 13), [[1, 0, 0]]))])
    events, _ = build_timeline(units, 12, {}, {1: (dt.date(2022, 6, 13), dt.date(2022, 6, 16))})
    spans = {(e.date.start.isoformat(), e.date.end.isoformat()) for e in events}
    assert ("2022-06-20", "2022-06-20") in spans  # read forward: not the past Monday's crest
    assert ("2022-06-10", "2022-06-13") in spans  # a range of days is not a coarse date to give way
    assert ("2022-06-13", "2022-06-13") in spans and ("2022-06-11", "2022-06-11") in spans


def test_an_internal_error_is_one_line_and_exit_1_not_2(cli, corpus_store, monkeypatch):
    from rag.api import Rag

    def broken(self, *args, **kwargs):
        raise TypeError("'NoneType' object cannot be interpreted as an integer")

    monkeypatch.setattr(Rag, "brief", broken)
    code, out, err = cli("brief", "Hurricane Fiona", "--store-dir", corpus_store)
    assert code == 1 and not out  # 2 is kept for usage errors
    assert err.startswith("error: unexpected TypeError") and len(err.strip().splitlines()) == 1


def test_a_topic_briefing_gathers_by_its_own_ranking_not_the_answers_cap(corpus_rag):
    """The answer ranking allows one chunk per article in its first five; a briefing's evidence
    search keeps several of one article (brief_max_per_article), so its statements and
    disagreements can come from two chunks of one report."""
    from collections import Counter

    from rag.brief.scope import gather

    store = corpus_rag.store
    topic = "rocket attacks on the US embassy in Baghdad"
    answers = corpus_rag.search(topic, k=24).hits
    assert max(Counter(h.chunk.source for h in answers[:5]).values()) == store.settings.max_per_article == 1
    evidence = gather(store, topic, Filters(), 24, 80).hits
    assert max(Counter(h.chunk.source for h in evidence[:5]).values()) == store.settings.brief_max_per_article == 2
