"""`rag eval --judge llm`: citation support decided by the shared LLM judge
(rag.answer.judge: fixed verdict grammar, last verdict counts, inputs neutralised), memoised
per run, with its usage added up. A reply with no verdict counts as unsupported and is reported.
"""

from __future__ import annotations

from rag.answer.judge import judge_support
from rag.eval.entail import Entailment
from rag.llm.chat import LLM
from rag.models import Usage


class LLMJudge:
    """Entailment by an LLM: call it with (premise, hypothesis). Decisions are memoised per run."""

    def __init__(self, llm: LLM):
        self.llm = llm
        self.usage = Usage()
        self.calls = 0
        self.no_verdict = 0
        self._memo: dict[tuple[str, str], Entailment] = {}

    @property
    def name(self) -> str:
        return f"llm:{self.llm.model}"

    def __call__(self, premise: str, hypothesis: str) -> Entailment:
        key = (premise, hypothesis)
        if key not in self._memo:
            self._memo[key] = self._ask(premise, hypothesis)
        return self._memo[key]

    def _ask(self, premise: str, hypothesis: str) -> Entailment:
        verdict = judge_support(self.llm, claim=hypothesis, evidence=premise, purpose="eval-judge")
        self.calls += 1
        self.usage += verdict.usage
        if verdict.supported is None:
            self.no_verdict += 1
            return Entailment(False, "the judge gave no verdict")
        return Entailment(verdict.supported, f"judge: {'supported' if verdict.supported else 'unsupported'}")

    def summary(self) -> str:
        u = self.usage
        text = (f"judge {self.name}: {self.calls} calls, {u.prompt_tokens + u.completion_tokens} tokens, "
                f"${u.cost_usd:.4f}")
        return text + (f"; {self.no_verdict} replies without a verdict counted unsupported" if self.no_verdict else "")
