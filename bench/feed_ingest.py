"""Feed ingest benchmark (issue 17): a 100-item RSS feed from a news site on 127.0.0.1
(bench/local_site.py), ingested twice by `rag ingest --feed` as a user runs it (fresh processes,
MiniLM embeddings). Target: the first run completes with progress output; the second fetches
nothing but the feed and embeds nothing.

    python -m bench.feed_ingest [--items 100] [--out bench/out/feed]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench.local_site import LocalSite, Route, article_page, generated_articles, rss

ROOT = Path(__file__).resolve().parent.parent


def run(site: LocalSite, out: Path, feed: str) -> dict:
    site.requests.clear()
    started = time.perf_counter()
    done = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "rag"), "ingest", "--feed", feed, "--json", "--store-dir", str(out / "store"),
         "--set", f"corpus_dir={out / 'corpus'}"],
        capture_output=True, text=True, env={**os.environ, "RAG_CONFIG": str(out / "none.toml")}, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"rag ingest --feed failed: {done.stderr.strip().splitlines()[-1:]}")
    report = json.loads(done.stdout)
    progress = [line for line in done.stderr.splitlines() if line.startswith("[")]
    statuses: dict[str, int] = {}
    for item in report["items"]:
        statuses[item["status"]] = statuses.get(item["status"], 0) + 1
    ingest = report.get("ingest") or {}
    return {"seconds": round(seconds, 1), "http_requests": len(site.requests), "progress_lines": len(progress),
            "statuses": statuses, "added": len(ingest.get("added", [])), "embedded": ingest.get("embedded", 0),
            "chunks_written": ingest.get("chunks", 0)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "feed")
    args = parser.parse_args()
    shutil.rmtree(args.out, ignore_errors=True)
    (args.out / "corpus").mkdir(parents=True)
    with LocalSite() as site:
        items = []
        for path, title, date, paragraphs in generated_articles(args.items):
            site.routes[path] = Route(article_page(title, paragraphs, date))
            items.append((title, site.url(path), date))
        site.routes["/feed.xml"] = Route(rss(items), content_type="application/rss+xml")
        feed = site.url("/feed.xml")
        first = run(site, args.out, feed)
        second = run(site, args.out, feed)
    result = {"items": args.items, "load_average": round(os.getloadavg()[0], 1), "first_run": first,
              "second_run": second,
              "target_met": first["statuses"].get("saved") == args.items and first["progress_lines"] == args.items
              and second["http_requests"] == 1 and second["embedded"] == 0 and second["chunks_written"] == 0}
    print(json.dumps(result, indent=2))
    (args.out / "result.json").write_text(json.dumps(result, indent=2))
    sys.exit(0 if result["target_met"] else 1)


if __name__ == "__main__":
    main()
