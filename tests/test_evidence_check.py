"""The evidence check (rag.answer.evidence_check, `llm_evidence_check`): a verified LLM answer is
refused when the extractive refusal model, reading its quoted sentences as the lead, scores none
of them at `llm_min_evidence`; and the quoted score itself is the engine's own refusal score."""

import pytest

import rag.answer.evidence_check as check
from rag.answer.evidence_check import REASON, check_evidence
from rag.answer.extractive import answer_extractive, quoted_answerability
from rag.answer.llm_engine import _refused_beside
from rag.answer.refusal import REFUSAL_PHRASE
from rag.models import Answer, AnswerSentence, Citation
from rag.retrieval import Filters

SENTENCE = "The FDA is looking into online reports of the cereal Lucky Charms causing gastrointestinal issues."
QUESTION = "Which meal kit service received hundreds of reports of illness after a recall?"


class Settings:
    llm_min_evidence = 0.2


class Store:
    settings = Settings()


def llm_answer() -> Answer:
    quote = Citation(n=1, source="a.md", line_start=3, line_end=3, quote=SENTENCE)
    return Answer(question=QUESTION, engine="llm", settings_hash="x", answer=f"{SENTENCE} [1]",
                  sentences=[AnswerSentence(text=SENTENCE, citations=[1], support=0.96)], citations=[quote])


@pytest.fixture
def scored(monkeypatch):
    asked = []

    def script(score):
        def fake(store, question, quotes, k=None, filters=Filters()):
            asked.append(quotes)
            return score
        monkeypatch.setattr(check, "quoted_answerability", fake)
        return asked
    return script


def test_a_score_under_the_threshold_refuses_and_keeps_the_answer_as_rejected_output(scored):
    asked = scored(0.12)
    out = check_evidence(llm_answer(), Store(), QUESTION, Filters(), _refused_beside)
    assert asked == [[("a.md", SENTENCE)]]
    assert out.refused and out.answer == REFUSAL_PHRASE and out.sentences == [] and out.citations == []
    assert out.refusal_reason.startswith(REASON) and "0.12" in out.refusal_reason and "0.20" in out.refusal_reason
    assert [s.text for s in out.rejected.sentences] == [SENTENCE]


@pytest.mark.parametrize("score", [0.2, 0.93, None])
def test_a_score_at_the_threshold_or_no_reading_keeps_the_answer(scored, score):
    scored(score)
    out = check_evidence(llm_answer(), Store(), QUESTION, Filters(), _refused_beside)
    assert not out.refused and [s.text for s in out.sentences] == [SENTENCE]


def test_a_refusal_is_not_scored(scored):
    asked = scored(0.0)
    refused = Answer(question=QUESTION, engine="llm", settings_hash="x", answer=REFUSAL_PHRASE, refused=True)
    assert check_evidence(refused, Store(), QUESTION, Filters(), _refused_beside) is refused and asked == []


def test_the_quoted_score_of_the_extractive_lead_is_the_extractive_confidence(corpus_rag):
    """Quoting the sentence the extractive engine leads with gives its own refusal score; a quote
    from no retrieved article gives no reading."""
    store, question = corpus_rag.store, "How many rockets were fired at the US embassy in Baghdad?"
    answer = answer_extractive(store, question)
    assert not answer.refused and answer.confidence is not None
    lead = answer.citations[answer.sentences[0].citations[0] - 1]
    assert quoted_answerability(store, question, [(lead.source, lead.quote)]) == answer.confidence
    assert quoted_answerability(store, question, [("nowhere.md", lead.quote)]) is None
