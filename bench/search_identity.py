"""Every benchmark question's hits, as the default search returns them, written to a JSON file:
run it at two commits on one store and compare the files (issue 14: a faster search must return
the same ranked hits, ids, order, scores and the passage shown, with and without as_of).

    python -m bench.search_identity --store bench/out/art/stores/main --out /tmp/hits-a.json
    python -m bench.search_identity --compare /tmp/hits-a.json /tmp/hits-b.json
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path

from bench import data as bench_data


def hits(store_dir: Path, questions: list[dict], k: int | None = None) -> dict:
    from rag.index.store import Store
    from rag.retrieval import Filters, search
    from rag.settings import Settings

    store = Store(Settings(store_dir=store_dir, corpus_dir=store_dir.parent))
    out = {}
    try:
        for n, q in enumerate(questions):
            for as_of in (False, True):
                filters = Filters(as_of=dt.date.fromisoformat(q["date"])) if as_of else Filters()
                result = search(store, q["question"], k, filters)
                out[f"{n}{'@' if as_of else ''}"] = [
                    [h.rank, h.chunk.id, h.chunk.source, h.score, h.dense_rank, h.lexical_rank, h.duplicates,
                     h.chunk.text] for h in result.hits]
    finally:
        store.close()
    return out


def compare(a: dict, b: dict) -> list[str]:
    """The questions whose hits differ (any field), by key."""
    return sorted(set(a) ^ set(b)) + [key for key in a if key in b and a[key] != b[key]]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench.search_identity", description=__doc__.splitlines()[0])
    p.add_argument("--store", type=Path, default=bench_data.ROOT / "bench" / "out" / "art" / "stores" / "main")
    p.add_argument("--data", type=Path, default=bench_data.DATA)
    p.add_argument("--k", type=int, default=None, help="hits per search (the settings' top_k by default)")
    p.add_argument("--out", type=Path)
    p.add_argument("--compare", type=Path, nargs=2, metavar=("A", "B"))
    args = p.parse_args(argv)
    if args.compare:
        a, b = (json.loads(path.read_text()) for path in args.compare)
        differ = compare(a, b)
        print(json.dumps({"searches": len(a), "differ": len(differ), "keys": differ[:20]}))
        return 1 if differ else 0
    import rag

    found = hits(args.store, bench_data.load_questions(args.data), args.k)
    args.out.write_text(json.dumps(found))
    print(json.dumps({"code": str(Path(rag.__file__).parent), "searches": len(found),
                      "hits": sum(len(v) for v in found.values())}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
