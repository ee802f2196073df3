"""Why a new-since briefing misses the new facts it misses (issue 17): each expected fact of a
case file followed through the steps of the extractive briefing (rag.brief.new_since.Trace).

    python -m bench.new_since_diagnose --store STORE [--cases FILE] [--categories-only]

Per fact, the first step that loses it:
- not in the after set: no article dated after the cutoff (up to `until`) writes it;
- not retrieved: no article retrieved for the topic writes it (the briefing reads those whole);
- not read: a retrieved article writes it, but not in a sentence the briefing reads as a candidate
  (a chunk past the chunk cap, a furniture kind, a fragment or run-on, a caption);
- old before selection: its sentence is in the earlier articles' pool (rag.text.sameness, with
  rag.brief.particulars);
- off the topic: under the on-topic bar (ON_TOPIC of the best relevance);
- not chosen, not new: neither picked by the briefing nor a new-fact candidate (no new name or
  number, not far from the earlier material);
- beyond its article's share: a new statement of an article whose share of the digest
  (rag.brief.new_since_digest.SHARE, or less under DIGEST_MAX) was filled before the article came to it (its place in the
  article's new statements, how many were shown);
- refused by the repeat tests: reached within its article's share, refused as a near-repeat or twin;
- old after selection: chosen, then dropped by the final test against the earlier material;
and, for a fact found, where: the briefing's own selection or what a new article adds (with rank).
`--categories-only` prints the counts per cause and nothing about which fact (for held-out sets:
read as categories, never as rules).
"""

from __future__ import annotations

import argparse
import collections
import json
from pathlib import Path

from bench.new_since import CASES
from rag.brief.new_since_digest import article_share


def main() -> None:
    from rag.api import Rag
    from rag.brief.new_since import Trace, brief_new_since
    from rag.eval.cases import load_case_file
    from rag.eval.normalize import phrase_finder
    from rag.eval.scorers._briefing import briefing_parts
    from rag.retrieval import Filters
    from rag.settings import Settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--cases", type=Path, default=CASES)
    parser.add_argument("--categories-only", action="store_true")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    rag = Rag(Settings(store_dir=args.store, engine="extractive"))
    causes: collections.Counter[str] = collections.Counter()
    rows = []
    try:
        for case in load_case_file(args.cases):
            trace = Trace()
            filters = Filters(until=case.until)
            briefing = brief_new_since(rag, case.topic, filters, "extractive", since=case.new_since, trace=trace)
            text, _ = briefing_parts(briefing.model_dump(mode="json"))
            after = _after_set(rag.store, case.new_since, case.until)
            for phrasings in case.facts:
                cause, detail = _follow(phrasings, text, trace, after, rag.store, phrase_finder)
                causes[cause] += 1
                rows.append({"case": case.id, "fact": phrasings[0], "cause": cause, "detail": detail})
            rows.append({"case": case.id, "items": len(trace.before_drop), "extras": len(trace.extras),
                         "offered": len(trace.offered), "read": len(trace.read),
                         "fresh": len(trace.fresh), "on_topic": len(trace.on_topic)})
    finally:
        rag.close()
    result = {"case_file": str(args.cases), "causes": dict(causes.most_common())}
    if not args.categories_only:
        result["rows"] = rows
    if args.out:
        args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


def _after_set(store, cutoff, until) -> dict[str, str]:
    """source -> raw text of the articles dated after the cutoff, up to `until`."""
    out = {}
    for article in store.docs.articles():
        if article.date is not None and cutoff < article.date and (until is None or article.date <= until):
            out[article.source] = store.docs.raw(article.source) or ""
    return out


def _follow(phrasings, text, trace, after, store, phrase_finder) -> tuple[str, str]:
    def has(t: str) -> bool:
        finder = phrase_finder(t)
        return any(finder(p) for p in phrasings)

    def holding(units):
        return [u for u in units if has(u.text)]

    if has(text):
        extra = [i for i, u in enumerate(trace.extras) if has(u.text)]
        if extra:
            return "found", f"what a new article adds, #{extra[0] + 1} of {len(trace.extras)}"
        sections = [name for name, texts in trace.sections.items() if any(has(t) for t in texts)]
        return "found", "the briefing's selection: " + ", ".join(sections)
    writers = [s for s, raw in after.items() if has(raw)]
    if not writers:
        return "not in the after set", ""
    read_sources = {u.source for u in trace.read}
    if not read_sources & set(writers):
        return "not retrieved", f"{len(writers)} after-set article(s) write it"
    if not holding(trace.read):
        chunks = {(u.source, u.chunk.ordinal) for u in trace.read}
        return "not read", _why_unread(store, [s for s in writers if s in read_sources], has, chunks)
    if not holding(trace.fresh):
        return "old before selection", holding(trace.read)[0].text[:120]
    on_topic = holding(trace.on_topic)
    if not on_topic:
        best = max((u.relevance for u in trace.fresh), default=0.0) or 1.0
        return "off the topic", f"relevance {max(u.relevance for u in holding(trace.fresh)) / best:.2f} of the best"
    if any(has(t) for t in trace.before_drop):
        return "old after selection", ""
    ranks = [i for i, u in enumerate(trace.offered) if has(u.text)]
    if not ranks:
        return "not chosen, not new", on_topic[0].text[:120]
    unit = trace.offered[ranks[0]]
    mine = sorted((u for u in trace.offered if u.source == unit.source), key=lambda u: (u.position, u.sentence.char_start))
    at = next(i for i, u in enumerate(mine) if u is unit)
    shown = sum(u in trace.extras for u in mine)
    # the digest walks an article's statements in order until its share is filled: the fact was
    # reached (and refused as a repeat) when fewer than the share were chosen before it
    before = sum(any(u is x for x in trace.extras) for u in mine[:at])
    if before >= article_share(trace.share, len(mine)):
        return "beyond its article's share", f"#{at + 1} of its article's {len(mine)} new statements, {shown} shown"
    return "refused by the repeat tests", f"#{at + 1} of its article's {len(mine)}, {before} shown before it"


def _why_unread(store, sources: list[str], has, chunks: set) -> str:
    """Where a retrieved article writes the fact: which sentence kind, or a chunk not read."""
    for source in sources:
        for chunk in store.docs.chunks_of(source):
            for sentence in chunk.sentences:
                if has(sentence.text):
                    words = len(sentence.text.split())
                    read = "read" if (source, chunk.ordinal) in chunks else "not read"
                    return f"kind {sentence.kind}, {words} words, chunk {chunk.ordinal} ({read})"
    return "not in any chunk's sentences (dropped by the cleaner)"


if __name__ == "__main__":
    main()
