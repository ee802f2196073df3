"""Follow-up questions: the gate, the deterministic rewrite, the LLM rewrite's checks, `rag chat`,
POST /ask `history`, and answers dated (evidence range, citations' outlet and date, --as-of)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from conftest import CORPUS

from rag.answer.dating import date_answer, evidence_dates
from rag.chat import gate, standalone_question
from rag.chat.llm_rewrite import usable
from rag.models import Answer, AnswerSentence, Citation, Claim, Conflict, Turn

WHO = Turn(question="Who won the 2019 auction for a lunch with Warren Buffett?",
           answer="Justin Sun, the founder of Tron, won the 2019 auction. [1]")
COUNT = Turn(question="How many rockets were fired at the US embassy in Baghdad?", answer="An estimated eight. [1]")


@pytest.mark.parametrize("question, history, expected", [
    ("When was he born?", WHO, "When was Justin Sun born?"),
    ("How much did his company lose?", WHO, "How much did Justin Sun's company lose?"),
    ("What about the 2022 auction?", WHO, "Who won the 2022 auction for a lunch with Warren Buffett?"),
    ("And in 2021?", WHO, "Who won the 2019 auction for a lunch with Warren Buffett in 2021?"),
    ("Who fired them?", COUNT, "Who fired the rockets?"),
    ("Where did they first meet?", Turn(question="Where did Jennifer Lopez and Ben Affleck get married?"),
     "Where did Jennifer Lopez and Ben Affleck first meet?"),
    ("What is its presale estimate?", Turn(question="Where was the Gorgosaurus skeleton that Sotheby's is auctioning found?"),
     "What is the Gorgosaurus skeleton's presale estimate?"),
    ("Where will the winner eat with him?", Turn(question="How much did the bidder pay for lunch with Warren Buffett?"),
     "Where will the winner eat with Warren Buffett?"),
    ("Must he resign?", WHO, "Must Justin Sun resign?"),  # any auxiliary of the shared vocabulary opens a question
])
def test_a_follow_up_is_rewritten_from_the_previous_turn(question, history, expected):
    assert gate(question).needed
    assert standalone_question(question, [history]) == expected


@pytest.mark.parametrize("question", [
    "What did the president say about his plan?",  # the question names its own antecedent
    "Which head of state announced his resignation this week?",
    "Netflix says it lost how many subscribers in the three months ending June 30?",
    "How long did it take to clear the backlog?",  # an expletive "it"
    "Where in the US is it illegal to pump your own gas?",
    "A teenager flew around the world solo. How old is he?",  # the antecedent is an earlier sentence
    "Who was Qasem Soleimani and how was he killed?",
    "In his new series, Bill Nye said which movie is close to reality?",
    "How many rockets were fired at the US embassy?",  # no pronoun at all
])
def test_a_question_that_needs_no_conversation_is_left_alone(question):
    assert not gate(question).needed
    assert standalone_question(question, [WHO]) is None


def test_without_history_nothing_is_rewritten():
    assert standalone_question("When was he born?", []) is None


def test_the_models_rewrite_is_used_only_when_it_is_one_new_question():
    assert usable("When was Justin Sun born?", "When was he born?") == "When was Justin Sun born?"
    assert usable("Question: When was Justin Sun born?", "x") == "When was Justin Sun born?"
    assert usable("Sure!\nWhen was Justin Sun born?", "x") is None  # two lines: not one question
    assert usable("When was he born?", "When was he born?") is None  # unchanged
    assert usable("", "x") is None and usable("x" * 500, "y") is None


class _Model:
    model = "scripted"

    def __init__(self, reply):
        self.reply, self.messages = reply, None

    def chat(self, messages, **options):
        from types import SimpleNamespace

        self.messages = messages
        return SimpleNamespace(text=self.reply)


def test_the_llm_engine_asks_the_model_with_the_same_gate_and_falls_back():
    model = _Model("When was Justin Sun, the founder of Tron, born?")
    assert standalone_question("When was he born?", [WHO], model) == "When was Justin Sun, the founder of Tron, born?"
    assert "Who won the 2019 auction" in model.messages[-1]["content"] and "[1]" not in model.messages[-1]["content"]
    untouched = _Model("unused")
    assert standalone_question("Who is Justin Sun?", [WHO], untouched) is None and untouched.messages is None
    assert standalone_question("When was he born?", [WHO], _Model("I cannot\nhelp")) == "When was Justin Sun born?"


def test_the_rewrite_prompt_declares_its_variables():
    from rag.prompts import load_prompt

    prompt = load_prompt("rewrite")
    assert set(prompt.variables) == {"history", "question"}
    assert [m["role"] for m in prompt.messages(history="Q: a", question="b")] == ["system", "user"]


def _cite(n, source, date, outlet="Wire"):
    return Citation(n=n, source=source, line_start=1, line_end=1, quote="q", date=date, outlet=outlet)


def test_an_answer_states_the_date_range_of_its_evidence():
    answer = Answer(question="q", answer="a [1] b [2][3]", engine="extractive", settings_hash="x", citations=[
        _cite(1, "a.txt", dt.date(2022, 10, 17)), _cite(2, "b.txt", dt.date(2022, 10, 20)),
        _cite(3, "a.txt", dt.date(2022, 10, 17)), _cite(4, "c.txt", None)])
    dated = evidence_dates(answer)
    assert (dated.first, dated.last, dated.articles, dated.undated) == (dt.date(2022, 10, 17), dt.date(2022, 10, 20), 3, 1)
    assert dated.text == "as of 2022-10-20, from 3 articles: 2 dated 2022-10-17…2022-10-20, 1 undated"
    assert evidence_dates(answer, dt.date(2022, 10, 21)).text.startswith("as of 2022-10-21, from 3 articles")
    refusal = Answer(question="q", answer="no", refused=True, engine="extractive", settings_hash="x")
    assert evidence_dates(refusal) is None


def test_a_running_figure_leads_with_its_latest_value():
    sentences = [AnswerSentence(text="Nine people died.", citations=[1]),
                 AnswerSentence(text="The toll rose to 14.", citations=[2])]
    answer = Answer(question="How many died?", answer="", engine="extractive", settings_hash="x", sentences=sentences,
                    citations=[_cite(1, "a.txt", dt.date(2022, 10, 17)), _cite(2, "b.txt", dt.date(2022, 10, 20))],
                    conflicts=[Conflict(about="people", tally=True, claims=[
                        Claim(value="14", number=14, citation=2, date=dt.date(2022, 10, 20), latest=True),
                        Claim(value="Nine", number=9, citation=1, date=dt.date(2022, 10, 17))])])
    date_answer(answer)
    assert [s.text for s in answer.sentences] == ["The toll rose to 14.", "Nine people died."]
    assert answer.sentences[0].latest and answer.answer.startswith("The toll rose to 14. [2]")


def test_ask_with_history_rewrites_dates_and_filters_as_of(corpus_rag):
    first = corpus_rag.ask("How many rockets were fired at the US embassy in Baghdad?")
    assert first.rewritten is None and first.dated and first.dated.text.startswith("as of 2020-12-")
    follow = corpus_rag.ask("Who fired them?", history=[Turn(question=first.question, answer=first.answer)])
    assert follow.question == "Who fired them?" and follow.rewritten == "Who fired the rockets?"
    assert follow.notes[0] == "a follow-up, answered as: Who fired the rockets?"
    from rag.retrieval import Filters

    early = corpus_rag.ask("How many rockets were fired at the US embassy in Baghdad?",
                           filters=Filters(as_of=dt.date(2020, 12, 23)))
    assert all(c.date and c.date <= dt.date(2020, 12, 23) for c in early.citations)
    assert early.dated.as_of == dt.date(2020, 12, 23)


def test_rag_chat_reads_one_question_per_line_and_prints_answers_as_json(corpus_store, cli, monkeypatch):
    import io
    import sys

    lines = "How many rockets were fired at the US embassy in Baghdad?\n\nWho fired them?\n/new\nWho fired them?\n"
    monkeypatch.setattr(sys, "stdin", io.StringIO(lines))
    code, out, err = cli("chat", "--json", "--store-dir", corpus_store, "--set", f"corpus_dir={CORPUS}")
    assert code == 0, err
    answers = [json.loads(line) for line in out.splitlines()]
    assert [a["rewritten"] for a in answers] == [None, "Who fired the rockets?", None]
    assert all("dated" in a for a in answers)
    monkeypatch.setattr(sys, "stdin", io.StringIO("How many rockets were fired at the US embassy in Baghdad?\n"))
    code, out, _ = cli("chat", "--store-dir", corpus_store, "--set", f"corpus_dir={CORPUS}")
    assert code == 0 and "Evidence: as of 2020-12-" in out and "(2020-12-23)" in out


def test_post_ask_takes_a_history(corpus_store):
    from fastapi.testclient import TestClient

    from rag.server.app import create_app
    from rag.settings import Settings
    app = create_app(Settings(store_dir=corpus_store, corpus_dir=CORPUS))
    with TestClient(app, base_url="http://localhost") as client:
        body = {"question": "Who fired them?", "history": [
            {"question": "How many rockets were fired at the US embassy in Baghdad?", "answer": "Eight. [1]"}]}
        answer = client.post("/ask", json=body).json()
        assert answer["rewritten"] == "Who fired the rockets?" and answer["question"] == "Who fired them?"
        bad = client.post("/ask", json={"question": "x", "history": [{"answer": "no question"}]})
        assert bad.status_code == 422
