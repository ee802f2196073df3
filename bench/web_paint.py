"""The web page at 10,000 articles, in headless chromium (issue 20).

`python -m bench.web_paint [--store DIR] [--articles 10000] [--runs 5]`

1. A 10,000-article store, synthesised from the benchmark store (`python -m bench.eval_corpus
   --store DIR`, the 2,210 articles seeded from the shared embedding cache): the store is copied
   and its docstore gains copies of the articles (`<source>.cN`, chunks included) until it holds
   `--articles`. The page's first view reads only the docstore (status, the corpus overview,
   suggestions, the sources panel), so the copies need no vectors; a question still searches the
   benchmark's own vectors.
2. The page is loaded `--runs` times with the browser cache disabled, on a server that has
   finished warming up: first contentful paint, the moment the corpus overview (GET /sources
   facets) and the suggestions are on screen, and the time from a click on the Sources tab to
   its first 50 rows; then GET /sources itself for each sort and a text filter (server time).
3. On the benchmark store itself: every briefing case of evals/bench/briefings.yaml opened as a
   `#brief=` link; the pictures must be drawn with no console error.

Results go to bench/out/web/results.json and are printed as the markdown of BENCHMARKS.md's
"Web page" section. Timings are wall-clock on a shared machine: the load average is recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import sys
import time
import urllib.parse
from pathlib import Path

import httpx
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the suite's live server and headless chromium

from live_server import LiveServer
from web_browser import chromium, console_errors

OUT = ROOT / "bench" / "out" / "web"
WAIT = 300


def synthesise(source_store: Path, target: Path, articles: int) -> int:
    """Copy `source_store` to `target` and add article copies to its docstore up to `articles`."""
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source_store, target, ignore=shutil.ignore_patterns("cache", "lock"))
    db = sqlite3.connect(target / "rag.db")
    try:
        have = db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
        copy = 1
        with db:
            while have < articles:
                take = min(articles - have, db.execute("SELECT COUNT(*) FROM documents WHERE source NOT LIKE '%.c%'")
                           .fetchone()[0])
                suffix = f".c{copy}"
                db.execute(
                    "INSERT INTO documents SELECT source || ?, path, file, content_hash, size, mtime_ns, day, "
                    "json_set(article, '$.source', json_extract(article, '$.source') || ?), raw FROM documents "
                    "WHERE source NOT LIKE '%.c%' ORDER BY source LIMIT ?", (suffix, suffix, take))
                db.execute(
                    "INSERT INTO chunks SELECT c.id || ?, c.source || ?, c.ordinal, c.index_text, c.terms, c.n_terms, "
                    "json_set(c.chunk, '$.source', json_extract(c.chunk, '$.source') || ?, '$.id', c.id || ?) "
                    "FROM chunks c JOIN documents d ON d.source = c.source || ?",
                    (suffix, suffix, suffix, suffix, suffix))
                have = db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
                copy += 1
        return have
    finally:
        db.close()


def settings_for(store: Path):
    from rag.settings import Settings

    return Settings(store_dir=store, corpus_dir=store.parent / "corpus")


def warm(url: str) -> None:
    deadline = time.monotonic() + WAIT
    while not httpx.get(url + "/healthz").json()["ready"]:
        if time.monotonic() > deadline:
            raise RuntimeError("the server did not warm up")
        time.sleep(0.5)


_FIRST_VIEW = """
const done = arguments[arguments.length - 1];
const start = performance.timeOrigin;
const seen = {};
const check = () => {
  const now = performance.now();
  if (!seen.overview && document.getElementById('overview').textContent.includes('articles')) seen.overview = now;
  if (!seen.suggestions && !document.getElementById('ask-suggestions').hidden) seen.suggestions = now;
  if (!seen.status && document.getElementById('index-status').textContent.includes('documents')) seen.status = now;
  const paint = performance.getEntriesByName('first-contentful-paint')[0];
  if (paint && seen.overview && seen.suggestions && seen.status) {
    done({fcp: paint.startTime, ...seen, overview_text: document.getElementById('overview').textContent});
  } else if (now > 60000) done({timeout: true, ...seen}); else setTimeout(check, 5);
};
check();
"""

_SOURCES_TAB = """
const done = arguments[arguments.length - 1];
const t0 = performance.now();
document.querySelector('.tab[data-view="sources-view"]').click();
const check = () => {
  if (document.querySelectorAll('#sources-rows tr').length) done({rows: performance.now() - t0,
    count: document.querySelectorAll('#sources-rows tr').length, range: document.getElementById('sources-range').textContent});
  else setTimeout(check, 5);
};
check();
"""


def first_view(driver, url: str, runs: int) -> list[dict]:
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
    driver.set_script_timeout(120)
    out = []
    for _ in range(runs):
        driver.get("about:blank")
        driver.get(url + "/")
        view = driver.execute_async_script(_FIRST_VIEW)
        view.update(sources_tab=driver.execute_async_script(_SOURCES_TAB))
        view["resources"] = driver.execute_script(
            "return performance.getEntriesByType('resource').map(e => [e.name.split('/').slice(3).join('/'), Math.round(e.responseEnd)])")
        view["console_errors"] = console_errors(driver)
        out.append(view)
    return out


def sources_queries(url: str, repeat: int = 5) -> dict[str, float]:
    """Median server time (ms) of one GET /sources page, per sort and for a text filter."""
    cases = {f"sort={s}": {"sort": s} for s in ("-date", "date", "title", "outlet", "size", "source")}
    cases["facets"] = {"limit": 1, "facets": "true"}
    cases["q=ukraine"] = {"q": "ukraine"}
    cases["page 150 of 200"] = {"offset": 7450, "limit": 50}
    out = {}
    with httpx.Client(base_url=url, timeout=60) as http:
        for name, params in cases.items():
            times = []
            for _ in range(repeat):
                start = time.perf_counter()
                http.get("/sources", params=params).raise_for_status()
                times.append((time.perf_counter() - start) * 1000)
            out[name] = round(statistics.median(times), 1)
        start = time.perf_counter()
        http.get("/suggestions").raise_for_status()
        out["suggestions"] = round((time.perf_counter() - start) * 1000, 1)
    return out


def briefing_pictures(driver, url: str) -> list[dict]:
    cases = yaml.safe_load((ROOT / "evals" / "bench" / "briefings.yaml").read_text())["cases"]
    out = []
    for case in cases:
        params = [("brief", case.get("topic") or "")] + [(k, str(case[k])) for k in ("source", "since", "until") if case.get(k)]
        driver.get("about:blank")  # a new page: a hash change alone would keep the last briefing on screen
        console_errors(driver)
        start = time.perf_counter()
        driver.get(url + "/#" + urllib.parse.urlencode(params, quote_via=urllib.parse.quote))
        state = driver.execute_async_script("""
            const done = arguments[arguments.length - 1];
            const check = () => {
              const box = document.getElementById('brief-pictures');
              const error = document.getElementById('brief-error');
              if (box && ['drawn', 'failed'].includes(box.dataset.state)) done({state: box.dataset.state,
                marks: box.querySelectorAll('.traceevents .point').length,
                disagreements: box.querySelectorAll('.tracedisagree .point').length,
                bars: box.querySelectorAll('.coverage-picture .barlayer .point').length});
              else if (!error.hidden) done({state: 'error', error: error.textContent});
              else setTimeout(check, 20);
            };
            check();""")
        state.update(id=case["id"], seconds=round(time.perf_counter() - start, 2), console_errors=console_errors(driver))
        out.append(state)
    return out


def summary(views: list[dict]) -> dict:
    keys = ("fcp", "status", "overview", "suggestions")
    out = {k: round(statistics.median(v[k] for v in views), 1) for k in keys}
    out["sources_tab"] = round(statistics.median(v["sources_tab"]["rows"] for v in views), 1)
    out["worst_fcp"] = round(max(v["fcp"] for v in views), 1)
    out["worst_all"] = round(max(max(v[k] for k in keys[1:]) for v in views), 1)
    out["first_run_all"] = round(max(views[0][k] for k in keys[1:]), 1)  # before the facets and suggestions are cached
    return out


def markdown(result: dict) -> str:
    s = result["first_view_ms"]
    lines = [
        (f"Store: {result['articles']:,} articles ({result['real_articles']:,} benchmark articles and their copies in the "
         f"docstore), {result['runs']} page loads with the browser cache disabled, load average {result['load']}."),
        "",
        "| first view (ms, median of runs) | value |",
        "| --- | ---: |",
        f"| first contentful paint | {s['fcp']} |",
        f"| index status shown (GET /status) | {s['status']} |",
        f"| corpus overview shown (GET /sources facets) | {s['overview']} |",
        f"| suggested questions shown (GET /suggestions) | {s['suggestions']} |",
        f"| Sources tab click → first 50 rows | {s['sources_tab']} |",
        f"| worst run: first paint / everything above shown | {s['worst_fcp']} / {s['worst_all']} |",
        f"| first run after the server started (nothing cached): everything above shown | {s['first_run_all']} |",
        "",
        "| GET /sources at this size (server, ms, median of 5) | ms |",
        "| --- | ---: |",
        *[f"| {k} | {v} |" for k, v in result["sources_ms"].items()],
        "",
        "| briefing case (evals/bench/briefings.yaml, benchmark store) | pictures | event marks | × marks | coverage bars | console errors | s |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
        *[f"| {b['id']} | {b['state']} | {b.get('marks', '')} | {b.get('disagreements', '')} | {b.get('bars', '')} | "
          f"{len(b['console_errors'])} | {b['seconds']} |" for b in result["briefings"]],
    ]
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="bench.web_paint", description=__doc__.splitlines()[0])
    p.add_argument("--store", type=Path, default=OUT / "store", help="the benchmark store (bench.eval_corpus --store)")
    p.add_argument("--articles", type=int, default=10_000)
    p.add_argument("--runs", type=int, default=5)
    args = p.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from rag.server import create_app

    if not (args.store / "rag.db").is_file():
        print(f"bench.web_paint: no store at {args.store}; build one with python -m bench.eval_corpus --store {args.store}",
              file=sys.stderr)
        return 1
    big = OUT / f"store-{args.articles}"
    real = sqlite3.connect(args.store / "rag.db").execute("SELECT COUNT(*) FROM documents").fetchone()[0]
    total = synthesise(args.store, big, args.articles)
    driver = chromium(OUT / "chromium-profile")
    try:
        with LiveServer(create_app(settings_for(big))) as live:
            warm(live.url)
            views = first_view(driver, live.url, args.runs)
            sources_ms = sources_queries(live.url)
        with LiveServer(create_app(settings_for(args.store))) as live:
            warm(live.url)
            briefings = briefing_pictures(driver, live.url)
    finally:
        driver.quit()
    result = {"articles": total, "real_articles": real, "runs": args.runs, "load": os.getloadavg()[0].__round__(1),
              "first_view_ms": summary(views), "views": views, "sources_ms": sources_ms, "briefings": briefings}
    (OUT / "results.json").write_text(json.dumps(result, indent=2))
    print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
