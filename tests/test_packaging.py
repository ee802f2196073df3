"""A non-editable install works (issue 18): a wheel built from the source, installed into a
fresh virtual environment from the local package cache only (uv --offline), answers
`rag ask --engine llm` against the scripted OpenAI-compatible server with its packaged prompts,
from a directory where no repository checkout is in sight."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CORPUS, ROOT
from scripted_server import ScriptedServer, json_completion

from rag.prompts import load_prompt

UV = Path(sys.executable).parent / "uv"
pytestmark = pytest.mark.slow


def run(*args, cwd: Path, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The bin/ directory of a fresh venv holding the wheel (and its dependencies from the cache)."""
    if not UV.exists():
        pytest.fail(f"uv is not installed next to {sys.executable}; run `make install-dev`")
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"  # built from a copy: the build leaves nothing in the checkout
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "rag", source / "rag", ignore=shutil.ignore_patterns("__pycache__"))
    built = run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                "--disable-pip-version-check", "-w", work / "dist", source, cwd=work)
    assert built.returncode == 0, built.stderr
    [wheel] = (work / "dist").glob("rag-*.whl")
    venv = work / "fresh"
    made = run(UV, "venv", "-q", "--python", sys.executable, venv, cwd=work)
    assert made.returncode == 0, made.stderr
    links = [a for d in ("/opt/wheels", os.environ.get("PIP_FIND_LINKS", "")) if d and Path(d).is_dir()
             for a in ("--find-links", d)]
    install = run(UV, "pip", "install", "-q", "--offline", "--python", venv / "bin" / "python", *links, wheel, cwd=work)
    assert install.returncode == 0, f"offline install from the local cache failed: {install.stderr[-2000:]}"
    return venv / "bin"


def test_the_wheel_carries_its_prompts_and_answers_with_the_llm_engine(installed, tmp_path):
    where = run(installed / "python", "-c", "import rag.prompts as p; print(p.__file__); print(p.available_prompts())",
                cwd=tmp_path)
    assert where.returncode == 0, where.stderr
    location, names = where.stdout.splitlines()
    assert location.startswith(str(installed.parent)) and "site-packages" in location  # not the checkout
    assert "'answer'" in names and "'support_judge'" in names

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(CORPUS / "003_568550a85670bdb3.txt", corpus)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAG_", "OPENAI_"))}
    env.update(RAG_CONFIG=str(tmp_path / "none.toml"), HF_HUB_OFFLINE="1", PYTHONPATH="")
    common = ["--store-dir", tmp_path / "store", "--set", "embedding_model=hash"]
    ingested = run(installed / "rag", "ingest", corpus, *common, cwd=tmp_path, env=env)
    assert ingested.returncode == 0, ingested.stderr

    def reply(body):
        import re

        # A sentence that speaks to the question (an answer beside it is refused as off-question).
        n, sentence = next((n, s) for n, text in re.findall(r'<source n="(\d+)"[^>]*>\n(.*?)\n</source>',
                                                            body["messages"][-1]["content"], re.S)
                           for s in re.split(r"(?<=[.!?])\s+", text) if "embassy" in s and len(s.split()) > 6)
        return json_completion({"refused": False, "sentences": [{"text": sentence, "citations": [int(n)]}],
                                "conflicts": []})

    with ScriptedServer(reply) as server:
        asked = run(installed / "rag", "ask", "What happened at the embassy?", "--engine", "llm", "--base-url", server.url,
                    "--model", "scripted-model", *common, "--set", f"cache_dir={tmp_path / 'cache'}",
                    "--set", f"llm_log={tmp_path / 'log.jsonl'}", cwd=tmp_path, env=env)
        assert asked.returncode == 0, asked.stderr
        [body] = server.chat_requests()
    assert body["messages"][0] == load_prompt("answer").messages(sources="x", question="x")[0]
    assert "[1]" in asked.stdout and "003_568550a85670bdb3.txt" in asked.stdout
