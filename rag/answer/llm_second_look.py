"""A second look at a verified LLM answer when the two engines disagree (`llm_answer_check`).

The support check proves that each sentence of an LLM answer is stated by a source; it cannot
tell whether the sentences answer the question. A small model asked about something the corpus
does not hold answers from a near-topic article with verbatim, fully supported sentences ("The
Food and Drug Administration said it is looking into recent online reports of the popular cereal
Lucky Charms causing gastrointestinal issues" for "Which meal kit service received hundreds of
reports of illness?"), so no support threshold separates such an answer from a right one.

The extractive engine's answerability verdict (rag.answer.extractive, its answerability score
and support floor, fitted on the tune half) is a second, independent reading of the same corpus.
When it finds the question answered, or the LLM refused, nothing changes. When it refuses a
question the LLM answered, the model is asked once, with a constrained JSON reply
(rag/prompts/answer_check.md), whether its verified answer gives what the question asks for.
A "no" makes the answer a refusal, its sentences kept as rejected output with both reasons; a
"yes", an unreadable reply or a failed call leaves the answer as it is (the extractive gate
alone refuses too many answerable questions to overrule the LLM: bench/llm-notes.md, round 8).
"""

from __future__ import annotations

import json
from collections.abc import Callable

from rag.answer.extractive import answer_extractive
from rag.errors import LLMError, first_line
from rag.index.store import Store
from rag.llm.chat import LLM
from rag.models import Answer, Usage
from rag.prompts import shipped_prompt
from rag.retrieval import Filters

CHECK_PROMPT = "answer_check"
_SHORT = {"type": "string", "maxLength": 120}
SCHEMA = {
    "type": "object",
    "properties": {"asks_for": _SHORT, "answer_gives": _SHORT, "answers": {"type": "boolean"}},
    "required": ["asks_for", "answer_gives", "answers"],
}
REASON = "the answer does not give what the question asks"


def answers(reply: str) -> bool | None:
    """The model's verdict; None when the reply is not such JSON."""
    try:
        verdict = json.loads(reply)["answers"]
    except (ValueError, KeyError, TypeError):
        return None
    return verdict if isinstance(verdict, bool) else None


def second_look(answer: Answer, store: Store, llm: LLM, question: str, filters: Filters,
                refuse: Callable[[Answer, str], Answer], k: int | None = None) -> Answer:
    """`answer` (verified) or, when the extractive engine refuses the question and the model
    says its answer does not give what is asked, `refuse(answer, why)`."""
    if answer.refused or not answer.sentences:
        return answer
    extractive = answer_extractive(store, question, k, filters)
    if not extractive.refused:
        return answer
    prompt = shipped_prompt(CHECK_PROMPT)
    text = " ".join(s.text for s in answer.sentences)
    try:
        result = llm.chat(prompt.messages(question=question, answer=text), json_schema=SCHEMA, temperature=0.0,
                          max_tokens=120, prompt=prompt, purpose="answer check")
    except LLMError as err:
        return _noted(answer, f"the extractive engine refuses this question, and the check of the LLM answer "
                              f"failed ({first_line(err)}); the answer stands")
    usage = Usage() if getattr(result, "cached", False) else result.usage
    verdict = answers(result.text)
    answer = answer.model_copy(update={"usage": answer.usage + usage})
    extractive_why = extractive.refusal_reason or "it finds no answer"
    if verdict is None:
        return _noted(answer, "the extractive engine refuses this question, and the check of the LLM answer gave no "
                              "readable verdict; the answer stands")
    if verdict:
        return _noted(answer, f"the extractive engine refuses this question ({extractive_why}); asked, the model "
                              "finds that its answer gives what the question asks (llm_answer_check)")
    return refuse(answer, f"{REASON}: asked, the model finds it does not, and the extractive engine refuses the "
                          f"question too ({extractive_why})")


def _noted(answer: Answer, note: str) -> Answer:
    return answer.model_copy(update={"notes": answer.notes + [note]})
