"""The answer-sentence model (rag/answer/sentence_score.py): answer-type entities, the shipped
model file, the fitting script, question kinds, the answer-type gate, sentence vectors embedded once, and figures whose
sentences are embedded only when a disagreement needs them."""

import json

import numpy as np
import pytest

from rag.answer.question import analyse
from rag.answer.sentence_score import FEATURES, MODEL_FILE, asked_entity, load_model, probability
from rag.models import Sentence


def _asked(question: str, sentence: str, type_ok: bool = True) -> float:
    q = analyse(question)
    from rag.answer.sentence_score import _words

    return asked_entity(q.kind, sentence, _words(q.text), type_ok)


def test_who_wants_a_person_the_question_does_not_name():
    question = "Who did Boris Johnson meet at Balmoral on Tuesday?"
    assert _asked(question, "On Tuesday he met Queen Elizabeth at the castle.") == 1.0
    assert _asked(question, "Boris Johnson travelled to Balmoral on Tuesday.") == 0.0


def test_where_wants_a_place_after_a_preposition():
    question = "Where did the president fly after the summit?"
    assert _asked(question, "After the summit the president flew to Warsaw for talks.") == 1.0
    assert _asked(question, "The president flew home after the summit ended.") == 0.0


def test_when_wants_a_date_and_how_many_a_figure_of_the_unit():
    assert _asked("When will the bridge reopen?", "The bridge reopens in September, officials said.") == 1.0
    assert _asked("When will the bridge reopen?", "The bridge will reopen soon, officials said.") == 0.0
    # a count: the engine's unit check decides (type_ok), the entity follows it
    assert _asked("How many rockets were fired?", "Eight rockets were fired.", type_ok=True) == 1.0
    assert _asked("How many rockets were fired?", "Three soldiers were hurt.", type_ok=False) == 0.0


def test_the_shipped_model_names_only_known_features_and_gives_probabilities():
    model = load_model()
    assert set(model["features"]) <= set(FEATURES)
    assert len(model["weights"]) == len(model["mean"]) == len(model["scale"]) == len(model["features"])
    low = {f: 0.0 for f in FEATURES}
    high = dict(low, semantic=0.8, coverage=1.0, context=1.0, topic=1.0, type_ok=1.0, asked_entity=1.0, inv_rank=1.0)
    assert 0.0 < probability(low) < probability(high) < 1.0


def test_an_unknown_feature_in_a_model_file_is_an_error(tmp_path):
    bad = json.loads(MODEL_FILE.read_text())
    bad["features"] = bad["features"][:-1] + ["sentence_is_about_squid_game"]
    path = tmp_path / "model.json"
    path.write_text(json.dumps(bad))
    with pytest.raises(ValueError, match="unknown features"):
        load_model(path)


def test_the_fitting_script_recovers_an_informative_feature():
    from bench.sentence_model import fit

    rng = np.random.default_rng(0)
    informative = rng.normal(size=2000)
    noise = rng.normal(size=2000)
    labels = (informative + 0.3 * rng.normal(size=2000) > 0.5).astype(float)
    weights, _, _, _ = fit(np.column_stack([informative, noise]), labels, lam=1.0)
    assert weights[0] > 1.0 and abs(weights[1]) < 0.3


# --------------------------------------------------------------- the engine on a small corpus

ARTICLE = """The county council approved the new budget on Monday after a long debate.
The budget raises spending on roads and schools by a large margin over last year.
Council members said the plan would be reviewed again before the winter.
"""


@pytest.fixture
def budget_rag(hash_settings):
    from rag.api import Rag

    (hash_settings.corpus_dir / "budget.txt").write_text(ARTICLE, encoding="utf-8")
    rag = Rag(hash_settings.model_copy(update={"min_support": 0.0}))
    rag.ingest([hash_settings.corpus_dir])
    yield rag
    rag.close()


def test_which_and_a_person_or_place_noun_asks_for_a_person_or_a_place():
    assert analyse("Which popular singer will launch a Las Vegas residency?").kind == "person"
    assert analyse("Which 23-time grand slam tennis champion is set to retire?").kind == "person"
    assert analyse("A volcano erupted on which Japanese island on Sunday?").kind == "place"
    assert analyse("Elon Musk denied that he had an affair with who?").kind == "person"
    # a verb between "which" and the noun: the noun is not what is asked
    assert analyse("Which virus is making officials worried?").kind == "general"
    assert analyse("Which song should the singer play?").kind == "general"  # any auxiliary verb (rag.text.vocab)


def test_the_noun_after_which_sets_the_type_not_a_person_or_place_word_in_a_later_clause():
    """The noun phrase after "which"/"what" ends at a function word (a preposition, article,
    pronoun): a role or place noun after it belongs to another clause, not to what is asked."""
    # invented questions; the head noun is not a person or place word
    assert analyse("Police searched which warehouse rented by former Mayor Ann Duval?").kind == "general"
    assert analyse("Which painting owned by Senator Okafor was sold at auction?").kind == "general"
    assert analyse("Which bridge in the capital was closed for repairs?").kind == "general"
    assert analyse("Which recipe from the famous actor went viral?").kind == "general"
    assert analyse("What festival near the border town drew record crowds?").kind == "general"
    # the head noun is a person or place word: the type is kept, premodifiers included
    assert analyse("Which retired tennis player opened a bakery?").kind == "person"
    assert analyse("Which other coastal city banned plastic straws?").kind == "place"
    assert analyse("Which former chief of the navy wrote a memoir?").kind == "person"
    assert analyse("The storm flooded which village near the river?").kind == "place"
    # a leading partitive is no later clause: the noun after it is what is asked
    assert analyse("Which of the three senators voted against the bill?").kind == "person"
    assert analyse("Which one of these countries joined the alliance last?").kind == "place"
    assert analyse("Which of the paintings was sold at auction?").kind == "general"


def test_the_asking_sentence_decides_the_answer_type():
    """A quiz question often sets the scene first; what it asks for is in its last sentence."""
    assert analyse("Kim Kardashian wore a historic dress at the Met Gala. Who was the designer of the dress?").kind == "person"
    assert analyse("Lea Michele joined the cast of “Funny Girl.” Who is she replacing?").kind == "person"
    assert analyse("Student loan payments were paused for two years. When are they set to restart?").kind == "date"
    assert analyse("Who won? How many votes did the winner get?").kind == "number"
    # no type in the asking sentence: the whole question's
    assert analyse("How many rockets were fired at the embassy? Tell us.").kind == "number"


def test_a_one_sentence_question_is_its_own_asking_sentence_without_the_splitter(monkeypatch):
    """The splitter's model is loaded only for a question with a sentence end inside it."""
    from rag.answer import question

    def no_splitter(text, kept_lines):
        raise AssertionError("the splitter was called")

    monkeypatch.setattr(question, "split_sentences", no_splitter)
    for one in ("Who won the Hart Trophy?", "What did Fauci say about the 3.5% rise?", "  Who won?  "):
        assert question.asking_sentence(one) == one.strip()
    monkeypatch.undo()
    assert question.asking_sentence("The Fed met on Jan. 3. What did it decide?") == "What did it decide?"


def test_a_who_question_no_sentence_answers_with_a_name_is_refused_with_that_reason(budget_rag):
    """The answer-type gate: even with no threshold, a "who" question is refused when no
    retrieved sentence names a person the question does not already name."""
    answer = budget_rag.ask("Who proposed the county council budget that was approved on Monday?")
    assert answer.refused
    assert "a person's name" in answer.refusal_reason


def test_the_same_question_about_the_budget_without_a_type_is_answered(budget_rag):
    """The type gate alone: which sentence leads is the model's choice, and the hash embedder's
    cosines measure no meaning, so only the gate's outcome is asserted."""
    answer = budget_rag.ask("What did the county council approve on Monday?")
    assert not answer.refused and answer.refusal_reason is None
    assert answer.sentences and all(s.text in ARTICLE for s in answer.sentences)


def test_sentence_vectors_are_embedded_once_per_store(hash_settings, monkeypatch):
    """Without sentence vectors stored at ingest, the sentences a question reads are embedded at
    its first ask and kept: the second ask embeds only the question."""
    from rag.api import Rag

    (hash_settings.corpus_dir / "budget.txt").write_text(ARTICLE, encoding="utf-8")
    rag = Rag(hash_settings.model_copy(update={"min_support": 0.0, "sentence_vectors": False}))
    try:
        rag.ingest([hash_settings.corpus_dir])
        embedded: list[str] = []
        embedder = rag.store.embedder
        original = embedder.embed

        def counting(texts, bulk=False):
            embedded.extend(texts)
            return original(texts, bulk)

        monkeypatch.setattr(embedder, "embed", counting)
        question = "What did the county council approve on Monday?"
        first = rag.ask(question)
        after_first = len(embedded)
        second = rag.ask(question)
    finally:
        rag.close()
    assert after_first > 1  # the question and its sentences
    assert len(embedded) - after_first == 1  # only the question again
    assert first.answer == second.answer


def test_only_the_sentences_of_comparable_figures_are_embedded():
    """The disagreement finder embeds a sentence only for a pair of figures that passes every
    other test; the result is the one a finder embedding every sentence gives."""
    from rag.answer.conflicts import find_disagreements
    from rag.index.embedders import HashEmbedder
    from rag.models import Chunk

    def stated(source: str, text: str):
        sentence = Sentence(text=text, char_start=0, char_end=len(text), line_start=1, line_end=1)
        chunk = Chunk(id=source, source=source, ordinal=0, text=text, sentences=[sentence], tokens=10,
                      char_start=0, char_end=len(text), line_start=1, line_end=1)
        return type("Stated", (), {"chunk": chunk, "sentence": sentence})()

    statements = [stated("a.txt", "Eight rockets were fired at the embassy on Sunday."),
                  stated("b.txt", "At least 21 rockets were fired at the embassy on Sunday."),
                  stated("c.txt", "The city has 40 schools and a new library.")]
    embedder = HashEmbedder()
    seen: list[str] = []

    def vectors(texts):
        seen.extend(texts)
        return embedder.embed(texts)

    found = find_disagreements(statements, embedder, vectors=vectors)
    assert len(found) == 1 and {s.value.lower() for s in found[0].sides} == {"eight", "at least 21"}
    assert statements[2].sentence.text not in seen and len(seen) == 2
