"""Scoring a briefing: the facts its own prose states, its timeline's dates, its citations'
validity and the sources it cites.

Facts are looked for only in what the briefing itself says: the summary, the key facts, the
timeline (each entry's date as shown and its sentence), who said what (speaker and words) and
the disagreements (what and each side's figure). Never in the topic, the source titles, the
episode labels, the notes or the citations' quotes: a fact that is in the case's own topic or in
an article's title line would otherwise be found whatever the briefing says.

The scores read the briefing's JSON dump, the form a saved run keeps it in.
"""

from __future__ import annotations

import datetime as dt

from rag.eval.normalize import normalize
from rag.eval.scorers._citations import SourceLookup, citation_problem
from rag.eval.scorers._facts import fact_recall
from rag.eval.scorers._sources import source_recall
from rag.models import Briefing, BriefingCase, Citation, Score

_CITATION_KEYS = {"source", "line_start", "line_end", "quote"}


def briefing_prose(data: dict) -> str:
    """Everything the briefing states in its own sections, one line per item."""
    lines = [p.get("text", "") for p in data.get("summary", []) + data.get("key_facts", [])]
    lines += [p.get("text", "") for a in data.get("new_articles", []) for p in a.get("points", [])]
    lines += [f"{e.get('when', '')} {e.get('text', '')}" for e in data.get("timeline", [])]
    lines += [f"{q.get('speaker') or ''}: {q.get('words', '')}" for q in data.get("quotes", [])]
    for d in data.get("disagreements", []):
        lines.append(" ".join([d.get("about", "")] + [s.get("value", "") for s in d.get("sides", [])]))
    return "\n".join(line for line in lines if line.strip())


def briefing_citations(data) -> list[Citation]:
    """Every nested object with a source, lines and a quote."""
    citations: list[Citation] = []

    def walk(value) -> None:
        if isinstance(value, dict):
            if _CITATION_KEYS <= set(value):
                citations.append(Citation(n=value.get("n") or len(citations) + 1, source=value["source"],
                                          line_start=value["line_start"], line_end=value["line_end"],
                                          quote=value["quote"] or ""))
                return
            for v in value.values():
                walk(v)
        elif isinstance(value, (list, tuple)):
            for v in value:
                walk(v)

    walk(data)
    return citations


def briefing_parts(data) -> tuple[str, list[Citation]]:
    """(the briefing's own prose, all its citations) from its JSON-like dump."""
    return briefing_prose(data), briefing_citations(data)


def _range(label: str) -> tuple[dt.date, dt.date]:
    first, _, last = label.partition("/")
    start = dt.date.fromisoformat(first)
    return start, dt.date.fromisoformat(last) if last else start


def timeline_dates(case: BriefingCase, data: dict) -> tuple[Score, Score]:
    """(accuracy, recall). An entry about a labelled event (one of its phrasings in the entry's
    sentence; the phrasing that comes first decides between two events) is right when its date
    range is the event's. Accuracy is over such entries; recall is the share of labelled events
    some entry gives with the right date. Entries about no labelled event are not scored."""
    if not case.events:
        none = Score(value=None, explanation="no labelled event dates")
        return none, none
    labelled = [(event, _range(event.date), [normalize(p) for p in event.what]) for event in case.events]
    right, wrong, dated = 0, [], set()
    for entry in data.get("timeline", []):
        text = f" {normalize(entry.get('text', ''))} "
        hits = [(text.find(f" {p} "), i) for i, (_, _, phrasings) in enumerate(labelled) for p in phrasings
                if p and f" {p} " in text]
        if not hits:
            continue
        index = min(hits)[1]
        event, (start, end), _ = labelled[index]
        shown = (dt.date.fromisoformat(str(entry["date"])), dt.date.fromisoformat(str(entry.get("end") or entry["date"])))
        if shown == (start, end):
            right += 1
            dated.add(index)
        else:
            wrong.append(f"[{event.what[0]}] shown {entry.get('when')}, labelled {event.date}")
    scored = right + len(wrong)
    if scored:
        accuracy = Score(value=right / scored, explanation=f"{right}/{scored} entries about labelled events dated "
                         "right" + (f"; wrong: {'; '.join(wrong[:5])}" if wrong else ""))
    else:
        accuracy = Score(value=None, explanation="no timeline entry is about a labelled event")
    missing = [labelled[i][0].what[0] for i in range(len(labelled)) if i not in dated]
    recall = Score(value=len(dated) / len(labelled), explanation=f"{len(dated)}/{len(labelled)} labelled events on "
                   "the timeline with their date" + (f"; not: {'; '.join(missing[:5])}" if missing else ""))
    return accuracy, recall


def score_briefing(case: BriefingCase, briefing: Briefing, lookup: SourceLookup) -> dict[str, Score]:
    """Scores for one briefing."""
    data = briefing.model_dump(mode="json")
    text, citations = briefing_parts(data)
    problems = [f"{c.source}:{c.line_start}-{c.line_end}: {p}" for c in citations if (p := citation_problem(c, lookup))]
    if citations:
        validity = Score(value=1 - len(problems) / len(citations),
                         explanation=f"{len(citations) - len(problems)}/{len(citations)} citations verbatim at their lines"
                         + (f"; {'; '.join(problems[:5])}" if problems else ""))
    else:
        validity = Score(value=0.0, explanation="the briefing cites nothing")
    accuracy, recall = timeline_dates(case, data)
    scores = {
        "fact_recall": fact_recall(case.facts, text),
        "citation_validity": validity,
        "source_recall_cited": source_recall(case.sources, [c.source for c in citations], "cited"),
        "timeline_date_accuracy": accuracy,
        "timeline_event_recall": recall,
    }
    if case.old_facts:  # --new-since: what the earlier articles already said should be left out
        repeated = fact_recall(case.old_facts, text)
        scores["old_facts_left_out"] = Score(value=1 - repeated.value,
                                             explanation=f"repeated {repeated.explanation.split(';')[0]} old facts")
    return scores
