"""Find article files and read them into SourceDocs: the cited unit, its text and its fields."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from rag.errors import InputError
from rag.text.decode import content_hash, decode_bytes
from rag.text.frontmatter import KNOWN, split_front_matter

FORMATS = {".txt": "txt", ".md": "md", ".markdown": "md", ".html": "html", ".htm": "html", ".jsonl": "jsonl"}


@dataclass
class SourceDoc:
    """One citable article. For JSONL, `raw` is the record's text and lines count within it."""

    source: str
    path: Path
    format: str
    raw: str
    content_hash: str
    fields: dict = field(default_factory=dict)
    body_start: int = 0  # characters before this are front matter


@dataclass
class FileRef:
    path: Path
    source: str  # name relative to the corpus root (or to the directory given)


@dataclass
class Scan:
    files: list[FileRef] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    roots: list[Path] = field(default_factory=list)


def discover(paths: list[Path], corpus_root: Path) -> Scan:
    """Expand files and directories into supported files; missing or odd paths go to `failed`."""
    scan = Scan()
    root = corpus_root.resolve()
    seen: set[Path] = set()
    for given in paths:
        if not given.exists() and not given.is_symlink():
            scan.failed[str(given)] = "no such file or directory"
            continue
        base = given.resolve() if given.is_dir() else given.resolve().parent
        scan.roots.append(given.resolve())
        for path in _walk(given, scan):
            real = path.resolve()
            if real in seen:
                continue
            seen.add(real)
            anchor = root if _is_under(path.absolute(), root) else base
            scan.files.append(FileRef(path=path, source=_relative(path.absolute(), anchor)))
    return scan


def _walk(given: Path, scan: Scan):
    if given.is_file():
        if given.suffix.lower() in FORMATS:
            yield given
        else:
            scan.failed[str(given)] = f"unsupported file type '{given.suffix or given.name}' (use {', '.join(sorted(FORMATS))})"
        return
    if not given.is_dir():
        scan.failed[str(given)] = "not a regular file or directory"
        return
    visited: set[tuple[int, int]] = set()
    for dirpath, dirnames, filenames in os.walk(given, followlinks=True, onerror=lambda e: _walk_error(e, scan)):
        st = os.stat(dirpath)
        if (st.st_dev, st.st_ino) in visited:  # a symlink loop: this directory was already walked
            scan.failed[dirpath] = "symlink loop, skipped"
            dirnames[:] = []
            continue
        visited.add((st.st_dev, st.st_ino))
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if name.startswith(".") or path.suffix.lower() not in FORMATS:
                continue
            if not path.exists():
                scan.failed[str(path)] = "broken symlink"
                continue
            yield path


def _walk_error(err: OSError, scan: Scan) -> None:
    scan.failed[str(err.filename)] = err.strerror or "cannot read directory"


def _is_under(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root)
        return True
    except ValueError:
        return False


def _relative(path: Path, anchor: Path) -> str:
    try:
        return path.resolve().relative_to(anchor).as_posix()
    except ValueError:
        return path.name


def read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except PermissionError:
        raise InputError("permission denied") from None
    except IsADirectoryError:
        raise InputError("is a directory") from None
    except OSError as err:
        raise InputError(err.strerror or str(err)) from None


def read_file(ref: FileRef) -> tuple[list[SourceDoc], dict[str, str]]:
    """Read one file into its SourceDocs. Returns (docs, failures keyed by source)."""
    fmt = FORMATS[ref.path.suffix.lower()]
    data = read_bytes(ref.path)
    if fmt == "jsonl":
        return _read_jsonl(ref, data)
    text = decode_bytes(data)
    fields, body_start = split_front_matter(text) if fmt in ("txt", "md") else ({}, 0)
    doc = SourceDoc(
        source=ref.source, path=ref.path, format=fmt, raw=text,
        content_hash=content_hash(data), fields=fields, body_start=body_start,
    )
    return [doc], {}


def _read_jsonl(ref: FileRef, data: bytes) -> tuple[list[SourceDoc], dict[str, str]]:
    text = decode_bytes(data)
    docs, failed, ids = [], {}, set()
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{ref.source}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            failed[where] = f"line {number}: invalid JSON ({err.msg})"
            continue
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            failed[where] = f"line {number}: expected an object with a string 'text' field"
            continue
        if not record["text"].strip():
            failed[where] = f"line {number}: empty text"
            continue
        key = str(record.get("id") or number)
        if key in ids:
            failed[where] = f"line {number}: duplicate id {key!r}"
            continue
        ids.add(key)
        fields = {k: str(record[k]) for k in KNOWN if record.get(k) not in (None, "") and k != "id"}
        docs.append(SourceDoc(
            source=f"{ref.source}#{key}", path=ref.path, format="jsonl", raw=record["text"],
            content_hash=content_hash(line), fields=fields,
        ))
    return docs, failed
