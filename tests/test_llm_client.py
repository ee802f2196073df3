"""The LLM client against a real HTTP server on 127.0.0.1 speaking the chat-completions protocol:
retries, errors, streaming, structured-output fallback, the response cache, the call log, costs."""

import json
import socket

import numpy as np
import pytest
from scripted_server import ScriptedServer, completion, error, streamed

from rag.errors import LLMError, RagError
from rag.llm import LLMNotConfigured, LLMUnavailable, StreamBroken, make_client, make_llm
from rag.llm.chat import cache_dir, is_strict
from rag.llm.client import call_embeddings
from rag.llm.log import log_report, read_calls
from rag.llm.pricing import cost_usd
from rag.models import LLMReply
from rag.settings import Settings

HELLO = [{"role": "user", "content": "Say hello"}]


@pytest.fixture
def server():
    with ScriptedServer() as srv:
        yield srv


@pytest.fixture
def settings(server, tmp_path):
    return Settings(store_dir=tmp_path / "store", llm_base_url=server.url, llm_model="scripted-model",
                    llm_timeout=0.5, llm_retries=2)


def test_no_endpoint_is_one_line_saying_how_to_configure_one(tmp_path):
    with pytest.raises(LLMNotConfigured) as err:
        make_llm(Settings(store_dir=tmp_path))
    assert isinstance(err.value, RagError)
    message = str(err.value)
    assert "\n" not in message and "OPENAI_API_KEY" in message and "OPENAI_BASE_URL" in message


def test_endpoint_settings_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("RAG_LLM_MODEL", "my-model")
    monkeypatch.setenv("RAG_LLM_TEMPERATURE", "0.3")
    s = Settings(store_dir=tmp_path)
    assert (s.llm_base_url, s.llm_api_key, s.llm_model, s.llm_temperature) == (
        "http://127.0.0.1:9/v1", "sk-test", "my-model", 0.3)
    assert make_llm(s).model == "my-model"


def test_plain_reply_with_usage_and_the_request_it_answers(server, settings):
    server.script(completion("Hello there.", usage=(12, 3)))
    result = make_llm(settings).chat(HELLO, temperature=0.2, max_tokens=50)
    assert (result.text, result.usage.prompt_tokens, result.usage.completion_tokens) == ("Hello there.", 12, 3)
    sent = server.chat_requests()[0]
    assert sent["model"] == "scripted-model" and sent["messages"] == HELLO
    assert (sent["temperature"], sent["max_tokens"]) == (0.2, 50)
    assert "response_format" not in sent


def test_json_schema_is_sent_when_asked_for(server, settings):
    server.script(completion('{"refused": true, "sentences": [], "conflicts": []}'))
    schema = LLMReply.model_json_schema()
    result = make_llm(settings).chat(HELLO, json_schema=schema)
    fmt = server.chat_requests()[0]["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["schema"] == schema
    assert fmt["json_schema"]["strict"] is True and is_strict(schema)
    assert result.mode == "json_schema"


def test_a_server_without_json_schema_gets_a_json_object_then_plain_text(server, settings):
    server.script(error(400, "response_format json_schema is not supported"),
                  error(400, "response_format is not supported"), completion("plain"))
    llm = make_llm(settings)
    result = llm.chat(HELLO, json_schema={"type": "object"})
    formats = [r.get("response_format", {}).get("type") for r in server.chat_requests()]
    assert formats == ["json_schema", "json_object", None] and result.mode == "text"
    server.script(completion("again"))
    assert llm.chat([{"role": "user", "content": "next"}], json_schema={"type": "object"}).mode == "text"
    assert len(server.chat_requests()) == 4  # the instance remembers what the server refused


def test_429_then_success_is_retried(server, settings):
    server.script(error(429, "slow down", headers={"retry-after-ms": "20"}), completion("ok"))
    result = make_llm(settings).chat(HELLO)
    assert result.text == "ok" and result.attempts == 2 and len(server.chat_requests()) == 2
    assert read_calls(settings)[-1].attempts == 2


def test_500s_are_retried_then_reported_in_one_line(server, settings):
    server.script(*[error(500, "boom")] * 3)
    with pytest.raises(LLMUnavailable) as err:
        make_llm(settings).chat(HELLO)
    assert len(server.chat_requests()) == 3  # 1 + llm_retries
    message = str(err.value)
    assert "HTTP 500 after 2 retries" in message and "boom" in message and "\n" not in message
    call = read_calls(settings)[-1]
    assert call.error == message and call.attempts == 3


def test_a_timeout_is_retried_then_reported(server, settings):
    server.script(*[completion("late", delay=3)] * 2)
    with pytest.raises(LLMUnavailable, match="timed out after 1 retry"):
        make_llm(settings.model_copy(update={"llm_retries": 1})).chat(HELLO)
    assert len(server.chat_requests()) == 2


def test_a_wrong_key_is_not_retried(server, settings):
    server.script(error(401, "Incorrect API key provided"))
    with pytest.raises(LLMUnavailable, match="rejected the API key"):
        make_llm(settings).chat(HELLO)
    assert len(server.chat_requests()) == 1


def test_an_unreachable_endpoint_is_one_clear_line(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again when the block ends: nothing listens there
    settings = Settings(store_dir=tmp_path, llm_base_url=f"http://127.0.0.1:{port}/v1", llm_retries=0)
    with pytest.raises(LLMUnavailable, match=f"cannot reach the LLM endpoint http://127.0.0.1:{port}"):
        make_llm(settings).chat(HELLO)


def test_streaming_hands_over_tokens_as_they_arrive(server, settings):
    server.script(streamed(["Hel", "lo ", "world."]))
    seen = []
    result = make_llm(settings).stream(HELLO, seen.append)
    assert seen == ["Hel", "lo ", "world."] and result.text == "Hello world." and result.finish_reason == "stop"
    assert server.chat_requests()[0]["stream"] is True
    assert result.usage.completion_tokens == 2 and not result.usage_estimated


@pytest.mark.parametrize("failure", [{"drop_after": 2}, {"stall_after": 2}], ids=["dropped", "stalled"])
def test_a_stream_that_dies_midway_raises_and_caches_nothing(server, settings, failure):
    server.script(streamed(["one ", "two ", "three"], **failure))
    seen = []
    with pytest.raises(StreamBroken, match="after 2 chunks"):
        make_llm(settings).stream(HELLO, seen.append)
    assert seen == ["one ", "two "]
    assert not list(cache_dir(settings).rglob("*.json"))
    assert read_calls(settings)[-1].error.startswith("the LLM stream")


def test_the_cache_answers_repeats_without_a_request(server, settings):
    server.script(completion("first", usage=(10, 2)))
    llm = make_llm(settings)
    assert llm.chat(HELLO).cached is False
    again = llm.chat(HELLO)
    assert again.cached and again.text == "first" and again.usage.prompt_tokens == 10
    assert len(server.chat_requests()) == 1
    report = log_report(settings)
    assert (report.calls, report.cache_hits, report.prompt_tokens) == (1, 1, 10)


def test_the_cache_key_covers_model_parameters_and_messages(server, settings):
    server.script(*[completion(f"reply {i}") for i in range(4)])
    make_llm(settings).chat(HELLO)
    make_llm(settings).chat(HELLO, temperature=0.7)
    make_llm(settings).chat([{"role": "user", "content": "Say goodbye"}])
    make_llm(settings.model_copy(update={"llm_model": "other-model"})).chat(HELLO)
    assert len(server.chat_requests()) == 4


def test_no_cache_neither_reads_nor_writes(server, settings):
    server.script(completion("a"), completion("b"))
    off = settings.model_copy(update={"llm_cache": False})
    assert make_llm(off).chat(HELLO).text == "a"
    assert not list(cache_dir(settings).rglob("*.json"))
    assert make_llm(off).chat(HELLO).text == "b"


def test_a_streamed_reply_is_cached_once_complete(server, settings):
    server.script(streamed(["ab", "cd"]))
    llm = make_llm(settings)
    llm.stream(HELLO, lambda t: None)
    seen = []
    assert llm.stream(HELLO, seen.append).cached and seen == ["abcd"]
    assert len(server.chat_requests()) == 1


def test_cost_comes_from_the_price_table(server, settings):
    priced = settings.model_copy(update={"llm_prices": {"scripted-model": (2.0, 10.0)}})
    server.script(completion("x", usage=(1000, 100)))
    result = make_llm(priced).chat(HELLO)
    assert result.usage.cost_usd == pytest.approx(0.003) and result.priced
    assert cost_usd("gpt-4o-mini-2024-07-18", 1_000_000, 0, Settings().llm_prices) == pytest.approx(0.15)
    assert cost_usd("local", 10**6, 10**6, Settings().llm_prices) == 0.0


def test_prices_and_extra_body_can_be_set_as_json_strings(tmp_path):
    s = Settings(store_dir=tmp_path, llm_prices='{"m": [1, 2]}', llm_extra_body='{"cache_prompt": false}')
    assert s.llm_prices == {"m": (1.0, 2.0)} and s.llm_extra_body == {"cache_prompt": False}


def test_extra_body_reaches_the_server(server, settings):
    server.script(completion("x"))
    make_llm(settings.model_copy(update={"llm_extra_body": {"cache_prompt": False}})).chat(HELLO)
    assert server.chat_requests()[0]["cache_prompt"] is False


def test_missing_usage_is_estimated_and_flagged(server, settings):
    server.script(completion("four words right here", usage=(0, 0)))
    result = make_llm(settings).chat(HELLO)
    assert result.usage_estimated and result.usage.completion_tokens == 4 and result.usage.prompt_tokens > 0


def test_no_choices_is_an_llm_error(server, settings, monkeypatch):
    import scripted_server

    monkeypatch.setattr(scripted_server, "_completion", lambda body, reply: {
        "id": "x", "object": "chat.completion", "created": 0, "model": "m", "choices": []})
    server.script(completion("ignored"))
    with pytest.raises(LLMError, match="no choices"):
        make_llm(settings).chat(HELLO)


def test_embeddings_come_back_in_input_order(server, settings):
    texts = ["alpha", "beta", "gamma"]
    vectors = call_embeddings(make_client(settings), "embedder", texts)
    assert vectors.shape == (3, 8) and vectors.dtype == np.float32
    sent = json.loads(json.dumps(server.requests[-1]["body"]))
    assert sent["input"] == texts and sent["model"] == "embedder"
    single = call_embeddings(make_client(settings), "embedder", ["beta"])
    assert np.allclose(single[0], vectors[1])
