"""The small helpers every engine, shell and report shares (issue 18): one definition each."""

from __future__ import annotations

from rag.answer.citations import markers, where
from rag.errors import first_line
from rag.models import Citation, Usage
from rag.text.snippet import short


def test_first_line_is_the_first_non_blank_line_or_the_default():
    assert first_line("\n  disk full\nTraceback (most recent call last):") == "disk full"
    assert first_line(ValueError("bad value\nmore")) == "bad value"
    assert first_line("  \n") == "failed" and first_line("", "") == "" and first_line(KeyError(), "KeyError") == "KeyError"


def test_short_puts_text_on_one_line_and_cuts_it_with_an_ellipsis():
    assert short("eight  rockets\nwere fired") == "eight rockets were fired"
    cut = short("word " * 40, 20)
    assert len(cut) <= 20 and cut.endswith("word…") and "  " not in cut


def test_markers_and_where_format_citations_one_way():
    assert markers([1, 3]) == "[1][3]" and markers([]) == ""
    one = Citation(n=1, source="a.txt", line_start=4, line_end=4, quote="q")
    assert where(one) == "a.txt:4" and where(one.model_copy(update={"line_end": 6})) == "a.txt:4-6"


def test_usage_adds_up_and_none_adds_nothing():
    total = Usage(prompt_tokens=10, completion_tokens=2, cost_usd=0.1) + Usage(prompt_tokens=5, completion_tokens=1,
                                                                                cost_usd=0.2)
    assert (total.prompt_tokens, total.completion_tokens, total.cost_usd) == (15, 3, 0.3)
    assert total + None is total
