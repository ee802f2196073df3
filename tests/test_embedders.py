"""The real MiniLM backends: offline loading, and numpy agreeing with sentence-transformers."""

from pathlib import Path

import numpy as np
import pytest

from rag.index.embedders import HashEmbedder, MiniLMEmbedder

CORPUS = Path(__file__).resolve().parent.parent / "corpus"

TEXTS = [
    "U.S. President Donald Trump warned Iran over rocket attacks on the embassy in Baghdad.",
    "An estimated eight rockets were fired overall, killing one Iraqi civilian.",
    "Squid Game is coming back for a second season, Netflix announced on Sunday.",
    "x",
]


@pytest.fixture(scope="module")
def minilm():
    return MiniLMEmbedder()


def test_numpy_forward_matches_sentence_transformers(minilm):
    fast = minilm._numpy.embed(TEXTS)
    reference = minilm._torch_embed(TEXTS)
    assert fast.shape == (4, 384) and fast.dtype == np.float32
    assert np.all(np.sum(fast * reference, axis=1) > 0.9999)


def test_embeddings_are_normalised_and_meaningful(minilm):
    v = minilm.embed(TEXTS)
    assert np.allclose(np.linalg.norm(v, axis=1), 1, atol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2]


def test_wordpiece_counts_detect_truncation(minilm):
    [short, long] = minilm.wordpieces(["a short text", "word " * 400])
    assert short < 10 and long > minilm.max_wordpieces


def test_hash_embedder_is_deterministic():
    a, b = HashEmbedder().embed(["rockets hit the embassy"]), HashEmbedder().embed(["rockets hit the embassy"])
    assert np.array_equal(a, b) and abs(np.linalg.norm(a) - 1) < 1e-6


def test_the_memory_mapped_weights_are_the_files_tensors(minilm):
    """The numpy forward pass maps model.safetensors instead of reading it: every tensor has the
    name, dtype, shape and values safetensors' own loader gives, and none can be written."""
    from safetensors.numpy import load_file

    from rag.index.embedders import mapped_safetensors

    path = minilm.model_dir / "model.safetensors"
    mapped, loaded = mapped_safetensors(path), load_file(str(path))
    assert sorted(mapped) == sorted(loaded)
    for name, tensor in loaded.items():
        assert mapped[name].dtype == tensor.dtype and mapped[name].shape == tensor.shape
        assert np.array_equal(mapped[name], tensor), name
    assert not mapped["embeddings.word_embeddings.weight"].flags.writeable


def test_the_query_tokenizer_is_the_models_tokenizer_json(minilm):
    # NumpyMiniLM builds its tokenizer from vocab.txt (quicker to load); it must read texts exactly as
    # the model's tokenizer.json does: ids, padding and the character offsets late chunking pools by.
    from tokenizers import Tokenizer

    reference = Tokenizer.from_file(str(minilm.model_dir / "tokenizer.json"))
    reference.enable_truncation(256)
    reference.enable_padding()
    texts = TEXTS + [line for path in sorted(CORPUS.glob("*.txt")) for line in path.read_text().splitlines() if line]
    texts += ["Zürich café, naïve “quotes” — 中文 ﬁ \u200b résumé ÅÄÖ", "word " * 400]
    for i in range(0, len(texts), 8):
        ours, theirs = minilm._numpy.tokenizer.encode_batch(texts[i:i + 8]), reference.encode_batch(texts[i:i + 8])
        assert [(e.ids, e.attention_mask, e.offsets) for e in ours] == [(e.ids, e.attention_mask, e.offsets) for e in theirs]
