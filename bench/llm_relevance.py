"""Choosing the off-question test of LLM answers on the tune half: `python -m bench.llm_relevance`.

After verification an LLM answer is refused when the quotes it rests on do not speak to the
question (rag.answer.llm_engine.off_question): they hold less than `llm_min_question_coverage`
of the question's key terms (the gate's threshold, reused) AND their MiniLM cosine with the
question is below `llm_min_answer_similarity`. Lexical coverage alone refuses paraphrases ("ban
self-service gasoline" for "illegal to pump your own gas"), so the semantic floor decides there.

It depends on which sentences answer a question, not on the model, so it is measured without
one: for each answerable question of a half, retrieved and packed as the LLM engine does (as of
its date), the context sentences that contain the gold answer are the sentences a right answer
quotes. A question is *lost* at a threshold when every such sentence would be refused. The
threshold is the highest with lost <= MAX_LOST on tune (the share the accuracy target allows);
check is reported. Questions with no gold sentence in the context cannot be answered right and
are left out.

    python -m bench.llm_relevance [RUN_DIR]   # RUN_DIR: a bench-llm run with stores/after/main
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from bench import data as bench_data
from bench import split
from bench.metrics import contains

MAX_LOST = 0.02
GRID = [round(0.05 * i, 2) for i in range(21)]


def features(run: Path, half: str) -> list[dict]:
    from bench.llm_phases import as_of
    from rag.answer.answerability import quotes_coverage
    from rag.answer.context import pack_sources
    from rag.api import Rag
    from rag.prompts import load_prompt
    from rag.settings import Settings

    questions = [q for q in split.select(bench_data.load_questions(bench_data.DATA), half)]
    rag = Rag(Settings(store_dir=run / "stores" / "after" / "main", corpus_dir=run / "corpus" / "main", engine="llm"))
    out = []
    try:
        prompt = load_prompt(rag.settings.llm_prompt)
        for q in questions:
            result = rag.search(q["question"], rag.settings.answer_k, as_of(q))
            context = pack_sources(result.hits, prompt, result.query, rag.settings)
            gold = [s.text for src in context.sources for s in src.chunk.sentences if contains(s.text, q["answer"])]
            if not gold:
                continue
            vectors = np.asarray(rag.store.embedder.embed([q["question"], *gold]), dtype=np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-9
            out.append({"id": q["id"], "half": half, "sentences": [
                {"coverage": quotes_coverage(q["question"], [text]).share, "cosine": float(vectors[0] @ v)}
                for text, v in zip(gold, vectors[1:])]})
    finally:
        rag.close()
    return out


def lost(rows: list[dict], coverage: float, cosine: float) -> float:
    """The share of questions whose every gold sentence the test would refuse."""
    refused = [all(s["coverage"] < coverage and s["cosine"] < cosine for s in r["sentences"]) for r in rows]
    return sum(refused) / len(refused) if refused else 0.0


def choose(rows: list[dict], coverage: float) -> float:
    ok = [t for t in GRID if lost(rows, coverage, t) <= MAX_LOST]
    return max(ok) if ok else 0.0


def main() -> int:
    from rag.settings import Settings

    run = Path(sys.argv[1]) if len(sys.argv) > 1 else bench_data.ROOT / "bench" / "out" / "llm"
    coverage = Settings.model_fields["llm_min_question_coverage"].default
    rows = {half: features(run, half) for half in ("tune", "check")}
    chosen = choose(rows["tune"], coverage)
    result = {"coverage": coverage, "chosen": chosen, "max_lost": MAX_LOST,
              "grid": {half: [{"cosine": t, "lost": lost(r, coverage, t), "n": len(r)} for t in GRID]
                       for half, r in rows.items()}, "rows": rows}
    (run / "results").mkdir(parents=True, exist_ok=True)
    (run / "results" / "relevance.json").write_text(json.dumps(result, indent=1))
    for half in ("tune", "check"):
        print(half, " ".join(f"{g['cosine']:.2f}:{g['lost']:.3f}" for g in result["grid"][half]), f"(n={len(rows[half])})")
    print("chosen", chosen)
    return 0


if __name__ == "__main__":
    sys.exit(main())
