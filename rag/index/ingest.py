"""Incremental, atomic ingest.

Order of work, chosen so that a crash at any moment leaves a usable index:
1. new vectors are upserted into Chroma, and new postings committed to the lexical index,
   under fresh content-hash ids (invisible to queries, which only accept ids the docstore knows);
2. ONE sqlite transaction swaps the manifest, the chunks, the lexical statistics and the
   pointers to the collection and the lexical index (the commit point);
3. stale vectors and postings (and, after a rebuild, the old collection and lexical index) are
   garbage-collected.

A chunk's id hashes everything Chroma stores for it (its text, the title it is embedded with,
its metadata), so step 1 never rewrites a vector that the committed index uses. A marker in
the docstore brackets steps 1-3: when it is found, the last ingest was interrupted, and the
next ingest (or `rag status --repair`) first sweeps what it left (docs/reliability.md).

Planning reads only the manifest rows of the files and directories given (a range on the
path index) and, for a changed article, the rows with its content hash. A file whose size and
mtime are those recorded at its last reading is skipped unread, unless `verify` asks for every
file to be hashed again.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from rag.errors import InputError, RagError, StoreUnavailableError
from rag.index import tail
from rag.index.articles import FIELD as ARTICLE_FIELD
from rag.index.articles import article_terms
from rag.index.docstore import ManifestRow, NewArticle, NewChunk
from rag.index.embed_cache import embed_cached
from rag.index.embedders import Embedder
from rag.index.lexical import LexicalDoc
from rag.index.scope import day_number
from rag.index.sentence_vectors import store_sentence_vectors
from rag.index.shards import SEALED_DEAD
from rag.index.store import (
    PENDING,
    Store,
    chroma_errors,
    collection_name,
    fingerprint,
    index_text,
    lexical_name,
)
from rag.index.tail import TOMBSTONES
from rag.index.vectorstore import on_disk, vector_meta
from rag.models import Article, Chunk, IngestReport
from rag.settings import Settings
from rag.text.document import parse_document
from rag.text.lexical import content_words
from rag.text.readers import FileRef, SourceDoc, discover, read_file

Progress = Callable[[str, int, int], None]
_RACY_NS = 2_000_000_000  # an mtime this close to the scan may still change within its tick: read the file
_MARKED_IDS = 50_000  # the interrupted-ingest marker lists up to this many ids (more: sweeps compare everything)


@dataclass
class Plan:
    new: list[SourceDoc] = field(default_factory=list)
    updated: set[str] = field(default_factory=set)
    removed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    duplicates: dict[str, str] = field(default_factory=dict)
    stats: dict[str, tuple[int, int]] = field(default_factory=dict)  # absolute path → (size, mtime_ns) when read
    moved: dict[str, str] = field(default_factory=dict)  # source → its new absolute path (unchanged, read elsewhere)

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
    verify: bool = False,
) -> IngestReport:
    started = time.perf_counter()
    progress = progress or (lambda stage, done, total: None)
    store = Store(settings, embedder)
    try:
        with store.write_lock(lock_wait):
            if not rebuild:
                store.check_compatible(for_query=False)
            if not dry_run and not rebuild and (damage := store.vector_file_damage()):
                # Nothing is written: `--repair` rebuilds the file (and a damaged Chroma) from the docstore and the cache.
                raise StoreUnavailableError(f"{damage}; nothing was ingested: run `rag status --repair`, which rebuilds "
                                            "it from the docstore and the embedding cache")
            healed = tail.heal(store, progress) if not dry_run and not rebuild else 0  # before anything opens Chroma
            if not dry_run and store.docs.meta(PENDING) is not None:
                store.sweep_garbage()
            if not dry_run:
                store.docs.add_later_indexes()
            report = IngestReport(dry_run=dry_run, flushed=healed)
            plan = _plan(store, paths or [Path(settings.corpus_dir)], settings, rebuild, verify, report)
            report.added = [d.source for d in plan.new if d.source not in plan.updated]
            report.updated = sorted(plan.updated)
            report.removed = plan.removed
            report.skipped = plan.skipped
            report.duplicates = plan.duplicates
            applied = not dry_run and (plan.changes or rebuild or store.docs.meta("lexical") is None
                                       or store.lacks_vector_file())
            if applied:
                _apply(store, settings, plan, rebuild, report, progress)
                report.added = [s for s in report.added if s not in report.failed]
                report.updated = [s for s in report.updated if s not in report.failed]
            elif not dry_run and (plan.stats or plan.moved):
                # Read again and found unchanged (touched, copied back, or the corpus moved): remember
                # their new paths and mtimes, so the next rescan skips them unread.
                store.docs.commit([], [], [], {}, touched=[(p, *s) for p, s in plan.stats.items()],
                                  moved=plan.moved)
            if not dry_run and not applied and tail.due(store, settings.dense_tail_rows):
                report.flushed += _flush(store, progress)  # one an earlier ingest's failure left undone
            report.total_chunks = store.committed_chunks()
    finally:
        store.close()
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _plan(store: Store, paths: list[Path], settings: Settings, rebuild: bool, verify: bool,
          report: IngestReport) -> Plan:
    scan = discover(paths, Path(settings.corpus_dir))
    report.failed.update(scan.failed)
    manifest = {} if rebuild else store.docs.manifest_under([str(r) for r in scan.roots])
    by_path: dict[str, list[ManifestRow]] = {}
    for row in manifest.values():
        by_path.setdefault(row.path, []).append(row)
    plan = Plan()
    found: list[SourceDoc] = []
    failed_paths: set[str] = set()
    seen: set[str] = set()
    now = time.time_ns()
    for ref in scan.files:
        path = ref.absolute or os.path.abspath(ref.path)  # what the manifest records (Path.absolute() is 10x slower)
        stat = ref.stat or _stat(ref)  # the walk's own stat: one system call per file in a rescan
        rows = by_path.get(path, [])
        if stat and rows and not verify and all((r.size, r.mtime_ns) == stat for r in rows) \
                and now - stat[1] > _RACY_NS:
            plan.skipped.extend(r.source for r in rows)  # unchanged since it was read: not read again
            seen.update(r.source for r in rows)
            continue
        try:
            docs, failures = read_file(ref, settings.max_article_bytes)
        except InputError as err:
            report.failed[ref.source] = str(err)
            failed_paths.add(path)
            continue
        if stat:
            plan.stats[path] = stat
        report.failed.update(failures)
        found.extend(docs)
    seen.update(doc.source for doc in found)
    for source, row in manifest.items():
        if source not in seen and row.path not in failed_paths:
            plan.removed.append(source)
    _classify(store, found, manifest, rebuild, plan)
    return plan


def _stat(ref: FileRef) -> tuple[int, int] | None:
    try:
        st = os.stat(ref.path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def _classify(store: Store, found: list[SourceDoc], manifest: dict[str, ManifestRow], rebuild: bool,
              plan: Plan) -> None:
    """Each document read: unchanged, a copy of an indexed one, changed, or new."""
    removed = set(plan.removed)
    current = {doc.source: doc.content_hash for doc in found}
    claimed: dict[str, str] = {}  # content hash → the source this run indexes it under

    def previous(source: str) -> ManifestRow | None:
        if rebuild:
            return None
        return manifest[source] if source in manifest else store.docs.manifest_row(source)

    def twin_of(content_hash: str) -> str | None:
        if content_hash in claimed:
            return claimed[content_hash]
        if rebuild:
            return None
        # Syndicated copies: the same bytes under another name are indexed once. Only articles that
        # stay as they are can be the original: one being replaced no longer holds its old bytes.
        return next((s for s in store.docs.sources_with_hash(content_hash)
                     if s not in removed and current.get(s, content_hash) == content_hash), None)

    for doc in found:
        before = previous(doc.source)
        if before and before.content_hash == doc.content_hash:
            plan.skipped.append(doc.source)
            if before.path != (path := os.path.abspath(doc.path)):
                plan.moved[doc.source] = path
            claimed.setdefault(doc.content_hash, doc.source)
            continue
        twin = twin_of(doc.content_hash)
        if twin and twin != doc.source:
            plan.duplicates[doc.source] = twin
            if before:  # it was indexed with other text, which is gone now
                plan.removed.append(doc.source)
            continue
        claimed[doc.content_hash] = doc.source
        if before:
            plan.updated.add(doc.source)
        plan.new.append(doc)


def _apply(store: Store, settings: Settings, plan: Plan, rebuild: bool, report: IngestReport, progress: Progress) -> None:
    parsed: list[tuple[Article, SourceDoc, list[Chunk]]] = []
    for i, doc in enumerate(plan.new, start=1):
        try:
            article, chunks = parse_document(doc, settings.chunk_tokens, settings.chunk_overlap_sentences)
        except Exception as err:  # one bad document must not stop the others
            report.failed[doc.source] = f"could not parse: {type(err).__name__}: {err}"[:300]
            continue
        if not chunks:
            # Recorded in the manifest all the same, so an unchanged file is not re-read and
            # does not force a new commit on every later ingest.
            report.failed[doc.source] = "no article text left after cleaning"
        parsed.append((article, doc, chunks))
        progress("parse", i, len(plan.new))
    chunks = [c for _, _, cs in parsed for c in cs]
    texts = [index_text(c, settings.embed_title) for c in chunks]
    _bind_ids(chunks, texts)
    vectors, report.embedded = embed_cached(
        store.embedder, store.cache, texts, on_batch=lambda d, t: progress("embed", d, t)
    )
    if settings.sentence_vectors:
        report.embedded_sentences = store_sentence_vectors(
            store.embedder, store.cache, chunks, on_batch=lambda d, t: progress("embed sentences", d, t))
    report.chunks = len(chunks)
    terms = [content_words(t) for t in texts]

    generation = store.next_generation()
    old_collection, old_lexical = store.docs.meta("collection"), store.docs.meta("lexical")
    fresh = rebuild or old_collection is None
    collection = collection_name(settings, generation) if fresh else old_collection
    lexical = lexical_name(generation) if rebuild or old_lexical is None else old_lexical
    replaced = sorted(plan.updated | set(plan.removed))
    stale = set() if rebuild else store.docs.ids_of_sources(replaced)
    # A committed id already holds exactly this vector and these postings (ids hash what is stored).
    live = set() if fresh else store.docs.known([c.id for c in chunks])
    todo = [i for i, c in enumerate(chunks) if c.id not in live]
    marked = [chunks[i].id for i in todo] + sorted(stale)
    # Whole articles as lexical documents (rag.index.articles): the new ones are written with the
    # chunks' postings, the replaced ones deleted after the commit, as stale chunks are.
    documents = [d for a, _, cs in parsed if (d := article_terms(a.source, a.title, a.date, cs)) is not None]
    stale_articles = set() if rebuild else store.docs.article_ids_of_sources(replaced)
    new_articles = [d for d in documents if d.id not in stale_articles]
    progress("write", 0, len(todo))  # vectors, postings and the commit: no count until it is done
    store.docs.set_meta({PENDING: {"generation": generation, "collection": collection, "lexical": lexical,
                                   "pid": os.getpid(), "ids": marked if len(marked) <= _MARKED_IDS else None,
                                   "articles": [d.id for d in new_articles] + sorted(stale_articles)}})
    # With a vector file, Chroma is written only by a flush (rag.index.tail): the new rows join the
    # file's tail, and the replaced chunks' vectors stay in Chroma as tombstones until then.
    with_tail = not settings.chroma_url
    if not with_tail:
        with chroma_errors():
            if fresh and collection != old_collection:
                store.drop_collection(collection)  # an interrupted attempt's, never committed
            store.write_vectors(collection, [chunks[i] for i in todo], vectors[todo])
    old_state = store.vector_state
    vector_file = store.append_vector_file(collection, fresh, [chunks[i] for i in todo], vectors[todo], generation)
    dead = sorted(stale - {c.id for c in chunks})
    day = {a.source: day_number(a.date) for a, _, _ in parsed}
    _write_postings(store, lexical, lexical != old_lexical,
                    [LexicalDoc(chunks[i].id, chunks[i].source, " ".join(terms[i]), day[chunks[i].source])
                     for i in todo]
                    + [LexicalDoc(d.id, d.source, " ".join(d.terms), day[d.source], ARTICLE_FIELD) for d in new_articles])

    store.docs.commit(
        remove=replaced,
        articles=[NewArticle(a, doc.raw, *plan.stats.get(str(doc.path.absolute()), (None, None)))
                  for a, doc, _ in parsed],
        chunks=[NewChunk(c, t, w) for c, t, w in zip(chunks, texts, terms)],
        meta={"fingerprint": fingerprint(settings), "collection": collection, "lexical": lexical,
              "generation": generation, "committed_by": os.getpid(),
              "vector_file": vector_file.as_meta() if vector_file else None,
              TOMBSTONES: (None if fresh else tail.with_tombstones(store, dead) or None) if with_tail else None,
              **({SEALED_DEAD: None} if fresh else {})},
        replace_all=rebuild,
        touched=[(p, *s) for p, s in plan.stats.items()],
        moved=plan.moved,
        article_terms=documents,
    )
    _collect_garbage(store, dead, old_collection, collection, old_lexical, lexical,
                     sorted(stale_articles - {d.id for d in documents}),
                     drop_old=not with_tail or old_state is None or old_state.flushed > 0
                     or on_disk(store.dir / "chroma", old_collection or ""),  # a killed flush's start
                     tombstoned=with_tail)
    store.docs.set_meta({PENDING: None})
    if with_tail and tail.due(store, settings.dense_tail_rows):
        report.flushed += _flush(store, progress)


def _flush(store: Store, progress: Progress) -> int:
    """The tail into Chroma, after the ingest's commit: a failure loses nothing (searches read the
    tail from the vector file), and the next ingest, changed or not, flushes again."""
    try:
        return tail.flush(store, progress)
    except RagError as err:
        detail = getattr(err, "detail", None) or str(err)
        raise type(err)(f"the articles were committed, but writing their vectors into Chroma failed ({detail}); "
                        "searches read them from the vector file, and the next `rag ingest` writes them") from None


def _write_postings(store: Store, name: str, new: bool, docs: list[LexicalDoc]) -> None:
    """Commit the new chunks' postings to the lexical index `name` (a fresh one when `new`)."""
    index = store.new_lexical_index(name) if new else store.lexical_index(name)
    if docs or new:
        with index.writer(threads=2 if len(docs) > 10_000 else 1) as writer:
            writer.add(docs)


def _bind_ids(chunks: list[Chunk], texts: list[str]) -> None:
    """Make each chunk id a hash of everything the vector store keeps for it."""
    for chunk, text in zip(chunks, texts):
        stored = json.dumps([chunk.id, text, vector_meta(chunk)], sort_keys=True)
        chunk.id = hashlib.sha1(stored.encode()).hexdigest()[:20]


def _collect_garbage(store: Store, stale: list[str], old_collection: str | None, collection: str,
                     old_lexical: str | None, lexical: str, stale_articles: list[str] = (),
                     drop_old: bool = True, tombstoned: bool = False) -> None:
    """What the commit made unreachable: the chunks it replaced, or the whole previous index.
    `tombstoned`: the stale chunks' vectors stay in Chroma until a flush (rag.index.tail).
    `drop_old`: the previous collection may be in Chroma (a store whose vectors never left the
    tail has none, and a rebuild of it does not open Chroma)."""
    with chroma_errors():
        if old_collection and old_collection != collection:
            if drop_old:
                store.drop_collection(old_collection)
        elif stale and not tombstoned:
            store.vectors(collection).delete(stale)
    store.remove_unused_vector_files()
    if old_lexical != lexical:
        store.remove_unused_lexical(keep=lexical)
    elif stale or stale_articles:
        with store.lexical_index(lexical).writer() as writer:
            writer.delete([*stale, *stale_articles])

