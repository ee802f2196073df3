"""What is indexed, how big it is, and whether the parts agree."""

from __future__ import annotations

from pathlib import Path

from rag.index.store import Store
from rag.models import Status


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


def status(store: Store, check: bool = False) -> Status:
    documents, chunks = store.docs.counts()
    fingerprint = store.stored_fingerprint
    settings = store.settings
    report = Status(
        store_dir=str(store.dir.absolute()),
        chroma=settings.chroma_url or f"embedded at {store.dir.absolute() / 'chroma'}",
        documents=documents,
        chunks=chunks,
        embedding_model=(fingerprint or {}).get("embedding_model"),
        fingerprint=fingerprint,
        generation=store.docs.meta("generation"),
        sizes={
            "docstore": _size(store.dir / "rag.db"),
            "chroma": 0 if settings.chroma_url else _size(store.dir / "chroma"),
            "bm25": _size(store.dir / "bm25"),
            "embedding_cache": _size(store.dir / "cache"),
        },
    )
    if check and fingerprint:
        report.vectors, report.problems = consistency(store)
    return report


def consistency(store: Store) -> tuple[int, list[str]]:
    """Compare the docstore (the manifest's chunks), BM25 and Chroma."""
    problems = []
    live = store.docs.chunk_ids()
    try:
        lexical = set(store.lexical().ids)
    except Exception as err:  # a missing or unreadable BM25 generation
        lexical = set()
        problems.append(f"BM25 index unreadable: {err}")
    if lexical != live:
        problems.append(f"BM25 has {len(lexical - live)} extra and {len(live - lexical)} missing chunks")
    vectors = store.vector.ids()
    if live - vectors:
        problems.append(f"Chroma is missing {len(live - vectors)} chunks")
    if vectors - live:
        problems.append(f"Chroma holds {len(vectors - live)} unreferenced vectors (left by an interrupted ingest; invisible to queries)")
    return len(vectors), problems
