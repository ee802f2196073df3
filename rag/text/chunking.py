"""Pack sentences into token-bounded chunks with sentence overlap."""

from __future__ import annotations

import re

from rag.text.sentences import SentenceSpan
from rag.text.tokens import count_many

CHUNKER_VERSION = "1"
_WORD = re.compile(r"\S+")


def split_long(text: str, spans: list[SentenceSpan], max_tokens: int) -> list[SentenceSpan]:
    """Cut sentences longer than the budget at word boundaries, keeping exact spans."""
    sizes = count_many([text[s.start:s.end] for s in spans])
    out: list[SentenceSpan] = []
    for span, size in zip(spans, sizes):
        if size <= max_tokens:
            out.append(span)
            continue
        words = list(_WORD.finditer(text, span.start, span.end))
        word_tokens = count_many([" " + w.group() for w in words])
        piece_start, used = words[0].start(), 0
        for word, n in zip(words, word_tokens):
            if used and used + n > max_tokens:
                out.append(SentenceSpan(piece_start, prev_end, span.kind, span.paragraph))
                piece_start, used = word.start(), 0
            used += n
            prev_end = word.end()
        out.append(SentenceSpan(piece_start, prev_end, span.kind, span.paragraph))
    return out


def chunk_text(text: str, spans: list[SentenceSpan]) -> str:
    """Sentences joined: a space inside a paragraph, a newline between paragraphs."""
    parts = []
    for i, span in enumerate(spans):
        if i:
            parts.append(" " if span.paragraph == spans[i - 1].paragraph else "\n")
        parts.append(text[span.start:span.end])
    return "".join(parts)


def pack(text: str, spans: list[SentenceSpan], max_tokens: int, overlap: int) -> list[list[SentenceSpan]]:
    """Greedy packing. A heading never ends a chunk; the next chunk repeats `overlap` sentences."""
    sizes = count_many([text[s.start:s.end] for s in spans])
    chunks: list[list[int]] = []
    current: list[int] = []
    used = 0
    for i, size in enumerate(sizes):
        if current and used + size + 1 > max_tokens:
            carry = _trailing_headings(current, spans)
            body = current[: len(current) - len(carry)]
            if body:
                chunks.append(body)
                tail = [j for j in body[-overlap:] if spans[j].kind == "sentence"] if overlap else []
            else:
                tail = []
            current = tail + carry
            used = sum(sizes[j] + 1 for j in current)
            if used + size + 1 > max_tokens:
                current = carry
                used = sum(sizes[j] + 1 for j in current)
        current.append(i)
        used += size + 1
    if current and any(spans[j].kind == "sentence" for j in current):
        chunks.append(current)
    elif current and chunks:
        pass  # only a trailing heading is left: it introduces nothing
    elif current:
        chunks.append(current)
    return [[spans[j] for j in chunk] for chunk in chunks]


def _trailing_headings(indices: list[int], spans: list[SentenceSpan]) -> list[int]:
    carry = []
    for j in reversed(indices):
        if spans[j].kind != "heading":
            break
        carry.insert(0, j)
    return carry
