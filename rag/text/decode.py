"""Turn file bytes into text, or say in one line why not."""

from __future__ import annotations

import codecs
import hashlib

from rag.errors import InputError

_TEXT_CONTROL = {9, 10, 12, 13, 27}


def decode_bytes(data: bytes) -> str:
    """Decode UTF-8 (with or without BOM) or BOM-marked UTF-16/32. Reject empty and binary input."""
    for bom, codec in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            try:
                text = data.decode(codec)
            except UnicodeDecodeError as err:
                raise InputError(f"invalid {codec.upper()} text at byte {err.start}") from None
            return _check_text(text)
    head = data[:8192]
    if b"\x00" in head or _looks_binary(head):
        raise InputError("binary file, not text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise InputError(
            f"not UTF-8 text (byte 0x{data[err.start]:02x} at offset {err.start}); convert it to UTF-8"
        ) from None
    return _check_text(text)


def _check_text(text: str) -> str:
    if not text.strip():
        raise InputError("empty file")
    return text


def _looks_binary(head: bytes) -> bool:
    control = sum(1 for b in head if b < 32 and b not in _TEXT_CONTROL)
    return bool(head) and control / len(head) > 0.05


def content_hash(data: bytes | str) -> str:
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()[:16]
