"""Answers dated: when the evidence of an answer was published, and a running figure's latest value first.

Both engines' answers pass through `date_answer` (in rag.api.Rag.ask), so the CLI, the JSON and
the web page state the same range: "as of 2022-10-21, from 3 articles dated 2022-10-17…2022-10-20".
`as_of` is the --as-of date when one was given (nothing published after it was retrieved),
else the latest publication date of the cited articles.

A running figure (a death toll, a count: the shared finder's `tally` conflicts, rag/answer/
conflicts.py) leads the answer with its latest dated value: the sentence that gives the figure
marked `latest` moves to the front and is flagged, so a reader sees the current figure before
the earlier ones.
"""

from __future__ import annotations

import datetime as dt

from rag.answer.citations import render_answer_text
from rag.models import Answer, EvidenceDates


def date_answer(answer: Answer, as_of: dt.date | None = None) -> Answer:
    """The answer with `dated` set and a running figure's latest value leading (in place)."""
    answer.dated = evidence_dates(answer, as_of)
    _lead_with_latest(answer)
    return answer


def evidence_dates(answer: Answer, as_of: dt.date | None = None) -> EvidenceDates | None:
    """The date range of the cited articles; None for an answer that cites nothing (without --as-of)."""
    dates: dict[str, dt.date | None] = {}
    for c in answer.citations:
        dates.setdefault(c.source, c.date)
    if not dates and as_of is None:
        return None
    known = sorted(d for d in dates.values() if d is not None)
    first, last = (known[0], known[-1]) if known else (None, None)
    undated = sum(1 for d in dates.values() if d is None)
    stated = as_of or last
    return EvidenceDates(as_of=stated, first=first, last=last, articles=len(dates), undated=undated,
                         text=_text(stated, len(dates), first, last, undated))


def _text(as_of, articles: int, first, last, undated: int) -> str:
    head = f"as of {as_of.isoformat()}" if as_of else "undated"
    if not articles:
        return f"{head}: no article answers"
    plural = "article" if articles == 1 else "articles"
    if first is None:
        return f"{head}, from {articles} {plural}, none dated"
    span = first.isoformat() if first == last else f"{first.isoformat()}…{last.isoformat()}"
    if undated:
        return f"{head}, from {articles} {plural}: {articles - undated} dated {span}, {undated} undated"
    return f"{head}, from {articles} {plural} dated {span}"


def _lead_with_latest(answer: Answer) -> None:
    """Move the sentence giving a running tally's latest figure to the front, marked `latest`."""
    latest = [claim.citation for conflict in answer.conflicts if conflict.tally
              for claim in conflict.claims if claim.latest]
    if not latest or not answer.sentences:
        return
    index = next((i for i, s in enumerate(answer.sentences) if set(s.citations) & set(latest)), None)
    if index is None:
        return
    sentence = answer.sentences.pop(index)
    sentence.latest = True
    answer.sentences.insert(0, sentence)
    answer.answer = render_answer_text(answer.sentences)
