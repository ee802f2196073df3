"""Prompts are files in prompts/: Markdown with a YAML front matter that declares their variables.

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
declared variable must be used. `render()` refuses missing and unknown values. Values are
substituted in one pass, so text inside a value (an article saying "{{question}}") is never
expanded. Shared constants such as `refusal_phrase` are filled in automatically, so the
phrase exists once, in rag.answer.refusal. Lines `<!-- system -->`, `<!-- user -->` and
`<!-- assistant -->` split the text into chat messages; without them it is one user message.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from rag.answer.refusal import REFUSAL_PHRASE
from rag.errors import ConfigError

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"
CONSTANTS = {"refusal_phrase": REFUSAL_PHRASE}
_VARIABLE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_ROLE = re.compile(r"^\s*<!--\s*(system|user|assistant)\s*-->\s*$", re.MULTILINE)
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class PromptError(ConfigError):
    """A prompt file is missing or inconsistent, or was rendered with the wrong variables."""


@dataclass(frozen=True)
class Prompt:
    name: str
    path: Path
    text: str = field(repr=False)
    hash: str
    variables: tuple[str, ...]
    meta: dict = field(default_factory=dict, repr=False)

    @property
    def description(self) -> str:
        return str(self.meta.get("description", ""))

    def render(self, **values) -> str:
        """The prompt text with every declared variable filled in (constants are automatic)."""
        given = {**{k: v for k, v in CONSTANTS.items() if k in self.variables}, **values}
        unknown = sorted(set(given) - set(self.variables))
        missing = sorted(set(self.variables) - set(given))
        if unknown:
            raise PromptError(f"prompt {self.name}: unknown variable(s) {', '.join(unknown)}; "
                              f"it declares {', '.join(self.variables) or 'none'}")
        if missing:
            raise PromptError(f"prompt {self.name}: missing value(s) for {', '.join(missing)}")
        return _VARIABLE.sub(lambda m: str(given[m.group(1)]), self.text)

    def messages(self, **values) -> list[dict]:
        """The rendered prompt as chat messages, split at the role markers."""
        return split_messages(self.render(**values))


def split_messages(text: str) -> list[dict]:
    marks = list(_ROLE.finditer(text))
    if not marks:
        return [{"role": "user", "content": text.strip()}]
    out = []
    for i, mark in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        content = text[mark.end():end].strip()
        if content:
            out.append({"role": mark.group(1), "content": content})
    return out


def load_prompt(name_or_path: str | Path, prompts_dir: Path | None = None) -> Prompt:
    """A prompt by name (`answer` → prompts/answer.md) or by path to a .md file, checked."""
    path = _locate(str(name_or_path), prompts_dir or PROMPTS_DIR)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise PromptError(f"cannot read prompt {path}: {err.strerror or err}") from None
    try:
        raw = data.decode("utf-8")
    except UnicodeDecodeError:
        raise PromptError(f"prompt {path} is not UTF-8") from None
    meta, body = _front_matter(raw, path)
    declared = meta.get("variables")
    if not isinstance(declared, list) or not all(isinstance(v, str) and _IDENTIFIER.match(v) for v in declared):
        raise PromptError(f"prompt {path.name}: front matter must declare `variables:` as a list of names")
    used = set(_VARIABLE.findall(body))
    undeclared = sorted(used - set(declared))
    unused = sorted(set(declared) - used)
    if undeclared:
        raise PromptError(f"prompt {path.name} uses undeclared variable(s) {', '.join(undeclared)}")
    if unused:
        raise PromptError(f"prompt {path.name} declares variable(s) it never uses: {', '.join(unused)}")
    return Prompt(name=path.stem, path=path, text=body, hash=hashlib.sha256(data).hexdigest()[:12],
                  variables=tuple(declared), meta=meta)


def available_prompts(prompts_dir: Path | None = None) -> list[str]:
    return sorted(p.stem for p in (prompts_dir or PROMPTS_DIR).glob("*.md"))


def _locate(spec: str, prompts_dir: Path) -> Path:
    if spec.endswith(".md") or "/" in spec or "\\" in spec:
        path = Path(spec)
        if not path.is_file():
            raise PromptError(f"no prompt file {spec}")
        return path
    if not _IDENTIFIER.match(spec.replace("-", "_")):
        raise PromptError(f"bad prompt name {spec!r}")
    path = prompts_dir / f"{spec}.md"
    if not path.is_file():
        names = ", ".join(available_prompts(prompts_dir)) or "none"
        raise PromptError(f"no prompt named {spec!r} in {prompts_dir} (available: {names})")
    return path


def _front_matter(raw: str, path: Path) -> tuple[dict, str]:
    text = raw.lstrip("\ufeff")
    if not text.startswith("---"):
        raise PromptError(f"prompt {path.name} has no front matter (--- variables: [...] ---)")
    end = text.find("\n---", 3)
    if end == -1:
        raise PromptError(f"prompt {path.name}: the front matter is not closed with ---")
    try:
        meta = yaml.safe_load(text[3:end]) or {}
    except yaml.YAMLError as err:
        raise PromptError(f"prompt {path.name}: bad front matter: {str(err).splitlines()[0]}") from None
    if not isinstance(meta, dict):
        raise PromptError(f"prompt {path.name}: the front matter must be a mapping")
    body = text[end + 4:]
    return meta, body.removeprefix("\n")
