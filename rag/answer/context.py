"""The LLM's context: retrieved chunks as numbered sources, packed to a token budget.

Budget = llm_context_window - llm_max_tokens (the answer budget) - the prompt without sources,
counted with tiktoken (cl100k). Other models' tokenizers differ from cl100k, so the sources
get at most 90% of what remains. Chunks go in retrieval order; one that does not fit is left
out and the next, smaller one may still fit.

Articles are data: each sits in a <source> block, and its text, title and file name are defused
for every marker the prompts use (rag.prompts.defuse): an article cannot close its block, open
a message, forge a verdict or plant a CONFLICT line. The packed text is `Defused`, so the prompt
inserts it as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rag.errors import ConfigError
from rag.models import Chunk, Hit
from rag.prompts import SOURCE_TAG, Defused, defuse
from rag.text.tokens import count_tokens

_SLACK = 0.9
_PER_MESSAGE_TOKENS = 4
_SEPARATOR = "\n\n"


@dataclass
class Source:
    n: int
    chunk: Chunk
    duplicates: list[str] = field(default_factory=list)


@dataclass
class Context:
    sources: list[Source]
    text: str
    budget: int = 0
    tokens: int = 0
    left_out: int = 0

    def source(self, n: int) -> Source | None:
        return self.sources[n - 1] if 1 <= n <= len(self.sources) else None

    @property
    def numbers(self) -> str:
        return f"1-{len(self.sources)}" if len(self.sources) > 1 else "1"


def format_source(n: int, chunk: Chunk) -> str:
    attrs = [f'n="{n}"', f'file="{_attr(chunk.source)}"', f'lines="{chunk.line_start}-{chunk.line_end}"']
    if chunk.title:
        attrs.append(f'title="{_attr(chunk.title)}"')
    if chunk.date:
        attrs.append(f'date="{chunk.date.isoformat()}"')
    return f"<{SOURCE_TAG} {' '.join(attrs)}>\n{defuse(chunk.text)}\n</{SOURCE_TAG}>"


def _attr(value: str) -> str:
    # A quote or an angle bracket would end the attribute or the tag early for a reader that
    # parses the header, and the rest of a hostile title would then read as text outside the block.
    value = defuse(" ".join(value.split()))
    return value.replace('"', "'").replace("<", "‹").replace(">", "›")


def pack_sources(hits: list[Hit], prompt, question: str, settings) -> Context:
    """Number and pack retrieved chunks into the prompt's budget."""
    overhead = sum(count_tokens(m["content"]) + _PER_MESSAGE_TOKENS
                   for m in prompt.messages(sources=Defused(""), question=question))
    room = settings.llm_context_window - settings.llm_max_tokens - overhead
    budget = int(room * _SLACK)
    if budget <= 0:
        raise ConfigError(
            f"llm_context_window {settings.llm_context_window} leaves no room for sources after the answer "
            f"budget (llm_max_tokens {settings.llm_max_tokens}) and the prompt ({overhead} tokens)")
    sources: list[Source] = []
    blocks: list[str] = []
    used = 0
    for hit in hits:
        block = format_source(len(sources) + 1, hit.chunk)
        cost = count_tokens(block) + (count_tokens(_SEPARATOR) if blocks else 0)
        if used + cost > budget:
            continue
        sources.append(Source(n=len(sources) + 1, chunk=hit.chunk, duplicates=list(hit.duplicates)))
        blocks.append(block)
        used += cost
    return Context(sources=sources, text=Defused(_SEPARATOR.join(blocks)), budget=budget, tokens=used + overhead,
                   left_out=len(hits) - len(sources))
