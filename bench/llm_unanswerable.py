"""The unanswerable questions of `make bench-llm`, and the hand check that keeps their rate honest.

A variant question is a benchmark question asked of a corpus without the articles that answer it.
Two corpora are made, both from the whole benchmark, never from a result:
- "rest" (bench.data.unanswerable_split): without every question's gold articles; its questions
  are those whose answer string no remaining article holds;
- "strict": "rest" also without each article that holds the answer string of a question that at
  most RARE articles of "rest" still hold; its questions are those (the answer is rare, so the
  corpus loses a few dozen articles).

Neither makes a question truly unanswerable: another article may report the same event and state
the answer in other words ("New Jersey and Oregon" for "Oregon and New Jersey"). So each variant
a person judged still answerable is listed in bench/llm_still_answerable.jsonl with the article
line that answers it:

    {"set": "unanswerable", "id": "20220624_3", "source": "articles.jsonl#ab12", "line": 14,
     "states": "New Jersey and Oregon", "note": "why this is the gold answer"}

`verify` checks every entry against the variant's corpus: the article is in it, the line exists and
contains `states` (whitespace and case aside). `states` is the answer as the article words it; that
it means the gold answer is the person's judgement, written in `note`. A variant listed there is
reported as answerable; the refusal rate is given over all variants (raw) and over the rest.
"""

from __future__ import annotations

import json
import random

from bench import data as bench_data
from bench import split
from bench.metrics import contains, normalise

RARE = 3  # a "strict" question: its answer string is in 1..RARE articles of "rest"
STILL_ANSWERABLE = bench_data.ROOT / "bench" / "llm_still_answerable.jsonl"
TUNE_SAMPLE = 20
SAMPLE_SEED = 16

# set name -> (half, corpus name); "main" is the whole benchmark corpus.
UNANSWERABLE_SETS = {"unanswerable": ("check", "unanswerable"), "unanswerable-strict": ("check", "strict"),
                     "tune-unanswerable": ("tune", "unanswerable"), "tune-unanswerable-strict": ("tune", "strict")}


def strict_split(rest: list[dict], questions: list[dict], blind: list[dict]) -> tuple[list[dict], list[dict]]:
    """("strict" corpus, its questions): see the module doc."""
    blind_ids = {q["id"] for q in blind}
    texts = {a["id"]: normalise(f"{a.get('title') or ''}\n{a['text']}") for a in rest}
    drop, chosen = set(), []
    for q in questions:
        if q["id"] in blind_ids:
            continue
        holding = {i for i, t in texts.items() if contains(t, q["answer"], normalised=True)}
        if 1 <= len(holding) <= RARE:
            drop |= holding
            chosen.append(q)
    return [a for a in rest if a["id"] not in drop], chosen


def corpora_and_sets(articles: list[dict], questions: list[dict]) -> tuple[dict[str, list[dict]], dict[str, list[dict]]]:
    """corpus name -> articles, and every unanswerable or tune set name -> its questions."""
    rest, blind = bench_data.unanswerable_split(articles, questions)
    strict, rare = strict_split(rest, questions, blind)
    pools = {"unanswerable": blind, "strict": rare}
    sets = {name: split.select(pools[corpus], half) for name, (half, corpus) in UNANSWERABLE_SETS.items()}
    tune = split.select(questions, "tune")
    chosen = {q["id"] for q in random.Random(SAMPLE_SEED).sample(tune, TUNE_SAMPLE)}
    sets["tune"] = [q for q in tune if q["id"] in chosen]
    return {"unanswerable": rest, "strict": strict}, sets


def still_answerable() -> list[dict]:
    if not STILL_ANSWERABLE.exists():
        return []
    return [json.loads(line) for line in STILL_ANSWERABLE.read_text(encoding="utf-8").splitlines() if line.strip()]


def verify(entries: list[dict], line_of) -> tuple[set[tuple[str, str]], list[str]]:
    """(set, id) of the entries whose cited line holds what they say, and one problem per other entry.
    `line_of(set, source, line)` gives the text of that line of the variant's corpus, or None."""
    good, problems = set(), []
    for e in entries:
        text = line_of(e["set"], e["source"], e["line"])
        if text is None:
            problems.append(f"{e['set']}/{e['id']}: {e['source']}:{e['line']} is not in the variant's corpus")
        elif not contains(text, e["states"]):
            problems.append(f"{e['set']}/{e['id']}: {e['source']}:{e['line']} does not say {e['states']!r}")
        else:
            good.add((e["set"], e["id"]))
    return good, problems

