"""An ingest on a store whose Chroma collection and vector file are both damaged (a killed
save, a file cut short): one line, exit 1, nothing written, nothing indexed lost; `rag status
--repair` rebuilds both from the docstore and the embedding cache, and the next ingest works.
A cut vector file is never extended with zeros. Hash embedder, 16-token chunks (Chroma writes
HNSW files only past 1,000 vectors)."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_dense_tail import write_copies

from rag.api import Rag
from rag.index.status import check_index
from rag.index.vectorfile import VECTOR_DIR, FileState, append

LATE = "---\ntitle: \"Late news\"\ndate: 2022-05-20\n---\nA ferry strike closed the harbour on Friday, the port authority said.\n"


def args(settings, *more: str) -> list[str]:
    return [*more, "--store-dir", str(settings.store_dir), "--set", f"corpus_dir={settings.corpus_dir}",
            "--set", "embedding_model=hash", "--set", "chunk_tokens=16", "--set", "chunk_overlap_sentences=0"]


@pytest.fixture
def damaged(hash_settings, cli):
    """A flushed store (every vector in Chroma's HNSW files and in the vector file), then both cut."""
    write_copies(hash_settings.corpus_dir, range(6))
    code, _, err = cli(*args(hash_settings, "ingest", "--set", "dense_tail_rows=0"))
    assert code == 0, err
    store = Path(hash_settings.store_dir)
    headers = list((store / "chroma").glob("*/header.bin"))
    vectors = list((store / VECTOR_DIR).glob("*/vectors.f32"))
    assert headers and vectors
    for path in headers:
        path.write_bytes(path.read_bytes()[:10])
    for path in vectors:
        path.write_bytes(path.read_bytes()[:1000])
    return hash_settings


def test_an_ingest_on_a_store_damaged_in_chroma_and_the_vector_file_refuses_in_one_line(damaged, cli):
    rag = Rag(damaged.model_copy(update={"chunk_tokens": 16, "chunk_overlap_sentences": 0}))
    before = rag.status()
    generation = rag.store.docs.meta("generation")
    rag.close()
    (damaged.corpus_dir / "late").mkdir()
    (damaged.corpus_dir / "late" / "one.md").write_text(LATE)
    code, _, err = cli(*args(damaged, "ingest"))
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err, err
    assert "vector file" in err and "rag status --repair" in err and "nothing was ingested" in err, err
    rag = Rag(damaged.model_copy(update={"chunk_tokens": 16, "chunk_overlap_sentences": 0}))
    assert rag.store.docs.meta("generation") == generation and rag.status().documents == before.documents
    rag.close()
    code, out, err = cli(*args(damaged, "status", "--repair"))
    assert code == 0 and "consistent" in out, out + err
    code, _, err = cli(*args(damaged, "ingest"))
    assert code == 0, err
    rag = Rag(damaged.model_copy(update={"chunk_tokens": 16, "chunk_overlap_sentences": 0}))
    assert rag.status().documents == before.documents + 1  # nothing indexed before was lost
    assert rag.search("ferry strike harbour", k=1).hits[0].chunk.source == "late/one.md"
    assert check_index(rag.store).problems == []
    rag.close()


def test_an_append_never_extends_a_cut_vector_file_with_zeros(tmp_path):
    import numpy as np

    state = append(tmp_path, FileState("v~1", 0, 4), ["a" * 20, "b" * 20], np.ones((2, 4)), [1, 2], ["s", "t"])
    path = tmp_path / "v~1" / "vectors.f32"
    path.write_bytes(path.read_bytes()[:8])
    with pytest.raises(ValueError, match="shorter than"):
        append(tmp_path, state, ["c" * 20], np.ones((1, 4)), [3], ["s"])
    assert path.stat().st_size == 8


def test_a_search_over_a_cut_vector_file_with_a_tail_fails_in_one_line(hash_settings, cli):
    """The tail's rows are only in the vector file: a search must not answer from Chroma without them."""
    write_copies(hash_settings.corpus_dir, range(1))
    code, _, err = cli(*args(hash_settings, "ingest", "--set", "dense_tail_rows=0"))
    assert code == 0, err
    write_copies(hash_settings.corpus_dir, range(3))
    code, _, err = cli(*args(hash_settings, "ingest"))  # these stay in the tail
    assert code == 0, err
    rag = Rag(hash_settings.model_copy(update={"chunk_tokens": 16, "chunk_overlap_sentences": 0}))
    assert rag.store.vector_state.tail > 0 and rag.store.vector_state.flushed > 0
    rag.close()
    (vectors,) = (Path(hash_settings.store_dir) / VECTOR_DIR).glob("*/vectors.f32")
    vectors.write_bytes(vectors.read_bytes()[:1000])
    code, out, err = cli(*args(hash_settings, "search", "rockets fired at the embassy"))
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err, out + err
    assert str(vectors.parent) in err and "rag status --repair" in err, err
