"""The README's example output is what the commands print (issue 18): scripts/readme_examples.py
produced it, and this re-runs the commands on the session's corpus store and compares."""

from __future__ import annotations

import importlib.util

import pytest
from conftest import ROOT

pytestmark = pytest.mark.slow


def _script():
    spec = importlib.util.spec_from_file_location("readme_examples", ROOT / "scripts" / "readme_examples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_readme_examples_are_what_the_commands_print(corpus_store):
    diff = _script().drift(corpus_store)
    assert not diff, f"README.md examples are stale; run `.venv/bin/python scripts/readme_examples.py`:\n{diff}"


def test_every_example_block_has_a_command_and_output():
    script = _script()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = {m["name"]: m["body"] for m in script._BLOCK.finditer(readme)}
    assert set(blocks) == set(script.EXAMPLES)
    for name, body in blocks.items():
        lines = body.strip().splitlines()
        assert lines[0] == "```text" and lines[1].startswith(f"$ rag {name} ") and len(lines) > 3, name
