"""One line per question of the LLM benchmark's recorded answers, for reading failures on one
half before a rule is chosen (the *tune* sets unless others are named).

    python -m bench.llm_diagnose [RUN_DIR] [--phase ask-llm-after] [--sets tune,tune-unanswerable,...]

For each question: the LLM verdict (answered right / wrong / refused, and why), the extractive
engine's verdict on the same question (phase ask-extractive-after), the answer's sentences with
their support, and its removed sentences with their reasons. Truly unanswerable variants are
those no verified hand-check entry shows still answerable (bench.llm_unanswerable).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bench.llm import OUT
from bench.llm_report import Lookup, answer_of, questions, rows, text_of
from bench.llm_unanswerable import UNANSWERABLE_SETS, still_answerable, verify
from bench.metrics import contains

TUNE = "tune,tune-unanswerable,tune-unanswerable-strict"


def verdict(answer, q: dict, name: str, answerable: set) -> str:
    if answer is None:
        return "error"
    if name in UNANSWERABLE_SETS and (name, q["id"]) not in answerable:
        return "refused-ok" if answer.refused else "ANSWERED-UNANSWERABLE"
    if answer.refused:
        return "REFUSED-ANSWERABLE"
    return "right" if contains(text_of(answer), q["answer"]) else "WRONG"


def lines_for(run: Path, phase: str, sets: list[str]) -> list[str]:
    llm, ext = rows(run, phase), rows(run, "ask-extractive-after")
    lookup = Lookup(run)
    answerable, _ = verify(still_answerable(), lookup.line)
    out = []
    for name in sets:
        for qid, q in sorted(questions(run, name).items()):
            row = llm.get((name, qid))
            if row is None:
                continue
            answer, other = answer_of(row), answer_of(ext[(name, qid)]) if (name, qid) in ext else None
            out.append(f"{name}/{qid} LLM {verdict(answer, q, name, answerable)} | extractive "
                       f"{verdict(other, q, name, answerable) if other else '-'} | gold {q.get('answer', '-')!r}")
            out.append(f"  Q: {q['question']}")
            if answer is None:
                out.append(f"  error: {row.get('error')}")
                continue
            if answer.refused:
                out.append(f"  refusal: {answer.refusal_reason or '-'}")
            for s in answer.sentences:
                out.append(f"  kept {s.support:.3f}{' re-cited' if s.recited_from else ''}: {s.text}")
            for s in answer.removed:
                out.append(f"  removed {s.support:.3f}: {s.text} ({s.reason})")
            for s in (answer.rejected.sentences if answer.rejected else []):
                out.append(f"  rejected {s.support:.3f}: {s.text} ({s.reason})")
            if other is not None and not other.refused:
                out.append(f"  extractive: {text_of(other)[:200]}")
            elif other is not None:
                out.append(f"  extractive refusal: {other.refusal_reason or '-'}")
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="bench.llm_diagnose", description=__doc__.splitlines()[0])
    p.add_argument("run", nargs="?", type=Path, default=OUT)
    p.add_argument("--phase", default="ask-llm-after")
    p.add_argument("--sets", default=TUNE)
    args = p.parse_args(argv)
    print("\n".join(lines_for(args.run, args.phase, args.sets.split(","))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
