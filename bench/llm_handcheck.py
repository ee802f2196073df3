"""The hand check of the unanswerable sets (bench/llm_unanswerable.py), for the person doing it.

    python -m bench.llm_handcheck [RUN]

prints each variant question with what every LLM column answered and candidate lines of its
corpus (into <RUN>/still-answerable-sample.txt), then verifies bench/llm_still_answerable.jsonl.
"""

from __future__ import annotations

import sys
from pathlib import Path

from bench import data as bench_data
from bench.llm_report import PHASES, Lookup, answer_of, questions, rows
from bench.llm_unanswerable import UNANSWERABLE_SETS, still_answerable, verify
from rag.text.lexical import content_words


def candidate_lines(question: dict, texts: list[tuple[str, list[str]]], limit: int = 5) -> list[tuple]:
    """The lines of a variant's corpus (`texts`: source, lines) that hold a word of the gold
    answer and two or more of the question's other words, best first, as (score, source, line, text)."""
    answer = set(content_words(question["answer"]))
    asked = set(content_words(question["question"])) - answer
    found = []
    for source, lines in texts:
        for number, line in enumerate(lines, 1):
            words = set(content_words(line))
            if words & answer and len(words & asked) >= 2:
                found.append((len(words & answer) * 2 + len(words & asked), source, number, line))
    return sorted(found, reverse=True)[:limit]


def _texts(docs) -> list[tuple[str, list[str]]]:
    return [(a.source, (docs.raw(a.source) or "").splitlines()) for a in docs.articles()]


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else argv
    run = Path(args[0]) if args else bench_data.ROOT / "bench" / "out" / "llm"
    lookup = Lookup(run)
    recorded = {phase: rows(run, phase) for phase, _ in PHASES if phase.startswith("ask-llm")}
    out, texts = [], {}
    for name in UNANSWERABLE_SETS:
        for qid, q in questions(run, name).items():
            out += [f"== {name}/{qid}", f"Q: {q['question']}", f"gold: {q['answer']}"]
            for phase, got in recorded.items():
                answer = answer_of(got[(name, qid)]) if (name, qid) in got else None
                if answer is not None and not answer.refused:
                    out.append(f"  {phase}: {answer.answer}")
                    out += [f"     [{c.n}] {c.source}:{c.line_start} {c.quote[:160]}" for c in answer.citations]
            docs = lookup.docs.get(name)
            if docs is not None and id(docs) not in texts:
                texts[id(docs)] = _texts(docs)
            for score, source, number, line in (candidate_lines(q, texts[id(docs)]) if docs else []):
                out.append(f"  cand {score} {source}:{number} {line[:200]}")
            out.append("")
    (run / "still-answerable-sample.txt").write_text("\n".join(out), encoding="utf-8")
    good, problems = verify(still_answerable(), lookup.line)
    print(f"{len(good)} verified still-answerable entries; {len(problems)} problems")
    for problem in problems:
        print("  " + problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
