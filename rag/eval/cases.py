"""Reading eval cases from YAML files. A broken file gets one error that names the file and line.

A case file is a YAML list of cases. A question case:

    - id: rocket-count
      question: How many rockets were fired at the US embassy in Baghdad?
      facts:                      # each fact: acceptable phrasings; a number matches its word
        - [eight, 8]
        - [more than 20, "21"]
      sources:                    # files a good answer cites; an inner list = any one of them
        - [001_c31d4bc7025f9123.txt, 003_568550a85670bdb3.txt]
        - 002_5cca6cf56978dda1.txt
      tags: [conflict]

    - id: world-cup
      question: Who won the 2018 World Cup?
      refuse: true                # the corpus cannot answer it

A file may instead be a mapping that names the corpus its cases run on, with the list under
`cases:` (a plain list runs on the seed corpus, `corpus`):

    corpus: benchmark   # the name `rag eval --corpus` selects; the file's comment says how to build it
    cases:
      - id: ...

A briefing case has `kind: briefing`, an optional `topic` (none = the whole corpus), optional
`since`/`until`/`source` filters, and the facts and sources a briefing must cover.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import yaml
from pydantic import ValidationError

from rag.errors import InputError
from rag.models import BriefingCase, EvalCase

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class CaseFileError(InputError):
    """A case file cannot be used; the message starts with `file:line:`."""


class _LineLoader(yaml.SafeLoader):
    """Safe YAML loader that remembers the line of every mapping and of each of its keys."""

    def construct_mapping(self, node, deep=False):
        mapping = super().construct_mapping(node, deep=deep)
        mapping["__line__"] = node.start_mark.line + 1
        mapping["__keys__"] = {k.value: k.start_mark.line + 1 for k, _ in node.value if isinstance(k, yaml.ScalarNode)}
        return mapping


def case_files(paths: list[Path]) -> list[Path]:
    """The YAML files named, or found (sorted) under the directories named."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
            if not found:
                raise CaseFileError(f"{path}: no .yaml case files in this directory")
            files += found
        elif path.is_file():
            files.append(path)
        else:
            raise CaseFileError(f"{path}: no such case file or directory")
    return files


def load_cases(paths: list[Path]) -> list[EvalCase | BriefingCase]:
    """All cases in the given files and directories; ids must be unique across them."""
    cases: list[EvalCase | BriefingCase] = []
    seen: dict[str, str] = {}
    for file in case_files(paths):
        for case in load_case_file(file):
            where = f"{case.file}:{case.line}"
            if case.id in seen:
                raise CaseFileError(f"{where}: duplicate case id {case.id!r} (first at {seen[case.id]})")
            seen[case.id] = where
            cases.append(case)
    return cases


def load_case_file(path: Path) -> list[EvalCase | BriefingCase]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise CaseFileError(f"{path}: cannot read: {err}") from None
    try:
        data = yaml.load(text, Loader=_LineLoader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = f"{mark.line + 1}:" if mark else ""
        raise CaseFileError(f"{path}:{line} invalid YAML: {err.problem or err.context}") from None
    except yaml.YAMLError as err:
        raise CaseFileError(f"{path}: invalid YAML: {err}") from None
    if data is None:
        return []
    corpus = "corpus"
    if isinstance(data, dict) and "cases" in data:
        corpus = data.get("corpus")
        if not isinstance(corpus, str) or not _ID.match(corpus):
            raise CaseFileError(f"{path}:{data['__keys__'].get('corpus', 1)}: `corpus:` must name the corpus the cases run on")
        data = data["cases"]
    if not isinstance(data, list):
        raise CaseFileError(f"{path}:1: a case file must be a YAML list of cases (each starting with '- id: ...'), "
                            "or a mapping with `corpus:` and `cases:`")
    return [_case(path, item, i, corpus) for i, item in enumerate(data)]


def _case(path: Path, item, index: int, corpus: str = "corpus") -> EvalCase | BriefingCase:
    if not isinstance(item, dict):
        raise CaseFileError(f"{path}: item {index + 1} is not a mapping of case fields")
    line = item.pop("__line__")
    keys = item.pop("__keys__")
    _strip_lines(item)

    def fail(message: str, key: str | None = None):
        raise CaseFileError(f"{path}:{keys.get(key, line)}: {message}")

    kind = item.get("kind", "question")
    if kind not in ("question", "briefing"):
        fail(f"kind must be 'question' or 'briefing', not {kind!r}", "kind")
    case_id = item.get("id")
    if not isinstance(case_id, str) or not _ID.match(case_id):
        fail(f"every case needs an id of letters, digits, '.', '_' or '-' (got {case_id!r})", "id")
    for key in ("facts", "sources"):
        if key in item:
            item[key] = _alternatives(item[key], key, lambda msg, k=key: fail(msg, k))
    model = BriefingCase if kind == "briefing" else EvalCase
    try:
        case = model(**{"corpus": corpus, **item}, file=str(path), line=line)
    except ValidationError as err:
        first = err.errors()[0]
        key = str(first["loc"][0]) if first["loc"] else None
        what = "unknown field" if first["type"] == "extra_forbidden" else first["msg"]
        fail(f"case {case_id!r}: {key}: {what}" if key else f"case {case_id!r}: {what}", key)
    if isinstance(case, EvalCase):
        if not case.question.strip():
            fail(f"case {case_id!r}: the question is empty", "question")
        if case.refuse and case.facts:
            fail(f"case {case_id!r}: a case that must be refused cannot list facts", "facts")
        if not case.refuse and not case.facts:
            fail(f"case {case_id!r}: an answerable case needs at least one fact (or refuse: true)", "facts")
    elif not case.facts:
        fail(f"briefing case {case_id!r} needs at least one fact", "facts")
    return case


def _strip_lines(value):
    """Remove the loader's line bookkeeping from nested mappings."""
    if isinstance(value, dict):
        value.pop("__line__", None)
        value.pop("__keys__", None)
        for v in value.values():
            _strip_lines(v)
    elif isinstance(value, list):
        for v in value:
            _strip_lines(v)


def _alternatives(value, key: str, fail) -> list[list[str]]:
    """`[a, [b, c]]` → `[[a], [b, c]]`; numbers become strings; anything else is an error."""
    if not isinstance(value, list):
        fail(f"{key} must be a list (each item a phrasing, or a list of acceptable phrasings)")
    out = []
    for item in value:
        options = item if isinstance(item, list) else [item]
        if not options:
            fail(f"{key}: an empty list of alternatives")
        cleaned = []
        for option in options:
            if isinstance(option, dt.date):
                option = option.isoformat()  # YAML reads an unquoted 2020-12-20 as a date
            if isinstance(option, bool) or not isinstance(option, (str, int, float)) or not str(option).strip():
                fail(f"{key}: {option!r} is not a phrasing (a non-empty string or number)")
            cleaned.append(str(option).strip())
        out.append(cleaned)
    return out
