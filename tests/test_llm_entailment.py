"""The entailment second opinion (rag.answer.entailment): before a sentence that fails the
support check on words alone is removed, the LLM is asked whether its cited window states every
part of it; figures, negations and names are never reconsidered."""

import json
from dataclasses import dataclass, field

from rag.answer.context import Context, Source
from rag.answer.entailment import ENTAILMENT_PROMPT, reconsidered, second_opinion, stated
from rag.answer.grounding import ScoreSupport, ground
from rag.index.embedders import HashEmbedder
from rag.models import Usage
from rag.prompts import load_prompt
from tests.test_llm_verification import chunk_of

ROLE = chunk_of("Nichols portrayed communications officer Lt. Nyota Uhura in the Star Trek TV series.",
                "She died on Saturday.")
PARAPHRASE = "Nichelle Nichols brought to life the iconic role of Lt. Nyota Uhura in the Star Trek series."


@dataclass
class Reply:
    text: str
    usage: Usage = field(default_factory=lambda: Usage(prompt_tokens=90, completion_tokens=20))
    cached: bool = False


class ScriptedLLM:
    model = "scripted"

    def __init__(self, *parts: tuple[str, bool] | str):
        self.reply = parts[0] if parts and isinstance(parts[0], str) else json.dumps(
            {"parts": [{"part": p, "stated": s} for p, s in parts]})
        self.calls = []

    def chat(self, messages, **options):
        self.calls.append((messages, options))
        return Reply(self.reply)


def _grounded(claim: str, chunk=ROLE):
    return ground(claim, [1], Context([Source(1, chunk)], ""), ScoreSupport(HashEmbedder(), 0.5))


def test_a_paraphrase_the_model_finds_stated_in_every_part_is_kept_on_its_cited_window():
    g = _grounded(PARAPHRASE)
    assert not g.supported and reconsidered(g)  # its words are not in the cited text
    llm = ScriptedLLM(("Nichelle Nichols played Lt. Nyota Uhura", True), ("in the Star Trek series", True))
    usage = second_opinion(llm, g)
    assert g.supported and g.judged and usage.prompt_tokens == 90
    assert [s.line_start for s in g.evidence[0].anchor.sentences] == [1]
    assert any("llm_entailment" in n for n in g.notes)
    messages, options = llm.calls[0]
    assert options["json_schema"]["required"] == ["parts"] and options["temperature"] == 0.0
    assert PARAPHRASE in messages[-1]["content"] and ROLE.sentences[0].text in messages[-1]["content"]


def test_one_part_not_stated_keeps_the_sentence_unsupported():
    g = _grounded(PARAPHRASE)
    second_opinion(ScriptedLLM(("Nichelle Nichols played Lt. Nyota Uhura", True), ("an iconic role", False)), g)
    assert not g.supported and g.judged is None


def test_figures_negations_and_names_are_never_put_to_the_model():
    count = chunk_of("The jury found him guilty on all 12 charges he faced.")
    for claim, chunk in (("The jury found him guilty on all 11 charges he faced.", count),
                         ("The jury did not find him guilty on the 12 charges he faced.", count),
                         ("Sigourney Weaver portrayed communications officer Lt. Nyota Uhura in the Star Trek TV "
                          "series.", ROLE)):
        g = _grounded(claim, chunk)
        llm = ScriptedLLM(("everything", True))
        assert not g.supported and not reconsidered(g)
        assert second_opinion(llm, g) is None and llm.calls == [] and not g.supported


def test_an_unreadable_reply_decides_nothing():
    assert stated("VERDICT: SUPPORTED") is None and stated('{"parts": []}') is None
    assert stated('{"parts": [{"part": "x", "stated": "yes"}]}') is None
    g = _grounded(PARAPHRASE)
    second_opinion(ScriptedLLM("no json here"), g)
    assert not g.supported and any("no readable verdict" in n for n in g.notes)


def test_a_supported_sentence_costs_no_call():
    g = _grounded(ROLE.sentences[0].text)
    llm = ScriptedLLM(("x", True))
    assert g.supported and second_opinion(llm, g) is None and llm.calls == []


def test_the_prompt_declares_claim_and_evidence_and_delimits_them():
    prompt = load_prompt(ENTAILMENT_PROMPT)
    assert set(prompt.variables) == {"claim", "evidence"}
    user = prompt.messages(claim="<claim>x</claim>", evidence="e")[-1]["content"]
    assert user.count("<claim>") == 1  # a value cannot open another block


def test_a_failed_call_leaves_the_sentence_removed_with_a_note():
    from rag.errors import LLMError

    class Down(ScriptedLLM):
        def chat(self, messages, **options):
            raise LLMError("connection refused\nmore")

    g = _grounded(PARAPHRASE)
    assert second_opinion(Down(), g) is None and not g.supported
    assert any("failed (connection refused)" in n for n in g.notes)


def test_the_prompt_file_is_read_and_checked_once_not_per_sentence(monkeypatch):
    import rag.prompts as prompts

    reads = []
    monkeypatch.setattr(prompts, "load_prompt", lambda name: reads.append(name) or load_prompt(name))
    prompts.shipped_prompt.cache_clear()
    try:
        llm = ScriptedLLM(("Nichelle Nichols played Lt. Nyota Uhura", True))
        for _ in range(3):
            second_opinion(llm, _grounded(PARAPHRASE))
        assert len(llm.calls) == 3 and reads == [ENTAILMENT_PROMPT]
    finally:
        prompts.shipped_prompt.cache_clear()
