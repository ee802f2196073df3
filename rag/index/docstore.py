"""SQLite docstore: the manifest (source → content hash), articles, chunks and index metadata.

One transaction commits an ingest: the manifest, the chunks and the pointer to the BM25
generation change together, so a crash leaves either the old index or the new one.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
import sqlite3
from contextlib import contextmanager
from pathlib import Path

from rag.errors import RagError
from rag.models import Article, Chunk

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS documents (
    source TEXT PRIMARY KEY, path TEXT, content_hash TEXT, date TEXT, article TEXT, raw TEXT
);
CREATE TABLE IF NOT EXISTS chunks (
    id TEXT PRIMARY KEY, source TEXT, ordinal INTEGER, index_text TEXT, chunk TEXT
);
CREATE INDEX IF NOT EXISTS chunks_source ON chunks (source);
"""


class DocStore:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(path, timeout=60, check_same_thread=False)
        try:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as err:  # not a database, or a damaged one
            self.db.close()
            from rag.index.status import damaged_docstore

            raise RagError(damaged_docstore(path, str(err))) from None

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def snapshot(self):
        """Reads inside see one committed state, even while another process commits an ingest."""
        if self.db.in_transaction:
            yield
            return
        self.db.execute("BEGIN")
        try:
            yield
        finally:
            self.db.execute("ROLLBACK")

    def integrity(self) -> list[str]:
        """SQLite's own check of the file: [] when the database is sound."""
        rows = [r[0] for r in self.db.execute("PRAGMA quick_check")]
        return [] if rows == ["ok"] else rows

    # metadata
    def meta(self, key: str, default=None):
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    def set_meta(self, values: dict) -> None:
        """Write metadata in its own transaction (None deletes a key)."""
        with self.db:
            for key, value in values.items():
                if value is None:
                    self.db.execute("DELETE FROM meta WHERE key = ?", (key,))
                else:
                    self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(value)))

    # manifest and articles
    def manifest(self) -> dict[str, tuple[str, str]]:
        """source → (content_hash, path)."""
        return {s: (h, p) for s, h, p in self.db.execute("SELECT source, content_hash, path FROM documents")}

    def article(self, source: str) -> Article | None:
        row = self.db.execute("SELECT article FROM documents WHERE source = ?", (source,)).fetchone()
        return Article.model_validate_json(row[0]) if row else None

    def articles(self) -> list[Article]:
        return [Article.model_validate_json(r[0]) for r in self.db.execute("SELECT article FROM documents ORDER BY source")]

    def raw(self, source: str) -> str | None:
        row = self.db.execute("SELECT raw FROM documents WHERE source = ?", (source,)).fetchone()
        return row[0] if row else None

    def sources(self, pattern: str | None = None, since: dt.date | None = None, until: dt.date | None = None) -> list[str]:
        """Sources matching a glob and a date range (undated articles fail any date filter)."""
        out = []
        for source, date in self.db.execute("SELECT source, date FROM documents ORDER BY source"):
            if pattern and not (fnmatch.fnmatch(source, pattern) or fnmatch.fnmatch(source.split("#")[0], pattern)):
                continue
            if since or until:
                if not date:
                    continue
                day = dt.date.fromisoformat(date)
                if (since and day < since) or (until and day > until):
                    continue
            out.append(source)
        return out

    # chunks
    def chunks(self, ids: list[str]) -> dict[str, Chunk]:
        out: dict[str, Chunk] = {}
        for start in range(0, len(ids), 500):
            batch = ids[start:start + 500]
            rows = self.db.execute(f"SELECT id, chunk FROM chunks WHERE id IN ({','.join('?' * len(batch))})", batch)
            out.update({i: Chunk.model_validate_json(c) for i, c in rows})
        return out

    def chunks_of(self, source: str) -> list[Chunk]:
        rows = self.db.execute("SELECT chunk FROM chunks WHERE source = ? ORDER BY ordinal", (source,))
        return [Chunk.model_validate_json(r[0]) for r in rows]

    def chunk_ids(self) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT id FROM chunks")}

    def ids_of_sources(self, sources: list[str]) -> set[str]:
        out: set[str] = set()
        for start in range(0, len(sources), 500):
            batch = sources[start:start + 500]
            rows = self.db.execute(f"SELECT id FROM chunks WHERE source IN ({','.join('?' * len(batch))})", batch)
            out.update(r[0] for r in rows)
        return out

    def index_texts(self, exclude_sources: set[str]) -> tuple[list[str], list[str]]:
        ids, texts = [], []
        for chunk_id, source, text in self.db.execute("SELECT id, source, index_text FROM chunks ORDER BY source, ordinal"):
            if source not in exclude_sources:
                ids.append(chunk_id)
                texts.append(text)
        return ids, texts

    def chunk_index_texts(self) -> dict[str, str]:
        """Chunk id → the text it was embedded and BM25-indexed by."""
        return dict(self.db.execute("SELECT id, index_text FROM chunks"))

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

    # the commit
    def commit(
        self,
        remove: list[str],
        articles: list[tuple[Article, str]],
        chunks: list[tuple[Chunk, str]],
        meta: dict,
        replace_all: bool = False,
    ) -> None:
        """Apply one ingest atomically. `articles` pairs each Article with its raw text;
        `chunks` pairs each Chunk with the text it was indexed by."""
        with self.db:
            if replace_all:
                self.db.execute("DELETE FROM documents")
                self.db.execute("DELETE FROM chunks")
            for source in remove:
                self.db.execute("DELETE FROM documents WHERE source = ?", (source,))
                self.db.execute("DELETE FROM chunks WHERE source = ?", (source,))
            self.db.executemany(
                "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?)",
                [(a.source, a.path, a.content_hash, a.date.isoformat() if a.date else None, a.model_dump_json(), raw)
                 for a, raw in articles],
            )
            self.db.executemany(
                "INSERT OR REPLACE INTO chunks VALUES (?, ?, ?, ?, ?)",
                [(c.id, c.source, c.ordinal, text, c.model_dump_json()) for c, text in chunks],
            )
            self.db.executemany(
                "INSERT OR REPLACE INTO meta VALUES (?, ?)", [(k, json.dumps(v)) for k, v in meta.items()]
            )
