"""One citation numbering for a whole briefing, and the final check that every quote is verbatim.

Citations are numbered by rag.answer.citations.CitationBook (one number per cited sentence
span, in order of first use). Citations made elsewhere (the LLM engine's verified answers) are
adopted by their span, so a sentence cited twice keeps one number.
"""

from __future__ import annotations

from types import SimpleNamespace

from rag.answer.citations import CitationBook
from rag.answer.verify import quote_is_verbatim
from rag.brief.scope import Unit
from rag.models import Article, BriefSource, Citation, Sentence


class BriefCitations:
    def __init__(self):
        self.book = CitationBook()

    @property
    def citations(self) -> list[Citation]:
        return self.book.citations

    def cite_units(self, units: list[Unit]) -> list[int]:
        """Numbers for units and their twins (the same statement in other sources)."""
        numbers = []
        for u in units:
            for x in (u, *u.twins):
                numbers.append(self.book.cite(x.chunk, x.sentence))
        return list(dict.fromkeys(numbers))

    def adopt(self, citation: Citation) -> int:
        """The number of a citation made elsewhere: the same span keeps the same number."""
        owner = SimpleNamespace(source=citation.source, title=citation.title, date=citation.date,
                                outlet=citation.outlet)
        span = Sentence(char_start=citation.char_start, char_end=citation.char_end, line_start=citation.line_start,
                        line_end=citation.line_end, text=citation.quote)
        return self.book.cite(owner, span)


def unverified(citations: list[Citation], docs) -> set[int]:
    """Numbers of citations whose quote is not verbatim within their lines (should be none)."""
    bad = set()
    for c in citations:
        raw = docs.raw(c.source)
        article = docs.article(c.source)
        if raw is None or article is None or not quote_is_verbatim(c, raw, article.format):
            bad.add(c.n)
    return bad


def source_list(citations: list[Citation], articles: dict[str, Article], episode_of: dict[str, int],
                twins: dict[str, str]) -> list[BriefSource]:
    """Every article the briefing read, cited ones first, with how often it is cited."""
    counts: dict[str, int] = {}
    for c in citations:
        counts[c.source] = counts.get(c.source, 0) + 1
    out = []
    for source, article in articles.items():
        notes = []
        if article.date is None:
            notes.append("no publication date")
        if source in twins:
            notes.append(f"syndicated copy of {twins[source]}")
        out.append(BriefSource(source=source, title=article.title, outlet=article.outlet, date=article.date,
                               episode=episode_of.get(source), cited=counts.get(source, 0),
                               note="; ".join(notes) or None))
    return sorted(out, key=lambda s: (s.cited == 0, s.episode or 0, s.source))
