"""Does a verified LLM answer's evidence answer the question? (`llm_min_evidence`)

Verification proves that each sentence of an LLM answer is stated by a source; a small model
asked about something the corpus does not hold still answers from a near-topic article, in
verbatim, fully supported sentences, so no support threshold tells such an answer from a right
one (bench/llm-notes.md, round 8). The extractive engine's refusal model (rag.answer.answerable_score,
fitted on the tune half) reads exactly that: whether a lead sentence and its passage cover what
the question asks, how close they are in meaning, how old the article is.

Here the model reads the LLM's own quotes: each quoted sentence the extractive engine also read
is scored as if it were its lead (rag.answer.extractive.quoted_answerability), and when the best
of them scores under `llm_min_evidence` the answer is a refusal, its sentences kept as rejected
output with the reason. No model call. An answer none of whose quotes the extractive engine read
is left as it is: there is no reading. The threshold is lower than the engine's own operating
point (`min_answerable`): the engine's lead is its best sentence, an LLM's quote is any sentence
that states the answer, often in fewer of the question's words (chosen on the tune half,
bench/llm-notes.md round 9).
"""

from __future__ import annotations

from collections.abc import Callable

from rag.answer.extractive import quoted_answerability
from rag.index.store import Store
from rag.models import Answer
from rag.retrieval import Filters

REASON = "the extractive engine's refusal model finds that no quoted sentence answers the question"


def check_evidence(answer: Answer, store: Store, question: str, filters: Filters,
                   refuse: Callable[[Answer, str], Answer], k: int | None = None) -> Answer:
    """`answer`, or `refuse(answer, why)` when its best quote scores under `llm_min_evidence` (0: off)."""
    threshold = store.settings.llm_min_evidence
    if threshold <= 0 or answer.refused or not answer.sentences:
        return answer
    score = quoted_answerability(store, question, [(c.source, c.quote) for c in answer.citations], k, filters)
    if score is None or score >= threshold:
        return answer
    return refuse(answer, f"{REASON} (its best quote scores {score:.2f}, under {threshold:.2f})")
