"""Citation support, ALCE-style (Gao et al., 2023, "Enabling LLMs to generate text with citations").

- Citation recall: the share of answer sentences whose cited text, taken together, entails them.
  A sentence with no citation is not supported.
- Citation precision: the share of citations that are relevant. A citation is irrelevant when it
  does not support its sentence alone AND the sentence's other citations still support it
  without it. When a sentence is not supported by all its citations together, none of them
  counts as precise (as in ALCE's reference implementation).
Who decides entailment is pluggable: the lexical proxy (rag.eval.entail) or an LLM judge.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.answer.citations import markers
from rag.answer.verify import cited_text
from rag.eval.entail import Entails
from rag.eval.scorers._citations import SourceLookup
from rag.models import Answer, Citation, Score
from rag.text.snippet import short

_SEGMENT = re.compile(r"(.+?)((?:\s*\[\d+\])+)", re.DOTALL)


@dataclass(frozen=True)
class CitedSentence:
    text: str
    citations: list[int]


def cited_sentences(answer: Answer) -> list[CitedSentence]:
    """The answer's sentences with their citation numbers (parsed from the text if need be)."""
    if answer.sentences:
        return [CitedSentence(s.text, list(s.citations)) for s in answer.sentences]
    out, end = [], 0
    for m in _SEGMENT.finditer(answer.answer):
        out.append(CitedSentence(m.group(1).strip(), [int(n) for n in re.findall(r"\d+", m.group(2))]))
        end = m.end()
    if answer.answer[end:].strip():
        out.append(CitedSentence(answer.answer[end:].strip(), []))
    return out


def evidence(citation: Citation, lookup: SourceLookup) -> str:
    """The text a citation points at: its cited lines, or its quote when they cannot be read."""
    found = lookup(citation.source)
    if found is not None:
        text = cited_text(found[0], found[1], citation.line_start, citation.line_end)
        if text.strip():
            return text
    return citation.quote


def citation_support(answer: Answer, lookup: SourceLookup, entails: Entails) -> tuple[Score, Score]:
    """(citation recall, citation precision) of one answer."""
    if answer.refused:
        na = Score(value=None, explanation="refused: no sentences to support")
        return na, na
    sentences = [s for s in cited_sentences(answer) if s.text]
    if not sentences:
        zero = Score(value=0.0, explanation="the answer has no sentences")
        return zero, zero
    by_n = {c.n: c for c in answer.citations}
    supported, relevant, total, problems = 0, 0, 0, []
    for s in sentences:
        texts = {n: evidence(by_n[n], lookup) for n in s.citations if n in by_n}
        total += len(s.citations)
        if not texts:
            problems.append(f"{short(s.text)!r} has no citation")
            continue
        joint = entails("\n".join(texts.values()), s.text)
        if not joint.supported:
            problems.append(f"{short(s.text)!r} not supported by {_marks(texts)}: {joint.reason}")
            continue
        supported += 1
        relevant += _relevant(s, texts, entails, problems)
    recall = Score(value=supported / len(sentences),
                   explanation=f"{supported}/{len(sentences)} sentences supported by their citations"
                   + (f"; {'; '.join(problems)}" if problems else ""))
    precision = Score(value=relevant / total if total else 0.0,
                      explanation=f"{relevant}/{total} citations relevant")
    return recall, precision


def _relevant(s: CitedSentence, texts: dict[int, str], entails: Entails, problems: list[str]) -> int:
    """How many of a supported sentence's citations are relevant (ALCE's over-citation check)."""
    if len(texts) == 1:
        return 1
    count = 0
    for n, text in texts.items():
        if entails(text, s.text).supported:
            count += 1
            continue
        rest = "\n".join(t for m, t in texts.items() if m != n)
        if entails(rest, s.text).supported:
            problems.append(f"[{n}] is not needed for {short(s.text)!r}")
        else:
            count += 1
    return count


def _marks(texts: dict[int, str]) -> str:
    return markers(texts) or "nothing"

