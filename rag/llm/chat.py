"""The LLM protocol and its implementation over the OpenAI chat-completions API.

Every call goes through the response cache and is appended to the call log. Structured output
degrades by what the server accepts: a JSON schema, else a JSON object, else plain text (the
caller then parses what it gets).
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from rag.errors import LLMError
from rag.llm.cache import ResponseCache, cache_key, digest
from rag.llm.client import LLMUnavailable, describe_error, make_client
from rag.llm.log import append_call
from rag.llm.pricing import cost_usd, price_of
from rag.models import LLMCall, Usage

MODES = ("json_schema", "json_object", "text")
_PER_MESSAGE_TOKENS = 4  # chat-template overhead, for locally estimated usage


class StreamBroken(LLMError):
    """The server stopped sending in the middle of a streamed response."""


@dataclass
class ChatResult:
    text: str
    usage: Usage
    model: str
    mode: str = "text"
    finish_reason: str | None = None
    cached: bool = False
    latency_s: float = 0.0
    attempts: int = 1
    usage_estimated: bool = False
    priced: bool = True


class LLM(Protocol):
    model: str

    def chat(self, messages: list[dict], *, json_schema: dict | None = None, temperature: float | None = None,
             max_tokens: int | None = None, **options) -> ChatResult: ...

    def stream(self, messages: list[dict], on_token: Callable[[str], None], *, temperature: float | None = None,
               max_tokens: int | None = None, **options) -> ChatResult: ...


class _Rejected(Exception):
    """The server refused a response_format; the next mode down is tried."""


def cache_dir(settings) -> Path:
    return Path(settings.cache_dir) if settings.cache_dir else Path(settings.store_dir) / "cache" / "llm"


class OpenAILLM:
    def __init__(self, settings, client=None):
        self.settings = settings
        self.client = client or make_client(settings)
        self.model = settings.llm_model
        self.cache = ResponseCache(cache_dir(settings))
        self._floor = 0  # modes before MODES[_floor] were rejected by this server

    def chat(self, messages: list[dict], *, json_schema: dict | None = None, temperature: float | None = None,
             max_tokens: int | None = None, prompt=None, purpose: str = "chat",
             use_cache: bool | None = None) -> ChatResult:
        """One completion. With `json_schema`, `result.mode` says what the server was asked for."""
        params = self._params(temperature, max_tokens)
        modes = self._modes(json_schema)
        for i, mode in enumerate(modes):
            try:
                return self._complete(messages, params, mode, json_schema, prompt, purpose, use_cache)
            except _Rejected as rejected:
                if i == len(modes) - 1:
                    raise LLMUnavailable(str(rejected)) from None
                self._floor = MODES.index(modes[i + 1])
        raise AssertionError("unreachable")

    def stream(self, messages: list[dict], on_token: Callable[[str], None], *, temperature: float | None = None,
               max_tokens: int | None = None, prompt=None, purpose: str = "chat",
               use_cache: bool | None = None) -> ChatResult:
        """Plain text, handed to `on_token` as it arrives. Cached only once complete."""
        import openai

        params = self._params(temperature, max_tokens)
        key, context_hash = self._key(messages, params, "text", None, prompt)
        if self._use_cache(use_cache) and (hit := self._cached(key, purpose, prompt, context_hash, True)):
            on_token(hit.text)
            return hit
        started = time.perf_counter()
        call = self._call_record(purpose, prompt, context_hash, "text", stream=True)
        try:
            raw = self.client.chat.completions.with_raw_response.create(
                model=self.model, messages=messages, stream=True, stream_options={"include_usage": True},
                extra_body=self.settings.llm_extra_body or None, **params)
            events = iter(raw.parse())
        except openai.OpenAIError as err:
            self._fail(call, err, started)
        parts, usage, finish = [], None, None
        while True:
            try:
                event = next(events)
            except StopIteration:
                break
            # The connection died or stalled midway; the transport's exception type depends on
            # the SDK version (httpx or httpx2), so any failure of the iterator counts.
            except Exception as err:  # noqa: BLE001
                message = f"the LLM stream broke after {len(parts)} chunks: {type(err).__name__}: {err}"
                self._log_error(call, message, started)
                raise StreamBroken(message) from None
            usage = event.usage or usage
            for choice in event.choices:
                if choice.delta and choice.delta.content:
                    parts.append(choice.delta.content)
                    on_token(choice.delta.content)
                finish = choice.finish_reason or finish
        if finish is None:
            message = f"the LLM stream ended after {len(parts)} chunks without finishing"
            self._log_error(call, message, started)
            raise StreamBroken(message)
        result = self._result("".join(parts), usage, messages, "text", finish, started, raw.retries_taken + 1)
        self._record(call, result)
        self._store(key, result)
        return result

    # --- internals ---------------------------------------------------------------------------

    def _params(self, temperature: float | None, max_tokens: int | None) -> dict:
        return {
            "temperature": self.settings.llm_temperature if temperature is None else temperature,
            "max_tokens": self.settings.llm_max_tokens if max_tokens is None else max_tokens,
        }

    def _modes(self, json_schema: dict | None) -> list[str]:
        if json_schema is None:
            return ["text"]
        wanted = self.settings.llm_output
        if wanted == "auto":
            return list(MODES[self._floor:])
        return ["text"] if wanted == "markers" else [wanted]

    def _use_cache(self, use_cache: bool | None) -> bool:
        return self.settings.llm_cache if use_cache is None else use_cache

    def _key(self, messages, params, mode, json_schema, prompt) -> tuple[str, str]:
        context_hash = digest(messages)[:16]
        shape = {**params, "mode": mode, "schema": digest(json_schema)[:16] if json_schema else None,
                 "extra": self.settings.llm_extra_body}
        return cache_key(self.model, getattr(prompt, "hash", None), context_hash, shape), context_hash

    def _complete(self, messages, params, mode, json_schema, prompt, purpose, use_cache) -> ChatResult:
        import openai

        key, context_hash = self._key(messages, params, mode, json_schema, prompt)
        if self._use_cache(use_cache) and (hit := self._cached(key, purpose, prompt, context_hash, False)):
            return hit
        started = time.perf_counter()
        call = self._call_record(purpose, prompt, context_hash, mode)
        try:
            raw = self.client.chat.completions.with_raw_response.create(
                model=self.model, messages=messages, extra_body=self.settings.llm_extra_body or None,
                **params, **_response_format(mode, json_schema))
            completion = raw.parse()
        except (openai.BadRequestError, openai.UnprocessableEntityError) as err:
            if mode != "text" and self.settings.llm_output == "auto":
                self._log_error(call, describe_error(err, self.client, self.model, 0), started)
                raise _Rejected(describe_error(err, self.client, self.model, 0)) from None
            self._fail(call, err, started)
        except openai.OpenAIError as err:
            self._fail(call, err, started)
        if not completion.choices:
            self._log_error(call, "the server returned no choices", started)
            raise LLMError("the LLM endpoint returned no answer (no choices)")
        choice = completion.choices[0]
        result = self._result(choice.message.content or "", completion.usage, messages, mode,
                              choice.finish_reason, started, raw.retries_taken + 1)
        self._record(call, result)
        self._store(key, result)
        return result

    def _result(self, text, usage, messages, mode, finish, started, attempts) -> ChatResult:
        estimated = usage is None or not (usage.prompt_tokens or usage.completion_tokens)
        if estimated:
            prompt_tokens, completion_tokens = _estimate(messages, text)
        else:
            prompt_tokens, completion_tokens = usage.prompt_tokens, usage.completion_tokens or 0
        prices = self.settings.llm_prices
        return ChatResult(
            text=text, model=self.model, mode=mode, finish_reason=finish, attempts=attempts,
            latency_s=round(time.perf_counter() - started, 4), usage_estimated=estimated,
            usage=Usage(prompt_tokens=prompt_tokens, completion_tokens=completion_tokens,
                        cost_usd=cost_usd(self.model, prompt_tokens, completion_tokens, prices)),
            priced=price_of(self.model, prices) is not None,
        )

    def _cached(self, key, purpose, prompt, context_hash, stream) -> ChatResult | None:
        entry = self.cache.get(key)
        if entry is None:
            return None
        result = ChatResult(text=entry["text"], usage=Usage(**entry["usage"]), model=self.model, mode=entry["mode"],
                            finish_reason=entry.get("finish_reason"), cached=True,
                            usage_estimated=entry.get("usage_estimated", False),
                            priced=price_of(self.model, self.settings.llm_prices) is not None)
        call = self._call_record(purpose, prompt, context_hash, result.mode, stream=stream)
        call.cached, call.attempts, call.usage = True, 0, result.usage
        append_call(self.settings, call)
        return result

    def _store(self, key: str, result: ChatResult) -> None:
        if self.settings.llm_cache:
            self.cache.put(key, {"text": result.text, "usage": result.usage.model_dump(), "mode": result.mode,
                                 "finish_reason": result.finish_reason, "model": self.model,
                                 "usage_estimated": result.usage_estimated,
                                 "time": dt.datetime.now(dt.UTC).isoformat()})

    def _call_record(self, purpose, prompt, context_hash, mode, stream=False) -> LLMCall:
        return LLMCall(time=dt.datetime.now(dt.UTC), model=self.model, purpose=purpose,
                       prompt_name=getattr(prompt, "name", None), prompt_hash=getattr(prompt, "hash", None),
                       context_hash=context_hash, mode=mode, stream=stream)

    def _record(self, call: LLMCall, result: ChatResult) -> None:
        call.usage, call.latency_s, call.attempts = result.usage, result.latency_s, result.attempts
        call.usage_estimated = result.usage_estimated
        append_call(self.settings, call)

    def _log_error(self, call: LLMCall, message: str, started: float) -> None:
        call.error, call.latency_s = message, round(time.perf_counter() - started, 4)
        append_call(self.settings, call)

    def _fail(self, call: LLMCall, err: Exception, started: float):
        message = describe_error(err, self.client, self.model, self.client.max_retries)
        if _retryable(err):
            call.attempts = self.client.max_retries + 1
        self._log_error(call, message, started)
        raise LLMUnavailable(message) from None


def _retryable(err) -> bool:
    """What the SDK retries: timeouts, dropped connections, 408, 409, 429 and 5xx."""
    import openai

    if isinstance(err, (openai.APITimeoutError, openai.APIConnectionError)):
        return True
    status = getattr(err, "status_code", 0)
    return status in (408, 409, 429) or status >= 500


def _response_format(mode: str, json_schema: dict | None) -> dict:
    if mode == "json_schema":
        name = re.sub(r"[^A-Za-z0-9_-]", "_", str(json_schema.get("title", "reply")))[:64]
        return {"response_format": {"type": "json_schema", "json_schema": {
            "name": name, "schema": json_schema, "strict": is_strict(json_schema)}}}
    if mode == "json_object":
        return {"response_format": {"type": "json_object"}}
    return {}


def is_strict(schema) -> bool:
    """OpenAI's strict mode needs every object closed and every property required."""
    if isinstance(schema, dict):
        if schema.get("type") == "object" and "properties" in schema:
            if schema.get("additionalProperties") is not False:
                return False
            if set(schema.get("required", [])) != set(schema["properties"]):
                return False
        return all(is_strict(v) for v in schema.values())
    if isinstance(schema, list):
        return all(is_strict(v) for v in schema)
    return True


def _estimate(messages: list[dict], text: str) -> tuple[int, int]:
    from rag.text.tokens import count_tokens

    prompt = sum(count_tokens(str(m.get("content", ""))) + _PER_MESSAGE_TOKENS for m in messages)
    return prompt, count_tokens(text)


def make_llm(settings) -> OpenAILLM:
    """The configured LLM; raises LLMNotConfigured (one line saying how) without an endpoint."""
    return OpenAILLM(settings)
