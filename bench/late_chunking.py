"""Late chunking against separately embedded sentences, on the tune half (issue 12).

For each tune question (asked as of its date) the engine ranks the candidate sentences of its
retrieved chunks three ways, changing only where each sentence's semantic score comes from:
- shortlist: as an index without stored sentence vectors, its `rerank_sentences` most
  promising sentences embedded at query time (the others score 0 on that feature);
- separate: every candidate embedded on its own (the vectors stored at ingest);
- late: every candidate's vector pooled from the final hidden states of its own wordpieces in
  one forward pass over its chunk as indexed (title + text), as late chunking does at ingest.
It reports how often the top-ranked sentence, and one of the top three, holds the gold answer,
and the model time of the late pass. `python -m bench.late_chunking [--store DIR]` (default:
the bench-answers main store).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from bench import data as bench_data
from bench.metrics import contains
from bench.split import select
from rag.models import Chunk

BATCH = 8


def sentence_offsets(chunk: Chunk, index_text: str) -> list[tuple[int, int]]:
    """Character spans of the chunk's sentences within the text it was embedded as (its text,
    maybe after a title line): sentences are verbatim and in order, so each is found after the last."""
    base = len(index_text) - len(chunk.text)
    cursor, out = 0, []
    for sentence in chunk.sentences:
        at = chunk.text.find(sentence.text, cursor)
        if at < 0:  # cannot happen for a chunk built by parse_document; keep the span empty
            out.append((base + cursor, base + cursor))
            continue
        out.append((base + at, base + at + len(sentence.text)))
        cursor = at + len(sentence.text)
    return out


def pool(states: np.ndarray, offsets: list[tuple[int, int]], spans: list[tuple[int, int]]) -> np.ndarray:
    """Mean hidden state of the wordpieces inside each span, L2-normalised. A span none of whose
    wordpieces the model read (past its 256-wordpiece window) gets a row of zeros."""
    starts = np.array([a for a, _ in offsets])
    ends = np.array([b for _, b in offsets])
    real = ends > starts  # special tokens have empty offsets
    out = np.zeros((len(spans), states.shape[1]), dtype=np.float32)
    for i, (s, e) in enumerate(spans):
        inside = real & (starts >= s) & (ends <= e)
        if inside.any():
            v = states[inside].mean(0)
            out[i] = v / max(float(np.linalg.norm(v)), 1e-12)
    return out


def late_vectors(embedder, texts: list[str], spans: list[list[tuple[int, int]]]) -> list[np.ndarray]:
    """Late-chunked sentence vectors for each text (see the module doc); MiniLM only."""
    model = embedder._numpy
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out: list[np.ndarray | None] = [None] * len(texts)
    for start in range(0, len(order), BATCH):
        batch = order[start:start + BATCH]
        for i, (states, offsets) in zip(batch, model.token_states([texts[i] for i in batch])):
            out[i] = pool(states, offsets, spans[i])
    return out


def rank_of_gold(candidates, answer: str) -> int | None:
    return next((i for i, c in enumerate(candidates, start=1) if contains(c.sentence.text, answer)), None)


def measure(store_dir: Path, half: str = "tune", limit: int | None = None) -> dict:
    """Rank each question's candidates with the engine's scorer, changing only where the
    semantic feature comes from. The separately embedded vectors are those stored at ingest
    (the store's embedding cache, bench/answers_sentences.py); the shortlist uses the same
    vectors for its `rerank_sentences` most promising candidates only, as an index without
    stored sentence vectors does; late chunking pools its chunk's forward pass."""
    from bench.answers import _filters
    from rag.answer import extractive
    from rag.answer.sentence_score import best_values, features, probability
    from rag.index.store import Store, index_text
    from rag.settings import Settings

    store = Store(Settings(store_dir=store_dir, corpus_dir=store_dir.parent))
    questions = select(bench_data.load_questions(bench_data.DATA), half)[:limit]
    ranks: dict[str, list] = {"shortlist": [], "separate": [], "late": []}
    seconds = {"late": 0.0}

    def rescore(candidates, q, semantic):
        for c in candidates:
            c.semantic = semantic(c)
        best = best_values(candidates)
        for c in candidates:
            c.score = probability(features(c, q, best))
        return sorted(candidates, key=lambda c: -c.score)

    try:
        for q in questions:
            ranking = extractive.rank(store, q["question"], filters=_filters(q))
            candidates, query_vector = ranking.candidates, ranking.result.query_vector
            separate = {id(c): c.semantic for c in candidates}
            ranks["separate"].append(rank_of_gold(candidates, q["answer"]))

            def promise(c):
                return c.coverage + 0.5 * c.context + 0.3 / c.rank + (0.3 if c.type_ok else 0.0)

            short = {id(c) for c in sorted(candidates, key=promise, reverse=True)[:store.settings.rerank_sentences]}
            ranks["shortlist"].append(rank_of_gold(
                rescore(candidates, ranking.question, lambda c, s=separate, k=short: s[id(c)] if id(c) in k else 0.0),
                q["answer"]))
            chunks = list({c.chunk.id: c.chunk for c in candidates}.values())
            texts = [index_text(c, store.settings.embed_title) for c in chunks]
            start = time.perf_counter()
            late = dict(zip([c.id for c in chunks],
                            late_vectors(store.embedder, texts, [sentence_offsets(c, t) for c, t in zip(chunks, texts)])))
            seconds["late"] += time.perf_counter() - start
            ranks["late"].append(rank_of_gold(rescore(candidates, ranking.question, lambda c, v=late, qv=query_vector: float(
                v[c.chunk.id][c.chunk.sentences.index(c.sentence)] @ qv)), q["answer"]))
    finally:
        store.close()
    n = len(questions)
    return {name: {"top1": sum(1 for r in rs if r == 1) / n, "top3": sum(1 for r in rs if r and r <= 3) / n,
                   "any": sum(1 for r in rs if r) / n, "model_s_per_question": seconds.get(name, 0.0) / n}
            for name, rs in ranks.items()} | {"questions": n, "half": half}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="bench.late_chunking", description=__doc__.splitlines()[0])
    p.add_argument("--store", type=Path, default=bench_data.ROOT / "bench" / "out" / "answers" / "stores" / "main")
    p.add_argument("--half", default="tune")
    p.add_argument("--limit", type=int, help="only the half's first N questions")
    p.add_argument("--out", type=Path, default=bench_data.ROOT / "bench" / "out" / "answers" / "late-chunking.json")
    args = p.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    result = measure(args.store, args.half, args.limit)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
