"""Whole articles as lexical documents (issue 14): a BM25 list over articles, beside the chunks'.

A chunk holds only some of an article's mentions of the question's names; the whole article holds
them all. So every article is also a document of the lexical index (its terms in the "aterms"
field, rag.index.lexical), written by the same ingest and in the same tantivy commit as its
chunks' postings, and the docstore keeps its terms and the exact article-level statistics
(document frequencies over articles, article count, total length) and each article's term
counts in the same transaction as the chunks'. BM25 reads only the counts of the query's terms,
never an article's whole text (which would cost a search tens of milliseconds of Python). As for chunks, tantivy only proposes candidates; `rag.index.bm25` scores them
with the docstore's statistics, so a score never depends on debris or on merge timing.

An article's terms are those of its title and of each of its chunks' sentences once (chunks
overlap by a sentence), so its length is the article's and not its chunks' sum. Its id hashes
what is stored (like a chunk's): an ingest that changes an article adds the new document before
its commit and deletes the old one after, so a crash in between leaves the committed article
its postings.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from rag.models import Chunk
from rag.text.lexical import content_words

PREFIX = "a:"  # article ids in the lexical index; a chunk id is 20 hex digits, never this
FIELD = "aterms"


@dataclass(frozen=True)
class ArticleTerms:
    id: str
    source: str
    terms: list[str]


def is_article_id(doc_id: str) -> bool:
    return doc_id.startswith(PREFIX)


def article_terms(source: str, title: str | None, date: dt.date | None, chunks: Sequence[Chunk]) -> ArticleTerms | None:
    """The lexical document of one article (None when it has no chunks: nothing to find it by).
    Its id hashes what its postings hold: source, date (the filters read it) and terms."""
    if not chunks:
        return None
    sentences: dict[int, str] = {}
    for chunk in chunks:
        for sentence in chunk.sentences:
            sentences.setdefault(sentence.char_start, sentence.text)
    terms = content_words("\n".join([title or "", *(sentences[k] for k in sorted(sentences))]))
    digest = hashlib.sha1(f"{source}\n{date}\n{' '.join(terms)}".encode()).hexdigest()[:20]
    return ArticleTerms(PREFIX + digest, source, terms)
