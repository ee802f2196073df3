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
    sniff(data[:8192])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise InputError(
            f"not UTF-8 text (byte 0x{data[err.start]:02x} at offset {err.start}); convert it to UTF-8"
        ) from None
    return _check_text(text)


def has_bom(data: bytes) -> bool:
    """True when `data` starts with a UTF-16/32 byte-order mark (not UTF-8's)."""
    return data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))


def sniff(head: bytes) -> None:
    """Reject the first bytes of a file that is not UTF-8 text: binary data, or UTF-16 without a BOM."""
    if _looks_utf16(head):
        raise InputError("UTF-16 text without a byte-order mark; save it as UTF-8 (or UTF-16 with a BOM)")
    if b"\x00" in head or _looks_binary(head):
        raise InputError("binary file, not text")


def _check_text(text: str) -> str:
    if not text.strip():
        raise InputError("empty file")
    # A NUL past the sniffed head: text never holds one (and C tools would stop reading at it).
    nul = text.find("\x00")
    if nul != -1:
        raise InputError(f"binary file, not text (NUL character at offset {nul})")
    return text


def _looks_binary(head: bytes) -> bool:
    control = sum(1 for b in head if b < 32 and b not in _TEXT_CONTROL)
    return bool(head) and control / len(head) > 0.05


def _looks_utf16(head: bytes) -> bool:
    """ASCII-range text stored as UTF-16: every other byte is NUL, and only those."""
    pairs = len(head) // 2
    if pairs < 4:
        return False
    for parity in (0, 1):
        zeros = head[parity::2].count(0)
        others = head[1 - parity::2].count(0)
        if zeros >= 0.9 * pairs and others == 0:
            return True
    return False


def content_hash(data: bytes | str) -> str:
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()[:16]
