"""Benchmark phases. Each runs in its own process (`python -m bench.phases NAME RUN_DIR`), so
its peak memory (ru_maxrss) is its own and every cold start is real; each writes
RUN_DIR/results/NAME.json. `bench.run` runs them in order, one at a time.
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import sys
import time
from pathlib import Path

from bench.briefs import phase_briefs
from bench.data import article_id
from bench.metrics import DEPTH, contains, distinct, latency_summary, retrieval_summary

WARM_UP = "What happened in the news this week?"
_MARKER = re.compile(r"\[\d+\]")


# ---------------------------------------------------------------- helpers

def settings(store: Path, corpus: Path):
    from rag.settings import Settings

    return Settings(store_dir=store, corpus_dir=corpus.parent)


def questions(run: Path) -> list[dict]:
    return [json.loads(line) for line in _lines(run / "questions.jsonl")]


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def fresh(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def merge_cache(store: Path, donor: Path) -> None:
    """Add the donor store's cached vectors to this store's cache (rag's cache is one sqlite table)."""
    import sqlite3

    target = store / "cache" / "embeddings.sqlite"
    if not target.exists():
        seed_cache(store, donor)
        return
    db = sqlite3.connect(target)
    try:
        db.execute("ATTACH DATABASE ? AS donor", (str(donor / "cache" / "embeddings.sqlite"),))
        with db:
            db.execute("INSERT OR IGNORE INTO embedding SELECT * FROM donor.embedding")
    finally:
        db.close()


def seed_cache(store: Path, donor: Path) -> None:
    """Give a fresh store the embedding cache of the main store (identical chunk texts reuse it)."""
    import sqlite3

    (store / "cache").mkdir(parents=True, exist_ok=True)
    # The backup API, not a file copy: recent vectors may still sit in the donor's WAL file.
    source = sqlite3.connect(donor / "cache" / "embeddings.sqlite")
    target = sqlite3.connect(store / "cache" / "embeddings.sqlite")
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()


def timed_ingest(rag, corpus: Path) -> dict:
    """Ingest, with a stage profile from the progress callback: parse ends at the last parse
    report, embedding at the last embed report; the rest is vectors, BM25 and the commit."""
    marks: dict[str, float] = {}
    start = time.perf_counter()

    def progress(stage: str, done: int, total: int) -> None:
        marks.setdefault(f"{stage}_first", time.perf_counter() - start)
        marks[f"{stage}_last"] = time.perf_counter() - start

    report = rag.ingest([corpus], progress=progress)
    seconds = time.perf_counter() - start
    parse_end = marks.get("parse_last", 0.0)
    embed_end = marks.get("embed_last", parse_end)
    status = rag.status()
    return {
        "seconds": seconds,
        "added": len(report.added), "skipped": len(report.skipped), "updated": len(report.updated),
        "failed": len(report.failed), "failed_examples": dict(list(report.failed.items())[:5]),
        "duplicates": len(report.duplicates), "chunks": report.chunks, "embedded": report.embedded,
        "total_chunks": report.total_chunks, "documents": status.documents,
        "articles_per_s": len(report.added) / seconds, "chunks_per_s": report.chunks / seconds,
        "stages_s": {"parse": parse_end, "embed": embed_end - parse_end, "index_and_commit": seconds - embed_end},
        "sizes": status.sizes, "index_bytes": sum(v for k, v in status.sizes.items() if k != "embedding_cache"),
        "settings_hash": rag.settings.settings_hash(),
    }


def latency_loop(call, items: list[str]) -> tuple[list[float], list]:
    seconds, results = [], []
    for item in items:
        start = time.perf_counter()
        results.append(call(item))
        seconds.append(time.perf_counter() - start)
    return seconds, results


def mean_timings(results) -> dict[str, float]:
    """Mean of each stage the library reports in `timings`, in ms: where query time goes."""
    totals: dict[str, float] = {}
    for r in results:
        for stage, value in r.timings.items():
            totals[stage] = totals.get(stage, 0.0) + value
    return {k: 1000 * v / max(len(results), 1) for k, v in totals.items()}


def deep(search, question: str, start: int = 20, limit: int = 640) -> list[tuple[str, str]]:
    """Ranked (doc, text) units, enough of them to hold DEPTH distinct documents."""
    n = start
    while True:
        units = search(question, n)
        if len(distinct(d for d, _ in units)) >= DEPTH or len(units) < n or n >= limit:
            return units
        n *= 2


def score_rows(qs: list[dict], units_per_question: list[list[tuple[str, str]]]) -> list[dict]:
    return [{"id": q["id"], "docs": distinct(d for d, _ in units)[:DEPTH], "chunks": [t for _, t in units[:10]],
             "gold": q["gold_ids"], "answer": q["answer"]} for q, units in zip(qs, units_per_question)]


# ---------------------------------------------------------------- our system

def phase_cold(cfg: dict, run: Path) -> dict:
    """Cold ingest of the cold sample: a fresh store, so nothing comes from the embedding cache."""
    from rag.api import Rag

    corpus = Path(cfg["cold_corpus"])
    rag = Rag(settings(fresh(run / "stores" / "cold"), corpus))
    try:
        return {**timed_ingest(rag, corpus), "sample_every": cfg["cold_every"]}
    finally:
        rag.close()


def phase_noop(cfg: dict, run: Path) -> dict:
    """Re-ingest of the unchanged cold sample into the store the cold ingest built."""
    from rag.api import Rag

    corpus = Path(cfg["cold_corpus"])
    rag = Rag(settings(run / "stores" / "cold", corpus))
    try:
        return timed_ingest(rag, corpus)
    finally:
        rag.close()


def phase_ingest(cfg: dict, run: Path) -> dict:
    """The full index. Its embedding cache is kept between runs (and given the cold sample's
    vectors), so only texts never embedded before cost embedding time: see "embedded"."""
    from rag.api import Rag

    corpus = Path(cfg["corpus"])
    store = run / "stores" / "main"
    for part in store.glob("*"):
        if part.name != "cache":
            shutil.rmtree(part) if part.is_dir() else part.unlink()
    if (run / "stores" / "cold" / "cache" / "embeddings.sqlite").exists():
        merge_cache(store, run / "stores" / "cold")
    rag = Rag(settings(store, corpus))
    try:
        return timed_ingest(rag, corpus)
    finally:
        rag.close()


def _ordered_chunks(store: Path, corpus: Path):
    """The indexed chunks in the order ingest embedded them (file order, then position)."""
    from rag.index.docstore import DocStore

    position = {json.loads(line)["id"]: n for n, line in enumerate(_lines(corpus))}
    docs = DocStore(store / "rag.db")
    try:
        texts = docs.index_texts()
        ids, index_texts = list(texts), list(texts.values())
        chunks = docs.chunks(ids)
    finally:
        docs.close()
    rows = sorted(zip(ids, index_texts), key=lambda r: (position[chunks[r[0]].source.split("#", 1)[1]], chunks[r[0]].ordinal))
    return [(i, t, chunks[i]) for i, t in rows]


def phase_floor(cfg: dict, run: Path) -> dict:
    """Raw embedding of the ingested chunk texts with the same embedder, in a cold process:
    model load plus the same batches (256 texts, the backend ingest picks for that many)."""
    from rag.index.embedders import make_embedder

    corpus = Path(cfg["cold_corpus"])
    texts = distinct(t for _, t, _ in _ordered_chunks(run / "stores" / "cold", corpus))
    step = max(1, round(1 / cfg["floor_fraction"]))
    sample = texts[::step]
    embedder = make_embedder(settings(run / "stores" / "cold", corpus))
    start = time.perf_counter()
    for i in range(0, len(sample), 256):
        embedder.embed(sample[i:i + 256], bulk=len(texts) >= 256)
    seconds = time.perf_counter() - start
    total_wp = sum(embedder.wordpieces(texts))
    sample_wp = total_wp if step == 1 else sum(embedder.wordpieces(sample))
    return {
        "texts": len(texts), "sampled": len(sample), "sample_step": step, "sample_seconds": seconds,
        "seconds": seconds * total_wp / sample_wp, "wordpieces": total_wp,
        "wordpieces_per_s": sample_wp / seconds, "estimated": step > 1,
    }


def phase_ours(cfg: dict, run: Path) -> dict:
    from rag.api import Rag

    qs = questions(run)
    corpus = Path(cfg["corpus"])
    rag = Rag(settings(run / "stores" / "main", corpus))
    try:
        return _query_phase(rag, qs, rows_path=run / "rows-ours.jsonl")
    finally:
        rag.close()


def _query_phase(rag, qs: list[dict], rows_path: Path | None = None) -> dict:
    """Latency of search and ask (warm process, default k), answer scores, and, given
    rows_path, retrieval quality (per-question rows are written there for inspection)."""
    texts = [q["question"] for q in qs]
    start = time.perf_counter()
    rag.search(WARM_UP)
    first_query = time.perf_counter() - start
    search_s, searches = latency_loop(rag.search, texts)
    ask_s, answers = latency_loop(rag.ask, texts)
    out = {
        "first_query_s": first_query,
        "search": latency_summary(search_s), "search_stages_ms": mean_timings(searches),
        "ask": latency_summary(ask_s), "ask_stages_ms": mean_timings(answers),
    }
    answered = [(q, a) for q, a in zip(qs, answers) if not a.refused]
    correct = [q["id"] for q, a in answered if contains(_MARKER.sub(" ", a.answer), q["answer"])]
    out["answers"] = {
        "questions": len(qs), "refused": (len(qs) - len(answered)) / max(len(qs), 1),
        "correct": len(correct) / max(len(qs), 1),
        "correct_of_answered": len(correct) / max(len(answered), 1),
    }
    if rows_path is not None:
        def search(question: str, n: int):
            hits = rag.search(question, k=n).hits
            return [(article_id(s), h.chunk.text) for h in hits for s in [h.chunk.source, *h.duplicates]]

        rows = score_rows(qs, [deep(search, q["question"]) for q in qs])
        out["retrieval"] = retrieval_summary(rows)
        _write_rows(rows_path, rows, answers)
    return out


def _write_rows(path: Path, rows: list[dict], answers) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for row, answer in zip(rows, answers):
            row = {**row, "chunks": [c[:200] for c in row["chunks"]], "answer_text": answer.answer[:500],
                   "refused": answer.refused}
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


# ---------------------------------------------------------------- peers

def _peer_result(peer, qs: list[dict], build_s: float) -> dict:
    texts = [q["question"] for q in qs]
    peer.search(WARM_UP, 5)
    seconds, _ = latency_loop(lambda q: peer.search(q, 5), texts)
    rows = score_rows(qs, [deep(peer.search, q) for q in texts])
    return {"build_s": build_s, "search": latency_summary(seconds), "retrieval": retrieval_summary(rows)}


def _chunk_data(run: Path, corpus: Path):
    from rag.index.store import Store

    rows = _ordered_chunks(run / "stores" / "main", corpus)
    ids = [i for i, _, _ in rows]
    store = Store(settings(run / "stores" / "main", corpus))
    try:
        vectors = store.chunk_vectors(ids)  # the vector file: Chroma lacks the tail (rag.index.tail)
    finally:
        store.close()
    import numpy as np

    return {"ids": ids, "docs": [article_id(c.source) for _, _, c in rows],
            "index_texts": [t for _, t, _ in rows], "texts": [c.text for _, _, c in rows],
            "vectors": np.stack([vectors[i] for i in ids])}


def peer_builders(run: Path, corpus: Path, data: dict, articles: list[dict]) -> dict:
    """name → a function building that peer: bm25s over our chunks and over whole articles,
    dense-only Chroma over our chunks and vectors (also bench/retrieval_bench.py)."""
    from bench.peers import BM25Peer, ChromaPeer
    from rag.index.embedders import make_embedder

    return {
        "bm25_chunks": lambda: BM25Peer(data["docs"], data["index_texts"], data["texts"]),
        "bm25_articles": lambda: BM25Peer([a["id"] for a in articles],
                                          [f"{a.get('title') or ''}\n{a['text']}" for a in articles],
                                          [a["text"] for a in articles]),
        "chroma_dense": lambda: ChromaPeer(run / "peers" / "chroma", data["ids"], data["docs"], data["texts"],
                                           data["vectors"], make_embedder(settings(run / "stores" / "main", corpus))),
    }


def phase_peers(cfg: dict, run: Path) -> dict:
    """bm25s over our chunks and over whole articles; dense-only Chroma over our chunks and vectors."""
    corpus = Path(cfg["corpus"])
    qs = questions(run)
    data = _chunk_data(run, corpus)
    articles = [json.loads(line) for line in _lines(corpus)]
    out = {}
    builders = peer_builders(run, corpus, data, articles)
    for name, build in builders.items():
        start = time.perf_counter()
        peer = build()
        out[name] = _peer_result(peer, qs, time.perf_counter() - start)
    return out


def phase_llama(cfg: dict, run: Path) -> dict:
    """LlamaIndex's default VectorStoreIndex retriever, over its own default chunks and over ours."""
    from bench.peers import LlamaPeer, llama_embedding, llama_offline
    from rag.index.embed_cache import EmbeddingCache
    from rag.index.embedders import make_embedder

    llama_offline(run)
    corpus = Path(cfg["corpus"])
    qs = questions(run)
    embedder = make_embedder(settings(run / "stores" / "main", corpus))
    cache = EmbeddingCache(Path(cfg["llama_cache"]))
    embed_model = llama_embedding(embedder, cache)
    articles = [json.loads(line) for line in _lines(corpus)]
    start = time.perf_counter()
    peer = LlamaPeer.from_documents(articles, embed_model)
    default = _peer_result(peer, qs, time.perf_counter() - start)
    default["nodes"] = len(peer.index.docstore.docs)
    default["embedded"] = embed_model.embedded
    del peer
    data = _chunk_data(run, corpus)
    start = time.perf_counter()
    peer = LlamaPeer.from_chunks(data["ids"], data["docs"], data["texts"], data["vectors"], embed_model)
    ours = _peer_result(peer, qs, time.perf_counter() - start)
    cache.close()
    return {"llama_default": default, "llama_our_chunks": ours}


# ---------------------------------------------------------------- refusal and scale

def phase_unanswerable(cfg: dict, run: Path) -> dict:
    """Questions asked of an index without their answers (see bench.data.unanswerable_split)."""
    from rag.api import Rag

    corpus = Path(cfg["unanswerable_corpus"])
    qs = [json.loads(line) for line in _lines(run / "unanswerable.jsonl")]
    store = fresh(run / "stores" / "unanswerable")
    seed_cache(store, run / "stores" / "main")
    rag = Rag(settings(store, corpus))
    try:
        ingest = timed_ingest(rag, corpus)
        answers = [rag.ask(q["question"]) for q in qs]
    finally:
        rag.close()
    leaked = [q["id"] for q, a in zip(qs, answers) if not a.refused and contains(a.answer, q["answer"])]
    return {
        "documents": ingest["documents"], "questions": len(qs), "ingest": ingest,
        "refused": sum(a.refused for a in answers) / max(len(qs), 1),
        "answered_examples": [{"id": q["id"], "question": q["question"], "answer": a.answer[:300]}
                              for q, a in zip(qs, answers) if not a.refused][:5],
        "answer_leaked": leaked,
    }


def phase_scale_ingest(cfg: dict, run: Path) -> dict:
    from rag.api import Rag

    corpus = Path(cfg["scale_corpus"])
    store = fresh(run / "stores" / "scale")
    seed_cache(store, run / "stores" / "main")
    rag = Rag(settings(store, corpus))
    try:
        return {**timed_ingest(rag, corpus), "copies": cfg["scale_copies"]}
    finally:
        rag.close()


def phase_scale_query(cfg: dict, run: Path) -> dict:
    from rag.api import Rag

    corpus = Path(cfg["scale_corpus"])
    rag = Rag(settings(run / "stores" / "scale", corpus))
    try:
        return _query_phase(rag, questions(run))
    finally:
        rag.close()


PHASES = {
    "cold": phase_cold, "floor": phase_floor, "noop": phase_noop, "ingest": phase_ingest, "ours": phase_ours,
    "peers": phase_peers, "llama": phase_llama, "unanswerable": phase_unanswerable,
    "scale_ingest": phase_scale_ingest, "scale_query": phase_scale_query,
    "briefs": phase_briefs,  # issue 13: bench/briefs.py
}


def main() -> None:
    name, run = sys.argv[1], Path(sys.argv[2])
    cfg = json.loads((run / "config.json").read_text())
    load_start = os.getloadavg()[0]
    start = time.perf_counter()
    result = PHASES[name](cfg, run)
    result["phase_wall_s"] = time.perf_counter() - start
    import importlib.util

    # The run's snapshot, not the live checkout (rag is a namespace package: no __file__).
    result["rag_from"] = str(Path(importlib.util.find_spec("rag.api").origin).parent)
    result["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["loadavg"] = [load_start, os.getloadavg()[0]]
    (run / "results").mkdir(exist_ok=True)
    (run / "results" / f"{name}.json").write_text(json.dumps(result, indent=1, default=str))


if __name__ == "__main__":
    main()
