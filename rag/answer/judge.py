"""The optional LLM judge of support (`llm_judge = true`), with a fixed verdict grammar.

The judge ends its reply with `VERDICT: SUPPORTED` or `VERDICT: UNSUPPORTED`; the last such
line counts and anything else is no verdict. The claim and the evidence are data: text in them
that looks like a verdict or like the prompt's delimiters is defused first, so a sentence cannot
grade itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.models import Usage
from rag.prompts import load_prompt

JUDGE_PROMPT = "support_judge"
_VERDICT = re.compile(r"^\s*VERDICT:\s*(SUPPORTED|UNSUPPORTED)\s*$", re.MULTILINE)
_FORGED = re.compile(r"verdict\s*:", re.IGNORECASE)
_TAGS = re.compile(r"<(\s*/?\s*(?:evidence|claim)\b)", re.IGNORECASE)


@dataclass
class Verdict:
    supported: bool | None  # None: the judge gave no verdict in the grammar
    usage: Usage


def defuse(text: str) -> str:
    return _TAGS.sub(lambda m: "‹" + m.group(1), _FORGED.sub("verdict -", text))


def parse_verdict(text: str) -> bool | None:
    found = _VERDICT.findall(text)
    return found[-1] == "SUPPORTED" if found else None


def judge_support(llm, claim: str, evidence: str) -> Verdict:
    prompt = load_prompt(JUDGE_PROMPT)
    result = llm.chat(prompt.messages(claim=defuse(claim), evidence=defuse(evidence)),
                      temperature=0.0, max_tokens=200, prompt=prompt, purpose="judge")
    return Verdict(parse_verdict(result.text), Usage() if result.cached else result.usage)
