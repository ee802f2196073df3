"""Writing new-since cases (issue 17) from the benchmark articles, without running a briefing:
list a story's articles by date, and count where a phrasing occurs on each side of a cutoff.

    python -m bench.new_since_cases list KEY [--from DATE --to DATE]
    python -m bench.new_since_cases check KEY CUTOFF UNTIL "phrase one" "phrase two" ...

KEY is a regex (case-insensitive): the story's articles are those whose text matches it. For
`check`, a fact phrasing should occur in an after-set article (dated after CUTOFF, up to UNTIL)
and in no before-set article (dated on or before CUTOFF, of any date); an old fact the other way.
"""

from __future__ import annotations

import argparse
import collections
import re

from bench.data import DATA, load_articles


def story(articles: list[dict], key: str) -> list[dict]:
    pattern = re.compile(key, re.IGNORECASE)
    return sorted((a for a in articles if pattern.search(a["text"])), key=lambda a: _date(a))


def _date(article: dict) -> str:
    return (article.get("date") or "").replace("/", "-")


def writes(text: str, phrase: str) -> bool:
    return re.search(r"(?<!\w)" + re.escape(phrase) + r"(?!\w)", text, re.IGNORECASE) is not None


def sides(articles: list[dict], key: str, cutoff: str, until: str, phrase: str) -> tuple[int, int]:
    """(after-set articles that write the phrase, before-set articles that write it)."""
    found = [a for a in story(articles, key) if _date(a) and writes(a["text"], phrase)]
    return (sum(cutoff < _date(a) <= until for a in found), sum(_date(a) <= cutoff for a in found))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    listing = sub.add_parser("list")
    listing.add_argument("key")
    listing.add_argument("--from", dest="start", default="")
    listing.add_argument("--to", dest="end", default="9999")
    check = sub.add_parser("check")
    check.add_argument("key")
    check.add_argument("cutoff")
    check.add_argument("until")
    check.add_argument("phrases", nargs="+")
    args = parser.parse_args()
    articles = load_articles(DATA)
    if args.command == "list":
        chosen = [a for a in story(articles, args.key) if args.start <= _date(a) <= args.end]
        print(sorted(collections.Counter(_date(a) for a in chosen).items()))
        for a in chosen:
            print(_date(a), a["id"], a.get("url", "")[-80:])
        return
    for phrase in args.phrases:
        after, before = sides(articles, args.key, args.cutoff, args.until, phrase)
        print(f"{phrase!r}: after {after}, before {before}")


if __name__ == "__main__":
    main()
