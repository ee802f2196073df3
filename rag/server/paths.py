"""Names that come from a request are checked before they reach the library or the disk.

Sources are looked up in the docstore, never opened as files, so a traversal could not read
anything; they are still rejected outright, so the API's contract does not depend on that.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

from rag.errors import InputError
from rag.text.readers import FORMATS

_LINES = re.compile(r"^(\d{1,9})(?:-(\d{1,9}))?$")
_UPLOAD_NAME = re.compile(r"^[^\W_][\w .,()+-]{0,150}$")


def check_source(source: str) -> str:
    """A source as cited: relative, no `..`, no backslashes or control characters."""
    if not source or len(source) > 1000:
        raise InputError("a source name must have 1 to 1000 characters")
    if source.startswith(("/", "~")) or re.match(r"^[A-Za-z]:", source):
        raise InputError(f"absolute paths are not sources: {source!r}")
    if "\\" in source or any(ord(ch) < 32 for ch in source):
        raise InputError(f"invalid characters in source {source!r}")
    if ".." in PurePosixPath(source.split("#")[0]).parts:
        raise InputError(f"'..' is not allowed in a source: {source!r}")
    return source


def parse_lines(lines: str | None) -> tuple[int, int] | None:
    """`a-b` or `a` → (a, b)."""
    if lines is None:
        return None
    m = _LINES.match(lines.strip())
    if not m:
        raise InputError(f"lines must look like 12 or 12-15, got {lines!r}")
    start, end = int(m[1]), int(m[2] or m[1])
    if start < 1 or end < start:
        raise InputError(f"lines {lines!r}: the range must start at 1 or later and not run backwards")
    return start, end


def corpus_path(root: Path, given: str) -> Path:
    """A path named relative to the corpus root, which must stay inside it (symlinks included)."""
    if not given.strip():
        raise InputError("an empty path was given")
    check_source(given)
    path = root / given
    if not path.exists():
        raise InputError(f"no such file or directory under the corpus root: {given}")
    if not _inside(path.resolve(), root.resolve()):
        raise InputError(f"{given} leads outside the corpus root")
    return path


def upload_name(filename: str | None) -> str:
    """An uploaded file's name: a plain file name with a supported extension."""
    name = (filename or "").strip()
    if not _UPLOAD_NAME.match(name) or ".." in name:
        raise InputError(f"invalid upload file name {filename!r}: use letters, digits, spaces and . , ( ) + - _")
    suffix = Path(name).suffix.lower()
    if suffix not in FORMATS:
        raise InputError(f"unsupported file type {suffix or name!r} for {name}; use {', '.join(sorted(FORMATS))}")
    return name


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents
