"""Sentence vectors stored at ingest, so a question embeds only itself.

The extractive engine scores every candidate sentence semantically (its cosine with the
question). Each statement sentence (`Sentence.kind == "sentence"`; headings and page furniture
never answer) is embedded on its own at ingest, its opening `SEMANTIC_CHARS` characters, and
kept in the store's embedding cache, keyed by model and text like the chunk vectors beside it:
a sentence repeated across articles or re-ingested is embedded once. Separately embedded
sentences beat vectors pooled from the chunk's forward pass ("late chunking") on the tune half
(docs/design.md, bench/late_chunking.py).

Nothing else depends on them: a store ingested before them, or whose cache was removed, has no
sentence vectors, and the engine embeds its most promising sentences at query time instead.
"""

from __future__ import annotations

import numpy as np

from rag.index.embed_cache import EmbeddingCache, embed_cached, text_key
from rag.index.embedders import Embedder
from rag.models import Chunk, Sentence

# The opening of a sentence carries its claim; the cap bounds the model time per sentence.
SEMANTIC_CHARS = 200


def sentence_text(sentence: Sentence) -> str:
    """What is embedded for a sentence."""
    return sentence.text[:SEMANTIC_CHARS]


def statement_texts(chunks: list[Chunk]) -> list[str]:
    """The distinct texts to embed for these chunks' statement sentences, in order."""
    return list(dict.fromkeys(sentence_text(s) for c in chunks for s in c.sentences if s.kind == "sentence"))


def store_sentence_vectors(embedder: Embedder, cache: EmbeddingCache, chunks: list[Chunk], on_batch=None) -> int:
    """Embed (once) and keep the statement sentences of `chunks`; returns how many were embedded."""
    texts = statement_texts(chunks)
    if not texts:
        return 0
    return embed_cached(embedder, cache, texts, on_batch=on_batch)[1]


def stored_vectors(embedder: Embedder, cache: EmbeddingCache, texts: list[str]) -> dict[str, np.ndarray]:
    """text → stored vector, for the texts that have one (nothing is embedded)."""
    keys = {text_key(t): t for t in texts}
    found = cache.get_many(embedder.name, list(keys))
    return {keys[k]: v for k, v in found.items()}
