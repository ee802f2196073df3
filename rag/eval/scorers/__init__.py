"""Scorers: small functions that each return a Score(value, explanation).

`score_answer` applies every answer scorer to one Answer; `score_briefing` scores a briefing.
"""

from __future__ import annotations

from rag.eval.entail import Entails, lexical_entails
from rag.eval.scorers._briefing import briefing_parts, score_briefing
from rag.eval.scorers._citations import SourceLookup, citation_problem, citation_validity
from rag.eval.scorers._facts import fact_recall
from rag.eval.scorers._refusal import refusal
from rag.eval.scorers._sources import source_recall
from rag.eval.scorers._support import citation_support, cited_sentences
from rag.eval.scorers._usage import cost, latency, tokens
from rag.models import Answer, EvalCase, Score

__all__ = [
    "SourceLookup", "briefing_parts", "citation_problem", "citation_support", "citation_validity", "cited_sentences",
    "cost", "fact_recall", "latency", "passed", "refusal", "score_answer", "score_briefing", "source_recall", "tokens",
]


def score_answer(case: EvalCase, answer: Answer, seconds: float, lookup: SourceLookup,
                 entails: Entails = lexical_entails) -> dict[str, Score]:
    """Every answer scorer on one answer. Scores that do not apply have value None."""
    scores: dict[str, Score] = {"refusal": refusal(case.refuse, answer.refused)}
    if case.refuse:
        scores["fact_recall"] = Score(value=None, explanation="no facts: the question should be refused")
    elif answer.refused:
        scores["fact_recall"] = Score(value=0.0, explanation=f"refused; 0/{len(case.facts)} facts")
    else:
        scores["fact_recall"] = fact_recall(case.facts, answer.answer)
    scores["citation_validity"] = citation_validity(answer.answer, answer.citations, lookup, answer.refused)
    scores["citation_recall"], scores["citation_precision"] = citation_support(answer, lookup, entails)
    cited = [c.source for c in answer.citations]
    if case.refuse:
        na = Score(value=None, explanation="no sources expected: the question should be refused")
        scores["source_recall_cited"] = scores["source_recall_retrieved"] = na
    else:
        scores["source_recall_cited"] = source_recall(case.sources, cited, "cited")
        scores["source_recall_retrieved"] = source_recall(case.sources, answer.retrieved, "retrieved")
    scores["latency_s"] = latency(seconds, answer.timings)
    scores["tokens"] = tokens(answer)
    scores["cost_usd"] = cost(answer)
    return scores


# A trial passes when it refuses exactly when it should and, when it answers, it states every
# expected fact and every citation is verbatim. Support and source recall are reported, not gated
# per case: the offline support proxy is lexical, and a fact may be cited from another source.
_PASS_KEYS = ("refusal", "fact_recall", "citation_validity")


def passed(scores: dict[str, Score]) -> bool:
    return all(scores[k].value is None or scores[k].value >= 1.0 for k in _PASS_KEYS if k in scores)
