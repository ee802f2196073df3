"""Pack sentences into token-bounded chunks with sentence overlap."""

from __future__ import annotations

import re

from rag.text.sentences import SentenceSpan
from rag.text.tokens import count_many, count_tokens

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
        piece_start, prev_end, used = words[0].start(), words[0].end(), 0
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
    """Greedy packing bounded exactly in tokens. A heading never ends a chunk; each chunk
    repeats the previous chunk's last `overlap` sentences when they fit."""
    sizes = dict(zip(spans, count_many([text[s.start:s.end] for s in spans])))
    fits = _Budget(text, sizes, max_tokens)
    chunks: list[list[SentenceSpan]] = []
    current: list[SentenceSpan] = []
    for span in spans:
        if current and not fits(current + [span]):
            carry = _trailing_headings(current)
            body = current[: len(current) - len(carry)]
            if body:
                chunks.append(body)
            tail = [s for s in body[len(body) - overlap:] if s.kind == "sentence"] if overlap and body else []
            current = tail + carry
            while current and not fits(current + [span]):
                if current[0].kind == "heading":  # headings too big to share: a chunk of their own
                    chunks.append(current)
                    current = []
                else:  # the overlap does not fit: drop it
                    current = current[1:]
        current.append(span)
    if current and (any(s.kind == "sentence" for s in current) or not chunks):
        chunks.append(current)
    return chunks


class _Budget:
    """Does a run of sentences fit? Sentence counts plus one per join bound the joined text's
    count closely; only runs near the limit are encoded whole, to be exact."""

    _MARGIN = 8

    def __init__(self, text: str, sizes: dict[SentenceSpan, int], max_tokens: int):
        self.text, self.sizes, self.max_tokens = text, sizes, max_tokens

    def __call__(self, spans: list[SentenceSpan]) -> bool:
        estimate = sum(self.sizes[s] for s in spans) + len(spans) - 1
        if estimate <= self.max_tokens - self._MARGIN:
            return True
        return count_tokens(chunk_text(self.text, spans)) <= self.max_tokens


def _trailing_headings(spans: list[SentenceSpan]) -> list[SentenceSpan]:
    carry: list[SentenceSpan] = []
    for span in reversed(spans):
        if span.kind != "heading":
            break
        carry.insert(0, span)
    return carry
