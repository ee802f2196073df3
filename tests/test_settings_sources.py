"""Where Settings values come from (rag/settings_sources.py): rag.toml < RAG_* environment <
explicit values, aliases, JSON for list and dict fields, and one-line errors for bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from rag.errors import ConfigError
from rag.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def toml(tmp_path, monkeypatch):
    def write(text: str) -> None:
        path = tmp_path / "rag.toml"
        path.write_text(text)
        monkeypatch.setenv("RAG_CONFIG", str(path))
    return write


def test_explicit_values_win_over_the_environment_which_wins_over_the_file(toml, monkeypatch):
    toml("top_k = 9\ncandidates = 30\nrrf_k = 20\n")
    monkeypatch.setenv("RAG_CANDIDATES", "40")
    monkeypatch.setenv("RAG_RRF_K", "30")
    settings = load_settings(rrf_k=45)
    assert (settings.top_k, settings.candidates, settings.rrf_k) == (9, 40, 45)
    assert Settings(rrf_k=46).candidates == 40  # Settings(...) reads the same sources


def test_environment_names_are_case_insensitive_and_aliases_are_taken_in_order(monkeypatch):
    monkeypatch.setenv("rag_top_k", "7")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://openai.example/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    assert load_settings().top_k == 7
    assert load_settings().llm_base_url == "http://openai.example/v1"
    assert load_settings().llm_api_key == "sk-env"
    monkeypatch.setenv("RAG_LLM_BASE_URL", "http://rag.example/v1")  # listed before OPENAI_BASE_URL
    assert load_settings().llm_base_url == "http://rag.example/v1"
    monkeypatch.setenv("RAG_NOT_A_SETTING", "1")  # a stray variable is not an error
    assert load_settings().top_k == 7


def test_list_and_dict_fields_are_json_in_the_environment_and_dicts_merge_across_sources(toml, monkeypatch):
    toml('llm_extra_body = {cache_prompt = false}\nllm_prices = {m = [1.0, 2.0]}\n')
    monkeypatch.setenv("RAG_LLM_EXTRA_BODY", '{"seed": 3}')
    monkeypatch.setenv("RAG_API_CORS_ORIGINS", '["https://intranet.example"]')
    settings = load_settings()
    assert settings.llm_extra_body == {"cache_prompt": False, "seed": 3}
    assert settings.llm_prices == {"m": (1.0, 2.0)}
    assert settings.api_cors_origins == ["https://intranet.example"]
    monkeypatch.setenv("RAG_LLM_EXTRA_BODY", "{not json")
    with pytest.raises(ConfigError, match="llm_extra_body is not JSON"):
        load_settings()


@pytest.mark.parametrize("text, message", [
    ("no_such_setting = 1\n", "invalid setting no_such_setting: Extra inputs are not permitted"),
    ("top_k = \n", "cannot read settings: "),
    ('top_k = "many"\n', "invalid setting top_k: "),
])
def test_a_bad_file_is_a_one_line_config_error(toml, text, message):
    toml(text)
    with pytest.raises(ConfigError, match=message):
        load_settings()


def test_no_file_and_dev_null_read_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("RAG_CONFIG", str(tmp_path / "missing.toml"))
    defaults = load_settings().settings_hash()
    monkeypatch.setenv("RAG_CONFIG", "/dev/null")
    assert load_settings().settings_hash() == defaults


def test_settings_load_without_pydantic_settings_or_asyncio():
    """The point of reading the sources ourselves: a cold `rag ask` imports neither."""
    code = "import sys, rag.settings; rag.settings.load_settings(); print(sorted({'asyncio', 'pydantic_settings', 'tomllib'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT,
                         env={"RAG_CONFIG": "/dev/null", "PATH": "/usr/bin:/bin"})
    assert out.stdout.strip() == "[]"
