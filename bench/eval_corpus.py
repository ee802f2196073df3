"""The benchmark corpus that hand-written eval cases name (`corpus: benchmark` in evals/bench/).

`python -m bench.eval_corpus [--store DIR]` writes the 2,210 benchmark articles from
../shared/bench/rtqa-2022-summer as one JSONL corpus (outside the repository's tracked files:
.rag/bench-eval/corpus/) and indexes it into DIR (default .rag/bench-eval/store). The article
text never enters the repository; a clean clone with ../shared/bench beside it resolves it.
Embedding 2,210 articles takes long on a laptop, so the store's embedding cache is seeded from
bench-answers' cache when one exists (chunk vectors are reused by text).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from bench import data as bench_data
from bench.answers import donor_cache

CORPORA = {"benchmark": bench_data.DATA}
DEFAULT = bench_data.ROOT / ".rag" / "bench-eval"


def build(store: Path, corpus_dir: Path, data: Path = bench_data.DATA) -> Path:
    from bench.phases import seed_cache
    from rag.api import Rag
    from rag.settings import Settings

    corpus = bench_data.write_corpus(corpus_dir, [bench_data.record(a) for a in bench_data.load_articles(data)])
    cache = donor_cache(None)
    if cache is not None and not (store / "cache" / "embeddings.sqlite").exists():
        seed_cache(store, cache.parent.parent)
    rag = Rag(Settings(store_dir=store, corpus_dir=corpus.parent))
    try:
        report = rag.ingest([corpus])
    finally:
        rag.close()
    print(f"benchmark corpus: {len(report.added)} added, {len(report.skipped)} unchanged, "
          f"{report.embedded} chunk texts embedded; store {store}")
    return store


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="bench.eval_corpus", description=__doc__.splitlines()[0])
    p.add_argument("--store", type=Path, default=DEFAULT / "store")
    p.add_argument("--corpus-dir", type=Path, default=DEFAULT / "corpus")
    p.add_argument("--data", type=Path, default=bench_data.DATA)
    args = p.parse_args(argv)
    if not (args.data / "articles.jsonl.gz").is_file():
        print(f"bench.eval_corpus: no benchmark data in {args.data} (expected ../shared/bench beside the repository)",
              file=sys.stderr)
        return 1
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    build(args.store, args.corpus_dir, args.data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
