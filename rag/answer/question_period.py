"""The recent period a question asks about, read against its as-of date: the answerability
gate's test of time.

"The IRS announced it will do what this week?", asked as of 2022-06-23, is about the week of
June 20; a context whose only passage on the IRS is from January speaks to the topic, not to
the question, and a small model answers from it anyway ("... will begin processing 2021 tax
returns as soon as Jan. 24"). So when the question names a recent period relative to the day it
is asked ("this week", "last week", "today", "yesterday", "this month", a weekday: "died
Sunday") and an as-of date is given, the gate's coverage is measured over the passages of
articles published since the period began (less SLACK: a week's news is reported from the
days before it, and a quiz week runs from Friday to Thursday).

Only periods of at most a month, and only with an as-of date: read against today instead, an
old corpus would refuse everything. Absolute dates ("in 2014", "June 13") date the event, not
the reporting, so they never narrow the gate.
SLACK was chosen on the tune half (bench/llm_gate.py; 1 to 7 days tie there).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from rag.answer.answerability import Coverage, question_coverage
from rag.answer.context import Context
from rag.text.dates import find_date_mentions, resolve_mention

SLACK = dt.timedelta(days=3)
MAX_SPAN = dt.timedelta(days=31)
_KINDS = ("relative", "weekday")


@dataclass(frozen=True)
class QuestionPeriod:
    phrase: str  # as the question writes it
    start: dt.date  # the period's first day
    as_of: dt.date

    @property
    def since(self) -> dt.date:
        return self.start - SLACK

    def holds(self, date: dt.date | None) -> bool:
        return date is not None and self.since <= date <= self.as_of


def question_period(question: str, as_of: dt.date | None) -> QuestionPeriod | None:
    """The first recent period the question names, resolved against `as_of` (None without one)."""
    if as_of is None:
        return None
    for mention in find_date_mentions(question):
        if mention.kind not in _KINDS:
            continue
        resolved = resolve_mention(mention, as_of)
        if resolved is None or resolved.start > as_of or resolved.end - resolved.start > MAX_SPAN:
            continue
        return QuestionPeriod(mention.text, resolved.start, as_of)
    return None


def period_coverage(question: str, context: Context, period: QuestionPeriod) -> Coverage:
    """The question's coverage over the context's passages of articles published in the period."""
    recent = [s for s in context.sources if period.holds(s.chunk.date)]
    return question_coverage(question, Context(recent, "")) if recent else Coverage(0.0, ())


def period_reason(cover: Coverage, period: QuestionPeriod, threshold: float) -> str:
    said = (f"the question asks about {period.phrase!r}, read against the as-of date {period.as_of.isoformat()}: "
            f"articles published since {period.since.isoformat()}")
    if cover.source is None and not cover.missing:
        return f"no retrieved passage is from the period {said}"
    return f"{said}; " + cover.reason(threshold)
