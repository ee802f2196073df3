"""Does a verified LLM answer's evidence answer the question? Two extractive readings of the
recorded LLM answers, measured without the model (issue 16: refusal on unanswerable questions).

    python -m bench.llm_evidence [RUN_DIR] [--sets tune,tune-unanswerable,tune-unanswerable-strict]

For every recorded answer of phase ask-llm-after (`--phase`) the LLM gave (not refused):
- `extractive`: the extractive engine's own verdict on the question (ask-extractive-after);
- `quoted`: the extractive refusal model's score with the LLM's quoted sentences as the lead
  (rag.answer.extractive.quoted_answerability; None when no quote is a sentence it read):
  what `llm_min_evidence` compares.
Then, for each rule, what refusing by it would do to the half: answerable questions answered
right that it would refuse (lost), and truly unanswerable variants it would refuse (gained).
The rule is chosen on tune; check is read once, after.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bench.llm import OUT
from bench.llm_diagnose import TUNE, verdict
from bench.llm_phases import as_of, base_settings, questions, stores
from bench.llm_report import Lookup, answer_of, rows
from bench.llm_unanswerable import still_answerable, verify

THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5)  # declared before the tune run was read at them


def readings(run: Path, sets: list[str], phase: str = "ask-llm-after") -> list[dict]:
    from rag.answer.extractive import answer_extractive, quoted_answerability
    from rag.api import Rag

    llm, ext = rows(run, phase), rows(run, "ask-extractive-after")
    answerable, _ = verify(still_answerable(), Lookup(run).line)
    out, rags = [], {}
    try:
        for name in sets:
            for q in questions(run, name):
                row = llm.get((name, q["id"]))
                answer = answer_of(row) if row else None
                if answer is None or row.get("not_recorded"):
                    continue
                item = {"key": f"{name}/{q['id']}", "llm": verdict(answer, q, name, answerable)}
                store, corpus = stores(run, "after")[name]
                if store not in rags:
                    rags[store] = Rag(base_settings(store, corpus))
                other = answer_of(ext[(name, q["id"])]) if (name, q["id"]) in ext else None
                if other is None:  # the extractive phase has not reached it: the same code, asked now
                    other = answer_extractive(rags[store].store, q["question"], None, as_of(q))
                item["extractive_refused"] = other.refused
                if not answer.refused:
                    quotes = [(c.source, c.quote) for c in answer.citations]
                    item["quoted"] = quoted_answerability(rags[store].store, q["question"], quotes, None, as_of(q))
                out.append(item)
    finally:
        for rag in rags.values():
            rag.close()
    return out


def table(items: list[dict]) -> list[str]:
    answered = [i for i in items if i["llm"] in ("right", "WRONG", "ANSWERED-UNANSWERABLE")]
    rules = {"extractive refuses": lambda i: i["extractive_refused"] is True}
    for t in THRESHOLDS:
        rules[f"quoted < {t}"] = lambda i, t=t: i["quoted"] is not None and i["quoted"] < t
    out = [f"answered by the LLM: {sum(i['llm'] == 'right' for i in answered)} right, "
           f"{sum(i['llm'] == 'WRONG' for i in answered)} wrong, "
           f"{sum(i['llm'] == 'ANSWERED-UNANSWERABLE' for i in answered)} truly unanswerable answered", "",
           "| rule | right answers refused (lost) | wrong answers refused | unanswerable refused (gained) |",
           "|---|---|---|---|"]
    for label, refuses in rules.items():
        hit = [i for i in answered if refuses(i)]
        out.append(f"| {label} | {sum(i['llm'] == 'right' for i in hit)} | {sum(i['llm'] == 'WRONG' for i in hit)} | "
                   f"{sum(i['llm'] == 'ANSWERED-UNANSWERABLE' for i in hit)} |")
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="bench.llm_evidence", description=__doc__.splitlines()[0])
    p.add_argument("run", nargs="?", type=Path, default=OUT)
    p.add_argument("--sets", default=TUNE)
    p.add_argument("--phase", default="ask-llm-after", help="whose recorded LLM answers (e.g. ask-llm-before)")
    p.add_argument("--json", type=Path, help="also write the per-question readings here")
    args = p.parse_args(argv)
    items = readings(args.run, args.sets.split(","), args.phase)
    if args.json:
        args.json.write_text(json.dumps(items, indent=1))
    for item in items:
        print(f"{item['key']}: LLM {item['llm']}, extractive refused {item['extractive_refused']}, "
              f"quoted {item.get('quoted')}")
    print("\n".join(["", *table(items)]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
