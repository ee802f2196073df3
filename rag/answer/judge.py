"""The LLM judge of citation support, with a fixed verdict grammar. Used by the LLM engine
(`llm_judge = true`) and by `rag eval --judge llm`.

The judge reads prompts/support_judge.md and ends its reply with `VERDICT: SUPPORTED` or
`VERDICT: UNSUPPORTED`. Two rules keep an answer from grading itself:
- the LAST verdict in the reply counts, so a verdict the model repeats from the input and then
  corrects does not win;
- the claim and evidence are neutralised before they are inserted: angle brackets become
  look-alike characters, so nothing inside them can close the <claim> or <evidence> delimiters,
  and the word "VERDICT:" inside them is defused, so they cannot carry a verdict line.
A reply with no verdict is reported as such (`supported=None`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.llm.chat import LLM
from rag.models import Usage
from rag.prompts import shipped_prompt

JUDGE_PROMPT = "support_judge"
_VERDICT = re.compile(r"\bVERDICT\s*:\s*\**\s*(SUPPORTED|UNSUPPORTED)\b", re.IGNORECASE)
_VERDICT_WORD = re.compile(r"verdict(\s*):", re.IGNORECASE)


@dataclass
class Verdict:
    supported: bool | None  # None: the judge gave no verdict in the grammar
    usage: Usage


def neutralise(text: str) -> str:
    """Make inserted text unable to close a delimiter or state a verdict."""
    text = text.replace("<", "‹").replace(">", "›")
    return _VERDICT_WORD.sub(lambda m: "verdict" + m.group(1) + "-", text)


def last_verdict(reply: str) -> str | None:
    """'SUPPORTED', 'UNSUPPORTED', or None when the reply states no verdict."""
    found = _VERDICT.findall(reply or "")
    return found[-1].upper() if found else None


def judge_support(llm: LLM, claim: str, evidence: str, purpose: str = "judge") -> Verdict:
    prompt = shipped_prompt(JUDGE_PROMPT)
    result = llm.chat(prompt.messages(claim=neutralise(claim), evidence=neutralise(evidence)),
                      temperature=0.0, max_tokens=300, prompt=prompt, purpose=purpose)
    verdict = last_verdict(result.text)
    usage = Usage() if getattr(result, "cached", False) else result.usage
    return Verdict(None if verdict is None else verdict == "SUPPORTED", usage)
