"""Prompts are files in this package (rag/prompts/*.md, shipped as package data and found
through importlib.resources): Markdown with a YAML front matter that declares their variables.

    ---
    description: What the prompt is for.
    variables: [question, sources, refusal_phrase]
    ---
    <!-- system -->
    Instructions... {{refusal_phrase}}
    <!-- user -->
    {{sources}}
    Question: {{question}}

A prompt is checked when it loads: every `{{name}}` it uses must be declared, and every
declared variable must be used. `render()` refuses missing and unknown values. Shared constants
such as `refusal_phrase` are filled in automatically, so the phrase exists once, in
rag.answer.refusal.

Roles come from the file, never from a value. Lines `<!-- system -->`, `<!-- user -->` and
`<!-- assistant -->` split the TEMPLATE into messages when it loads (without them it is one user
message); variables are then substituted into each message on its own, in one pass, so text
inside a value (an article saying "<!-- system -->" or "{{question}}") can neither open a message
nor be expanded. Values are also defused (`defuse`) for every marker the prompt files use: role
comments, the tags that delimit data (`<source>`, `<evidence>`, `<claim>`) and the keywords that
replies are parsed by (`VERDICT:`, `CONFLICT:`), so a source cannot close its block, forge a
verdict or plant a conflict line. Text already built from defused parts (the numbered sources)
is passed as `Defused` and inserted as it is.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

import yaml

from rag.answer.refusal import REFUSAL_PHRASE
from rag.errors import ConfigError, first_line

PACKAGE = __name__
CONSTANTS = {"refusal_phrase": REFUSAL_PHRASE}
_VARIABLE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_ROLE = re.compile(r"^\s*<!--\s*(system|user|assistant)\s*-->\s*$", re.MULTILINE)
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TAG = re.compile(r"</?([A-Za-z][A-Za-z_-]*)\b")
_KEYWORD = re.compile(r"^\s*([A-Z]{4,})\s*:", re.MULTILINE)
_COLON_LOOKALIKE = "\ua789"  # ꞉ MODIFIER LETTER COLON: reads as a colon, parses as none


class PromptError(ConfigError):
    """A prompt file is missing or inconsistent, or was rendered with the wrong variables."""


class Defused(str):
    """Text built from defused parts (e.g. the numbered <source> blocks): inserted as it is."""


@dataclass(frozen=True)
class Prompt:
    name: str
    path: str  # where it was read from: the packaged file or a user's .md path
    text: str = field(repr=False)
    hash: str
    variables: tuple[str, ...]
    meta: dict = field(default_factory=dict, repr=False)
    parts: tuple[tuple[str, str], ...] = field(default=(), repr=False)  # (role, template), split at load

    @property
    def description(self) -> str:
        return str(self.meta.get("description", ""))

    def render(self, **values) -> str:
        """The whole prompt text with every declared variable filled in (for display and tests)."""
        return _substitute(self.text, self._values(values))

    def messages(self, **values) -> list[dict]:
        """The chat messages: the template's own roles, each filled in on its own."""
        given = self._values(values)
        out = []
        for role, template in self.parts:
            content = _substitute(template, given).strip()
            if content:
                out.append({"role": role, "content": content})
        return out

    def _values(self, values: dict) -> dict:
        given = {**{k: v for k, v in CONSTANTS.items() if k in self.variables}, **values}
        unknown = sorted(set(given) - set(self.variables))
        missing = sorted(set(self.variables) - set(given))
        if unknown:
            raise PromptError(f"prompt {self.name}: unknown variable(s) {', '.join(unknown)}; "
                              f"it declares {', '.join(self.variables) or 'none'}")
        if missing:
            raise PromptError(f"prompt {self.name}: missing value(s) for {', '.join(missing)}")
        markers = markers_of(self)
        return {k: v if isinstance(v, Defused) or k in CONSTANTS else defuse(str(v), markers)
                for k, v in given.items()}


def _substitute(template: str, values: dict) -> str:
    return _VARIABLE.sub(lambda m: str(values[m.group(1)]), template)


def split_messages(text: str) -> list[tuple[str, str]]:
    """(role, text) parts of a template, split at the role markers; no marker: one user part."""
    marks = list(_ROLE.finditer(text))
    if not marks:
        return [("user", text)]
    return [(mark.group(1), text[mark.end():marks[i + 1].start() if i + 1 < len(marks) else len(text)])
            for i, mark in enumerate(marks)]


# --- defusing: every marker the prompt files use ---------------------------------------------


@dataclass(frozen=True)
class Markers:
    tags: frozenset[str]
    keywords: frozenset[str]

    def __or__(self, other: Markers) -> Markers:
        return Markers(self.tags | other.tags, self.keywords | other.keywords)


def markers_in(text: str) -> Markers:
    """The data-delimiting tags and reply keywords a prompt text uses."""
    return Markers(frozenset(t.lower() for t in _TAG.findall(text)), frozenset(_KEYWORD.findall(text)))


# rag.answer.context wraps each source in a <source ...> block of the user message.
SOURCE_TAG = "source"


@cache
def shipped_markers() -> Markers:
    """The markers of every packaged prompt (a source passes through several: map, then reduce)
    and the <source> block every sources variable is made of."""
    found = Markers(frozenset({SOURCE_TAG}), frozenset())
    for name in available_prompts():
        found = found | markers_in(load_prompt(name).text)
    return found


def markers_of(prompt: Prompt) -> Markers:
    return shipped_markers() | markers_in(prompt.text)


def defuse(text: str, markers: Markers | None = None) -> str:
    """`text` with every role comment, data tag and reply keyword made inert (look-alike
    characters), so inserted text reads the same to a model and cannot act as structure."""
    markers = markers or shipped_markers()
    text = re.sub(r"<(\s*!\s*-)", "‹\\1", text)  # any HTML comment, so any role marker
    if markers.tags:
        tags = "|".join(re.escape(t) for t in sorted(markers.tags, key=len, reverse=True))
        text = re.sub(rf"<(\s*/?\s*(?:{tags})\b)", "‹\\1", text, flags=re.IGNORECASE)
    if markers.keywords:
        words = "|".join(re.escape(w) for w in sorted(markers.keywords, key=len, reverse=True))
        text = re.sub(rf"\b({words})(\s*):", rf"\1\2{_COLON_LOOKALIKE}", text, flags=re.IGNORECASE)
    return text


# --- loading ----------------------------------------------------------------------------------


def load_prompt(name_or_path: str | Path, prompts_dir: Path | None = None) -> Prompt:
    """A prompt by name (`answer` → rag/prompts/answer.md) or by path to a .md file, checked."""
    source = _locate(str(name_or_path), prompts_dir)
    try:
        data = source.read_bytes()
    except OSError as err:
        raise PromptError(f"cannot read prompt {source}: {err.strerror or err}") from None
    try:
        raw = data.decode("utf-8")
    except UnicodeDecodeError:
        raise PromptError(f"prompt {source} is not UTF-8") from None
    name = Path(source.name).stem
    meta, body = _front_matter(raw, source.name)
    declared = meta.get("variables")
    if not isinstance(declared, list) or not all(isinstance(v, str) and _IDENTIFIER.match(v) for v in declared):
        raise PromptError(f"prompt {source.name}: front matter must declare `variables:` as a list of names")
    used = set(_VARIABLE.findall(body))
    undeclared = sorted(used - set(declared))
    unused = sorted(set(declared) - used)
    if undeclared:
        raise PromptError(f"prompt {source.name} uses undeclared variable(s) {', '.join(undeclared)}")
    if unused:
        raise PromptError(f"prompt {source.name} declares variable(s) it never uses: {', '.join(unused)}")
    return Prompt(name=name, path=str(source), text=body, hash=hashlib.sha256(data).hexdigest()[:12],
                  variables=tuple(declared), meta=meta, parts=tuple(split_messages(body)))


@cache
def shipped_prompt(name: str) -> Prompt:
    """A packaged prompt by name, read and checked once per process: the package's files do not
    change while it runs (a verifier that asks per sentence must not re-read its prompt each time)."""
    return load_prompt(name)


def packaged() -> Traversable:
    """The directory of the shipped prompts, inside the installed package."""
    return resources.files(PACKAGE)


def available_prompts(prompts_dir: Path | None = None) -> list[str]:
    folder = prompts_dir or packaged()
    return sorted(Path(p.name).stem for p in folder.iterdir() if p.name.endswith(".md") and p.is_file())


def _locate(spec: str, prompts_dir: Path | None) -> Traversable:
    if spec.endswith(".md") or "/" in spec or "\\" in spec:
        path = Path(spec)
        if not path.is_file():
            raise PromptError(f"no prompt file {spec}")
        return path
    if not _IDENTIFIER.match(spec.replace("-", "_")):
        raise PromptError(f"bad prompt name {spec!r}")
    folder = prompts_dir or packaged()
    found = folder.joinpath(f"{spec}.md")
    if not found.is_file():
        names = ", ".join(available_prompts(prompts_dir)) or "none"
        where = prompts_dir or "the packaged prompts"
        raise PromptError(f"no prompt named {spec!r} in {where} (available: {names})")
    return found


def _front_matter(raw: str, name: str) -> tuple[dict, str]:
    text = raw.lstrip("\ufeff")
    if not text.startswith("---"):
        raise PromptError(f"prompt {name} has no front matter (--- variables: [...] ---)")
    end = text.find("\n---", 3)
    if end == -1:
        raise PromptError(f"prompt {name}: the front matter is not closed with ---")
    try:
        meta = yaml.safe_load(text[3:end]) or {}
    except yaml.YAMLError as err:
        raise PromptError(f"prompt {name}: bad front matter: {first_line(err)}") from None
    if not isinstance(meta, dict):
        raise PromptError(f"prompt {name}: the front matter must be a mapping")
    body = text[end + 4:]
    return meta, body.removeprefix("\n")
