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
    _write(corpus, {**BEFORE, **AFTER})
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
                    + [q.words for q in b.quotes])


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
    said = {p["text"] for p in b["summary"] + b["key_facts"]}
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


def test_new_facts_beyond_the_budget_are_new_on_topic_and_each_cited(story):
    from rag.brief import new_since
    from rag.brief.options import BriefOptions
    from rag.brief.scope import gather
    from rag.models import Briefing
    from rag.retrieval import Filters

    store = story.store
    units = gather(store, STORY, Filters(since=dt.date(2022, 10, 18)), 24, 80).units
    for u in units:
        u.score = 1.0
    old = new_since._OldStatements(store, Filters(), new_since.baseline_of(dt.date(2022, 10, 17), None))
    earlier = new_since._EarlierMaterial.read(store, STORY, old, BriefOptions())
    assert "ardee" in earlier.vocabulary and "maeve" not in earlier.vocabulary  # whole earlier articles read
    novelty = dict(zip(map(id, units), earlier.novelties(units)))
    briefing = Briefing(topic=STORY, engine="extractive", settings_hash="x")
    new_since.new_facts(briefing, units, earlier, novelty, limit=2)
    texts = [p.text for p in briefing.key_facts]
    assert len(texts) == 2
    for p in briefing.key_facts:
        cited = next(c for c in briefing.citations if c.n == p.citations[0])
        assert cited.quote == p.text and cited.source.startswith("after_")
    again = Briefing(topic=STORY, engine="extractive", settings_hash="x", key_facts=briefing.key_facts)
    new_since.new_facts(again, units, earlier, novelty, limit=10)  # what the briefing says is never added twice
    added = [p.text for p in again.key_facts[2:]]
    assert added and not set(texts) & set(added)


def test_a_new_fact_is_new_and_on_the_topic(story):
    from types import SimpleNamespace

    import numpy as np

    from rag.brief import new_since
    from rag.models import Briefing

    earlier = new_since._EarlierMaterial(np.asarray([[1.0, 0.0, 0.0]], dtype=np.float32), {"carlow", "ardee"},
                                         dt.date(2022, 10, 17))

    def unit(text, vector, relevance):
        v = np.asarray(vector, dtype=np.float32)
        return SimpleNamespace(text=text, vector=v / np.linalg.norm(v), relevance=relevance, score=relevance,
                               centrality=relevance, position=0, terms=set(text.lower().split()), twins=[], source=text, episode=None,
                               chunk=SimpleNamespace(source="after_1.md", title=None, date=None, outlet=None),
                               sentence=SimpleNamespace(char_start=len(text), char_end=2 * len(text), line_start=1,
                                                        line_end=1, text=text))

    restated = unit("residents of ardee returned home to the carlow valley", [1.0, 0.0, 0.0], 1.0)
    new_name = unit("Retired judge Maeve Doyle will lead the public inquiry", [1.0, 0.0, 0.0], 0.9)
    far = unit("the rebuilding fund will pay for new bridges and roads", [0.0, 1.0, 0.0], 0.8)
    off_topic = unit("a football club signed a striker from Lisbon yesterday", [0.0, 0.0, 1.0], 0.1)
    units = [restated, new_name, far, off_topic]
    novelty = dict(zip(map(id, units), earlier.novelties(units)))
    briefing = Briefing(topic=STORY, engine="extractive", settings_hash="x")
    new_since.new_facts(briefing, units, earlier, novelty)
    # close to the earlier sentence and no new name: not new; far below the topic: not on it
    assert [p.text for p in briefing.key_facts] == [new_name.text, far.text]


def test_a_quotation_is_restated_only_by_its_quoted_words():
    from rag.brief.new_since import _restated
    from rag.text.lexical import content_words

    earlier = [set(content_words("“Today is his day, our day to commend his life of service,” Biden said."))]
    assert not _restated('"Today is a historic day," Biden said.', earlier)
    assert _restated('"Today is his day, our day to commend him," Biden said.', earlier)
    # two shared words are never a restatement, whatever the share (2 of 3 here)
    assert not _restated("Biden praised farmers.", [set(content_words("Biden praised teachers."))])
    assert _restated("Biden praised farmers.", [set(content_words("Biden praised the farmers of Iowa."))])


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


def test_distinct_new_things_come_before_a_second_fact_of_one():
    from types import SimpleNamespace

    import numpy as np

    from rag.brief import new_since
    from rag.models import Briefing

    earlier = new_since._EarlierMaterial(np.asarray([[0.0, 0.0, 0.0, 1.0]], dtype=np.float32), set(),
                                         dt.date(2022, 10, 17))

    def unit(text, vector, score):
        v = np.asarray(vector, dtype=np.float32)
        return SimpleNamespace(text=text, vector=v / np.linalg.norm(v), relevance=1.0, score=score,
                               centrality=score, position=0, terms=set(text.lower().split()), twins=[], source=text, episode=None,
                               chunk=SimpleNamespace(source="after_1.md", title=None, date=None, outlet=None),
                               sentence=SimpleNamespace(char_start=len(text), char_end=2 * len(text), line_start=1,
                                                        line_end=1, text=text))

    inquiry = unit("a public inquiry into the dam collapse was announced", [1.0, 0.0, 0.0, 0.0], 0.9)
    # like the inquiry (cosine 0.71), under the briefing's near-repeat bar (0.75): by score alone it is second
    judge = unit("retired judge Maeve Doyle will lead that inquiry from Monday", [0.7, 0.7, 0.0, 0.0], 0.8)
    aid = unit("the European Union pledged forty million euros for rebuilding", [0.0, 0.0, 1.0, 0.0], 0.5)
    units = [inquiry, judge, aid]
    assert [len(g) for g in new_since.like_groups(units)] == [2, 1]  # the inquiry and its judge are one new thing
    novelty = dict(zip(map(id, units), earlier.novelties(units)))
    briefing = Briefing(topic=STORY, engine="extractive", settings_hash="x")
    new_since.new_facts(briefing, units, earlier, novelty, limit=2)
    assert [p.text for p in briefing.key_facts] == [inquiry.text, aid.text]  # the aid before the inquiry's second fact


def test_an_article_about_the_topic_has_every_sentence_on_it():
    from types import SimpleNamespace

    from rag.brief.new_since import articles_about

    def unit(source, chunk, relevance):
        return SimpleNamespace(source=source, chunk=SimpleNamespace(ordinal=chunk), relevance=relevance)

    # the focused article: 2 of its 3 chunks reach the bar; the round-up: 1 of its 4
    focused = [unit("focused.md", 0, 0.9), unit("focused.md", 1, 0.5), unit("focused.md", 1, 0.1), unit("focused.md", 2, 0.1)]
    round_up = [unit("roundup.md", 0, 0.8)] + [unit("roundup.md", n, 0.05) for n in (1, 2, 3)]
    assert articles_about(focused + round_up, 0.3) == {"focused.md"}


def test_new_facts_rank_by_news_value_not_by_how_closely_they_restate_the_topic():
    from types import SimpleNamespace

    import numpy as np

    from rag.brief import new_since
    from rag.models import Briefing

    earlier = new_since._EarlierMaterial(np.asarray([[0.0, 0.0, 0.0, 1.0]], dtype=np.float32), set(),
                                         dt.date(2022, 10, 17))

    def unit(text, vector, relevance, centrality, position):
        v = np.asarray(vector, dtype=np.float32)
        return SimpleNamespace(text=text, vector=v / np.linalg.norm(v), relevance=relevance, score=relevance,
                               centrality=centrality, position=position, terms=set(text.lower().split()), twins=[],
                               source=text, episode=None,
                               chunk=SimpleNamespace(source="after_1.md", title=None, date=None, outlet=None),
                               sentence=SimpleNamespace(char_start=len(text), char_end=2 * len(text), line_start=1,
                                                        line_end=1, text=text))

    # names the topic's words, deep in its article, said by no other source
    restating = unit("the dam collapse in the Carlow valley was discussed again", [1.0, 0.0, 0.0, 0.0], 0.9, 0.2, 30)
    # an article's second sentence, which other sources report too, in other words than the topic's
    lead = unit("forty families moved into temporary homes in Ardee on Monday", [0.0, 1.0, 0.0, 0.0], 0.4, 0.9, 1)
    units = [restating, lead]
    novelty = dict(zip(map(id, units), earlier.novelties(units)))
    briefing = Briefing(topic=STORY, engine="extractive", settings_hash="x")
    new_since.new_facts(briefing, units, earlier, novelty, limit=1)
    assert [p.text for p in briefing.key_facts] == [lead.text]


def _fact_unit(text, vector, centrality, source=None):
    from types import SimpleNamespace

    import numpy as np

    v = np.asarray(vector, dtype=np.float32)
    return SimpleNamespace(text=text, vector=v / np.linalg.norm(v), relevance=1.0, score=centrality,
                           centrality=centrality, position=0, terms=set(text.lower().split()), twins=[],
                           source=source or text, episode=None,
                           chunk=SimpleNamespace(source="after_1.md", title=None, date=None, outlet=None),
                           sentence=SimpleNamespace(char_start=len(text), char_end=2 * len(text), line_start=1,
                                                    line_end=1, text=text))


def test_a_new_thing_several_new_articles_report_comes_before_one_only_one_states():
    import numpy as np

    from rag.brief import new_since
    from rag.models import Briefing

    earlier = new_since._EarlierMaterial(np.asarray([[0.0, 0.0, 1.0]], dtype=np.float32), set(), dt.date(2022, 10, 17))
    single = _fact_unit("a striking detail that only one report gives", [1.0, 0.0, 0.0], 0.9)
    for same_article in (False, True):
        reported = _fact_unit("the inquiry opens on Monday in the town hall", [0.0, 1.0, 0.0], 0.6, "a.md")
        again = _fact_unit("on Monday the public inquiry opens at the hall", [0.0, 0.95, 0.3], 0.5,
                           "a.md" if same_article else "b.md")
        units = [single, reported, again]
        novelty = dict(zip(map(id, units), earlier.novelties(units)))
        briefing = Briefing(topic=STORY, engine="extractive", settings_hash="x")
        new_since.new_facts(briefing, units, earlier, novelty, limit=1)
        # news value 0.8 x 1.5 for two articles beats 0.95; two sentences of one article are no corroboration
        assert [p.text for p in briefing.key_facts] == [single.text if same_article else reported.text]


def test_the_number_of_new_facts_grows_with_the_distinct_new_things():
    import numpy as np

    from rag.brief import new_since
    from rag.models import Briefing

    dims = 81
    earlier = new_since._EarlierMaterial(np.eye(dims, dtype=np.float32)[-1:], set(), dt.date(2022, 10, 17))
    # one per distinct new thing up to NEW_FACTS_EACH (24), then one for every two
    for distinct, expected in ((6, 6), (30, new_since.NEW_FACTS_EACH), (80, 40)):
        units = [_fact_unit(f"thing{i} happened with detail{i} and figure{i}", np.eye(dims)[i], 0.5)
                 for i in range(distinct)]
        novelty = dict(zip(map(id, units), earlier.novelties(units)))
        briefing = Briefing(topic=STORY, engine="extractive", settings_hash="x")
        new_since.new_facts(briefing, units, earlier, novelty)
        assert len(briefing.key_facts) == expected


def test_the_trace_is_filled_only_when_asked_and_changes_nothing(story):
    from rag.brief.new_since import Trace, brief_new_since
    from rag.retrieval import Filters

    since = dt.date(2022, 10, 17)
    plain = brief_new_since(story, STORY, Filters(), "extractive", since=since)
    trace = Trace()
    traced = brief_new_since(story, STORY, Filters(), "extractive", since=since, trace=trace)
    assert trace.read and trace.fresh and trace.on_topic and trace.sections["key facts"]
    assert len(trace.fresh) <= len(trace.read) and trace.limit >= 1
    assert _text(traced) == _text(plain)
