"""Find article files and read them into SourceDocs: the cited unit, its text and its fields."""

from __future__ import annotations

import errno
import json
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from rag.errors import InputError, first_line
from rag.text.decode import content_hash, decode_bytes, has_bom, sniff
from rag.text.fields import MAX_FIELD_CHARS, kind_of, validate_fields
from rag.text.frontmatter import split_front_matter

FORMATS = {".txt": "txt", ".md": "md", ".markdown": "md", ".html": "html", ".htm": "html", ".jsonl": "jsonl"}
MAX_LISTED_BAD_LINES = 20  # per JSONL file; the rest are counted in one line
_SURROGATE = re.compile("[\ud800-\udfff]")
_RANGE_SUFFIX = re.compile(r":\d+(?:-\d+)?$")  # what `rag show SOURCE:12-15` reads as lines


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


class FileRef:
    """One file to read. A walk gives its path as a string, made a Path only when the file is read
    (a rescan skips most files unread, and pathlib's parsing cost more than their system calls)."""

    __slots__ = ("_path", "absolute", "source", "stat")

    def __init__(self, path: Path | str, source: str, stat: tuple[int, int] | None = None,
                 absolute: str | None = None):
        self._path = path
        self.source = source  # name relative to the corpus root (or to the directory given)
        self.stat = stat  # (size, mtime_ns) when the walk found it, so a rescan stats once
        self.absolute = absolute  # os.path.abspath(path), when the walk computed it

    @property
    def path(self) -> Path:
        if not isinstance(self._path, Path):
            self._path = Path(self._path)
        return self._path

    def __repr__(self) -> str:
        return f"FileRef({str(self._path)!r}, {self.source!r})"


@dataclass
class Scan:
    files: list[FileRef] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    roots: list[Path] = field(default_factory=list)


def discover(paths: list[Path], corpus_root: Path) -> Scan:
    """Expand files and directories into supported files; missing or odd paths go to `failed`.

    Symlinks are resolved, and one whose target leaves the corpus root (or, for a directory
    given outside the root, that directory) is refused, in every walk. Two names for one file,
    and two files that would get one source name, are reported rather than merged."""
    scan = Scan()
    root = corpus_root.absolute()
    real_root = root.resolve()
    names: dict[str, str] = {}  # real path -> source
    owners: dict[str, str] = {}  # source -> real path
    for given in paths:
        if not given.exists():
            scan.failed[_shown(given, root)] = _missing_reason(given)
            continue
        in_root = _lexically_under(given.absolute(), root) or _is_under(given.resolve(), real_root)
        boundary = real_root if in_root else (given.resolve() if given.is_dir() else given.resolve().parent)
        where = "the corpus root" if in_root else given.name
        scan.roots.append(given.resolve())
        base = root if in_root else Path(os.path.normpath(given.absolute() if given.is_dir() else given.absolute().parent))
        # Strings, not Paths, per file: pathlib's parsing cost more than the system calls of a rescan.
        anchor, base_s = str(real_root if in_root else boundary), str(base)
        for path, real, stat_ in _walk(given, scan, boundary, where, root):
            source = _relative(real, anchor)
            absolute = os.path.abspath(path)
            name = _relative(absolute, base_s)
            if name != source:  # reached through a symlink: cited under the file's real name
                scan.failed[_shown(Path(path), root)] = f"the same file as {source} (a symlink); ingested once, as {source}"
            if real in names:
                continue
            if source in owners:
                scan.failed[_shown(Path(path), root)] = f"another file is already ingested as {source} in this run; rename one"
                continue
            names[real], owners[source] = source, real
            scan.files.append(FileRef(path, source, stat_, absolute))
    return scan


def _shown(path: Path, root: Path) -> str:
    """How a failure names a path: relative to the corpus root when it is under it, never resolved."""
    absolute = Path(os.path.normpath(path.absolute()))
    return absolute.relative_to(root).as_posix() if _lexically_under(absolute, root) else str(path)


def _lexically_under(path: Path, root: Path) -> bool:
    path = Path(os.path.normpath(path))
    return path == root or root in path.parents


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


def _walk(given: Path, scan: Scan, boundary: Path, where: str, root: Path):
    """(path, its resolved path, (size, mtime_ns)) of each supported file under `boundary`, paths
    as strings. A directory is resolved once, and a file in it that is not a symlink is that
    directory joined with its name: resolving every file (a system call per path component) made
    a rescan of 100,000 files take half a minute. Each file is stat'ed once (os.scandir tells a
    symlink from its directory entry), and the stat goes with it to the ingest's unchanged-file check."""
    outside = f"a symlink that leads outside {where}; not ingested"
    if given.is_file():
        if not _is_under(given.resolve(), boundary):
            scan.failed[_shown(given, root)] = outside
        elif given.suffix.lower() in FORMATS:
            st = given.stat()
            yield str(given), str(given.resolve()), (st.st_size, st.st_mtime_ns)
        else:
            scan.failed[_shown(given, root)] = f"unsupported file type '{given.suffix or given.name}' (use {', '.join(sorted(FORMATS))})"
        return
    if not given.is_dir():
        scan.failed[_shown(given, root)] = "not a regular file or directory"
        return
    if not _is_under(given.resolve(), boundary):
        scan.failed[_shown(given, root)] = outside
        return
    visited: set[tuple[int, int]] = set()
    pending = [str(given)]
    while pending:  # depth first, in name order, as os.walk(followlinks=True) would go
        dirpath = pending.pop()
        try:
            st = os.stat(dirpath)
            with os.scandir(dirpath) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as err:
            scan.failed[_shown(Path(dirpath), root)] = err.strerror or "cannot read directory"
            continue
        if (st.st_dev, st.st_ino) in visited:  # a symlink loop: this directory was already walked
            scan.failed[_shown(Path(dirpath), root)] = "symlink loop, skipped"
            continue
        visited.add((st.st_dev, st.st_ino))
        real_dir = os.path.realpath(dirpath)
        subdirs = []
        for entry in entries:
            name = entry.name
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            if is_dir:
                if name.startswith("."):
                    continue
                if entry.is_symlink() and not _is_under(Path(entry.path).resolve(), boundary):
                    scan.failed[_shown(Path(entry.path), root)] = outside
                else:
                    subdirs.append(entry.path)
                continue
            if name.startswith(".") or os.path.splitext(name)[1].lower() not in FORMATS:
                continue
            path = entry.path
            real = os.path.realpath(path) if entry.is_symlink() else real_dir + "/" + name
            problem, stat_ = _file_problem(entry, real, str(boundary), outside)
            if problem:
                scan.failed[_bad_name(path) or _shown(Path(path), root)] = problem
                continue
            yield path, real, stat_
        pending.extend(reversed(subdirs))


def _file_problem(entry: os.DirEntry, real: str, boundary: str, outside: str
                  ) -> tuple[str | None, tuple[int, int] | None]:
    """(why the file is not ingested, or None; its (size, mtime_ns))."""
    if _bad_name(entry.path):
        return "file name is not valid UTF-8; rename the file", None
    try:
        st = entry.stat()
    except OSError as err:
        if err.errno in (errno.ENOENT, errno.ELOOP):
            return _missing_reason(Path(entry.path)), None
        return err.strerror or "cannot read the file", None
    if real != boundary and not real.startswith(boundary.rstrip("/") + "/"):
        return outside, None
    if not stat.S_ISREG(st.st_mode):  # a FIFO would block the ingest forever
        return "not a regular file", None
    return None, (st.st_size, st.st_mtime_ns)


def _is_under(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root)
        return True
    except ValueError:
        return False


def _relative(real: str, anchor: str) -> str:
    """`real` relative to `anchor` (both absolute, normalised), or its last name if outside."""
    prefix = anchor.rstrip("/") + "/"
    if real.startswith(prefix):
        return real[len(prefix):]
    return real.rsplit("/", 1)[-1]


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
    line, so a large feed never sits in memory as one string). Any failure, of a known kind or
    not, is an InputError with one line: one file never stops an ingest."""
    try:
        return _read(ref, max_bytes)
    except InputError:
        raise
    except Exception as err:  # noqa: BLE001 - a bug or an odd file costs that file only
        raise InputError(f"could not read: {type(err).__name__}: {first_line(err, '')}"[:300].rstrip(": ")) from None


def _read(ref: FileRef, max_bytes: int | None) -> tuple[list[SourceDoc], dict[str, str]]:
    fmt = FORMATS[ref.path.suffix.lower()]
    if fmt == "jsonl":
        return _read_jsonl(ref, max_bytes)
    size = _size(ref.path)
    if max_bytes and size > max_bytes:
        raise InputError(_too_big(f"file is {_mb(size)}", max_bytes))
    data = read_bytes(ref.path)
    text = decode_bytes(data)
    # HTML may open with front matter too: pages `rag ingest URL` saved carry their URL in it.
    fields, body_start = split_front_matter(text) if fmt in ("txt", "md") or text.startswith("---") else ({}, 0)
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
        fields: dict[str, str] = {}
        if problem is None:
            try:
                fields = validate_fields(record)
            except InputError as err:
                problem = str(err)
        if problem is not None:
            bad.append(number)
            if len(bad) <= MAX_LISTED_BAD_LINES:
                failed[where] = f"line {number}: {problem}"
            continue
        key = _record_id(record, number)
        ids.add(key)
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
    if _SURROGATE.search(record["text"]):
        return "the text holds a lone surrogate (an escape like \\ud800 that is no character)"
    if problem := id_problem(record.get("id")):
        return problem
    key = _record_id(record, number)
    if key in ids:
        return f"duplicate id {key!r}"
    return None


def _record_id(record: dict, number: int) -> str:
    value = record.get("id")
    return str(number) if value in (None, "", 0) else str(value)


def id_problem(value) -> str | None:
    """Why a JSONL id cannot name a source (`file.jsonl#id`, cited as `file.jsonl#id:12`), or None."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return f"id must be a string or an integer, not {kind_of(value)}"
    key = str(value)
    if len(key) > MAX_FIELD_CHARS["id"]:
        return f"id is {len(key)} characters, over the {MAX_FIELD_CHARS['id']} limit"
    if not key.isprintable():
        return f"id {key!r} holds a line break or control character"
    if key != key.strip():
        return f"id {key!r} starts or ends with a space"
    if m := _RANGE_SUFFIX.search(key):
        return f"id {key!r} ends like a line range ({m.group()!r}); it could not be cited"
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
