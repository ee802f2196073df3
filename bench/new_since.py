"""What is new since (issue 17): the before/after briefing cases of evals/bench/new_since.yaml.
Each is briefed with `--new-since` its cutoff (the after set: up to its `until`); the new facts
it should state and the old facts it should leave out are counted as the eval counts facts.

    python -m bench.new_since --store STORE [--cases FILE] [--engine extractive] [--out bench/out/new_since.json]

Targets: >= 0.80 of the new facts appear, <= 0.10 of the old ones do. Beside each case, the
same topic briefed over the after set *without* --new-since (everything up to `until`): how much
old material an ordinary briefing repeats. Off the story: for a case whose id line carries a
`# key: REGEX` comment (the regex its writer used to find the story's articles), the share of
the briefing's items whose first citation is an article that does not write the key (an article
off the story came in; a round-up's other stories are not caught, as a round-up writes the key).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "evals" / "bench" / "new_since.yaml"


def main() -> None:
    from rag.api import Rag
    from rag.eval.cases import load_case_file
    from rag.eval.scorers._briefing import briefing_parts
    from rag.eval.scorers._facts import fact_recall
    from rag.retrieval import Filters
    from rag.settings import Settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--engine", default="extractive")
    parser.add_argument("--cases", type=Path, default=CASES, help="a case file (default: evals/bench/new_since.yaml)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "new_since.json")
    args = parser.parse_args()
    rag = Rag(Settings(store_dir=args.store, engine=args.engine))
    keys = story_keys(args.cases)
    rows = []
    started = time.perf_counter()
    try:
        cases = load_case_file(args.cases)
        for case in cases:
            filters = Filters(until=case.until)
            clock = time.perf_counter()
            new = rag.brief(case.topic, filters, new_since=case.new_since)
            seconds = time.perf_counter() - clock
            plain = rag.brief(case.topic, filters)
            row = {"id": case.id, "seconds": round(seconds, 2)}
            for name, briefing in (("new_since", new), ("plain", plain)):
                text, _ = briefing_parts(briefing.model_dump(mode="json"))
                found, old = fact_recall(case.facts, text), fact_recall(case.old_facts, text)
                row[name] = {"new_facts": found.value, "old_facts": old.value, "new": found.explanation,
                             "old": old.explanation, "citations": len(briefing.citations), "items": _items(briefing),
                             "words": len(text.split()), "new_articles": len(briefing.new_articles)}
                if case.id in keys:
                    row[name]["off_story"] = off_story(rag.store, briefing, keys[case.id])
            rows.append(row)
    finally:
        rag.close()
    n = len(rows)
    summary = {name: {"new_fact_share": round(sum(r[name]["new_facts"] for r in rows) / n, 3),
                      "new_fact_share_ci95": bootstrap_ci([r[name]["new_facts"] for r in rows]),
                      "facts_found": sum(int(r[name]["new"].split("/")[0]) for r in rows),
                      "facts": sum(len(c.facts) for c in cases),
                      "old_fact_share": round(sum(r[name]["old_facts"] for r in rows) / n, 3),
                      "mean_items": round(sum(r[name]["items"] for r in rows) / n, 1),
                      "mean_words": round(sum(r[name]["words"] for r in rows) / n),
                      "off_story_items": _off_story_share([r[name].get("off_story") for r in rows])}
               for name in ("new_since", "plain")}
    result = {"cases": n, "case_file": str(args.cases.relative_to(ROOT) if args.cases.is_absolute() and args.cases.is_relative_to(ROOT) else args.cases), "engine": args.engine, "summary": summary, "rows": rows,
              "seconds": round(time.perf_counter() - started, 1), "load_average": round(os.getloadavg()[0], 1),
              "target_met": summary["new_since"]["new_fact_share"] >= 0.8
              and summary["new_since"]["old_fact_share"] <= 0.1}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


def bootstrap_ci(values: list[float], resamples: int = 10_000, seed: int = 0) -> list[float]:
    """A 95% percentile interval of the mean over cases (cases resampled with replacement): with
    a handful of cases it is wide, and says how little one case file can tell."""
    rng = random.Random(seed)
    means = sorted(sum(rng.choices(values, k=len(values))) / len(values) for _ in range(resamples))
    return [round(means[int(0.025 * resamples)], 3), round(means[int(0.975 * resamples) - 1], 3)]


def _items(briefing) -> int:
    """What the reader reads: summary sentences, key facts, what each new article adds, timeline
    entries and quotes."""
    return (len(briefing.summary) + len(briefing.key_facts) + sum(len(a.points) for a in briefing.new_articles)
            + len(briefing.timeline) + len(briefing.quotes))


def story_keys(path: Path) -> dict[str, re.Pattern]:
    """case id -> its story key, from `- id: ID  # key: REGEX` lines of the case file."""
    found = re.findall(r"^\s*- id:\s*(\S+)\s*#\s*key:\s*(.+?)\s*$", path.read_text(encoding="utf-8"), re.MULTILINE)
    return {case: re.compile(key, re.IGNORECASE) for case, key in found}


def off_story(store, briefing, key: re.Pattern) -> list[int]:
    """[items whose first citation's article does not write the story key, items cited]."""
    by_n = {c.n: c.source for c in briefing.citations}
    items = (briefing.summary + briefing.key_facts + [p for a in briefing.new_articles for p in a.points]
             + briefing.timeline + briefing.quotes)
    sources = [by_n.get(item.citations[0]) for item in items if item.citations]
    writes = {s: bool(key.search(store.docs.raw(s) or "")) for s in set(sources) if s}
    return [sum(not writes.get(s, False) for s in sources), len(sources)]


def _off_story_share(counts: list) -> float | None:
    counts = [c for c in counts if c]
    return round(sum(c[0] for c in counts) / max(1, sum(c[1] for c in counts)), 3) if counts else None


if __name__ == "__main__":
    main()
