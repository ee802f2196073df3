"""rag.text.dates: date expressions in news sentences, resolved against the article's date.

The rules were written on the tune half of the hand-labelled benchmark sentences
(bench/labels/dates.jsonl, `python -m bench.dates`); these tests pin the general patterns, and
the parser is run over every sentence of the 2,210 benchmark articles, where it must never raise."""

import datetime as dt
import gzip
import json

import pytest
from conftest import BENCH

from rag.text.dates import event_date, find_date_mentions, resolve_mention
from rag.text.sentences import split_sentences

WED = dt.date(2022, 9, 28)  # a Wednesday


def resolved(text: str, published=WED, **kw):
    return [(m.text, r.start.isoformat(), r.end.isoformat()) if (r := resolve_mention(m, published, **kw)) else (m.text, None)
            for m in find_date_mentions(text)]


@pytest.mark.parametrize("text", [
    "The storm made landfall in Maryland on Monday.", "Officials in Marco Island said", "in Martin County",
    "the march in Nova Scotia", "Theresa May said", "It may rain", "He visited Mar-a-Lago in Augusta",
    "Junior officers in Decatur", "sales on Black Friday and Cyber Monday", "USA TODAY reported", "the Today show",
])
def test_month_like_words_and_names_are_not_dates(text):
    found = [m for m in find_date_mentions(text) if m.kind != "weekday" or "Monday." in text]
    assert all(m.text.strip(".") == "Monday" for m in found), found


def test_weekdays_follow_the_tense_of_their_clause():
    assert resolved("The funeral will be held on Monday.") == [("Monday", "2022-10-03", "2022-10-03")]
    assert resolved("Nominations close at 2pm Monday.") == [("Monday", "2022-10-03", "2022-10-03")]
    assert resolved("The hurricane is set to make landfall Thursday.") == [("Thursday", "2022-09-29", "2022-09-29")]
    assert resolved("The storm hit the coast on Monday.") == [("Monday", "2022-09-26", "2022-09-26")]
    assert resolved("He said on Monday that the ruling will help.") == [("Monday", "2022-09-26", "2022-09-26")]
    # the future of a past moment: the nearest such day
    assert resolved("Crews were expected to spray Monday.") == [("Monday", "2022-09-26", "2022-09-26")]
    assert resolved("A vote was scheduled for Friday.") == [("Friday", "2022-09-30", "2022-09-30")]
    assert resolved("last Wednesday") == [("last Wednesday", "2022-09-21", "2022-09-21")]
    assert resolved("next Wednesday") == [("next Wednesday", "2022-10-05", "2022-10-05")]


def test_month_days_follow_tense_and_a_written_weekday():
    assert resolved("She will begin on September 4.", dt.date(2022, 7, 11))[0][1] == "2022-09-04"
    assert resolved("Festival organizers said he will perform on June 27.", dt.date(2019, 11, 18))[0][1] == "2020-06-27"
    assert resolved("It reopened on June 27.", dt.date(2019, 11, 18))[0][1] == "2019-06-27"
    assert resolved("Details: 8 p.m. Tuesday, March 19.", dt.date(2018, 12, 13))[0][1] == "2019-03-19"  # a Tuesday


def test_ranges_relative_phrases_times_and_years():
    assert resolved("Convocations will be held May 5-8.", dt.date(2021, 4, 1)) == [("May 5-8", "2021-05-05", "2021-05-08")]
    assert resolved("between Nov. 22 and Dec. 4", dt.date(2021, 4, 26))[0][1:] == ("2020-11-22", "2020-12-04")
    assert resolved("Lollapalooza will run July 31-Aug. 2 in Chicago.", dt.date(2015, 4, 5))[0][1:] == ("2015-07-31", "2015-08-02")
    assert resolved("The deadline isn't until 6 p.m. ET on Tuesday.", dt.date(2022, 8, 1))[0][1] == "2022-08-02"
    assert resolved("late last month")[0][1:] == ("2022-08-01", "2022-08-31")
    assert resolved("In October last year")[0][1:] == ("2021-10-01", "2021-10-31")
    assert resolved("two days ago")[0][1] == "2022-09-26"
    assert resolved("tonight's hearing")[0][1] == "2022-09-28"
    assert resolved("in 2016 and 2017") == [("in 2016", "2016-01-01", "2016-12-31"), ("2017", "2017-01-01", "2017-12-31")]
    assert resolved("at 7:30 p.m.") == []  # a time of day alone names no day
    assert resolved("Feb. 30 and May 45") == []


def test_the_event_date_is_the_main_clauses():
    when = event_date("She told the committee Tuesday that Giuliani told her on January 2 that they would go.", WED)
    assert when[0].text == "Tuesday"
    assert event_date("Following the Sept. 11, 2001, attacks, Congress enacted the law.", WED) is None
    assert event_date("47 states have such laws since the murder of a student in 1998, the paper reports.", WED) is None
    assert event_date("On Monday, before the administration's Thursday announcement, Newsom acted.", WED)[0].text == "Monday"
    assert event_date("GM sold 2.1 million vehicles, up from 2 million in 2019.", WED) is None
    assert event_date("Meadows handed the texts to the January 6 committee in December.", WED)[0].text == "in December"


def test_a_page_dated_by_its_first_version_keeps_a_later_month_day_in_its_year():
    # a gallery or live page dated May 21 tells of "June 16" in the past tense: this June, not last
    assert resolved("Ministers walked past destroyed buildings on June 16.", dt.date(2022, 5, 21))[0][1] == "2022-06-16"
    assert resolved("It reopened on June 27.", dt.date(2019, 11, 18))[0][1] == "2019-06-27"  # months back: still back
    # "later in October" tells a story in order: its verb decides, not "later"
    assert resolved("Later in October, the council voted to fund clinics.", dt.date(2021, 11, 12))[0][1] == "2021-10-01"
    assert resolved("Later this week the council will vote.")[0][1:] == ("2022-09-26", "2022-10-02")


def test_a_future_word_used_as_a_noun_does_not_make_the_clause_future():
    text = "She has refused to answer questions about her plans, saying on Wednesday that she never talks about travel."
    assert resolved(text, dt.date(2022, 7, 29)) == [("Wednesday", "2022-07-27", "2022-07-27")]
    assert resolved("Pelosi plans to depart Friday.", dt.date(2022, 7, 27))[0][1] == "2022-07-29"


def test_a_weekday_counted_from_another_date_is_not_read_against_the_page():
    for text in ("A judge sets the trial to begin that Friday.", "Later that Monday he left.",
                 "He returned the following Tuesday."):
        assert find_date_mentions(text) == [], text
    assert [m.text for m in find_date_mentions("Officials said that Friday was the hottest day.")] == ["Friday"]


def test_a_quotations_relative_dates_are_the_speakers_and_its_scheduled_event_dates_the_sentence():
    text = "\u201cShe will testify tomorrow,\u201d her lawyer told CNN on Tuesday."
    mention, when = event_date(text, dt.date(2022, 7, 28))  # a Thursday article: spoken on Tuesday the 26th
    assert mention.text == "tomorrow" and when.start == dt.date(2022, 7, 27)
    # other quoted dates still come after the attribution's
    said = event_date("\u201cThere were no claims prior to her claim on June 25, 2020,\u201d the statement said in July.",
                      dt.date(2020, 11, 9))
    assert said[0].text == "in July"


def test_relative_dates_say_what_they_were_read_against():
    [mention] = find_date_mentions("Rockets hit the base on Sunday.")
    r = resolve_mention(mention, WED)
    assert r.relative_to == WED and "2022-09-28" in r.basis
    [absolute] = find_date_mentions("on Jan. 3, 2020")
    assert resolve_mention(absolute, WED).relative_to is None


def test_the_parser_never_raises_on_any_benchmark_sentence():
    path = BENCH / "articles.jsonl.gz"
    if not path.exists():
        pytest.skip("benchmark articles not present (../shared/bench)")
    sentences = mentions = 0
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            article = json.loads(line)
            text = article["text"]
            published = dt.date.fromisoformat(article["date"].replace("/", "-")) if article.get("date") else None
            for span in split_sentences(text, set(range(1, text.count("\n") + 2))):
                sentence = text[span.start:span.end]
                sentences += 1
                for m in find_date_mentions(sentence):
                    mentions += 1
                    resolve_mention(m, published)
                    resolve_mention(m, None, 2022)
                event_date(sentence, published)
    assert sentences > 150_000 and mentions > 30_000


def test_accuracy_on_the_labelled_benchmark_sentences_does_not_fall():
    """A regression floor (the figures are in docs/design.md): about 0.05 under the measured."""
    from bench import dates as bench_dates

    if not (BENCH / "articles.jsonl.gz").exists():
        pytest.skip("benchmark articles not present (../shared/bench)")
    rows, texts, published = bench_dates.load(BENCH)
    tally = bench_dates.score(bench_dates.rag_outputs, rows, texts, published)["tally"]["all"]
    assert tally["mentions_right"] / tally["mentions"] >= 0.89
    assert tally["events_right"] / tally["events"] >= 0.77
    held_out = bench_dates.score(bench_dates.rag_outputs, *bench_dates.load(BENCH, bench_dates.HELD_OUT))["tally"]["all"]
    assert held_out["mentions_right"] / held_out["mentions"] >= 0.81
    assert held_out["events_right"] / held_out["events"] >= 0.74
