"""Does cited text entail an answer sentence? The offline proxy used by citation support.

ALCE decides support with an NLI model. Offline we use a documented lexical proxy: the
sentence is supported by the premise when
- at least SUPPORT_THRESHOLD (70%) of the sentence's distinct content words (stemmed, stopwords
  removed, after the fact-matching normalisation) occur in the premise;
- every number in the sentence occurs in the premise (numbers carry most news claims, and a
  changed figure must never count as supported);
- a negation in the sentence ("no", "not", "never", "n't", ...) also occurs in the premise.
It is exact for verbatim quotes (the extractive engine) and a reasonable filter for close
paraphrase; it cannot see meaning-changing rewordings that keep the words. `--judge llm` asks
an LLM instead (rag.eval.judge).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rag.eval.normalize import normalize, strip_markers
from rag.text.lexical import STOPWORDS, stem

SUPPORT_THRESHOLD = 0.7
_NEGATIONS = frozenset({"no", "not", "never", "nor", "none", "nothing", "neither", "without", "cannot", "t"})


@dataclass(frozen=True)
class Entailment:
    supported: bool
    reason: str


Entails = Callable[[str, str], Entailment]  # (premise, hypothesis) → verdict


def _terms(text: str) -> tuple[set[str], set[str], bool]:
    """(content terms, numbers, has negation) of a text."""
    tokens = normalize(strip_markers(text)).split()
    numbers = {t for t in tokens if t[0].isdigit()}
    words = {stem(t) for t in tokens if not t[0].isdigit() and t not in STOPWORDS and t not in _NEGATIONS}
    return words, numbers, any(t in _NEGATIONS for t in tokens)


def lexical_entails(premise: str, hypothesis: str) -> Entailment:
    h_words, h_numbers, h_neg = _terms(hypothesis)
    p_words, p_numbers, p_neg = _terms(premise)
    missing_numbers = sorted(h_numbers - p_numbers)
    if missing_numbers:
        return Entailment(False, f"number(s) {', '.join(missing_numbers)} not in the cited text")
    if h_neg and not p_neg:
        return Entailment(False, "negated, but the cited text is not")
    if not h_words:
        return Entailment(True, "no content words to check")
    coverage = len(h_words & p_words) / len(h_words)
    supported = coverage >= SUPPORT_THRESHOLD
    return Entailment(supported, f"{coverage:.0%} of content words in the cited text")
