"""A full-index benchmark store (all 2,210 articles) built with other chunking settings by the answers
benchmark's own builder (bench.answers.ensure_store: the same records, the same corpus path layout,
`sentence_vectors` off, an embedding cache seeded from a donor store so chunk texts that do not change
are not embedded again). For retrieval round 9 (bench/retrieval-notes.md): chunk size.

    python -m bench.chunk_store --out bench/out/chunk240 --chunk-tokens 240 --overlap 1 \\
        --donor bench/out/art/stores/main --data /work/shared/bench/rtqa-2022-summer

The store is OUT/stores/main (refused if it exists), its corpus OUT/corpus/articles.jsonl. `--stamp-only` prints the bench-stamp the settings and records give
without building (with the defaults it must equal the answers benchmark main store's bench-stamp: the
same records, the same pipeline).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from bench import data as bench_data
from bench.answers import _settings, bench_stamp, corpus_text, ensure_store


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench.chunk_store", description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--data", type=Path, default=bench_data.DATA)
    p.add_argument("--chunk-tokens", type=int, default=None)
    p.add_argument("--overlap", type=int, default=None, help="chunk_overlap_sentences")
    p.add_argument("--donor", type=Path, default=None, help="a store whose cache/embeddings.sqlite seeds the new one")
    p.add_argument("--stamp-only", action="store_true")
    args = p.parse_args(argv)

    records = [bench_data.record(a) for a in bench_data.load_articles(args.data)]
    overrides = {}
    if args.chunk_tokens is not None:
        overrides["chunk_tokens"] = args.chunk_tokens
    if args.overlap is not None:
        overrides["chunk_overlap_sentences"] = args.overlap
    if args.stamp_only:
        from rag.index.store import fingerprint

        settings = _settings(args.out / "stores" / "main", args.out / "corpus" / bench_data.CORPUS_FILE, **overrides)
        print(bench_stamp(settings, corpus_text(records)), json.dumps(fingerprint(settings), sort_keys=True))
        return 0
    if (args.out / "stores" / "main").exists():  # never replace a store this script did not just build
        raise SystemExit(f"{args.out / 'stores' / 'main'} exists: remove it first")
    cache = args.donor / "cache" / "embeddings.sqlite" if args.donor is not None else None
    load = os.getloadavg()[0]
    store, _, built = ensure_store("main", records, args.out, cache, **overrides)
    print(json.dumps({"store": str(store), **overrides, **built, "documents": len(records),
                      "load_start": load, "load_end": os.getloadavg()[0]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
