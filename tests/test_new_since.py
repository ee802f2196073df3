"""rag brief --new-since: a before/after pair of article sets about one story. Only what the
after set adds may appear (new facts, the updated toll beside the old one, new quotes), each
cited; undated articles count as new only when their text gives a later date."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from rag.api import Rag

STORY = "the Carlow dam flood"
BEFORE = {
    "before_1.md": ("2022-10-15", "Carlow dam bursts after days of rain",
                    [("The Carlow dam burst on Friday night after four days of heavy rain, flooding the lower valley "
                     "and forcing the evacuation of 2,000 residents, officials said."),
                     "At least 9 people died in the Carlow dam flood, the regional emergency office said on Saturday.",
                     ("The army sent rescue boats to the villages of Ardee and Moyne, where water reached the roofs "
                     "of houses."),
                     "“We have never seen water rise this fast,” said Mayor Brigid Kelly of Carlow."]),
    "before_2.md": ("2022-10-16", "Carlow flood: rescuers search the valley",
                    ["Rescuers searched the flooded valley below the Carlow dam on Sunday for people still missing.",
                     "The regional emergency office said 9 people had died in the Carlow dam flood and 30 were missing.",
                     "Engineers had warned in 2019 that the Carlow dam needed urgent repairs to its spillway."]),
}
AFTER = {
    "after_1.md": ("2022-10-19", "Carlow dam flood toll rises",
                   [("The number of people who died in the Carlow dam flood rose to 14 on Wednesday as rescuers "
                    "recovered more bodies from the valley, the emergency office said."),
                    ("The national government announced a public inquiry into the collapse of the Carlow dam, to be "
                    "led by retired judge Maeve Doyle."),
                    ("“Families deserve to know why the warnings were ignored,” said Prime Minister Tom Fennell on a "
                    "visit to the valley.")]),
    "after_2.md": ("2022-10-20", "Carlow valley residents begin to return",
                   [("Residents of Ardee began returning to their homes in the Carlow valley on Thursday as the water "
                    "receded, officials said."),
                    "The European Union pledged 40 million euros for rebuilding the Carlow valley after the dam flood."]),
}
OFF_TOPIC = {  # new, dated after the cutoff, about something else
    "sport.md": ("2022-10-19", "Rovers sign a striker",
                 ["The Rovers football club signed a striker from Lisbon on Wednesday for a record transfer fee.",
                  "The striker scored 31 goals last season and will wear the number nine shirt, the club said."]),
}
UNDATED_NEW = ("undated_new.txt", ("Carlow dam flood: schools reopen\n\nCARLOW, October 21, 2022 — Schools in the "
               "Carlow valley reopened on Friday for the first time since the dam flood, the education office said.\n"))
UNDATED_OLD = ("undated_old.txt", ("Carlow dam history\n\nThe Carlow dam was built on the river Slaney to supply "
               "water and power to the valley towns and their factories.\n"))


def _write(corpus, articles: dict) -> None:
    for name, (date, title, paragraphs) in articles.items():
        body = "\n\n".join(paragraphs)
        (corpus / name).write_text(f"---\ntitle: {title}\ndate: {date}\nsource: Valley News\n---\n# {title}\n\n{body}\n")


@pytest.fixture(scope="module")
def story(tmp_path_factory):
    from rag.settings import Settings

    root = tmp_path_factory.mktemp("new-since")
    corpus = root / "corpus"
    corpus.mkdir()
    _write(corpus, {**BEFORE, **AFTER, **OFF_TOPIC})
    for name, text in (UNDATED_NEW, UNDATED_OLD):
        (corpus / name).write_text(text)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RAG_CONFIG", str(root / "none.toml"))
        rag = Rag(Settings(store_dir=root / "store", corpus_dir=corpus))
        rag.ingest([corpus])
        yield rag
        rag.close()


def _text(b) -> str:
    return " ".join([p.text for p in b.summary + b.key_facts] + [e.text for e in b.timeline]
                    + [q.words for q in b.quotes] + [p.text for a in b.new_articles for p in a.points])


def test_only_what_is_new_since_the_date_appears_each_cited(story):
    b = story.brief(STORY, new_since=dt.date(2022, 10, 17))
    text = _text(b)
    assert b.new_since == dt.date(2022, 10, 17)
    for new in ("14", "public inquiry", "Families deserve to know"):
        assert new in text, new
    for old in ("2,000 residents", "rescue boats", "never seen water rise", "30 were missing"):
        assert old not in text, old
    cited = {c.source for c in b.citations}
    assert cited and all(s.startswith(("after_", "undated_new", "before_")) for s in cited)
    for p in b.summary + b.key_facts:
        assert p.citations  # every item cited
        assert all(c.source.startswith(("after_", "undated_new")) for c in b.citations if c.n in p.citations)
    assert [c.n for c in b.citations] == list(range(1, len(b.citations) + 1))


def test_the_updated_toll_shows_the_old_value_beside_it_cited(story):
    b = story.brief(STORY, new_since=dt.date(2022, 10, 17))
    toll = [p for p in b.summary + b.key_facts if "14" in p.text]
    assert toll and toll[0].previous and "9 people" in toll[0].previous
    n = int(toll[0].previous.split("[")[1].split("]")[0])
    old = next(c for c in b.citations if c.n == n)
    assert old.source.startswith("before_") and "9 people" in old.quote


def test_undated_articles_are_new_only_when_their_text_dates_them(story):
    b = story.brief(STORY, new_since=dt.date(2022, 10, 17))
    notes = " ".join(b.notes)
    assert "undated_new.txt has no publication date; counted as new: its text gives 2022-10-21" in notes
    assert "undated_old.txt has no publication date and is not counted as new (its text gives no date)" in notes
    assert "Slaney" not in _text(b)


def test_new_since_an_earlier_briefing_leaves_out_what_it_said(story, tmp_path, cli):
    earlier = story.brief(STORY, filters=_until(dt.date(2022, 10, 17)))
    path = tmp_path / "earlier.json"
    path.write_text(earlier.model_dump_json())
    store = story.settings.store_dir
    code, out, err = cli("brief", STORY, "--new-since", str(path), "--format", "json", "--store-dir", store,
                         "--set", f"corpus_dir={story.settings.corpus_dir}")
    assert code == 0, err
    b = json.loads(out)
    assert b["new_since"] == "2022-10-17" and "earlier briefing" in b["new_since_briefing"]
    said = {p["text"] for p in b["summary"] + b["key_facts"] + [p for a in b["new_articles"] for p in a["points"]]}
    assert not said & {p.text for p in earlier.summary + earlier.key_facts}
    assert "public inquiry" in " ".join(said)
    code, out, _ = cli("brief", STORY, "--new-since", "2022-10-17", "--store-dir", store,
                       "--set", f"corpus_dir={story.settings.corpus_dir}")
    assert code == 0 and "only what is new since the articles up to 2022-10-17" in out and "previously: At least 9 people" in out


def test_bad_new_since_values_are_one_line_errors(story, tmp_path, cli):
    junk = tmp_path / "junk.json"
    junk.write_text('{"not": "a briefing"}')
    base = ["--store-dir", story.settings.store_dir, "--set", f"corpus_dir={story.settings.corpus_dir}"]
    for value in ("yesterday", str(junk)):
        code, _, err = cli("brief", STORY, "--new-since", value, *base)
        assert code == 1 and err.count("\n") == 1 and err.startswith("error: --new-since"), err
    code, out, _ = cli("brief", STORY, "--new-since", "2022-12-01", *base)
    assert code == 0 and "nothing new since the articles up to 2022-12-01" in out


def _until(day):
    from rag.retrieval import Filters

    return Filters(until=day)


# The selection among new statements: names and numbers the earlier material never writes get
# key-fact slots of their own; novelty is distance from everything earlier, or new specifics.

def test_specifics_are_names_and_numbers_not_the_calendar_or_past_years():
    from rag.brief.new_since import specifics

    found = specifics("Rescuers said on Friday that 14 people died in the 2019 flood, Mayor Brigid Kelly said "
                      "in October 2022.", 2022)
    assert found == {"14", "brigid", "kelly", "mayor", "2022"}  # not "Rescuers" (opens it), Friday, October, 2019


def test_novelty_is_distance_from_the_earlier_material_or_new_names_and_numbers():
    from types import SimpleNamespace

    import numpy as np

    from rag.brief.new_since import _EarlierMaterial

    def unit(text, vector):
        v = np.asarray(vector, dtype=np.float32)
        return SimpleNamespace(text=text, vector=v / np.linalg.norm(v))

    earlier = _EarlierMaterial(np.asarray([[1.0, 0.0, 0.0]], dtype=np.float32), {"9", "carlow"},
                               dt.date(2022, 10, 17))
    restated = unit("the dam in Carlow killed 9 people", [1.0, 0.0, 0.0])
    far = unit("an inquiry was announced", [0.0, 1.0, 0.0])
    updated = unit("the toll in Carlow rose to 14, said Maeve Doyle", [1.0, 0.05, 0.0])
    values = earlier.novelties([restated, far, updated])
    assert values[0] == pytest.approx(0.0, abs=0.01)
    assert values[1] == pytest.approx(1.0)
    assert values[2] == pytest.approx(1.0)  # close in meaning, but "14", "maeve", "doyle" are new
    assert _EarlierMaterial(None, set(), dt.date(2022, 10, 17)).novelties([restated]) == [1.0]


def test_each_new_article_adds_its_new_statements_each_cited(story):
    from rag.brief import new_since
    from rag.brief.new_since_digest import digest
    from rag.brief.options import BriefOptions
    from rag.brief.scope import gather
    from rag.models import Briefing
    from rag.retrieval import Filters

    store = story.store
    units = gather(store, STORY, Filters(since=dt.date(2022, 10, 18)), 24, 80).units
    units = [u for u in units if u.source.startswith("after_")]  # on the topic (the bar is tested below)
    old = new_since._OldStatements(store, Filters(), new_since.baseline_of(dt.date(2022, 10, 17), None))
    earlier = new_since._EarlierMaterial.read(store, STORY, old, BriefOptions())
    assert "ardee" in earlier.vocabulary and "maeve" not in earlier.vocabulary  # whole earlier articles read
    novelty = dict(zip(map(id, units), earlier.novelties(units)))
    offered = new_since.new_candidates(units, earlier, novelty)
    briefing = Briefing(topic=STORY, engine="extractive", settings_hash="x")
    shown, _ = digest(briefing, offered, [], share=1.0)
    assert [a.source for a in briefing.new_articles] == ["after_1.md", "after_2.md"]  # oldest first
    for a in briefing.new_articles:
        assert a.date and a.title and a.outlet == "Valley News" and 1 <= len(a.points) <= a.found
        for p in a.points:
            cited = next(c for c in briefing.citations if c.n == p.citations[0])
            assert cited.quote == p.text and cited.source == a.source
    assert any("Maeve Doyle" in p.text for p in briefing.new_articles[0].points)
    again = Briefing(topic=STORY, engine="extractive", settings_hash="x")
    digest(again, offered, shown, share=1.0)  # what the briefing says already is never added twice
    assert not again.new_articles


def test_a_new_statement_writes_a_new_name_or_number_or_is_far_from_everything_earlier():
    from types import SimpleNamespace

    import numpy as np

    from rag.brief import new_since

    earlier = new_since._EarlierMaterial(np.asarray([[1.0, 0.0, 0.0]], dtype=np.float32), {"carlow", "ardee"},
                                         dt.date(2022, 10, 17))

    def unit(text, vector):
        v = np.asarray(vector, dtype=np.float32)
        return SimpleNamespace(text=text, vector=v / np.linalg.norm(v))

    restated = unit("residents of ardee returned home to the carlow valley", [1.0, 0.0, 0.0])
    new_name = unit("Retired judge Maeve Doyle will lead the public inquiry", [1.0, 0.0, 0.0])
    far = unit("the rebuilding fund will pay for new bridges and roads", [0.0, 1.0, 0.0])
    units = [restated, new_name, far]
    novelty = dict(zip(map(id, units), earlier.novelties(units)))
    # close to the earlier sentence and no new name: not new
    assert new_since.new_candidates(units, earlier, novelty) == [new_name, far]


def test_an_article_off_the_topic_adds_nothing(story):
    from rag.brief.new_since import Trace, brief_new_since
    from rag.retrieval import Filters

    trace = Trace()
    b = brief_new_since(story, STORY, Filters(), "extractive", since=dt.date(2022, 10, 17), trace=trace)
    # a new article, dated after the cutoff and retrieved for the topic, is off it: under the on-topic bar
    assert "sport.md" in {u.source for u in trace.read}
    assert "sport.md" not in {u.source for u in trace.on_topic} | {c.source for c in b.citations}
    assert all(a.source != "sport.md" for a in b.new_articles)


def test_a_quotation_is_restated_only_by_its_quoted_words():
    from rag.brief.new_since import _restated, _said

    earlier = _said(["“Today is his day, our day to commend his life of service,” Biden said."])
    assert not _restated('"Today is a historic day," Biden said.', earlier)
    assert _restated('"Today is his day, our day to commend him," Biden said.', earlier)
    # two shared words are never a restatement, whatever the share (2 of 3 here)
    assert not _restated("Biden praised farmers.", _said(["Biden praised teachers."]))
    assert _restated("Biden praised farmers.", _said(["Biden praised the farmers of Iowa."]))


def test_a_restatement_holds_every_number_name_and_date_of_the_new_sentence():
    from rag.brief.new_since import _restated, _said

    preview = _said(["The Federal Reserve is expected to raise interest rates by half a point at its meeting."])
    # most words are the preview's, but the size of the hike, the year and the day are news
    assert not _restated("The Federal Reserve raised interest rates by 0.75 points at its meeting, "
                         "the largest since 1994.", preview)
    assert not _restated("The Federal Reserve raised interest rates at its meeting on June 15.", preview)
    assert not _restated("The Federal Reserve raised interest rates at its meeting, Powell said.", preview)
    # the same words with nothing the earlier sentence lacks stay a restatement
    assert _restated("The Federal Reserve is expected to raise interest rates at its meeting.", preview)
    earlier = _said(["At least 9 people died in the Carlow flood on Oct. 14, officials in Ireland said."])
    assert _restated("Nine people died in the Carlow flood, Irish officials said.", earlier)
    assert not _restated("Fourteen people died in the Carlow flood, Irish officials said.", earlier)


def test_short_attributed_quotes_and_whole_articles_in_a_new_since_scope(tmp_path, monkeypatch):
    from rag.brief.quotes import attributed_quote
    from rag.brief.scope import gather
    from rag.retrieval import Filters
    from rag.settings import Settings

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    filler = " ".join(f"The harbour board met for the {n}th time to discuss the budget of the port." for n in range(40))
    (corpus / "a.md").write_text("---\ntitle: Comet seen over Carlow\ndate: 2022-10-19\n---\n# Comet seen over Carlow\n\n"
                                 "A bright comet was seen over Carlow on Tuesday night by hundreds of people.\n\n"
                                 "\"Today is a historic day,\" Mayor Kelly said.\n\n" + filler + "\n\n"
                                 "The observatory counted 412 visitors at its telescope before midnight.\n")
    monkeypatch.setenv("RAG_CONFIG", str(tmp_path / "none.toml"))
    rag = Rag(Settings(store_dir=tmp_path / "store", corpus_dir=corpus))
    try:
        rag.ingest([corpus])
        plain = gather(rag.store, "the comet over Carlow", Filters(), 1, 80)
        whole = gather(rag.store, "the comet over Carlow", Filters(), 1, 80, whole_articles=True,
                       keep_short=attributed_quote)
        plain_texts, whole_texts = [u.text for u in plain.units], [u.text for u in whole.units]
        assert '"Today is a historic day," Mayor Kelly said.' not in plain_texts  # under 8 words
        assert '"Today is a historic day," Mayor Kelly said.' in whole_texts
        assert len(rag.store.docs.chunks_of("a.md")) > 1 and len(whole.hits) == len(rag.store.docs.chunks_of("a.md"))
        assert any("412 visitors" in t for t in whole_texts)
        assert len(plain.hits) == 1
    finally:
        rag.close()


def _digest_unit(text, vector, source, position, day, score=0.5):
    from types import SimpleNamespace

    import numpy as np

    v = np.asarray(vector, dtype=np.float32)
    date = dt.date(2022, 10, day)
    article = SimpleNamespace(title=f"{source} title", date=date, outlet="Valley News")
    return SimpleNamespace(text=text, vector=v / np.linalg.norm(v), relevance=1.0, score=score, centrality=score,
                           position=position, terms=set(text.lower().split()), twins=[], source=source, episode=1,
                           article=article, chunk=SimpleNamespace(source=source, title=article.title, date=date,
                                                                  outlet="Valley News"),
                           sentence=SimpleNamespace(char_start=100 * position, char_end=100 * position + len(text),
                                                    line_start=position + 1, line_end=position + 1, text=text))


def test_the_digest_gives_a_share_of_each_article_in_its_own_order():
    import numpy as np

    from rag.brief.new_since_digest import SHARE, Reach, digest, digest_note
    from rag.models import Briefing

    dims = 12
    long = [_digest_unit(f"long thing{i} happened with detail{i} and figure{i}", np.eye(dims)[i], "long.md", i, 19,
                         score=i / 10) for i in range(9)]
    short = [_digest_unit("the short article's single new detail about the valley", np.eye(dims)[10], "short.md", 4, 18)]
    briefing = Briefing(topic=STORY, engine="extractive", settings_hash="x")
    _, reach = digest(briefing, long[::-1] + short, [], articles=3)
    assert [a.source for a in briefing.new_articles] == ["short.md", "long.md"]  # the older article first
    assert [s.source for s in briefing.sources] == ["short.md", "long.md"]  # listed among the sources
    assert [a.found for a in briefing.new_articles] == [1, 9]
    shown = [p.text for p in briefing.new_articles[1].points]
    # 40% of its nine (four), in the article's own order (not by score: the lead of the article comes first)
    assert SHARE == pytest.approx(0.4) and shown == [u.text for u in long[:4]]
    assert [p.text for p in briefing.new_articles[0].points] == [short[0].text]  # a small article: at least one
    assert reach == Reach(articles=3, share=SHARE, found=10, offered=2)
    note = digest_note(briefing, reach)
    assert "3 new article(s) on the topic, 2 with new statements beyond the sections above;" in note and "10 such statement(s), 5 shown" in note
    assert "5 left out" in note


def test_a_statement_an_earlier_new_article_gave_is_cited_there_not_repeated():
    from rag.brief.new_since_digest import digest
    from rag.models import Briefing

    first = _digest_unit("the public inquiry into the dam collapse opens on Monday in the town hall",
                         [1.0, 0.0, 0.0], "a.md", 0, 18)
    same = _digest_unit("the public inquiry into the dam collapse opens on Monday in the town hall",
                        [1.0, 0.0, 0.0], "b.md", 0, 19)
    near = _digest_unit("on Monday the dam inquiry opens, at the town hall, officials said",
                        [0.9, 0.3, 0.0], "b.md", 1, 19)
    other = _digest_unit("the European Union pledged forty million euros for rebuilding",
                         [0.0, 0.0, 1.0], "b.md", 2, 19)
    briefing = Briefing(topic=STORY, engine="extractive", settings_hash="x")
    digest(briefing, [other, near, same, first], [], share=1.0)
    a, b = briefing.new_articles
    assert [p.text for p in a.points] == [first.text] and [p.text for p in b.points] == [other.text]
    cited = {c.n: c.source for c in briefing.citations}
    assert [cited[n] for n in a.points[0].citations] == ["a.md", "b.md"]  # b.md's copy is a second citation
    assert b.found == 3  # the twin and the near-repeat count as found, not shown


def test_the_note_counts_the_statements_of_articles_left_with_nothing_to_show():
    from types import SimpleNamespace

    from rag.brief.new_since import _drop_old
    from rag.brief.new_since_digest import digest, digest_note
    from rag.models import Briefing

    first = _digest_unit("the public inquiry into the dam collapse opens on Monday in the town hall",
                         [1.0, 0.0, 0.0], "a.md", 0, 18)
    near = _digest_unit("on Monday the dam inquiry opens, at the town hall, officials said",
                        [0.9, 0.3, 0.0], "b.md", 0, 19)  # b.md says nothing else: all near-repeats
    other = _digest_unit("the European Union pledged forty million euros for rebuilding",
                         [0.0, 0.0, 1.0], "c.md", 0, 20)
    briefing = Briefing(topic=STORY, engine="extractive", settings_hash="x")
    _, reach = digest(briefing, [other, near, first], [], share=1.0, articles=3)
    assert [a.source for a in briefing.new_articles] == ["a.md", "c.md"]  # b.md has no entry
    assert (reach.found, reach.offered) == (3, 3)
    note = digest_note(briefing, reach)
    assert "3 with new statements beyond the sections above (2 listed below); 3 such statement(s), 2 shown" in note
    assert "1 left out" in note
    # the earlier material states c.md's statement: dropped later, it still counts, as left out
    assert _drop_old(briefing, SimpleNamespace(states=lambda text: text == other.text)) == 1
    note = digest_note(briefing, reach)
    assert "(1 listed below); 3 such statement(s), 1 shown" in note and "2 left out" in note


def test_an_article_is_on_the_topic_only_when_its_best_sentence_nears_the_best():
    from types import SimpleNamespace

    from rag.brief.new_since import ARTICLE, articles_on_topic

    def unit(source, relevance):
        return SimpleNamespace(source=source, relevance=relevance)

    # the story's own article, a round-up with one paragraph on it, and a war recap that shares
    # one word with the topic ("eastern"): its best sentence passes the sentence bar, not the article's
    units = [unit("story.md", 0.8), unit("story.md", 0.3), unit("roundup.md", 0.7), unit("roundup.md", 0.05),
             unit("recap.md", 0.33), unit("recap.md", 0.3)]
    assert ARTICLE == 0.5 and articles_on_topic(units, ARTICLE * 0.8) == {"story.md", "roundup.md"}


def test_an_article_about_the_topic_has_every_sentence_on_it():
    from types import SimpleNamespace

    from rag.brief.new_since import articles_about

    def unit(source, chunk, relevance):
        return SimpleNamespace(source=source, chunk=SimpleNamespace(ordinal=chunk), relevance=relevance)

    # the focused article: 2 of its 3 chunks reach the bar; the round-up: 1 of its 4
    focused = [unit("focused.md", 0, 0.9), unit("focused.md", 1, 0.5), unit("focused.md", 1, 0.1), unit("focused.md", 2, 0.1)]
    round_up = [unit("roundup.md", 0, 0.8)] + [unit("roundup.md", n, 0.05) for n in (1, 2, 3)]
    assert articles_about(focused + round_up, 0.3) == {"focused.md"}


def test_the_trace_is_filled_only_when_asked_and_changes_nothing(story):
    from rag.brief.new_since import Trace, brief_new_since
    from rag.retrieval import Filters

    since = dt.date(2022, 10, 17)
    plain = brief_new_since(story, STORY, Filters(), "extractive", since=since)
    trace = Trace()
    traced = brief_new_since(story, STORY, Filters(), "extractive", since=since, trace=trace)
    assert trace.read and trace.fresh and trace.on_topic and trace.sections["key facts"]
    assert len(trace.fresh) <= len(trace.read) and all(u in trace.offered for u in trace.extras)
    assert _text(traced) == _text(plain)


def test_with_a_small_overview_the_new_articles_say_the_rest_cited_and_counted(story):
    from rag.brief.options import BriefOptions
    from rag.brief.render import to_html, to_markdown

    small = BriefOptions(summary_sentences=1, key_facts=1, timeline_events=0, quotes=0)
    b = story.brief(STORY, new_since=dt.date(2022, 10, 17), options=small)
    points = [p for a in b.new_articles for p in a.points]
    assert points and "public inquiry" in _text(b) and "rescue boats" not in _text(b)
    assert [c.n for c in b.citations] == list(range(1, len(b.citations) + 1))  # numbered again, digest included
    cited = {c.n: c for c in b.citations}
    listed = {s.source: s.cited for s in b.sources}
    for a in b.new_articles:
        assert a.points and len(a.points) <= a.found and listed[a.source] >= len(a.points)
        assert all(cited[p.citations[0]].source == a.source and cited[p.citations[0]].quote == p.text for p in a.points)
    from rag.brief.new_since import _briefing_texts
    from rag.eval.scorers._briefing import briefing_prose

    # what an earlier new-since briefing's digest said counts as seen; the eval reads the digest too
    assert {p.text for p in points} <= set(_briefing_texts(b))
    assert all(p.text in briefing_prose(b.model_dump(mode="json")) for p in points)
    note = next(n for n in b.notes if n.startswith("what each new article adds"))
    assert f"{len(points)} shown" in note
    md = to_markdown(b)
    assert "## What each new article adds" in md and f"of its {b.new_articles[0].found} new statement" in md
    assert "Valley News" in md.split("## What each new article adds")[1]
    assert "What each new article adds" in to_html(b)


def test_a_story_with_many_new_articles_lowers_every_share_alike_and_says_so():
    import numpy as np

    from rag.brief.new_since_digest import DIGEST_MAX, SHARE, Reach, digest, digest_note
    from rag.models import Briefing

    articles, each = 30, 9
    dims = articles * each
    units = [_digest_unit(f"a{a} thing{i} happened with detail{a}x{i} and figure{a}y{i}", np.eye(dims)[a * each + i],
                          f"n{a:02d}.md", i, 1 + a % 28) for a in range(articles) for i in range(each)]
    briefing = Briefing(topic=STORY, engine="extractive", settings_hash="x")
    shown, reach = digest(briefing, units, [])
    assert reach.share < SHARE and len(shown) <= DIGEST_MAX  # 40% of each would be 120, three each 90
    assert len(briefing.new_articles) == articles and all(len(a.points) == 2 for a in briefing.new_articles)
    assert reach == Reach(articles=articles, share=reach.share, found=articles * each, offered=articles)
    assert "lowered every article's share from 40%" in digest_note(briefing, reach)
