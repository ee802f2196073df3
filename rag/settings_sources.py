"""Where Settings values come from besides explicit arguments: the environment and rag.toml.

The rules are pydantic-settings' (which rag used before; importing it, and asyncio with it, was
an eighth of a cold `rag ask`): a field is read from `RAG_<NAME>`, or from its alias choices
when it has them, case-insensitively; a list, dict or tuple field's variable is JSON; the
toml file is `$RAG_CONFIG` or ./rag.toml when it exists; explicit values win over the
environment, which wins over the file, and dict values from several of them are merged key by
key. Only the standard library is imported here.
"""

from __future__ import annotations

import json
import os
import types
import typing
from pathlib import Path

_COMPLEX = (list, dict, tuple, set, frozenset)


class SourceError(ValueError):
    """A variable or file that cannot be read as a setting's value."""


def gathered(fields: dict, explicit: dict) -> dict:
    """The values for a Settings model: rag.toml < environment < `explicit`. `fields` is the
    model's `model_fields`."""
    return _deep_merge(_deep_merge(toml_values(), env_values(fields)), explicit)


def toml_values() -> dict:
    path = Path(os.environ.get("RAG_CONFIG", "rag.toml")).expanduser()
    if not path.is_file():  # also /dev/null, which tests and benchmarks name to read no file
        return {}
    import tomllib  # only with a file to read: its own regular expressions cost a cold start 10 ms

    with path.open("rb") as handle:
        return tomllib.load(handle)


def env_values(fields: dict) -> dict:
    env = {k.lower(): v for k, v in os.environ.items()}
    out = {}
    for name, field in fields.items():
        for key in _env_names(name, field):
            if key in env:
                out[name] = _decoded(name, field.annotation, env[key])
                break
    return out


def _env_names(name: str, field) -> list[str]:
    alias = field.validation_alias
    if alias is None:
        return [f"rag_{name}"]
    if isinstance(alias, str):
        return [alias.lower()]
    return [choice.lower() for choice in alias.choices if isinstance(choice, str)]


def _decoded(name: str, annotation, raw: str):
    members = _members(annotation)
    if not any(_is_complex(m) for m in members):
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        if all(_is_complex(m) for m in members):
            raise SourceError(f"the environment's value of {name} is not JSON") from None
        return raw  # a union with a plain type takes the string as it is


def _members(annotation) -> list:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return [a for a in typing.get_args(annotation) if a is not type(None)]
    return [annotation]


def _is_complex(annotation) -> bool:
    origin = typing.get_origin(annotation) or annotation
    return isinstance(origin, type) and (issubclass(origin, _COMPLEX) or hasattr(origin, "model_fields"))


def _deep_merge(base: dict, update: dict) -> dict:
    out = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out
