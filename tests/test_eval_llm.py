"""`rag eval --engine llm` end to end against the scripted OpenAI-compatible server: the run
records the model, the prompt and its hash, tokens and cost; `--prompt` evaluates a variant;
`--judge llm` decides citation support through the same endpoint."""

import json
import re
import shutil
from pathlib import Path

import pytest
from scripted_server import Reply, ScriptedServer

from rag.api import Rag
from rag.eval.runfile import load_run

ROOT = Path(__file__).resolve().parent.parent
CASES = """
- id: ambassador
  question: Who is the US ambassador to Iraq?
  facts: [[Tueller]]
  sources: [003_568550a85670bdb3.txt]
- id: world-cup
  question: Who won the 2018 World Cup?
  refuse: true
"""
_SOURCE = re.compile(r"<source\b[^>]*>\n?(.*?)</source>", re.DOTALL)


def responder(body: dict) -> Reply:
    """Judge prompts get a verdict; answer prompts get the first sentence of source 1, cited."""
    text = "\n".join(m["content"] for m in body["messages"])
    if "<claim>" in text:
        return Reply(content="The evidence states it.\nVERDICT: SUPPORTED", usage=(120, 8))
    if "World Cup" in text:
        return Reply(content=json.dumps({"refused": True, "sentences": [], "conflicts": []}), usage=(300, 10))
    first = _SOURCE.search(text).group(1).strip()
    sentence = re.split(r"(?<=[.!?])\s", first)[0]
    reply = {"refused": False, "sentences": [{"text": sentence, "citations": [1]}], "conflicts": []}
    return Reply(content=json.dumps(reply), usage=(500, 40))


@pytest.fixture
def server():
    with ScriptedServer(responder) as srv:
        yield srv


@pytest.fixture
def run_llm(cli, small_corpus, server, tmp_path):
    rag = Rag(small_corpus)
    rag.ingest([small_corpus.corpus_dir])
    rag.close()
    cases = tmp_path / "cases.yaml"
    cases.write_text(CASES)

    def run(*args):
        return cli("eval", cases, "--engine", "llm", "--store-dir", small_corpus.store_dir,
                   "--set", "embedding_model=hash", "--set", f"llm_base_url={server.url}",
                   "--set", "llm_model=scripted-model", "--set", "llm_api_key=test-key", *args)

    return run


def test_llm_runs_record_model_prompt_usage_and_judge(run_llm, tmp_path, server):
    out = tmp_path / "run.json"
    code, _, err = run_llm("--judge", "llm", "--out", out)
    assert code == 0, err
    run = load_run(out)
    assert run.engine == "llm" and run.model == "scripted-model"
    assert run.prompt_name == "answer" and run.prompt_hash and run.judge == "llm:scripted-model"
    assert run.metrics["tokens_per_case"].mean > 0
    assert run.metrics["citation_validity"].mean == 1.0  # the engine re-anchors quotes to exact lines
    assert "citation_recall" in run.metrics
    assert any(n.startswith("judge llm:scripted-model:") for n in run.notes)
    assert any("<claim>" in json.dumps(r["body"]) for r in server.requests)
    assert "test-key" not in out.read_text()  # secrets never reach a run file


def test_a_prompt_variant_is_used_and_compared(run_llm, tmp_path, server):
    base = tmp_path / "base.json"
    assert run_llm("--out", base)[0] == 0
    variant = tmp_path / "answer_v2.md"
    shutil.copy(ROOT / "rag" / "prompts" / "answer.md", variant)
    variant.write_text(variant.read_text().replace("Write at most 4 short sentences", "Write at most 2 short sentences"))
    out = tmp_path / "v2.json"
    code, stdout, err = run_llm("--prompt", str(variant), "--out", out, "--compare", base)
    assert code == 0, err
    run = load_run(out)
    assert run.prompt_name == "answer_v2" and run.prompt_hash != load_run(base).prompt_hash
    assert any("at most 2 short sentences" in json.dumps(r["body"]) for r in server.requests)
    assert "prompt: answer" in stdout and "→ answer_v2" in stdout
