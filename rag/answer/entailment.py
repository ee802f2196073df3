"""A second opinion before the LLM engine removes a sentence (`llm_entailment`).

The support check (rag.answer.support_check) matches a sentence to its cited text by words: a
sentence that says the same in other words ("brought to life the iconic role of Lt. Nyota Uhura"
for "portrayed communications officer Lt. Nyota Uhura") fails its coverage rule and would be
removed. Before that, the same LLM is asked whether the cited window states every part of the
sentence (rag/prompts/support_entailment.md, JSON parts); when it says every part is stated,
the sentence stays, resting on that window, and a note says so.

Only a lexical shortfall is reconsidered: the window's failing rule is coverage or clause
coverage (or it passes the rules and only the score is short), and every number of the sentence
is in the window. A sentence failing on a figure, a negation, a name or an instruction, or one
that cites no source of the context, is removed as before: those rules are precise, and a small
model's yes is not worth more than them. A reply that cannot be read, or a call that fails,
decides nothing. Off by default: with the benchmark's Qwen2.5-Coder-1.5B the tune evidence did
not favour it (BENCHMARKS.md, round 6 of issue 16).
"""

from __future__ import annotations

import json

from rag.answer.grounding import Grounding
from rag.errors import LLMError, first_line
from rag.llm.chat import LLM
from rag.models import Usage
from rag.prompts import shipped_prompt
from rag.text.snippet import short

ENTAILMENT_PROMPT = "support_entailment"
LEXICAL_RULES = ("coverage", "clause")
MAX_PARTS = 8
SCHEMA = {
    "type": "object",
    "properties": {"parts": {"type": "array", "minItems": 1, "maxItems": MAX_PARTS, "items": {
        "type": "object", "properties": {"part": {"type": "string"}, "stated": {"type": "boolean"}},
        "required": ["part", "stated"]}}},
    "required": ["parts"],
}


def reconsidered(g: Grounding) -> bool:
    """Whether an unsupported sentence failed on words alone (the rules the model may overrule)."""
    if g.supported or not g.evidence:
        return False
    anchor = g.evidence[0].anchor
    return anchor.numbers_ok and (anchor.verdict.supported or anchor.verdict.rule in LEXICAL_RULES)


def stated(reply: str) -> bool | None:
    """True when every part the model listed is stated; None when the reply is not such JSON."""
    try:
        parts = json.loads(reply)["parts"]
        flags = [p["stated"] for p in parts]
    except (ValueError, KeyError, TypeError):
        return None
    if not flags or not all(isinstance(f, bool) for f in flags):
        return None
    return all(flags)


def second_opinion(llm: LLM, g: Grounding) -> Usage | None:
    """Ask whether the sentence's best cited window states it; when it does, the sentence is
    supported by that window (`judged` records the verdict)."""
    if not reconsidered(g):
        return None
    prompt = shipped_prompt(ENTAILMENT_PROMPT)
    evidence = "\n".join(e.anchor.text for e in g.evidence)
    try:
        result = llm.chat(prompt.messages(claim=g.text, evidence=evidence), json_schema=SCHEMA, temperature=0.0,
                          max_tokens=60 * MAX_PARTS, prompt=prompt, purpose="entailment")
    except LLMError as err:  # the answer stands without the second opinion: the sentence goes, as before
        g.notes.append(f"the entailment check of {short(g.text)!r} failed ({first_line(err)}); it is removed")
        return None
    verdict = stated(result.text)
    if verdict is None:
        g.notes.append(f"the entailment check gave no readable verdict on {short(g.text)!r}; it is removed")
    elif verdict:
        g.supported = g.judged = True
        g.notes.append(f"kept {short(g.text)!r}: its words are not in the cited text, but the model finds every "
                       f"part of it stated there (llm_entailment)")
    return None if getattr(result, "cached", False) else result.usage
