"""A small synthetic news feed for the workspace tests: many articles, several outlets and
dates, so that paging, sorting and filtering have something to tell apart (hash embedder)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

OUTLETS = ("Harbour Times", "Island Post", "Coast Wire")
START = dt.date(2022, 6, 1)


def article(i: int) -> dict:
    day = START + dt.timedelta(days=i % 20)
    story = "Ferry Union" if i % 4 == 0 else "Port Authority"
    return {
        "id": f"a{i:03d}", "source": OUTLETS[i % len(OUTLETS)], "date": day.isoformat(),
        "title": f"Dispatch {i:03d}: the {story} on day {i % 20}",
        "text": (f"The {story} met on {day:%B} {day.day} in Harbourtown. "
                 f"Officials of the {story} said {i} ferries sailed that week. " * (1 + i % 4)),
    }


def write_feed(corpus: Path, n: int = 60) -> Path:
    path = corpus / "feed.jsonl"
    path.write_text("".join(json.dumps(article(i)) + "\n" for i in range(n)), encoding="utf-8")
    return path
