"""Which further sentences join the extractive answer (rag/answer/extractive.py `_select`): scores
within the tie margin are treated as equal, so a tiny shift (unrelated articles moving IDF) does
not change the answer; a clearly better sentence still wins."""

from types import SimpleNamespace

from rag.answer import extractive
from rag.answer.extractive import Candidate, _select
from rag.answer.question import analyse
from rag.models import Sentence
from rag.text.lexical import term_set

QUESTION = analyse("What did the governor say about the storm?")


def _candidate(source: str, line: int, score: float, text: str) -> Candidate:
    sentence = Sentence(text=text, char_start=100 * line, char_end=100 * line + len(text), line_start=line,
                        line_end=line)
    return Candidate(chunk=SimpleNamespace(source=source), sentence=sentence, rank=1,
                     terms=set(term_set(text)), score=score)


def _lines(chosen: list[Candidate]) -> list[tuple[str, int]]:
    return [(c.chunk.source, c.sentence.line_start) for c in chosen]


def _pool(second: float, third: float, fourth: float) -> list[Candidate]:
    return [
        _candidate("a", 3, 0.40, "The governor said the storm would make landfall overnight."),
        _candidate("a", 9, second, "Crews were sent to the coast before the winds arrived."),
        _candidate("b", 5, third, "Schools were closed across four counties on Monday."),
        _candidate("b", 2, fourth, "Power was cut to thousands of homes near the bay."),
    ]


def test_near_tied_further_sentences_do_not_swap_when_their_scores_shift_slightly():
    before = _select(_pool(0.300, 0.298, 0.296), QUESTION, 3)
    after = _select(_pool(0.296, 0.298, 0.301), QUESTION, 3)  # the order by score reversed, by 1% of the lead
    assert _lines(before) == _lines(after)
    assert len(before) == 3 and before[0].sentence.line_start == 3  # the lead stays first


def test_a_clearly_better_further_sentence_still_wins_over_an_earlier_one():
    chosen = _select(_pool(0.36, 0.22, 0.21), QUESTION, 2)
    assert _lines(chosen) == [("a", 3), ("a", 9)]  # not ("b", 2), which is nearer its top but scores far lower


def test_a_further_sentence_needs_its_share_of_the_leads_score_unless_it_adds_question_terms():
    low = [_candidate("a", 3, 0.40, "The governor said the storm would make landfall overnight."),
           _candidate("a", 9, 0.40 * extractive._ADD_RATIO * 0.8, "Crews were sent to the coast early.")]
    assert _lines(_select(low, QUESTION, 3)) == [("a", 3)]
