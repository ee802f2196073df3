"""SourceDoc → Article + Chunks: clean, split, chunk, and map every span back to the file."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from rag.models import Article, Chunk, DroppedLine, Sentence
from rag.text.chunking import CHUNKER_VERSION, chunk_text, pack, split_long
from rag.text.clean import CLEANER_VERSION, clean_lines
from rag.text.furniture import FURNITURE_VERSION, furniture_kind
from rag.text.lexical import LEXICAL_VERSION
from rag.text.lines import LineIndex
from rag.text.metadata import find_author, find_date, find_outlet, find_title, find_url
from rag.text.readers import SourceDoc
from rag.text.sentences import SPLITTER_VERSION, SentenceSpan, paragraphs, split_sentences
from rag.text.tokens import count_tokens

# Part of the index fingerprint: a change in any of these needs a rebuild.
# meta2: front matter read as text with limits, metadata fields validated and capped (issue 19).
METADATA_VERSION = 2
PIPELINE_VERSION = (f"clean{CLEANER_VERSION}-split{SPLITTER_VERSION}-chunk{CHUNKER_VERSION}-lex{LEXICAL_VERSION}"
                    f"-meta{METADATA_VERSION}-furn{FURNITURE_VERSION}")


@dataclass
class TextView:
    """The text the pipeline reads, and how its offsets map to the original file."""

    text: str
    raw: str
    html: object | None = None  # HtmlView for HTML sources

    def to_raw(self, start: int, end: int) -> tuple[int, int]:
        return self.html.to_raw(start, end) if self.html else (start, end)


def make_view(doc: SourceDoc) -> tuple[TextView, dict[int, str], dict]:
    """The view, lines to skip before cleaning, and extra metadata fields."""
    if doc.format == "html":
        from rag.text.html import HtmlView, main_content_lines

        # Front matter is not page text: blanked (same offsets, same lines) before the HTML is read.
        masked = re.sub(r"[^\n]", " ", doc.raw[:doc.body_start]) + doc.raw[doc.body_start:] if doc.body_start else doc.raw
        html = HtmlView(masked)
        keep, fields = main_content_lines(html)
        total = html.text.count("\n") + 1
        skip = {n: "html-boilerplate" for n in range(1, total + 1) if n not in keep}
        return TextView(html.text, doc.raw, html), skip, fields
    skip = {}
    if doc.body_start:
        for n in range(1, doc.raw.count("\n", 0, doc.body_start) + 1):
            skip[n] = "front-matter"
    return TextView(doc.raw, doc.raw), skip, {}


def parse_document(doc: SourceDoc, chunk_tokens: int, overlap: int) -> tuple[Article, list[Chunk]]:
    view, skip, extra_fields = make_view(doc)
    fields = {**extra_fields, **doc.fields}
    lines = view.text.split("\n")
    dropped = clean_lines(lines, skip)
    kept = {n for n in range(1, len(lines) + 1) if n not in dropped and lines[n - 1].strip()}
    spans = split_long(view.text, split_sentences(view.text, kept), chunk_tokens)
    raw_index = LineIndex(doc.raw)
    view_index = LineIndex(view.text)

    sentences = [_sentence(view, raw_index, s) for s in spans]
    first_sentence = next((s.text for s in sentences if s.kind == "sentence"), None)
    datelines = [lines[n - 1] for n, reason in dropped.items() if reason == "dateline"]
    article = Article(
        source=doc.source,
        path=str(doc.path.absolute()),
        content_hash=doc.content_hash,
        title=find_title(fields, [lines[n - 1] for n in sorted(kept)], first_sentence),
        date=find_date(fields, datelines),
        outlet=find_outlet(fields, lines[:6]),
        url=find_url(fields),
        author=find_author(fields),
        format=doc.format,
        n_lines=raw_index.count,
        dropped=[
            DroppedLine(line=_raw_line(view, raw_index, view_index, n), reason=reason, text=lines[n - 1].strip()[:300])
            for n, reason in dropped.items()
            if lines[n - 1].strip() and reason != "html-boilerplate"
        ],
    )
    sentences = _mark_furniture(view.text, kept, spans, sentences, fields.get("title") or article.title)
    by_span = {(s.start, s.end): sentence for s, sentence in zip(spans, sentences)}
    chunks = []
    for ordinal, group in enumerate(pack(view.text, spans, chunk_tokens, overlap)):
        chunks.append(_chunk(article, view, ordinal, group, [by_span[(s.start, s.end)] for s in group]))
    article.n_chunks = len(chunks)
    return article, chunks


def _sentence(view: TextView, raw_index: LineIndex, span: SentenceSpan) -> Sentence:
    raw_start, raw_end = view.to_raw(span.start, span.end)
    line_start, line_end = raw_index.lines_of(raw_start, raw_end)
    return Sentence(
        text=view.text[span.start:span.end], kind=span.kind,
        char_start=raw_start, char_end=raw_end, line_start=line_start, line_end=line_end,
    )


def _mark_furniture(text: str, kept: set[int], spans: list[SentenceSpan], sentences: list[Sentence],
                    title: str | None) -> list[Sentence]:
    """Sentences that are page furniture get its kind (rag/text/furniture.py). Chunking has
    already read the splitter's kinds, so chunk texts, and their vectors, do not change."""
    paras = paragraphs(text, kept)
    out = []
    for span, sentence in zip(spans, sentences):
        kind = None
        if sentence.kind == "sentence":
            start, end = paras[span.paragraph]
            kind = furniture_kind(sentence.text, text[start:end], title)
        out.append(sentence.model_copy(update={"kind": kind}) if kind else sentence)
    return out


def _raw_line(view: TextView, raw_index: LineIndex, view_index: LineIndex, view_line: int) -> int:
    start, _ = view_index.line_span(view_line)
    if view.html is None or start >= len(view.text):
        return view_line
    return raw_index.line_of(view.to_raw(start, start + 1)[0])


def _chunk(article: Article, view: TextView, ordinal: int, spans: list[SentenceSpan], sentences: list[Sentence]) -> Chunk:
    text = chunk_text(view.text, spans)
    digest = hashlib.sha1(f"{article.source}\0{sentences[0].char_start}\0{text}".encode()).hexdigest()[:20]
    return Chunk(
        id=digest, source=article.source, ordinal=ordinal, text=text, sentences=sentences,
        tokens=count_tokens(text), title=article.title, date=article.date, outlet=article.outlet,
        char_start=sentences[0].char_start, char_end=sentences[-1].char_end,
        line_start=sentences[0].line_start, line_end=max(s.line_end for s in sentences),
    )
