"""An LLM judge for citation support (`rag eval --judge llm`).

The judge reads prompts/judge_support.md and must end with `VERDICT: SUPPORTED` or
`VERDICT: UNSUPPORTED`. Two rules keep an answer from grading itself:
- the LAST verdict in the reply counts, so a verdict the model repeats from the input and then
  corrects does not win;
- the claim and evidence are neutralised before they are inserted: angle brackets become
  look-alike characters, so nothing inside them can close the <claim> or <evidence> delimiters,
  and the word "VERDICT:" inside them is defused, so they cannot carry a verdict line.
A reply with no verdict counts as unsupported and is reported.
"""

from __future__ import annotations

import inspect
import re

from rag.eval.entail import Entailment
from rag.models import Usage

_VERDICT = re.compile(r"\bVERDICT\s*:\s*\**\s*(SUPPORTED|UNSUPPORTED)\b", re.IGNORECASE)
_VERDICT_WORD = re.compile(r"verdict(\s*):", re.IGNORECASE)
PROMPT_NAME = "judge_support"


def neutralise(text: str) -> str:
    """Make inserted text unable to close a delimiter or state a verdict."""
    text = text.replace("<", "‹").replace(">", "›")
    return _VERDICT_WORD.sub(lambda m: "verdict" + m.group(1) + "-", text)


def last_verdict(reply: str) -> str | None:
    """'SUPPORTED', 'UNSUPPORTED', or None when the reply states no verdict."""
    found = _VERDICT.findall(reply or "")
    return found[-1].upper() if found else None


class LLMJudge:
    """Entailment by an LLM: call it with (premise, hypothesis). Decisions are memoised per run."""

    def __init__(self, llm, prompt=None):
        from rag.prompts import load_prompt

        self.llm = llm
        self.prompt = prompt or load_prompt(PROMPT_NAME)
        self.usage = Usage()
        self.calls = 0
        self.no_verdict = 0
        self._memo: dict[tuple[str, str], Entailment] = {}
        params = inspect.signature(llm.chat).parameters
        # The real client logs what a call was for; the agreed protocol does not require it.
        self._extra = {"purpose": "eval-judge", "prompt": self.prompt} if "purpose" in params else {}

    @property
    def name(self) -> str:
        return f"llm:{self.llm.model}"

    def messages(self, premise: str, hypothesis: str) -> list[dict]:
        return self.prompt.messages(claim=neutralise(hypothesis), evidence=neutralise(premise))

    def __call__(self, premise: str, hypothesis: str) -> Entailment:
        key = (premise, hypothesis)
        if key not in self._memo:
            self._memo[key] = self._ask(premise, hypothesis)
        return self._memo[key]

    def _ask(self, premise: str, hypothesis: str) -> Entailment:
        result = self.llm.chat(self.messages(premise, hypothesis), temperature=0.0, max_tokens=300, **self._extra)
        self.calls += 1
        usage = result.usage
        self.usage = Usage(prompt_tokens=self.usage.prompt_tokens + usage.prompt_tokens,
                           completion_tokens=self.usage.completion_tokens + usage.completion_tokens,
                           cost_usd=self.usage.cost_usd + usage.cost_usd)
        verdict = last_verdict(result.text)
        if verdict is None:
            self.no_verdict += 1
            return Entailment(False, "the judge gave no verdict")
        return Entailment(verdict == "SUPPORTED", f"judge: {verdict.lower()}")

    def summary(self) -> str:
        u = self.usage
        text = (f"judge {self.name}: {self.calls} calls, {u.prompt_tokens + u.completion_tokens} tokens, "
                f"${u.cost_usd:.4f}")
        return text + (f"; {self.no_verdict} replies without a verdict counted unsupported" if self.no_verdict else "")
