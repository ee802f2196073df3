"""One-article ingest, its delete and a no-op rescan at two store sizes, alternating in one run.

    python -m bench.scale_pair [--runs 3] [--out bench/out/scale-pair.json]

The two stores of bench.scale's corpus (bench/out/scale3): the 2,000-article copy
(bench/out/scale3-2k-store, its files are the corpus's batch b0001) and the 100,000-article store.
Each round runs, at each size in turn, in fresh `rag` processes of this checkout: a new article
ingested (`rag ingest <probe dir>`), the same command after it is removed (the delete), and a
rescan of every file of that store, all unchanged. Alternating puts both sizes under the same
load minute by minute, so their ratio (the ingest-growth target: ≤ 1.5×) means something on a
shared machine. Prints and writes the medians with the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
from pathlib import Path

from bench import data as bench_data
from bench import scale

ROOT = bench_data.ROOT
SCALE = ROOT / "bench" / "out" / "scale3"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "scale-pair.json")
    args = parser.parse_args(argv)
    corpus = SCALE / "corpus"
    sizes = {"2000": (ROOT / "bench" / "out" / "scale3-2k-store", sorted(corpus.glob("*/b0001"))),
             "100000": (SCALE / "store", sorted(corpus.glob("*/b*")))}
    scale._ENV.update({**scale.child_env(SCALE), "PYTHONPATH": str(ROOT)})
    articles = [a for a in bench_data.load_articles(bench_data.DATA) if a["text"].strip()]
    runs: dict[str, dict[str, list[float]]] = {s: {"ingest": [], "delete": [], "rescan": []} for s in sizes}
    load = [os.getloadavg()[0]]
    for n in range(args.runs):
        for size, (store, dirs) in sizes.items():
            probe = corpus / f"pair-probe-{size}"
            shutil.rmtree(probe, ignore_errors=True)
            probe.mkdir()
            name, text = scale.article_file(articles[n], 30_000 + n)  # a copy no batch holds
            (probe / name).write_text(text, encoding="utf-8")
            runs[size]["ingest"].append(scale.timed(store, corpus, "ingest", str(probe))["seconds"])
            (probe / name).unlink()
            runs[size]["delete"].append(scale.timed(store, corpus, "ingest", str(probe))["seconds"])
            probe.rmdir()
            runs[size]["rescan"].append(scale.timed(store, corpus, "ingest", *map(str, dirs))["seconds"])
    load.append(os.getloadavg()[0])
    result = {"loadavg": load, "runs": runs,
              "median_s": {s: {k: statistics.median(v) for k, v in r.items()} for s, r in runs.items()}}
    med = result["median_s"]
    result["ratio_100000_to_2000"] = {k: med["100000"][k] / med["2000"][k] for k in med["2000"]}
    args.out.write_text(json.dumps(result, indent=1))
    print(json.dumps({k: v for k, v in result.items() if k != "runs"}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
