"""The lexical engine, chosen by measurement: bm25s (the engine before), tantivy with its own
BM25, tantivy's candidates scored with the docstore's exact statistics (what rag uses), and
SQLite FTS5's bm25(), all over the same chunk terms (rag's own tokenizer and stemmer).

    python -m bench.lexical_engines quality STORE QUESTIONS OUT.json   # hybrid search, 193 questions
    python -m bench.lexical_engines scale STORE OUT.json --articles 2000,20000,100000

`quality` runs rag's full hybrid search (dense + lexical, RRF, MMR) over a store built by
`rag ingest` with each engine in the lexical slot: Hits@1/5/10, MRR@10 and answer recall@5, on all
questions and on the tune and check halves (bench/split.py). `scale` copies the store's chunk
terms under new ids to stores of N articles (the benchmark's chunks per article) and measures,
per engine: the build, disk, lexical query latency (the benchmark questions), and the cost of
one article's ingest (its chunks added, a changed article's old chunks deleted, one commit).
bm25s has no incremental update: its one-article cost is a full rebuild, which is what rag did.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.data import article_id
from bench.metrics import latency_summary, retrieval_summary
from bench.phases import deep, score_rows
from bench.split import select

ENGINES = ("bm25s", "tantivy_native", "tantivy_exact", "fts5")


# ---------------------------------------------------------------- the engines, one interface

class Bm25sEngine:
    """bm25s as rag used it: one immutable index of every chunk, rebuilt by each ingest."""

    def __init__(self, root: Path, docs: list[tuple[str, str]]):
        import bm25s

        self.root = root
        self.ids = [i for i, _ in docs]
        self.retriever = bm25s.BM25(k1=1.5, b=0.75)
        self.retriever.index([t.split() or [""] for _, t in docs], show_progress=False)
        self.retriever.save(str(root), show_progress=False)

    def search(self, terms: list[str], n: int) -> list[str]:
        if not terms:
            return []
        found, scores = self.retriever.retrieve([terms], k=min(n, len(self.ids)), show_progress=False, n_threads=0)
        return [self.ids[d] for d, s in zip(found[0], scores[0]) if s > 0]

    def one_article(self, docs: list[tuple[str, str]], add: list[tuple[str, str]], drop: set[str]) -> None:
        kept = [d for d in docs if d[0] not in drop] + add
        Bm25sEngine(Path(tempfile.mkdtemp(dir=self.root.parent)), kept)


class TantivyEngine:
    """tantivy over the same terms. `exact`: its candidates re-scored by rag.index.bm25 with exact
    statistics (what rag does); otherwise tantivy's own ranking (BM25, k1 1.2, b 0.75)."""

    def __init__(self, root: Path, docs: list[tuple[str, str]], exact: bool):
        from rag.index.lexical import LexicalDoc, TantivyIndex

        self.exact = exact
        self.index = TantivyIndex(root)
        with self.index.writer(threads=2) as writer:
            writer.add(LexicalDoc(i, "articles.jsonl#" + i, t, None) for i, t in docs)
        self.terms = dict(docs)
        self.lengths = {i: len(t.split()) for i, t in docs}
        self.df: dict[str, int] = {}
        for _, t in docs:
            for term in set(t.split()):
                self.df[term] = self.df.get(term, 0) + 1
        self.total = sum(self.lengths.values())
        self._doc = LexicalDoc

    def search(self, terms: list[str], n: int) -> list[str]:
        from rag.index import bm25

        if not self.exact:
            return self.index.candidates(terms, n)
        ids = self.index.candidates(terms, 3 * n)
        ranked = bm25.rank(terms, {i: (self.terms[i], self.lengths[i]) for i in ids}, self.df, len(self.terms),
                           self.total, 1.5, 0.75)
        return [i for i, _ in ranked[:n]]

    def one_article(self, docs, add: list[tuple[str, str]], drop: set[str]) -> None:
        with self.index.writer() as writer:
            writer.add(self._doc(i, "articles.jsonl#" + i, t, None) for i, t in add)
        with self.index.writer() as writer:
            writer.delete(sorted(drop))


class Fts5Engine:
    """SQLite FTS5 over the same terms (pre-tokenised: unicode61 keeps each stem whole), ranked by
    its bm25() (k1 1.2, b 0.75, fixed). Inside the docstore it would commit with the manifest."""

    def __init__(self, root: Path, docs: list[tuple[str, str]]):
        root.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(root / "fts.db")
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("CREATE VIRTUAL TABLE lex USING fts5(id UNINDEXED, terms, "
                        "tokenize=\"unicode61 remove_diacritics 0 tokenchars ''''\")")
        with self.db:
            self.db.executemany("INSERT INTO lex(id, terms) VALUES (?, ?)", docs)
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        # In the docstore a chunk's row would be keyed: delete by rowid, as a real integration would.
        self.rowid = {i: r for r, i in self.db.execute("SELECT rowid, id FROM lex")}

    def search(self, terms: list[str], n: int) -> list[str]:
        if not terms:
            return []
        query = " OR ".join(f'"{t}"' for t in dict.fromkeys(terms))
        return [r[0] for r in self.db.execute("SELECT id FROM lex WHERE lex MATCH ? ORDER BY rank LIMIT ?", (query, n))]

    def one_article(self, docs, add: list[tuple[str, str]], drop: set[str]) -> None:
        with self.db:
            self.db.executemany("INSERT INTO lex(id, terms) VALUES (?, ?)", add)
            self.db.executemany("DELETE FROM lex WHERE rowid = ?", [(self.rowid[i],) for i in drop])


def build(name: str, root: Path, docs: list[tuple[str, str]]):
    if name == "bm25s":
        return Bm25sEngine(root, docs)
    if name == "fts5":
        return Fts5Engine(root, docs)
    return TantivyEngine(root, docs, exact=name == "tantivy_exact")


def disk(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


# ---------------------------------------------------------------- quality: the full hybrid search

class _Slot:
    """An engine in the lexical slot of rag's search (retrieval.search calls `.search`)."""

    def __init__(self, engine):
        self.engine = engine

    def search(self, query: str, n: int, scope=None) -> list[tuple[str, float]]:
        from rag.text.lexical import content_words

        ids = self.engine.search(content_words(query), n)
        return [(i, 1.0 / (r + 1)) for r, i in enumerate(ids)]


def store_docs(store) -> list[tuple[str, str]]:
    return [(i, t) for rows in store.docs.lexical_docs() for i, _, t, _ in rows]


def quality(store_dir: Path, questions_path: Path, out: Path) -> dict:
    from rag.api import Rag
    from rag.settings import Settings

    questions = [json.loads(line) for line in questions_path.read_text().splitlines() if line.strip()]
    rag = Rag(Settings(store_dir=store_dir))
    docs = store_docs(rag.store)
    work = Path(tempfile.mkdtemp(prefix="lexical-engines-"))
    results = {"questions": len(questions), "chunks": len(docs), "loadavg": os.getloadavg()[0]}
    try:
        for name in ENGINES:
            engine = build(name, work / name, docs)
            slot = _Slot(engine)
            rag.store.lexical = lambda slot=slot: slot  # the engine under test in rag's own search

            def search(question: str, n: int):
                hits = rag.search(question, k=n).hits
                return [(article_id(s), h.chunk.text) for h in hits for s in [h.chunk.source, *h.duplicates]]

            rows = score_rows(questions, [deep(search, q["question"]) for q in questions])
            by_id = {q["id"]: row for q, row in zip(questions, rows)}
            terms = [q["question"] for q in questions]
            from rag.text.lexical import content_words

            seconds = []
            for q in terms:
                words = content_words(q)
                start = time.perf_counter()
                engine.search(words, 50)
                seconds.append(time.perf_counter() - start)
            results[name] = {
                "all": retrieval_summary(rows),
                **{half: retrieval_summary([by_id[q["id"]] for q in select(questions, half)])
                   for half in ("tune", "check")},
                "lexical_query": latency_summary(seconds),
            }
            print(name, json.dumps(results[name]["all"]), flush=True)
    finally:
        rag.close()
        shutil.rmtree(work, ignore_errors=True)
    out.write_text(json.dumps(results, indent=1))
    return results


# ---------------------------------------------------------------- scale: ingest cost, latency, disk

def scale(store_dir: Path, out: Path, sizes: list[int], engines: list[str], questions_path: Path | None,
          reps: int = 5) -> dict:
    from rag.index.store import Store
    from rag.settings import Settings
    from rag.text.lexical import content_words

    store = Store(Settings(store_dir=store_dir))
    base = store_docs(store)
    n_articles = store.docs.counts()[0]
    store.close()
    per_article = len(base) / n_articles
    questions = ([json.loads(line)["question"] for line in questions_path.read_text().splitlines() if line.strip()]
                 if questions_path else [])
    queries = [content_words(q) for q in questions][:100]
    one = base[:round(per_article)]
    results: dict = {"chunks_per_article": per_article, "loadavg_start": os.getloadavg()[0], "sizes": {}}
    work = Path(tempfile.mkdtemp(prefix="lexical-scale-"))
    try:
        for articles in sizes:
            target = round(articles * per_article)
            docs = [(f"{i}.c{k}", t) for k in range(-(-target // len(base))) for i, t in base][:target]
            row = results["sizes"].setdefault(str(articles), {"chunks": len(docs)})
            for name in engines:
                root = work / f"{name}-{articles}"
                started = time.perf_counter()
                engine = build(name, root, docs)
                built = time.perf_counter() - started
                for q in queries[:5]:
                    engine.search(q, 150)
                latency = []
                for q in queries:
                    start = time.perf_counter()
                    engine.search(q, 150)
                    latency.append(time.perf_counter() - start)
                costs = []
                for rep in range(reps if name != "bm25s" or len(docs) < 500_000 else 1):
                    add = [(f"new{rep}-{i}", t) for i, (_, t) in enumerate(one)]
                    drop = {d for d, _ in docs[rep * len(one):(rep + 1) * len(one)]}
                    start = time.perf_counter()
                    engine.one_article(docs, add, drop)
                    costs.append(time.perf_counter() - start)
                row[name] = {"build_s": built, "disk_bytes": disk(root), "query": latency_summary(latency),
                             "one_article_s": statistics.median(costs), "one_article_runs": costs,
                             "loadavg": os.getloadavg()[0]}
                print(articles, name, json.dumps({k: v for k, v in row[name].items() if k != "one_article_runs"}),
                      flush=True)
                del engine
                shutil.rmtree(root, ignore_errors=True)
                out.write_text(json.dumps(results, indent=1))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    results["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out.write_text(json.dumps(results, indent=1))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=("quality", "scale"))
    parser.add_argument("store", type=Path, help="a store built by `rag ingest` of the benchmark corpus")
    parser.add_argument("out", type=Path)
    parser.add_argument("--questions", type=Path, help="questions.jsonl of a bench run")
    parser.add_argument("--articles", default="2000,20000", help="store sizes for `scale`, in articles")
    parser.add_argument("--engines", default=",".join(ENGINES))
    args = parser.parse_args(argv)
    if args.what == "quality":
        quality(args.store, args.questions, args.out)
    else:
        scale(args.store, args.out, [int(x) for x in args.articles.split(",")], args.engines.split(","),
              args.questions)
    return 0


if __name__ == "__main__":
    sys.exit(main())
