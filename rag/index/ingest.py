"""Incremental, atomic ingest.

Order of work, chosen so that a crash at any moment leaves a usable index:
1. new vectors are upserted into Chroma under fresh content-hash ids (invisible to queries,
   which only accept ids the docstore knows);
2. a new BM25 generation is written to its own directory;
3. ONE sqlite transaction swaps the manifest, chunks and the BM25 pointer (the commit point);
4. stale vectors and old BM25 generations are garbage-collected.

A chunk's id hashes everything Chroma stores for it (its text, the title it is embedded with,
its metadata), so step 1 never rewrites a vector that the committed index uses. A marker in
the docstore brackets steps 1-4: when it is found, the last ingest was interrupted, and the
next ingest (or `rag status --repair`) first sweeps what it left (docs/reliability.md).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from rag.errors import InputError
from rag.index.embed_cache import embed_cached
from rag.index.embedders import Embedder
from rag.index.lexical import LexicalIndex
from rag.index.repair import PENDING, sweep_garbage
from rag.index.status import collection_names
from rag.index.store import Store, chroma_errors, fingerprint, index_text
from rag.models import Article, Chunk, IngestReport
from rag.settings import Settings
from rag.text.document import parse_document
from rag.text.readers import SourceDoc, discover, read_file

Progress = Callable[[str, int, int], None]


@dataclass
class Plan:
    new: list[SourceDoc] = field(default_factory=list)
    updated: set[str] = field(default_factory=set)
    removed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    duplicates: dict[str, str] = field(default_factory=dict)

    @property
    def changes(self) -> bool:
        return bool(self.new or self.removed)


def ingest(
    settings: Settings,
    paths: list[Path] | None = None,
    dry_run: bool = False,
    rebuild: bool = False,
    progress: Progress | None = None,
    lock_wait: float = 10.0,
    embedder: Embedder | None = None,
) -> IngestReport:
    started = time.perf_counter()
    progress = progress or (lambda stage, done, total: None)
    store = Store(settings, embedder)
    try:
        with store.write_lock(lock_wait):
            if not rebuild:
                store.check_compatible(for_query=False)
            if not dry_run and store.docs.meta(PENDING) is not None:
                sweep_garbage(store)
            report = IngestReport(dry_run=dry_run)
            plan = _plan(store, paths or [Path(settings.corpus_dir)], settings, rebuild, report)
            report.added = [d.source for d in plan.new if d.source not in plan.updated]
            report.updated = sorted(plan.updated)
            report.removed = plan.removed
            report.skipped = plan.skipped
            report.duplicates = plan.duplicates
            if not dry_run and (plan.changes or rebuild or store.docs.meta("bm25") is None):
                _apply(store, settings, plan, rebuild, report, progress)
                report.added = [s for s in report.added if s not in report.failed]
                report.updated = [s for s in report.updated if s not in report.failed]
            report.total_chunks = store.docs.counts()[1]
    finally:
        store.close()
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _plan(store: Store, paths: list[Path], settings: Settings, rebuild: bool, report: IngestReport) -> Plan:
    scan = discover(paths, Path(settings.corpus_dir))
    report.failed.update(scan.failed)
    manifest = {} if rebuild else store.docs.manifest()
    found: list[SourceDoc] = []
    failed_paths: set[str] = set()
    for ref in scan.files:
        try:
            docs, failures = read_file(ref, settings.max_article_bytes)
        except InputError as err:
            report.failed[ref.source] = str(err)
            failed_paths.add(str(ref.path.absolute()))
            continue
        report.failed.update(failures)
        found.extend(docs)

    plan = Plan()
    seen = {doc.source for doc in found}
    roots = [str(r) for r in scan.roots]
    for source, (_, path) in manifest.items():
        under_scan = any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)
        if source not in seen and path not in failed_paths and under_scan:
            plan.removed.append(source)
    # Syndicated copies: the same bytes under another name are indexed once. Only articles that
    # stay as they are can be the original: one being replaced no longer holds its old bytes.
    current = {doc.source: doc.content_hash for doc in found}
    by_hash = {h: s for s, (h, _) in manifest.items()
               if s not in plan.removed and current.get(s, h) == h}
    for doc in found:
        previous = manifest.get(doc.source)
        if previous and previous[0] == doc.content_hash:
            plan.skipped.append(doc.source)
            continue
        twin = by_hash.get(doc.content_hash)
        if twin and twin != doc.source:
            plan.duplicates[doc.source] = twin
            if previous:  # it was indexed with other text, which is gone now
                plan.removed.append(doc.source)
            continue
        by_hash[doc.content_hash] = doc.source
        if previous:
            plan.updated.add(doc.source)
        plan.new.append(doc)
    return plan


def _apply(store: Store, settings: Settings, plan: Plan, rebuild: bool, report: IngestReport, progress: Progress) -> None:
    parsed: list[tuple[Article, str, list[Chunk]]] = []
    for i, doc in enumerate(plan.new, start=1):
        try:
            article, chunks = parse_document(doc, settings.chunk_tokens, settings.chunk_overlap_sentences)
        except Exception as err:  # one bad document must not stop the others
            report.failed[doc.source] = f"could not parse: {type(err).__name__}: {err}"[:300]
            continue
        if not chunks:
            # Recorded in the manifest all the same, so an unchanged file is not re-read and
            # does not force a new BM25 generation on every later ingest.
            report.failed[doc.source] = "no article text left after cleaning"
        parsed.append((article, doc.raw, chunks))
        progress("parse", i, len(plan.new))
    chunks = [c for _, _, cs in parsed for c in cs]
    texts = [index_text(c, settings.embed_title) for c in chunks]
    _bind_ids(chunks, texts)
    vectors, report.embedded = embed_cached(
        store.embedder, store.cache, texts, on_batch=lambda d, t: progress("embed", d, t)
    )
    report.chunks = len(chunks)

    generation = int(store.docs.meta("generation", 0)) + 1
    old_collection = store.docs.meta("collection")
    fresh = rebuild or old_collection is None
    collection = f"{settings.collection}-g{generation}" if fresh else old_collection
    store.docs.set_meta({PENDING: {"generation": generation, "collection": collection, "pid": os.getpid()}})
    # A committed id already holds exactly this vector (ids hash what is stored): leave it alone.
    live = set() if fresh else store.docs.chunk_ids()
    todo = [i for i, c in enumerate(chunks) if c.id not in live]
    with chroma_errors():
        if fresh and collection != old_collection:
            _drop_collection(store, collection)  # an interrupted attempt's, never committed
        vector = store.vectors(collection, metadata=flat_metadata(fingerprint(settings)))
        if todo:
            vector.add([chunks[i].id for i in todo], vectors[todo], [vector_meta(chunks[i]) for i in todo])

    replaced = plan.updated | set(plan.removed)
    stale = set() if rebuild else store.docs.ids_of_sources(sorted(replaced))
    keep_ids, keep_texts = ([], []) if rebuild else store.docs.index_texts(replaced)
    bm25_name = f"g{generation:06d}"
    bm25_dir = store.dir / "bm25" / bm25_name
    tmp = bm25_dir.with_suffix(".tmp")
    for leftover in (tmp, bm25_dir):  # an interrupted attempt's, never committed
        shutil.rmtree(leftover, ignore_errors=True)
    LexicalIndex.build(tmp, keep_ids + [c.id for c in chunks], keep_texts + texts)
    tmp.rename(bm25_dir)

    store.docs.commit(
        remove=sorted(replaced),
        articles=[(a, raw) for a, raw, _ in parsed],
        chunks=[(c, t) for c, t in zip(chunks, texts)],
        meta={"fingerprint": fingerprint(settings), "bm25": bm25_name, "collection": collection,
              "generation": generation},
        replace_all=rebuild,
    )
    with chroma_errors():
        _collect_garbage(store, stale - {c.id for c in chunks}, old_collection, collection, bm25_name)
    store.docs.set_meta({PENDING: None})


def _bind_ids(chunks: list[Chunk], texts: list[str]) -> None:
    """Make each chunk id a hash of everything the vector store keeps for it."""
    for chunk, text in zip(chunks, texts):
        stored = json.dumps([chunk.id, text, vector_meta(chunk)], sort_keys=True)
        chunk.id = hashlib.sha1(stored.encode()).hexdigest()[:20]


def _drop_collection(store: Store, name: str) -> None:
    if name in collection_names(store):
        store.client.delete_collection(name)


def _collect_garbage(store: Store, stale: set[str], old_collection, collection: str, bm25_name: str) -> None:
    if old_collection and old_collection != collection:
        _drop_collection(store, old_collection)
    elif stale:
        store.vectors(collection).delete(sorted(stale))
    for path in (store.dir / "bm25").iterdir():
        if path.name != bm25_name:
            shutil.rmtree(path, ignore_errors=True)


def flat_metadata(data: dict) -> dict:
    return {k: v if isinstance(v, (str, int, float, bool)) else str(v) for k, v in data.items()}


def vector_meta(chunk: Chunk) -> dict:
    meta = {"source": chunk.source, "ordinal": chunk.ordinal}
    if chunk.date:
        meta["date"] = int(chunk.date.strftime("%Y%m%d"))
    return meta
