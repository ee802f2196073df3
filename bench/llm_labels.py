"""The hand-checked sample of `make bench-llm`: 30 sentences of the "after" LLM answers, each
shown with the sources of its context, for a person to read and label.

    python -m bench.llm_labels            # prints the sample (and writes bench/out/llm/label-sample.txt)

Removed and re-cited sentences come first (up to 20), kept ones fill the rest, drawn with a
fixed seed. Labels go by hand into bench/llm_labels.jsonl, one line per sentence:
{"id": "set/question/kind/index", "kind": ..., "text": ..., "supported": bool,
 "stated_by_other_source": bool, "note": "..."}: `supported` = a source of the context states
the whole sentence (for kept and re-cited sentences: the source it now cites);
`stated_by_other_source` = it is stated by a context source the model did NOT cite.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

from bench.llm_report import answer_of, off_question, rows

SAMPLE = 30
FIRST = 20  # at most this many removed/re-cited sentences; kept ones fill the rest
SEED = 16


def candidates(run: Path) -> list[dict]:
    return [item for key, row in sorted(rows(run, "ask-llm-after").items()) for item in sentence_items(key, row)]


def sentence_items(key: tuple[str, str], row: dict) -> list[dict]:
    """Every sentence of one recorded answer: removed (or rejected), re-cited and kept."""
    name, qid = key
    out = []
    answer = answer_of(row)
    if answer is not None:
        removed = list(answer.removed) + (list(answer.rejected.sentences) if answer.rejected else [])
        for i, s in enumerate(removed):
            kind = "offquestion" if off_question(s.reason) else "removed"
            out.append({"id": f"{name}/{qid}/{kind}/{i}", "kind": kind, "set": name, "question": row["question"],
                        "text": s.text, "cited": s.sources, "reason": s.reason})
        quotes = {c.n: f"{c.source}:{c.line_start} {c.quote}" for c in answer.citations}
        for i, s in enumerate(answer.sentences):
            kind = "recited" if s.recited_from is not None else "kept"
            out.append({"id": f"{name}/{qid}/{kind}/{i}", "kind": kind, "set": name, "question": row["question"],
                        "text": s.text, "cited": s.recited_from or [], "now": [quotes[n] for n in s.citations]})
    return out


def sample(run: Path) -> list[dict]:
    found = candidates(run)
    first = [c for c in found if c["kind"] in ("removed", "recited")]
    rng = random.Random(SEED)
    if len(first) > FIRST:
        first = sorted(rng.sample(first, FIRST), key=found.index)
    kept = [c for c in found if c["kind"] == "kept"]
    fill = rng.sample(kept, min(len(kept), SAMPLE - len(first)))
    return sorted(first + fill, key=found.index)


def show(run: Path, items: list[dict]) -> str:
    """Each sentence with every context source's best window for it (the reader's evidence)."""
    from bench.llm_phases import as_of, stores
    from bench.llm_report import questions
    from rag.answer.grounding import ScoreSupport
    from rag.answer.llm_engine import gate
    from rag.api import Rag
    from rag.prompts import load_prompt
    from rag.settings import Settings

    out, rags = [], {}
    for item in items:
        if item["set"] not in rags:
            store, corpus = stores(run, "after")[item["set"]]
            rags[item["set"]] = Rag(Settings(store_dir=store, corpus_dir=corpus, engine="llm"))
        rag = rags[item["set"]]
        settings = rag.settings
        asked = next((q for q in questions(run, item["set"]).values() if q["question"] == item["question"]), {})
        context = gate(rag.store, item["question"], settings.answer_k, as_of(asked), load_prompt(settings.llm_prompt)).context
        test = ScoreSupport(rag.store.embedder, settings.llm_support_threshold)
        found = sorted((e for s in context.sources if (e := test.evidence(item["text"], s))), key=lambda e: -e.score)
        out += [f"== {item['id']}  [{item['kind']}]", f"Q: {item['question']}", f"S: {item['text']}",
                f"model cited: {item['cited']}" + (f"  reason: {item['reason']}" if "reason" in item else "")]
        out += [f"   now: {q}" for q in item.get("now", [])]
        for e in found[:3]:
            source = context.source(e.n).chunk.source
            out.append(f"   [{e.n}] {source} score {e.score:.2f} numbers_ok {e.anchor.numbers_ok}: {e.anchor.text}")
        out.append("")
    for rag in rags.values():
        rag.close()
    return "\n".join(out)


def main() -> int:
    run = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("bench/out/llm")
    text = show(run, sample(run))
    (run / "label-sample.txt").write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
