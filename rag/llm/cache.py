"""On-disk response cache: one JSON file per request, keyed by model, prompt hash, context hash
and parameters. A file is written only after a complete response (a stream that dies midway
leaves nothing), via a temporary file and a rename, so a reader never sees half an entry."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path


def digest(data) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def cache_key(model: str, prompt_hash: str | None, context_hash: str, params: dict) -> str:
    return digest({"model": model, "prompt": prompt_hash, "context": context_hash, "params": params})


class ResponseCache:
    def __init__(self, directory: Path):
        self.dir = Path(directory)

    def _path(self, key: str) -> Path:
        return self.dir / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict | None:
        try:
            return json.loads(self._path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None  # missing or unreadable: a miss, never an error

    def put(self, key: str, entry: dict) -> None:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(entry, f, ensure_ascii=False)
            os.replace(tmp, path)
        except OSError:
            pass  # a cache that cannot be written only costs a repeat call

    def __len__(self) -> int:
        return sum(1 for _ in self.dir.glob("*/*.json")) if self.dir.exists() else 0
