"""What Chroma's embedded store costs a process before its first write: import, client, and the
first operation on a collection, which loads its whole HNSW segment. Wall and CPU seconds and
resident memory after each step, then two one-vector upserts and their delete.

    python -m bench.chroma_load STORE    (a copy: the probe vectors are written, then deleted)

BENCHMARKS.md "Scale", session 7.
"""

from __future__ import annotations

import json
import resource
import sqlite3
import sys
import time

import numpy as np


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _rss_mb() -> float:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return 0.0


def measure(store: str) -> dict:
    db = sqlite3.connect(f"file:{store}/rag.db?mode=ro", uri=True)
    name = json.loads(db.execute("SELECT value FROM meta WHERE key = 'collection'").fetchone()[0])
    db.close()
    steps: dict = {}
    mark = [time.perf_counter(), _cpu()]

    def lap(label: str) -> None:
        now = [time.perf_counter(), _cpu()]
        steps[label] = {"wall_s": round(now[0] - mark[0], 3), "cpu_s": round(now[1] - mark[1], 3), "rss_mb": round(_rss_mb())}
        mark[:] = now

    import chromadb
    from chromadb.config import Settings as ChromaSettings
    lap("import chromadb")
    client = chromadb.PersistentClient(path=f"{store}/chroma", settings=ChromaSettings(anonymized_telemetry=False))
    lap("client")
    collection = client.get_collection(name, embedding_function=None)
    lap("get_collection")
    count = collection.count()
    lap("first operation (count): loads the HNSW segment")
    dim = len(collection.get(limit=1, include=["embeddings"])["embeddings"][0])
    mark[:] = [time.perf_counter(), _cpu()]
    for n in (1, 2):
        vector = np.random.default_rng(n).standard_normal(dim).astype(np.float32)
        collection.upsert(ids=[f"chroma-load-probe-{n}"], embeddings=[(vector / np.linalg.norm(vector)).tolist()],
                          metadatas=[{"source": "probe"}])
        lap(f"upsert of one vector ({n})")
    collection.delete(ids=["chroma-load-probe-1", "chroma-load-probe-2"])
    lap("delete of both")
    return {"store": store, "collection": name, "vectors": count, "dim": dim, "steps": steps}


if __name__ == "__main__":
    print(json.dumps(measure(sys.argv[1]), indent=1))
