"""A full-index benchmark store (all 2,210 articles) built with other chunking settings, the way
bench/answers.py builds its main store (bench.answers.ensure_store: the same records, the same corpus
path layout, `sentence_vectors` off, an embedding cache seeded from a donor store so chunk texts that
do not change are not embedded again). For retrieval round 9 (bench/retrieval-notes.md): chunk size.

    python -m bench.chunk_store --out bench/out/chunk240 --chunk-tokens 240 --overlap 1 \\
        --donor bench/out/art/stores/main --data /work/shared/bench/rtqa-2022-summer

The store is OUT/stores/main, its corpus OUT/corpus/articles.jsonl. `--stamp-only` prints the
bench-stamp the settings and records give without building (with the defaults it must equal the
answers benchmark main store's bench-stamp: the same records, the same pipeline).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import time
from pathlib import Path

from bench import data as bench_data


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench.chunk_store", description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--data", type=Path, default=bench_data.DATA)
    p.add_argument("--chunk-tokens", type=int, default=None)
    p.add_argument("--overlap", type=int, default=None, help="chunk_overlap_sentences")
    p.add_argument("--donor", type=Path, default=None, help="a store whose cache/embeddings.sqlite seeds the new one")
    p.add_argument("--stamp-only", action="store_true")
    args = p.parse_args(argv)

    from rag.api import Rag
    from rag.index.store import fingerprint
    from rag.settings import Settings

    records = [bench_data.record(a) for a in bench_data.load_articles(args.data)]
    corpus = args.out / "corpus" / bench_data.CORPUS_FILE
    store = args.out / "stores" / "main"
    overrides = {}
    if args.chunk_tokens is not None:
        overrides["chunk_tokens"] = args.chunk_tokens
    if args.overlap is not None:
        overrides["chunk_overlap_sentences"] = args.overlap
    settings = Settings(store_dir=store, corpus_dir=corpus.parent, **overrides)
    text = "".join(json.dumps(rec, ensure_ascii=False) + "\n" for rec in records)
    stamp = hashlib.sha256((json.dumps(fingerprint(settings), sort_keys=True) + text).encode()).hexdigest()
    if args.stamp_only:
        print(stamp, json.dumps(fingerprint(settings), sort_keys=True))
        return 0
    if store.exists():
        raise SystemExit(f"{store} exists: remove it first")
    store.mkdir(parents=True)
    if args.donor is not None:
        from bench.phases import seed_cache

        seed_cache(store, args.donor)
    corpus.parent.mkdir(parents=True, exist_ok=True)
    corpus.write_text(text, encoding="utf-8")
    start = time.perf_counter()
    load = os.getloadavg()[0]
    rag = Rag(settings.model_copy(update={"sentence_vectors": False}))
    try:
        report = rag.ingest([corpus])
    finally:
        rag.close()
    (store / "bench-stamp").write_text(stamp)
    print(json.dumps({"store": str(store), **overrides, "seconds": round(time.perf_counter() - start, 1),
                      "embedded": report.embedded, "chunks": report.total_chunks, "documents": len(records),
                      "load_start": load, "load_end": os.getloadavg()[0]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
