"""rag.answer.figures: counts in sentences, and what a question counts."""

from rag.answer.figures import figures
from rag.answer.question import analyse


def test_a_duration_is_no_count_unless_the_question_counts_it():
    text = "A Russian court ruled that her detention be extended six months pending the trial's outcome."
    assert figures(text) == []  # "six months" counts time, not things
    q = analyse("How many months was her detention extended?")
    assert q.unit == "month"
    found = figures(text, {q.unit}, counted=q.unit)
    assert [(f.value, f.number, f.unit) for f in found] == [("six", 6.0, "month")]
    # ... and only what it counts: the months asked for do not make the years a count
    assert figures("She was sentenced to nine years.", {q.unit}, counted=q.unit) == []
