"""The real MiniLM backends: offline loading, and numpy agreeing with sentence-transformers."""

import numpy as np
import pytest

from rag.index.embedders import HashEmbedder, MiniLMEmbedder

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
