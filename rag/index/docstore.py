"""SQLite docstore: the manifest, articles, chunks, the lexical statistics and index metadata.

It is the commit point of every ingest: one transaction changes the manifest, the chunks, the
statistics BM25 scores with and the pointers to the vector collection and the lexical index,
so a crash leaves either the old index or the new one. Every read is keyed (by source, path,
content hash, chunk id or term): nothing here reads the whole manifest to answer one question.

Each thread gets its own connection: a read transaction (`snapshot`) then belongs to one
reader, and a server's concurrent requests cannot end each other's snapshots.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sqlite3
import threading
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from rag.errors import RagError
from rag.index.scope import Scope, day_number, file_of
from rag.models import Article, Chunk

SCHEMA_VERSION = 4  # PRAGMA user_version; 0 or 1: a store written before the lexical statistics; 2: before articles' terms; 3: before their counts

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS documents (
    source TEXT PRIMARY KEY, path TEXT, file TEXT, content_hash TEXT, size INTEGER, mtime_ns INTEGER,
    day INTEGER, article TEXT, raw TEXT
);
CREATE INDEX IF NOT EXISTS documents_path ON documents (path);
CREATE INDEX IF NOT EXISTS documents_file ON documents (file);
CREATE INDEX IF NOT EXISTS documents_hash ON documents (content_hash);
CREATE INDEX IF NOT EXISTS documents_day ON documents (day);
CREATE TABLE IF NOT EXISTS chunks (
    id TEXT PRIMARY KEY, source TEXT, ordinal INTEGER, index_text TEXT, terms TEXT, n_terms INTEGER, chunk TEXT
);
CREATE INDEX IF NOT EXISTS chunks_source ON chunks (source, ordinal);
CREATE TABLE IF NOT EXISTS terms (term TEXT PRIMARY KEY, df INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS article_terms (id TEXT PRIMARY KEY, source TEXT NOT NULL, terms TEXT, n_terms INTEGER);
CREATE INDEX IF NOT EXISTS article_terms_source ON article_terms (source);
CREATE TABLE IF NOT EXISTS article_tf (id TEXT NOT NULL, term TEXT NOT NULL, tf INTEGER NOT NULL,
                                       PRIMARY KEY (id, term)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS article_df (term TEXT PRIMARY KEY, df INTEGER NOT NULL) WITHOUT ROWID;
"""
# Indexes added after a schema version: the next ingest of an older store creates them.
# documents_path_manifest covers manifest_under: a rescan reads every row under a directory from
# the index alone, without a lookup of each (large) document row.
_LATER_INDEXES = """
CREATE INDEX IF NOT EXISTS documents_file_source ON documents (file, source);
CREATE INDEX IF NOT EXISTS documents_path_manifest ON documents (path, source, content_hash, size, mtime_ns);
"""
# Pages read through a memory map of the file rather than a read() each (SQLite's mmap_size): a
# search's few hundred keyed row reads (chunk terms, heads, articles' counts) cost about half
# (issue 14). The same bytes, so the same rows; past this size the rest is read as before.
_MMAP_BYTES = 1 << 30
_PREPARE_WAIT_S = 60.0  # as long as a connection's busy timeout
_TABLES = ("documents", "chunks", "terms", "article_terms", "article_df", "article_tf")


def damaged_docstore(path: Path, detail: str) -> str:
    return (f"the docstore {path} is damaged ({detail[:200]}); move it away, then run `rag ingest --rebuild` "
            "(the embedding cache keeps the vectors)")


@dataclass(frozen=True)
class ManifestRow:
    source: str
    path: str
    content_hash: str
    size: int | None
    mtime_ns: int | None


@dataclass(frozen=True)
class LexicalRow:
    """What BM25 needs of one committed chunk: its terms (space-separated) and how many."""

    terms: str
    n_terms: int


@dataclass(frozen=True)
class NewArticle:
    article: Article
    raw: str
    size: int | None = None  # of the file it was read from, to skip it unread next time
    mtime_ns: int | None = None


@dataclass(frozen=True)
class NewChunk:
    chunk: Chunk
    index_text: str  # what it is embedded and indexed by
    terms: list[str]  # the lexical terms of index_text


class DocStore:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        try:
            _prepare_when_free(self.db)  # self.db's first PRAGMA already reads the file
        except sqlite3.DatabaseError as err:  # not a database, or a damaged one
            self.close()
            if _locked(err):
                raise RagError(f"the docstore {path} stayed locked by another process for {_PREPARE_WAIT_S:.0f} s; "
                               "try again when it is done") from None
            raise RagError(damaged_docstore(path, str(err))) from None

    @property
    def legacy(self) -> bool:
        """A store of the older schema (documents without their file), until `--rebuild` replaces it."""
        return self.db.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION

    @property
    def db(self) -> sqlite3.Connection:
        """This thread's connection."""
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=60, check_same_thread=False)
            db.execute("PRAGMA synchronous=FULL")
            db.execute(f"PRAGMA mmap_size={_MMAP_BYTES}")
            self._local.db = db
            with self._all_lock:
                self._all.append(db)
        return db

    def close(self) -> None:
        with self._all_lock:
            for db in self._all:
                db.close()
            self._all.clear()
        self._local = threading.local()

    @contextmanager
    def snapshot(self):
        """Reads inside see one committed state, even while another process commits an ingest."""
        db = self.db
        if db.in_transaction:
            yield
            return
        db.execute("BEGIN")
        # One committed state throughout, so a metadata key read once holds until the end (a
        # search read some twenty of them; issue 14), unless this connection writes meanwhile.
        self._local.meta = ({}, db.total_changes)
        try:
            yield
        finally:
            self._local.meta = None
            db.execute("ROLLBACK")

    def add_later_indexes(self) -> None:
        """Create the indexes a store of this schema version may lack (a writer calls this; a
        store of an older schema gets them with its rebuild's new tables, at the next ingest)."""
        if self.legacy:
            return
        with self.db:
            _add_later_indexes(self.db)

    def integrity(self) -> list[str]:
        """SQLite's own check of the file: [] when the database is sound."""
        rows = [r[0] for r in self.db.execute("PRAGMA quick_check")]
        return [] if rows == ["ok"] else rows

    # metadata
    def meta(self, key: str, default=None):
        db = self.db
        memo, changes = getattr(self._local, "meta", None) or (None, None)
        if memo is not None and (changes != db.total_changes or not db.in_transaction):
            memo = self._local.meta = None  # written (or committed) since the snapshot began
        if memo is not None and key in memo:
            row = memo[key]
        else:
            row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
            if memo is not None:
                memo[key] = row
        return json.loads(row[0]) if row else default  # parsed afresh: a caller may change its value

    def set_meta(self, values: dict) -> None:
        """Write metadata in its own transaction (None deletes a key)."""
        with self.db:
            _write_meta(self.db, values)

    # manifest and articles
    def manifest(self) -> dict[str, tuple[str, str]]:
        """source → (content_hash, path) of every document (checks and evals; ingest reads keyed rows)."""
        return {s: (h, p) for s, h, p in self.db.execute("SELECT source, content_hash, path FROM documents")}

    def manifest_row(self, source: str) -> ManifestRow | None:
        row = self.db.execute("SELECT source, path, content_hash, size, mtime_ns FROM documents WHERE source = ?",
                              (source,)).fetchone()
        return ManifestRow(*row) if row else None

    def manifest_under(self, roots: list[str]) -> dict[str, ManifestRow]:
        """source → row, for the documents read from these files or from files under these
        directories (absolute paths): a range read on the path index, not the whole manifest."""
        out: dict[str, ManifestRow] = {}
        query = ("SELECT source, path, content_hash, size, mtime_ns FROM documents "
                 "WHERE path = ? OR (path >= ? AND path < ?)")
        for root in roots:
            base = root.rstrip("/")
            for row in self.db.execute(query, (base, base + "/", base + "0")):  # "0" sorts right after "/"
                out[row[0]] = ManifestRow(*row)
        return out

    def sources_with_hash(self, content_hash: str) -> list[str]:
        rows = self.db.execute("SELECT source FROM documents WHERE content_hash = ? ORDER BY source", (content_hash,))
        return [r[0] for r in rows]

    def article(self, source: str) -> Article | None:
        row = self.db.execute("SELECT article FROM documents WHERE source = ?", (source,)).fetchone()
        return Article.model_validate_json(row[0]) if row else None

    def articles(self) -> list[Article]:
        return [Article.model_validate_json(r[0]) for r in self.db.execute("SELECT article FROM documents ORDER BY source")]

    def all_sources(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT source FROM documents ORDER BY source")]

    def raw(self, source: str) -> str | None:
        row = self.db.execute("SELECT raw FROM documents WHERE source = ?", (source,)).fetchone()
        return row[0] if row else None

    def sources(self, pattern: str | None = None, since: dt.date | None = None, until: dt.date | None = None) -> list[str]:
        """Sources matching a glob (on the source or its file) and a date range; undated articles
        fail any date filter. SQLite's GLOB reads only the index range of the glob's literal
        prefix, so a narrow glob never reads the whole manifest."""
        where, args = [], []
        if pattern:
            glob = sqlite_glob(pattern)
            where.append("(source GLOB ? OR file GLOB ?)")
            args += [glob, glob]
        if since:
            where.append("day >= ?")
            args.append(day_number(since))
        if until:
            where.append("day <= ?")
            args.append(day_number(until))
        sql = "SELECT source FROM documents" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY source"
        return [r[0] for r in self.db.execute(sql, args)]

    def among(self, selected: tuple[str, ...], pattern: str | None = None) -> list[str]:
        """The indexed sources among `selected` that match the glob (keyed reads, in batches)."""
        glob = sqlite_glob(pattern) if pattern else None
        sql = "SELECT source FROM documents WHERE source IN ({})" + (" AND (source GLOB ? OR file GLOB ?)" if glob else "")
        out: list[str] = []
        for start in range(0, len(selected), 500):
            batch = list(selected[start:start + 500])
            out += [r[0] for r in self.db.execute(sql.format(",".join("?" * len(batch))), batch + ([glob, glob] if glob else []))]
        return sorted(out)

    def day_range(self) -> tuple[int | None, int | None]:
        """The first and last day number of the dated documents (read on the day index)."""
        return self.db.execute("SELECT MIN(day), MAX(day) FROM documents").fetchone()

    def share(self, scope: Scope) -> float:
        """The fraction of the documents in `scope`, counted on the indexes (not by reading every document)."""
        total = self.db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
        if not total or scope.empty:
            return 0.0
        if scope.sources is not None:
            return min(1.0, len(scope.sources) / total)
        where, args = _scope_sql(scope, "")
        if not where:
            return 1.0
        return self.db.execute("SELECT COUNT(*) FROM documents WHERE " + where, args).fetchone()[0] / total

    def ids_in(self, scope: Scope) -> list[str]:
        """Every committed chunk id in `scope` (read on the day, source and file indexes)."""
        if scope.empty:
            return []
        where, args = _scope_sql(scope, "d.")
        if scope.sources is not None:  # a resolved glob: its sources' chunks, keyed by source
            sql = ("SELECT c.id FROM chunks c CROSS JOIN documents d ON d.source = c.source WHERE c.source IN ({})"
                   + (" AND " + where if where else ""))
            out: list[str] = []
            for start in range(0, len(scope.sources), 500):
                batch = list(scope.sources[start:start + 500])
                out += [r[0] for r in self.db.execute(sql.format(",".join("?" * len(batch))), [*batch, *args])]
            return out
        # CROSS JOIN: the documents in scope first, on their indexes, then their chunks by source
        # (SQLite would otherwise read every chunk row, texts and all).
        sql = "SELECT c.id FROM documents d CROSS JOIN chunks c ON c.source = d.source" + (
            " WHERE " + where if where else "")
        return [r[0] for r in self.db.execute(sql, args)]

    def sources_in(self, scope: Scope) -> list[str]:
        """The sources a scope's source part admits (its days aside), read on the source and file
        indexes, or the resolved glob's list itself."""
        if scope.sources is not None:
            return list(scope.sources)
        where, args = _scope_sql(dataclasses.replace(scope, day_from=None, day_to=None), "")
        return [r[0] for r in self.db.execute("SELECT source FROM documents" + (" WHERE " + where if where else ""), args)]

    def known_in(self, ids: list[str], scope: Scope) -> set[str]:
        """The ids among these that are committed chunks of documents in `scope` (keyed by id)."""
        where, args = _scope_sql(scope, "d.")
        # CROSS JOIN: the chunks by id first (SQLite would otherwise walk every document in scope).
        sql = ("SELECT c.id, c.source FROM chunks c CROSS JOIN documents d ON d.source = c.source WHERE c.id IN ({})"
               + (" AND " + where if where else ""))
        allowed = set(scope.sources) if scope.sources is not None else None
        out: set[str] = set()
        for start in range(0, len(ids), 500):
            batch = ids[start:start + 500]
            rows = self.db.execute(sql.format(",".join("?" * len(batch))), [*batch, *args])
            out.update(i for i, source in rows if allowed is None or source in allowed)
        return out

    # chunks
    def chunks(self, ids: list[str]) -> dict[str, Chunk]:
        rows = self._batched("SELECT id, chunk FROM chunks WHERE id IN ({})", ids)
        return {i: Chunk.model_validate_json(c) for i, c in rows}

    def chunks_of(self, source: str) -> list[Chunk]:
        rows = self.db.execute("SELECT chunk FROM chunks WHERE source = ? ORDER BY ordinal", (source,))
        return [Chunk.model_validate_json(r[0]) for r in rows]

    def lead_chunks(self, sources: list[str]) -> dict[str, str]:
        """source → the id of its first chunk (ordinal 0), for these sources (rag.passages)."""
        rows = self._batched("SELECT source, id FROM chunks WHERE ordinal = 0 AND source IN ({})", sources)
        return dict(rows)

    def known(self, ids: list[str]) -> set[str]:
        """The ids among these that are committed chunks."""
        return {r[0] for r in self._batched("SELECT id FROM chunks WHERE id IN ({})", ids)}

    def lexical_rows(self, ids: list[str]) -> dict[str, LexicalRow]:
        rows = self._batched("SELECT id, terms, n_terms FROM chunks WHERE id IN ({})", ids)
        return {i: LexicalRow(t, n) for i, t, n in rows}

    def chunk_heads(self, ids: list[str], dated: bool = True) -> dict[str, tuple[str, int | None]]:
        """id → (source, its document's day number) of these chunks, read without parsing the chunks
        (`dated` False: without the day, which a ranking without as_of never reads)."""
        return self._heads("c.id IN ({})", ids, dated)

    def heads_of_sources(self, sources: list[str], dated: bool = True) -> dict[str, tuple[str, int | None]]:
        """chunk_heads of every chunk of these sources."""
        return self._heads("c.source IN ({})", sources, dated)

    def _heads(self, where: str, keys: list[str], dated: bool) -> dict[str, tuple[str, int | None]]:
        if not dated:
            return {i: (s, None) for i, s in self._batched(f"SELECT c.id, c.source FROM chunks c WHERE {where}", keys)}
        rows = self._batched("SELECT c.id, c.source, d.day FROM chunks c JOIN documents d ON d.source = c.source "
                             f"WHERE {where}", keys)
        return {i: (s, d) for i, s, d in rows}

    def chunk_ids(self) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT id FROM chunks")}

    def chunk_days(self) -> dict[str, int | None]:
        """Every committed chunk id → its document's day number (one pass, for whole-index rewrites)."""
        return dict(self.db.execute("SELECT c.id, d.day FROM chunks c JOIN documents d ON d.source = c.source"))

    def chunk_sources(self) -> dict[str, str]:
        return dict(self.db.execute("SELECT id, source FROM chunks"))

    def ids_of_sources(self, sources: list[str]) -> set[str]:
        return {r[0] for r in self._batched("SELECT id FROM chunks WHERE source IN ({})", sources)}

    def index_texts(self, ids: list[str] | None = None) -> dict[str, str]:
        """Chunk id → the text it was embedded and indexed by (every chunk's, without `ids`)."""
        if ids is None:
            return dict(self.db.execute("SELECT id, index_text FROM chunks"))
        return dict(self._batched("SELECT id, index_text FROM chunks WHERE id IN ({})", ids))

    def lexical_docs(self, batch: int = 5000):
        """(id, source, terms, day) of every chunk, in batches: what the lexical index is rebuilt from."""
        cursor = self.db.execute("SELECT c.id, c.source, c.terms, d.day FROM chunks c "
                                 "LEFT JOIN documents d ON d.source = c.source ORDER BY c.source, c.ordinal")
        while rows := cursor.fetchmany(batch):
            yield rows

    def orphans(self) -> tuple[list[str], list[str]]:
        """(sources with chunks but no document, documents whose chunks are not the ones their
        article records): both impossible after a commit. An article with no text left after
        cleaning is a document with zero chunks, and says so (n_chunks 0)."""
        chunk_sources = [r[0] for r in self.db.execute(
            "SELECT DISTINCT source FROM chunks WHERE source NOT IN (SELECT source FROM documents) ORDER BY source")]
        mismatched = [r[0] for r in self.db.execute(
            "SELECT d.source FROM documents d LEFT JOIN (SELECT source, COUNT(*) AS n FROM chunks GROUP BY source) c "
            "ON c.source = d.source WHERE COALESCE(c.n, 0) != COALESCE(json_extract(d.article, '$.n_chunks'), -1) "
            "ORDER BY d.source")]
        return chunk_sources, mismatched

    def counts(self) -> tuple[int, int]:
        docs = self.db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
        chunks = self.db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
        return docs, chunks

    # lexical statistics
    def lexical_stats(self) -> tuple[int, int]:
        """(committed chunks, their terms in all): BM25's N and total length, kept by every commit."""
        return int(self.meta("lexical_chunks", 0)), int(self.meta("lexical_terms", 0))

    def document_frequency(self, terms: list[str]) -> dict[str, int]:
        return dict(self._batched("SELECT term, df FROM terms WHERE term IN ({})", list(dict.fromkeys(terms))))

    # whole-article lexical documents and their statistics (rag.index.articles)
    def article_stats(self) -> tuple[int, int]:
        """(committed article documents, their terms in all): article BM25's N and total length."""
        return int(self.meta("lexical_articles", 0)), int(self.meta("lexical_article_terms", 0))

    def article_frequency(self, terms: list[str]) -> dict[str, int]:
        return dict(self._batched("SELECT term, df FROM article_df WHERE term IN ({})", list(dict.fromkeys(terms))))

    def article_rows(self, ids: list[str]) -> dict[str, tuple[str, LexicalRow]]:
        """Article document id → (source, its terms) of the committed ones among `ids`."""
        rows = self._batched("SELECT id, source, terms, n_terms FROM article_terms WHERE id IN ({})", ids)
        return {i: (s, LexicalRow(t, n)) for i, s, t, n in rows}

    def article_counts(self, ids: list[str], terms: list[str]) -> dict[str, tuple[str, dict[str, int], int]]:
        """Article document id → (source, term → count of the given `terms` in it, its length) of
        the committed ones among `ids`: BM25 reads the stored counts, never the article's terms."""
        terms = list(dict.fromkeys(terms))
        marks = ",".join("?" * len(terms))
        out: dict[str, tuple[str, dict[str, int], int]] = {}
        for i, s, n, t, tf in self._batched(
                "SELECT a.id, a.source, a.n_terms, t.term, t.tf FROM article_terms a LEFT JOIN article_tf t "
                f"ON t.id = a.id AND t.term IN ({marks}) WHERE a.id IN ({{}})", ids, size=200, prefix=terms):
            counts = out.setdefault(i, (s, {}, n))[1]
            if t is not None:
                counts[t] = tf
        return out

    def article_ids(self) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT id FROM article_terms")}

    def article_ids_of_sources(self, sources: list[str]) -> set[str]:
        return {r[0] for r in self._batched("SELECT id FROM article_terms WHERE source IN ({})", sources)}

    def article_docs(self, batch: int = 5000):
        """(id, source, terms, day) of every article document, in batches (a lexical rebuild)."""
        cursor = self.db.execute("SELECT a.id, a.source, a.terms, d.day FROM article_terms a "
                                 "LEFT JOIN documents d ON d.source = a.source ORDER BY a.source")
        while rows := cursor.fetchmany(batch):
            yield rows

    def stats_problems(self) -> list[str]:
        """The statistics against the chunks (and the whole articles) they summarise ([] when they agree)."""
        problems = self._table_problems("chunks", "terms", self.lexical_stats(), "lexical statistics", "chunks",
                                        "document frequencies", "chunks")
        problems += self._table_problems("article_terms", "article_df", self.article_stats(), "article statistics",
                                         "articles", "article frequencies", "article terms")
        counted = self.db.execute("SELECT COUNT(*) FROM article_terms a WHERE n_terms != "
                                  "(SELECT COALESCE(SUM(tf), 0) FROM article_tf WHERE id = a.id)").fetchone()[0]
        if counted:
            problems.append(f"the stored term counts of {counted} articles disagree with their terms")
        return problems

    def _table_problems(self, table: str, df_table: str, stats: tuple[int, int], name: str, docs: str,
                        frequencies: str, holder: str) -> list[str]:
        """One table's count, length and document frequencies against its stored statistics."""
        count, total = self.db.execute(f"SELECT COUNT(*), COALESCE(SUM(n_terms), 0) FROM {table}").fetchone()
        problems = []
        if (count, total) != stats:
            problems.append(f"the {name} count {stats[0]} {docs} and {stats[1]} terms; the {holder} hold {count} "
                            f"and {total}")
        truth = self._truth(table)
        stored = dict(self.db.execute(f"SELECT term, df FROM {df_table}"))
        wrong = sum(1 for t in truth.keys() | stored.keys() if truth.get(t, 0) != stored.get(t, 0))
        if wrong:
            problems.append(f"the {frequencies} of {wrong} terms disagree with the {holder}")
        return problems

    def _truth(self, table: str) -> Counter:
        """Document frequencies counted from a table's terms."""
        truth: Counter = Counter()
        for (text,) in self.db.execute(f"SELECT terms FROM {table}"):
            truth.update(set(text.split()))
        return truth

    def recount_stats(self) -> None:
        """Recompute the lexical statistics from the chunks and the whole articles (a repair)."""
        truth = self._truth("chunks")
        chunks, terms = self.db.execute("SELECT COUNT(*), COALESCE(SUM(n_terms), 0) FROM chunks").fetchone()
        with self.db:
            self.db.execute("DELETE FROM terms")
            self.db.executemany("INSERT INTO terms VALUES (?, ?)", truth.items())
            _write_meta(self.db, {"lexical_chunks": chunks, "lexical_terms": terms})
        truth = self._truth("article_terms")
        count, total = self.db.execute("SELECT COUNT(*), COALESCE(SUM(n_terms), 0) FROM article_terms").fetchone()
        with self.db:
            self.db.execute("DELETE FROM article_df")
            self.db.executemany("INSERT INTO article_df VALUES (?, ?)", truth.items())
            self.db.execute("DELETE FROM article_tf")
            for (doc_id, text) in self.db.execute("SELECT id, terms FROM article_terms").fetchall():
                _insert_counts(self.db, doc_id, text.split())
            _write_meta(self.db, {"lexical_articles": count, "lexical_article_terms": total})

    # repairs of rows that no commit can leave
    def forget(self, sources: list[str], chunks_only: list[str]) -> None:
        """Delete the documents and chunks of `sources`, and only the chunks of `chunks_only`."""
        with self.db:
            for source in sources + chunks_only:
                self.db.execute("DELETE FROM chunks WHERE source = ?", (source,))
                _delete_article_terms(self.db, source)
            for source in sources:
                self.db.execute("DELETE FROM documents WHERE source = ?", (source,))

    # the commit
    def commit(self, remove: list[str], articles: list[NewArticle], chunks: list[NewChunk], meta: dict,
               replace_all: bool = False, touched: list[tuple[str, int | None, int | None]] = (),
               moved: dict[str, str] | None = None, article_terms=()) -> None:
        """Apply one ingest atomically: drop the documents and chunks of `remove` (everything, with
        `replace_all`), add `articles` and `chunks`, keep the lexical statistics in step, record the
        new path of `moved` documents (source → path) and the new size and mtime of `touched` files
        ((path, size, mtime_ns): read again, found unchanged) and write `meta`. `article_terms`:
        the whole-article lexical documents of `articles` (rag.index.articles.ArticleTerms)."""
        db = self.db
        db.execute("BEGIN IMMEDIATE")  # explicit: the schema statements of a rebuild belong to it too
        with db:
            if replace_all:
                for table in _TABLES:
                    db.execute(f"DROP TABLE IF EXISTS {table}")
                _create(db)
                n_chunks, n_terms, df = 0, 0, Counter()
                article_counts = (0, 0)
            else:
                n_chunks, n_terms = self.lexical_stats()
                df = Counter()
                article_counts = self.article_stats()
            article_meta = _commit_article_terms(db, remove, list(article_terms), article_counts)
            for source in remove:
                for terms, count in db.execute("SELECT terms, n_terms FROM chunks WHERE source = ?", (source,)):
                    n_chunks, n_terms = n_chunks - 1, n_terms - count
                    df.subtract(set(terms.split()))
                db.execute("DELETE FROM documents WHERE source = ?", (source,))
                db.execute("DELETE FROM chunks WHERE source = ?", (source,))
            db.executemany(
                "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(a.article.source, a.article.path, file_of(a.article.source), a.article.content_hash, a.size,
                  a.mtime_ns, day_number(a.article.date), a.article.model_dump_json(), a.raw) for a in articles],
            )
            db.executemany(
                "INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(c.chunk.id, c.chunk.source, c.chunk.ordinal, c.index_text, " ".join(c.terms), len(c.terms),
                  c.chunk.model_dump_json()) for c in chunks],
            )
            for c in chunks:
                n_chunks, n_terms = n_chunks + 1, n_terms + len(c.terms)
                df.update(set(c.terms))
            _apply_df(db, df)
            db.executemany("UPDATE documents SET path = ? WHERE source = ?",
                           [(path, source) for source, path in (moved or {}).items()])
            db.executemany("UPDATE documents SET size = ?, mtime_ns = ? WHERE path = ?",
                           [(size, mtime, path) for path, size, mtime in touched])
            _write_meta(db, {**meta, "lexical_chunks": n_chunks, "lexical_terms": n_terms, **article_meta})

    def _batched(self, sql: str, keys: list[str], size: int = 500, prefix: list = ()):
        """Rows of `sql` for `keys` in batches (its "{}" takes a batch's marks; `prefix`: parameters before them)."""
        for start in range(0, len(keys), size):
            batch = keys[start:start + size]
            yield from self.db.execute(sql.format(",".join("?" * len(batch))), [*prefix, *batch])


def _scope_sql(scope: Scope, table: str) -> tuple[str, list]:
    """A scope's conditions on the documents table (columns prefixed by `table`), sources aside."""
    where, args = [], []
    if scope.day_from is not None:
        where.append(f"{table}day >= ?")
        args.append(scope.day_from)
    if scope.day_to is not None:
        where.append(f"{table}day <= ?")
        args.append(scope.day_to)
    if scope.names:
        marks = ",".join("?" * len(scope.names))
        where.append(f"({table}source IN ({marks}) OR {table}file IN ({marks}))")
        args += [*scope.names, *scope.names]
    if scope.dir_prefix:  # a range on the primary key: "/" + 1 is "0"
        where.append(f"{table}source >= ? AND {table}source < ?")
        args += [scope.dir_prefix, scope.dir_prefix[:-1] + chr(ord(scope.dir_prefix[-1]) + 1)]
    if scope.feed:
        where.append(f"{table}file = ?")
        args.append(scope.feed)
    return " AND ".join(where), args


def sqlite_glob(pattern: str) -> str:
    """fnmatch's glob in SQLite's GLOB syntax (the same *, ? and [...]; negation is [^...])."""
    return pattern.replace("[!", "[^")


def _prepare_when_free(db: sqlite3.Connection) -> bool:
    """`_prepare`, waiting out another process's lock. Two ingests opening a new store together
    contend for the switch to WAL and the schema, and SQLite can answer "database is locked" at
    once there, without its busy handler (a fresh-clone CI run reported that as a damaged store)."""
    deadline = time.monotonic() + _PREPARE_WAIT_S
    while True:
        try:
            return _prepare(db)
        except sqlite3.OperationalError as err:
            if not _locked(err) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _locked(err: sqlite3.DatabaseError) -> bool:
    return isinstance(err, sqlite3.OperationalError) and "locked" in str(err)


def _prepare(db: sqlite3.Connection) -> bool:
    """Create the schema in a new store, in one transaction (a kill never leaves half of it).
    Returns True for a store of the older schema (documents without their file), which is left as
    it is: queries are refused by its fingerprint, and `rag ingest --rebuild` replaces it."""
    db.execute("PRAGMA journal_mode=WAL")
    if db.execute("PRAGMA user_version").fetchone()[0] >= SCHEMA_VERSION:
        return False
    columns = {r[1] for r in db.execute("PRAGMA table_info(documents)")}
    if columns and "file" not in columns:
        return True
    db.execute("BEGIN IMMEDIATE")
    with db:
        _create(db)
        _add_later_indexes(db)
    return False


def _create(db: sqlite3.Connection) -> None:
    """The schema, statement by statement (executescript would commit an open transaction)."""
    for statement in _SCHEMA.split(";"):
        if statement.strip():
            db.execute(statement)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def _add_later_indexes(db: sqlite3.Connection) -> None:
    for statement in _LATER_INDEXES.split(";"):
        if statement.strip():
            db.execute(statement)


def _write_meta(db: sqlite3.Connection, values: dict) -> None:
    for key, value in values.items():
        if value is None:
            db.execute("DELETE FROM meta WHERE key = ?", (key,))
        else:
            db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(value)))


def _apply_df(db: sqlite3.Connection, df: Counter, table: str = "terms") -> None:
    changes = [(term, delta) for term, delta in df.items() if delta]
    db.executemany(f"INSERT INTO {table} VALUES (?, ?) ON CONFLICT(term) DO UPDATE SET df = df + excluded.df",
                   changes)
    db.executemany(f"DELETE FROM {table} WHERE term = ? AND df <= 0", [(t,) for t, d in changes if d < 0])


def _commit_article_terms(db: sqlite3.Connection, remove: list[str], rows, counts: tuple[int, int]) -> dict:
    """The article-level half of a commit (rag.index.articles): drop the terms of `remove`, add
    `rows` (id, source, terms), keep the article statistics in step; returns their meta."""
    n_articles, n_terms = counts
    df: Counter = Counter()
    for source in remove:
        for terms, count in db.execute("SELECT terms, n_terms FROM article_terms WHERE source = ?", (source,)):
            n_articles, n_terms = n_articles - 1, n_terms - count
            df.subtract(set(terms.split()))
        _delete_article_terms(db, source)
    db.executemany("INSERT INTO article_terms VALUES (?, ?, ?, ?)",
                   [(r.id, r.source, " ".join(r.terms), len(r.terms)) for r in rows])
    for r in rows:
        _insert_counts(db, r.id, r.terms)
        n_articles, n_terms = n_articles + 1, n_terms + len(r.terms)
        df.update(set(r.terms))
    _apply_df(db, df, "article_df")
    return {"lexical_articles": n_articles, "lexical_article_terms": n_terms}


def _delete_article_terms(db: sqlite3.Connection, source: str) -> None:
    db.execute("DELETE FROM article_tf WHERE id IN (SELECT id FROM article_terms WHERE source = ?)", (source,))
    db.execute("DELETE FROM article_terms WHERE source = ?", (source,))


def _insert_counts(db: sqlite3.Connection, doc_id: str, terms: list[str]) -> None:
    """An article's term counts (BM25 reads only its query terms' rows)."""
    db.executemany("INSERT INTO article_tf VALUES (?, ?, ?)", [(doc_id, t, n) for t, n in Counter(terms).items()])
