"""The OpenAI-compatible client (OpenAI, vLLM, Ollama, llama.cpp, ...) and its errors as one line.

Retries are the SDK's own: exponential backoff from 0.5 s (with jitter, honouring Retry-After)
on 408, 409, 429, 5xx, timeouts and dropped connections, `llm_retries` times.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import numpy as np

from rag.errors import ConfigError, LLMError

NOT_CONFIGURED = (
    "no LLM endpoint configured: set OPENAI_API_KEY for OpenAI, or OPENAI_BASE_URL (llm_base_url) "
    "for a local server such as Ollama, vLLM or llama.cpp (README: LLM engine)"
)
_EMBED_BATCH = 256


class LLMNotConfigured(ConfigError):
    """`--engine llm` without an endpoint."""


class LLMUnavailable(LLMError):
    """The endpoint could not be reached, refused the key, or kept failing after retries."""


def make_client(settings):
    """An `openai.OpenAI` client for the configured endpoint (a key is optional for local servers)."""
    if not settings.llm_base_url and not settings.llm_api_key:
        raise LLMNotConfigured(NOT_CONFIGURED)
    import openai

    return openai.OpenAI(
        base_url=settings.llm_base_url or None,
        # Local servers ignore the key, but the SDK insists on one.
        api_key=settings.llm_api_key or "not-needed",
        timeout=settings.llm_timeout,
        max_retries=settings.llm_retries,
    )


def endpoint_name(client) -> str:
    parts = urlsplit(str(client.base_url))
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else str(client.base_url)


def describe_error(err: Exception, client, model: str, retries: int) -> str:
    """One line a user can act on, for any failure of a call to the endpoint."""
    import openai

    where = endpoint_name(client)
    after = f" after {retries} retr{'y' if retries == 1 else 'ies'}" if retries else ""
    if isinstance(err, openai.APITimeoutError):
        return f"the LLM endpoint {where} timed out{after} (llm_timeout {client.timeout}s)"
    if isinstance(err, openai.APIConnectionError):
        return f"cannot reach the LLM endpoint {where}{after}: is the server running and llm_base_url right?"
    if isinstance(err, openai.AuthenticationError):
        return f"the LLM endpoint {where} rejected the API key (401): check OPENAI_API_KEY / llm_api_key"
    if isinstance(err, openai.PermissionDeniedError):
        return f"the LLM endpoint {where} refused access (403): check the API key's permissions"
    if isinstance(err, openai.NotFoundError):
        return f"the LLM endpoint {where} has no model {model!r} or no chat API at this URL (404)"
    if isinstance(err, openai.RateLimitError):
        return f"the LLM endpoint {where} is rate limiting (429){after}: {_server_message(err)}"
    if isinstance(err, openai.APIStatusError):
        retried = after if err.status_code >= 500 or err.status_code in (408, 409) else ""
        return f"the LLM endpoint {where} failed with HTTP {err.status_code}{retried}: {_server_message(err)}"
    return f"the LLM call to {where} failed: {type(err).__name__}: {err}"


def _server_message(err) -> str:
    body = getattr(err, "body", None)
    message = body.get("message") if isinstance(body, dict) else None
    text = str(message or getattr(err, "message", "") or err)
    return " ".join(text.split())[:200]


def call_embeddings(client, model: str, texts: list[str]) -> np.ndarray:
    """Embeddings from the endpoint's /embeddings API, one float32 row per text, in order."""
    import openai

    rows: list[list[float]] = []
    try:
        for i in range(0, len(texts), _EMBED_BATCH):
            response = client.embeddings.create(model=model, input=texts[i:i + _EMBED_BATCH])
            rows += [item.embedding for item in sorted(response.data, key=lambda d: d.index)]
    except openai.OpenAIError as err:
        raise LLMUnavailable(describe_error(err, client, model, client.max_retries)) from None
    if len(rows) != len(texts):
        raise LLMError(f"the embeddings endpoint returned {len(rows)} vectors for {len(texts)} texts")
    return np.asarray(rows, dtype=np.float32).reshape(len(texts), -1)
