"""Would the gate answer more of the answerable tune questions if it read the evidence of more
than the lead? `python -m bench.answers_pool` (issue #12, session 9; tune only).

The engine's gate (rag/answer/answerable_score.py) reads the evidence for the lead alone. The
cause table (bench.answers_causes) puts most gate refusals on questions whose lead is weak
while other answering candidates, near it in score, come from other passages. The variant
measured here: the gate passes when any answering candidate whose score is at least RATIO of
the lead's (the pool further sentences come from: `_KEEP_RATIO`, `_ADD_RATIO`) passes it as the
lead, and that candidate then leads. For each tune question (answerable on the full index,
unanswerable on the blind and held-out stores, as of its date) it ranks once and prints false
refusals, accuracy of the chosen lead's sentence and unanswerable answered (truly unanswerable:
the hand-checked still-answerable blind questions left out), per ratio, with the deployed model.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bench.answers import OUT, isolate, question_date
from bench.answers_causes import holds, over_tune

RATIOS = (1.0, 0.9, 0.5, 0.25)


def decide(store, q: dict) -> dict:
    from rag.answer import extractive
    from rag.answer.answerable_score import answerable, evidence, support_floor
    from rag.retrieval import Filters

    settings = store.settings
    ranking = extractive.rank(store, q["question"], filters=Filters(as_of=question_date(q)))
    qa = ranking.question
    answering = [c for c in ranking.candidates if extractive._answers(c, qa)]
    support = max((extractive._support(c) for c in answering), default=0.0)
    floor = max(settings.min_support, support_floor(dated=True))
    out = {"id": q["id"], "week": q["id"].split("_")[0], "gold": q["answer"]}
    for ratio in RATIOS:
        chosen = None
        if answering and not ranking.unknown and support >= floor:
            lead = answering[0]
            for c in answering:
                if c.score < ratio * lead.score:
                    break
                if answerable(evidence(ranking, c, extractive._support(c))) >= settings.min_answerable:
                    chosen = c
                    break
        out[str(ratio)] = {"answered": chosen is not None,
                           "holds_gold": chosen is not None and holds(chosen.sentence.text, q["answer"])}
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="bench.answers_pool", description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args(argv)
    isolate(args.out)
    rows = over_tune(args.out, decide)
    (args.out / "pool-tune.json").write_text(json.dumps(rows, indent=1))
    pos = [r for r in rows if r["label"] == 1]
    neg = [r for r in rows if r["label"] == 0]
    for ratio in map(str, RATIOS):
        fr = sum(not r[ratio]["answered"] for r in pos)
        gold = sum(r[ratio]["holds_gold"] for r in pos)
        ua = sum(r[ratio]["answered"] for r in neg)
        print(f"ratio {ratio}: false refusals {fr}/{len(pos)}, chosen lead holds the gold {gold}/{len(pos)}, "
              f"truly unanswerable answered {ua}/{len(neg)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
