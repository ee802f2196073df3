"""Find article files and read them into SourceDocs: the cited unit, its text and its fields."""

from __future__ import annotations

import errno
import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from rag.errors import InputError
from rag.text.decode import content_hash, decode_bytes, has_bom, sniff
from rag.text.frontmatter import KNOWN, split_front_matter

FORMATS = {".txt": "txt", ".md": "md", ".markdown": "md", ".html": "html", ".htm": "html", ".jsonl": "jsonl"}
MAX_LISTED_BAD_LINES = 20  # per JSONL file; the rest are counted in one line


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
    seen: set[str] = set()
    for given in paths:
        if not given.exists():
            scan.failed[str(given)] = _missing_reason(given)
            continue
        base = given.resolve() if given.is_dir() else given.resolve().parent
        scan.roots.append(given.resolve())
        for path, real in _walk(given, scan):
            if real in seen:
                continue
            seen.add(real)
            anchor = root if _is_under(real, root) else base
            scan.files.append(FileRef(path=path, source=_relative(real, path, anchor)))
    return scan


def _missing_reason(path: Path) -> str:
    try:
        os.stat(path)
    except OSError as err:
        if err.errno == errno.ELOOP:
            return "symlink loop"
        if path.is_symlink():
            return "broken symlink"
    return "no such file or directory"


def _bad_name(name: str) -> str | None:
    """File names are sources: stored, printed and cited, so they must be valid UTF-8."""
    try:
        name.encode("utf-8")
        return None
    except UnicodeEncodeError:
        return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _walk(given: Path, scan: Scan):
    """(path, its resolved path) of each supported file. A directory is resolved once, and a file
    in it that is not a symlink is that directory joined with its name: resolving every file
    (a system call per path component) made a rescan of 100,000 files take half a minute."""
    if given.is_file():
        if given.suffix.lower() in FORMATS:
            yield given, str(given.resolve())
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
        real_dir = os.path.realpath(dirpath)
        for name in sorted(filenames):
            if name.startswith(".") or os.path.splitext(name)[1].lower() not in FORMATS:
                continue
            path = Path(dirpath, name)
            if printable := _bad_name(str(path)):
                scan.failed[printable] = "file name is not valid UTF-8; rename the file"
                continue
            try:
                mode = os.stat(path).st_mode
            except OSError:
                scan.failed[str(path)] = _missing_reason(path)
                continue
            if not stat.S_ISREG(mode):  # a FIFO would block the ingest forever
                scan.failed[str(path)] = "not a regular file"
                continue
            yield path, str(path.resolve()) if os.path.islink(path) else os.path.join(real_dir, name)


def _walk_error(err: OSError, scan: Scan) -> None:
    scan.failed[str(err.filename)] = err.strerror or "cannot read directory"


def _is_under(real: str, root: Path) -> bool:
    """`real` (a resolved path) lies under the resolved `root`."""
    return real.startswith(str(root).rstrip("/") + "/")


def _relative(real: str, path: Path, anchor: Path) -> str:
    """The source name of a file: its resolved path relative to `anchor`, else its name."""
    head = str(anchor).rstrip("/") + "/"
    return real[len(head):] if real.startswith(head) else path.name


def read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except PermissionError:
        raise InputError("permission denied") from None
    except IsADirectoryError:
        raise InputError("is a directory") from None
    except OSError as err:
        raise InputError(err.strerror or str(err)) from None


def read_file(ref: FileRef, max_bytes: int | None = None) -> tuple[list[SourceDoc], dict[str, str]]:
    """Read one file into its SourceDocs. Returns (docs, failures keyed by source).

    `max_bytes` bounds one article: a whole file, or one JSONL record (JSONL is read line by
    line, so a large feed never sits in memory as one string)."""
    fmt = FORMATS[ref.path.suffix.lower()]
    if fmt == "jsonl":
        return _read_jsonl(ref, max_bytes)
    size = _size(ref.path)
    if max_bytes and size > max_bytes:
        raise InputError(_too_big(f"file is {_mb(size)}", max_bytes))
    data = read_bytes(ref.path)
    text = decode_bytes(data)
    fields, body_start = split_front_matter(text) if fmt in ("txt", "md") else ({}, 0)
    doc = SourceDoc(
        source=ref.source, path=ref.path, format=fmt, raw=text,
        content_hash=content_hash(data), fields=fields, body_start=body_start,
    )
    return [doc], {}


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError as err:
        raise InputError(err.strerror or str(err)) from None


def _mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{size:,} bytes"


def _too_big(what: str, limit: int) -> str:
    return (f"{what}, over the {_mb(limit)} limit for one article (max_article_bytes); "
            f"split it, or raise the limit with --set max_article_bytes=N")


def _read_jsonl(ref: FileRef, max_bytes: int | None) -> tuple[list[SourceDoc], dict[str, str]]:
    docs, failed, ids = [], {}, set()
    bad: list[int] = []
    for number, line, problem in _jsonl_lines(ref.path, max_bytes):
        if problem is None and not line.strip():
            continue
        where = f"{ref.source}:{number}"
        record = None
        if problem is None:
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                problem = f"invalid JSON ({err.msg})"
        if problem is None:
            problem = _record_problem(record, number, ids)
        if problem is not None:
            bad.append(number)
            if len(bad) <= MAX_LISTED_BAD_LINES:
                failed[where] = f"line {number}: {problem}"
            continue
        key = str(record.get("id") or number)
        ids.add(key)
        fields = {k: str(record[k]) for k in KNOWN if record.get(k) not in (None, "") and k != "id"}
        docs.append(SourceDoc(
            source=f"{ref.source}#{key}", path=ref.path, format="jsonl", raw=record["text"],
            content_hash=content_hash(line), fields=fields,
        ))
    if len(bad) > MAX_LISTED_BAD_LINES:
        rest = bad[MAX_LISTED_BAD_LINES:]
        failed[f"{ref.source}:{rest[0]}+"] = (f"{len(rest)} more bad lines not listed "
                                               f"(lines {rest[0]}-{rest[-1]})")
    if not docs and not failed:
        raise InputError("empty file")
    return docs, failed


def _record_problem(record, number: int, ids: set[str]) -> str | None:
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        return "expected an object with a string 'text' field"
    if not record["text"].strip():
        return "empty text"
    if "\x00" in record["text"]:
        return "the text holds a NUL character"
    key = str(record.get("id") or number)
    if key in ids:
        return f"duplicate id {key!r}"
    return None


def _jsonl_lines(path: Path, max_bytes: int | None):
    """Yield (line number, text without its newline, problem or None), one line at a time."""
    try:
        handle = path.open("rb")
    except OSError as err:
        raise InputError(err.strerror or str(err)) from None
    with handle:
        head = handle.read(8192)
        if has_bom(head):  # UTF-16/32 feeds are rare: decode them whole
            text = decode_bytes(head + handle.read())
            for number, line in enumerate(text.split("\n"), start=1):
                yield number, line, None
            return
        sniff(head)
        handle.seek(3 if head.startswith(b"\xef\xbb\xbf") else 0)
        number = 0
        while True:
            data = handle.readline(max_bytes + 2) if max_bytes else handle.readline()
            if not data:
                return
            number += 1
            if max_bytes and len(data.rstrip(b"\r\n")) > max_bytes:
                size = len(data) + _skip_line(handle, data)
                yield number, "", _too_big(f"record is {_mb(size)}", max_bytes)
                continue
            try:
                yield number, data.decode("utf-8").removesuffix("\n"), None
            except UnicodeDecodeError as err:
                yield number, "", f"not UTF-8 text (byte 0x{data[err.start]:02x} at column {err.start + 1})"


def _skip_line(handle, data: bytes) -> int:
    """Read past the rest of an overlong line; return how many more bytes it had."""
    skipped = 0
    while not data.endswith(b"\n"):
        data = handle.readline(1 << 20)
        if not data:
            break
        skipped += len(data)
    return skipped
