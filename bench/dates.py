"""Date parsing on hand-labelled benchmark sentences: rag.text.dates against dateparser.

`python -m bench.dates` reads bench/labels/dates.jsonl (210 sentences of the benchmark
articles, found by article id and character offsets, never copied) and scores two parsers on
the same sentences, each given the article's publication date:

- rag: `find_date_mentions` + `resolve_mention` for each expression, `event_date` for the
  sentence (the expression its event is about);
- rag's expressions (with their tense and the same event choice), each resolved by
  `dateparser.parse` instead, to separate finding expressions from resolving them;
- dateparser 1.5: `search_dates` with RELATIVE_BASE = the publication date and
  PREFER_DATES_FROM = "future" when the sentence is in the future tense (will, 'll, set to,
  scheduled, expected to, due to, upcoming), else "past"; its first date dates the sentence.

Scores:
- expressions: a labelled expression is right when an output overlapping it gives its date;
  `spurious` counts outputs that overlap no labelled expression (a date read into "may" or a
  name). rag must give a labelled range or month exactly; dateparser returns a point, which
  counts as right anywhere inside a labelled range, month, week or year (lenient to it);
- events: the sentence's date equals its labelled event date (`null`: the sentence states no
  date for its event, and the right output is none); `?` labels are not scored.
Two label files:
- bench/labels/dates.jsonl (round 1, 210 sentences): split into halves by article (sha1 of the
  id, even = tune); rules were written looking at its tune half. Most of its articles predate
  the quiz weeks; `weeks` shows where each falls in the benchmark's quiz-week split
  (bench/split.toml: an article belongs to the quiz week whose seven days end on or after its
  date). These labels were also read while the briefing cases' stories were debugged, so
  neither of its halves is fully unseen.
- bench/labels/dates_check.jsonl (round 2, 80 sentences, held out): one random sentence with a
  date cue from each of 80 random articles of the *check* quiz weeks, none of them an article of
  the eight briefing cases' stories, labelled by reading (never from a parser's output) before
  any round-2 change, and never used to choose a rule. Its score is the unseen-data figure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import re
import sys
from collections import defaultdict
from pathlib import Path

from bench.data import DATA, load_articles

LABELS = Path(__file__).with_name("labels") / "dates.jsonl"
HELD_OUT = Path(__file__).with_name("labels") / "dates_check.jsonl"
_FUTURE = re.compile(r"\b(will|won['’]t|shall|set to|scheduled|expected to|due to|upcoming|going to)\b|['’]ll\b", re.IGNORECASE)


def half(article_id: str) -> str:
    return "tune" if int(hashlib.sha1(article_id.encode()).hexdigest(), 16) % 2 == 0 else "check"


def quiz_half(published: dt.date) -> str:
    """The half of the quiz week whose seven days hold `published` (bench/split.toml), or
    'before' / 'after' the quiz weeks."""
    from bench.split import weeks

    table = {dt.date(int(w[:4]), int(w[4:6]), int(w[6:])): h for w, h in weeks().items()}
    for week in sorted(table):
        if week - dt.timedelta(days=7) < published <= week:
            return table[week]
    return "before" if published <= min(table) else "after"


def label_range(label: str) -> tuple[dt.date, dt.date]:
    if "/" in label:
        a, b = label.split("/")
        return dt.date.fromisoformat(a), dt.date.fromisoformat(b)
    parts = [int(p) for p in label.split("-")]
    if len(parts) == 3:
        day = dt.date(*parts)
        return day, day
    if len(parts) == 2:
        start = dt.date(parts[0], parts[1], 1)
        following = dt.date(parts[0] + (parts[1] == 12), parts[1] % 12 + 1, 1)
        return start, following - dt.timedelta(days=1)
    return dt.date(parts[0], 1, 1), dt.date(parts[0], 12, 31)


def right(output, label: str | None) -> bool:
    """Does `output` ((start, end) for rag, a date for dateparser, or None) give `label`?"""
    if label is None or output is None:
        return label is None and output is None
    start, end = label_range(label)
    if isinstance(output, tuple):
        return output == (start, end)
    return start <= output <= end


def rag_outputs(text: str, published: dt.date):
    from rag.text.dates import event_date, find_date_mentions, resolve_mention

    spans = []
    for m in find_date_mentions(text):
        r = resolve_mention(m, published)
        spans.append((m.start, m.end, (r.start, r.end) if r else None))
    found = event_date(text, published)
    return spans, ((found[1].start, found[1].end) if found else None)


def dateparser_outputs(text: str, published: dt.date):
    from dateparser.search import search_dates

    settings = {"RELATIVE_BASE": dt.datetime.combine(published, dt.time(12)),
                "PREFER_DATES_FROM": "future" if _FUTURE.search(text) else "past",
                "RETURN_AS_TIMEZONE_AWARE": False, "PREFER_DAY_OF_MONTH": "first"}
    found = search_dates(text, languages=["en"], settings=settings) or []
    spans, at = [], 0
    for phrase, when in found:
        start = text.find(phrase, at)
        if start < 0:
            start = text.find(phrase)
        at = max(at, start + len(phrase))
        spans.append((start, start + len(phrase), when.date()))
    return spans, (spans[0][2] if spans else None)


def hybrid_outputs(text: str, published: dt.date):
    """rag's expressions (and tense, and event choice), each resolved by dateparser.parse."""
    import dateparser

    from rag.text.dates import event_mention, find_date_mentions

    def parse(m):
        settings = {"RELATIVE_BASE": dt.datetime.combine(published, dt.time(12)),
                    "PREFER_DATES_FROM": "future" if m.tense == "future" else "past",
                    "RETURN_AS_TIMEZONE_AWARE": False, "PREFER_DAY_OF_MONTH": "first"}
        when = dateparser.parse(m.text, languages=["en"], settings=settings)
        return when.date() if when else None

    mentions = find_date_mentions(text)
    spans = [(m.start, m.end, parse(m)) for m in mentions]
    event = next((d for m in event_mention(mentions) if (d := parse(m)) is not None), None)
    return spans, event


SYSTEMS = {"rag.text.dates": rag_outputs, "dateparser 1.5 (search_dates)": dateparser_outputs,
           "rag's expressions resolved by dateparser.parse": hybrid_outputs}


def score(system, rows: list[dict], texts: dict[str, str], dates: dict[str, dt.date], held_out: bool = False) -> dict:
    tally: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    misses = []
    for row in rows:
        text = texts[row["article"]][row["start"]:row["end"]]
        spans, event = system(text, dates[row["article"]])
        part = "held-out" if held_out else half(row["article"])
        groups = [("all", row), (part, row), (f"weeks:{quiz_half(dates[row['article']])}", row),
                  (f"kind:{row['kind']}", row)]
        claimed = set()
        for m in row["mentions"]:
            at = text.find(m["text"])
            lo, hi = at, at + len(m["text"])
            overlapping = [(i, out) for i, (s, e, out) in enumerate(spans) if s < hi and lo < e]
            claimed |= {i for i, _ in overlapping}
            ok = any(right(out, m["date"]) for _, out in overlapping)
            for name, _ in groups:
                tally[name]["mentions"] += 1
                tally[name]["mentions_right"] += ok
            if not ok:
                misses.append(f"{row['article']}@{row['start']} {m['text']!r}: want {m['date']}, got "
                              f"{[str(o) for _, o in overlapping] or 'nothing'}")
        spurious = len([i for i in range(len(spans)) if i not in claimed])
        for name, _ in groups:
            tally[name]["spurious"] += spurious
        if row["event"] != "?":
            ok = right(event, row["event"])
            for name, _ in groups:
                tally[name]["events"] += 1
                tally[name]["events_right"] += ok
            if not ok:
                misses.append(f"{row['article']}@{row['start']} event: want {row['event']}, got {event}")
    return {"tally": {k: dict(v) for k, v in tally.items()}, "misses": misses}


def load(data: Path, labels: Path = LABELS) -> tuple[list[dict], dict[str, str], dict[str, dt.date]]:
    rows = [json.loads(line) for line in labels.read_text().splitlines() if line.strip()]
    wanted = {r["article"] for r in rows}
    articles = [a for a in load_articles(data) if a["id"] in wanted]
    texts = {a["id"]: a["text"] for a in articles}
    dates = {a["id"]: dt.date.fromisoformat(a["date"].replace("/", "-")) for a in articles}
    return rows, texts, dates


def table(results: dict[str, dict], parts=("tune", "check", "all")) -> list[str]:
    lines = ["| Parser | Labels | Expressions right | Spurious dates | Sentence (event) dates right |",
             "|---|---|---|---|---|"]
    for name, result in results.items():
        for part in parts:
            t = result["tally"].get(part, {})
            if not t:
                continue
            lines.append(f"| {name} | {part} | {t['mentions_right']}/{t['mentions']} = "
                         f"{t['mentions_right'] / t['mentions']:.3f} | {t['spurious']} | "
                         f"{t['events_right']}/{t['events']} = {t['events_right'] / t['events']:.3f} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.dates", description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--misses", action="store_true", help="list every wrong expression and event")
    parser.add_argument("--half", choices=("tune", "check"), help="only this half's misses")
    parser.add_argument("--system", choices=list(SYSTEMS), action="append", help="default: both")
    args = parser.parse_args(argv)
    rows, texts, dates = load(args.data)
    names = args.system or list(SYSTEMS)
    results = {name: score(SYSTEMS[name], rows, texts, dates) for name in names}
    print("Round-1 labels (bench/labels/dates.jsonl), by sha1 half and by quiz-week half of the article:")
    print("\n".join(table(results, ("tune", "check", "all", "weeks:before", "weeks:tune", "weeks:check"))))
    held_rows, held_texts, held_dates = load(args.data, HELD_OUT)
    held = {name: score(SYSTEMS[name], held_rows, held_texts, held_dates, held_out=True) for name in names}
    print("\nHeld-out labels (bench/labels/dates_check.jsonl, check quiz weeks, never used to choose a rule):")
    print("\n".join(table(held, ("held-out",))))
    if args.misses:  # the held-out file's misses are never listed: looking at them would tune on it
        for name, result in results.items():
            print(f"\n## {name}")
            for miss in result["misses"]:
                if args.half is None or half(miss.split("@", 1)[0]) == args.half:
                    print(miss)
    return 0


if __name__ == "__main__":
    sys.exit(main())
