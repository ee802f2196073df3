"""The lexical index: postings of every chunk's terms in tantivy (segments, merges, deletes).

Adding or removing an article writes only its own postings: tantivy appends a small segment
and marks deleted documents, and merges segments in the background by its log merge policy.
Whole articles are documents of the same index, their terms in a field of their own ("aterms",
rag.index.articles): a query of one field never matches the other's documents, and both land
in the same commit. Chunks are indexed by the project's own terms (rag.text.lexical.content_words: stemmed,
stopwords removed), handed over pre-tokenised, so tantivy never tokenises text itself.

tantivy only proposes candidates. Its statistics count an uncommitted or deleted posting until
a merge purges it, so the docstore keeps the exact ones (document frequencies, chunk count,
total length) in the same transaction as the manifest, and `rag.index.bm25` scores the
candidates with them: a chunk's score never depends on debris or on merge timing.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import tantivy

from rag.index.scope import Scope, directory_prefixes, file_of

_HEAP = 64_000_000  # bytes of tantivy's writer buffer: bounds an ingest's memory


@dataclass(frozen=True)
class LexicalDoc:
    id: str
    source: str
    terms: str  # space-separated
    day: int | None
    field: str = "terms"  # "aterms": a whole article's terms (rag.index.articles)


class LexicalWriter(Protocol):
    def add(self, docs: Iterable[LexicalDoc]) -> None: ...
    def delete(self, ids: Iterable[str]) -> None: ...


class LexicalIndex(Protocol):
    """Postings behind BM25: what the store needs of a lexical engine."""

    path: Path

    def candidates(self, terms: list[str], n: int, scope: Scope | None = None, field: str = "terms") -> list[str]: ...
    def count(self) -> int: ...
    def ids(self) -> set[str]: ...
    def writer(self, threads: int = 1) -> AbstractContextManager[LexicalWriter]: ...


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw")
    builder.add_text_field("terms", stored=False, tokenizer_name="whitespace", index_option="freq")
    builder.add_text_field("aterms", stored=False, tokenizer_name="whitespace", index_option="freq")
    builder.add_text_field("source", stored=False, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("file", stored=False, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("dirs", stored=False, tokenizer_name="raw", index_option="basic")
    builder.add_integer_field("day", stored=False, indexed=True, fast=True)
    return builder.build()


class TantivyIndex:
    def __init__(self, path: Path):
        path.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.schema = _schema()
        self.index = tantivy.Index(self.schema, path=str(path), reuse=True)

    def count(self) -> int:
        """Live postings documents: the committed chunks and articles plus any an interrupted ingest left."""
        return self.index.searcher().num_docs

    def candidates(self, terms: list[str], n: int, scope: Scope | None = None, field: str = "terms") -> list[str]:
        """Ids of up to n chunks (or, `field` "aterms", whole articles) sharing a term with `terms`,
        best first by tantivy's own BM25."""
        if not terms or n <= 0 or (scope is not None and scope.empty):
            return []
        words = tantivy.Query.boolean_query(
            [(tantivy.Occur.Should, tantivy.Query.term_query(self.schema, field, t)) for t in dict.fromkeys(terms)])
        clauses = [(tantivy.Occur.Must, words)]
        if scope is not None:
            clauses += [(tantivy.Occur.Must, tantivy.Query.const_score_query(q, 0.0)) for q in self._filters(scope)]
        query = tantivy.Query.boolean_query(clauses) if len(clauses) > 1 else words
        searcher = self.index.searcher()
        hits = searcher.search(query, n, count=False).hits
        return [searcher.doc(address)["id"][0] for _, address in hits]

    def _filters(self, scope: Scope) -> list[tantivy.Query]:
        term = lambda field, value: tantivy.Query.term_query(self.schema, field, value)
        out = []
        if scope.has_days:
            out.append(tantivy.Query.range_query(self.schema, "day", tantivy.FieldType.Integer,
                                                 scope.day_from, scope.day_to))
        if scope.names:
            out.append(tantivy.Query.boolean_query([(tantivy.Occur.Should, term(f, name))
                                                    for name in scope.names for f in ("source", "file")]))
        if scope.dir_prefix:
            out.append(term("dirs", scope.dir_prefix))
        if scope.feed:
            out.append(term("file", scope.feed))
        if scope.sources is not None:
            out.append(tantivy.Query.term_set_query(self.schema, "source", list(scope.sources)))
        return out

    def ids(self) -> set[str]:
        """Every live id (for checks and sweeps: reads the whole index)."""
        searcher = self.index.searcher()
        total = searcher.num_docs
        if not total:
            return set()
        hits = searcher.search(tantivy.Query.all_query(), total, count=False).hits
        return {searcher.doc(address)["id"][0] for _, address in hits}

    @contextmanager
    def writer(self, threads: int = 1) -> Iterator[LexicalWriter]:
        """A writer whose additions and deletions land in one tantivy commit when the block ends
        (and not at all if it raises). Its merges finish before it returns."""
        writer = self.index.writer(_HEAP * threads, threads)
        # A writer killed mid-commit leaves files meta.json never named (a segment's .del file, whose
        # name the next commit would take again: "FileAlreadyExists"): delete them first.
        writer.garbage_collect_files()
        try:
            yield _Writer(writer)
        except BaseException:
            writer.rollback()
            raise
        writer.commit()
        writer.wait_merging_threads()
        self.index.reload()


class _Writer:
    def __init__(self, writer):
        self._writer = writer

    def add(self, docs: Iterable[LexicalDoc]) -> None:
        for doc in docs:
            fields = {"id": doc.id, doc.field: doc.terms, "source": doc.source, "file": file_of(doc.source)}
            document = tantivy.Document(**fields)
            for prefix in directory_prefixes(doc.source):
                document.add_text("dirs", prefix)
            if doc.day is not None:
                document.add_integer("day", doc.day)
            self._writer.add_document(document)

    def delete(self, ids: Iterable[str]) -> None:
        for chunk_id in ids:
            self._writer.delete_documents_by_term("id", chunk_id)


def open_lexical(path: Path) -> TantivyIndex:
    """The index at `path`; FileNotFoundError when it does not exist (never creates one)."""
    if not (path / "meta.json").is_file():
        raise FileNotFoundError(f"no lexical index at {path}")
    return TantivyIndex(path)


def remove_lexical(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
