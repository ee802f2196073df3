"""LLM access through any OpenAI-compatible endpoint: a small protocol and one implementation.

    from rag.llm import make_llm
    llm = make_llm(settings)            # raises LLMNotConfigured without an endpoint
    result = llm.chat(messages, json_schema=schema)
    result.text, result.usage           # Usage(prompt_tokens, completion_tokens, cost_usd)
"""

from rag.llm.chat import LLM, MODES, ChatResult, OpenAILLM, StreamBroken, make_llm
from rag.llm.client import LLMNotConfigured, LLMUnavailable, make_client

__all__ = ["LLM", "MODES", "ChatResult", "LLMNotConfigured", "LLMUnavailable", "OpenAILLM", "StreamBroken",
           "make_client", "make_llm"]
