"""How many further sentences join an extractive answer, chosen on tune: `python -m bench.answers_select`.

For each (`_ADD_RATIO`, `_TIE`) pair given, every answerable tune question is asked of the full
benchmark store as of its date, and reported: answer accuracy (the gold answer in the answer),
sentences and words per answer, and how many answers change (another cited sentence, or another
order) when the IDF the engine reads is recomputed as if unrelated articles had grown the index
by each of `--grow` (no question term's document frequency grows). That is the property of
tests/test_reliability_questions.py (articles carrying instructions must not change an answer),
measured on real questions. Rankings are computed once per question and growth; only the
selection is re-run per pair. The check half is never read.
"""

from __future__ import annotations

import argparse
import os
import sys

from bench import data as bench_data
from bench.answers import _MARKER, OUT, question_date
from bench.metrics import contains
from bench.split import half_of, weeks


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench.answers_select", description=__doc__.splitlines()[0])
    p.add_argument("pairs", nargs="*", default=[], help="ratio,tie pairs (default: the engine's own)")
    p.add_argument("--grow", default="0.01,0.03,0.1,0.3", help="index growth fractions to re-rank with")
    args = p.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from rag.answer import extractive
    from rag.index import bm25
    from rag.index.store import LexicalView, Store
    from rag.retrieval import Filters
    from rag.settings import Settings

    grow = [float(g) for g in args.grow.split(",") if g]
    table = weeks()
    tune = [q for q in bench_data.load_questions(bench_data.DATA) if half_of(q, table) == "tune"]
    store = Store(Settings(store_dir=OUT / "stores" / "main", corpus_dir=OUT / "corpus"))
    exact_idf, real_rank = LexicalView.idf, extractive.rank
    growth: list[float | None] = [None]

    def grown_idf(self, term: str) -> float:
        if growth[0] is None:
            return exact_idf(self, term)
        return bm25.idf(int(self.n_docs * (1 + growth[0])), self.df.get(term, 0))

    LexicalView.idf = grown_idf
    rankings = {}
    for q in tune:
        for g in [None, *grow]:
            growth[0] = g
            rankings[q["id"], g] = real_rank(store, q["question"], filters=Filters(as_of=question_date(q)))
    growth[0] = None
    asked: list = [None]

    def cached_rank(*_args, **_kwargs):
        ranking = rankings[asked[0]]
        for c in ranking.candidates:
            c.twins = []
        return ranking

    extractive.rank = cached_rank

    def ask(q: dict, g: float | None):
        asked[0] = (q["id"], g)
        a = extractive.answer_extractive(store, q["question"], filters=Filters(as_of=question_date(q)))
        return a, (a.refused, tuple((c.source, c.line_start, c.line_end) for c in a.citations))

    pairs = [tuple(map(float, s.split(","))) for s in args.pairs] or [(extractive._ADD_RATIO, extractive._TIE)]
    try:
        for ratio, tie in pairs:
            extractive._ADD_RATIO, extractive._TIE = ratio, tie
            correct = answered = sentences = words = changed = 0
            for q in tune:
                a, key = ask(q, None)
                changed += sum(ask(q, g)[1] != key for g in grow)
                if a.refused:
                    continue
                text = _MARKER.sub(" ", a.answer)
                answered += 1
                correct += contains(text, q["answer"])
                sentences += len(a.sentences)
                words += len(text.split())
            print(f"ratio {ratio} tie {tie}: accuracy {correct / len(tune):.3f} ({correct}/{len(tune)}), "
                  f"{sentences / max(answered, 1):.2f} sentences and {words / max(answered, 1):.0f} words an answer; "
                  f"answers changed by a grown index's IDF: {changed} of {len(tune) * len(grow)}", flush=True)
    finally:
        LexicalView.idf, extractive.rank = exact_idf, real_rank
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
