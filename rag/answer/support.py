"""Is an LLM's sentence supported by the source it cites? And which exact sentences of that
source does it rest on?

For a claim and one cited chunk, every window of one sentence, or two adjacent sentences, of
the chunk is scored (a claim listing three or more figures may also rest on as many consecutive
lines, one a figure, as a list printed one item a line needs):
- lexical: the share of the claim's distinct content terms (stemmed, stopwords removed) that
  the window contains;
- semantic: the MiniLM cosine between claim and window (a pair is the normalised sum of its
  two sentence vectors);
- support = (lexical + max(semantic, 0)) / 2, from 0 to 1.
A claim is supported by a window when the window passes the rules of rag.answer.support_check
(`supports`: coverage clause by clause, numbers where the rest is said, negations, names, no
instruction to the model; its verdict names the rule that failed) AND support >=
`llm_support_threshold` (0.5 by default) AND every number the claim states appears in the window: "eight rockets" is not supported by
"more than 20 missiles", however close the words are. Measured on corpus/ with MiniLM, taking
each sentence as a claim: its own chunk scores 1.0; another chunk of the same article scores
0.30 on average (95th percentile 0.49, 5% reach 0.5); a chunk of another article 0.29 (2% reach
0.5). So 0.5 rejects about 95% of same-topic evidence that states something else, before the
number rule; paraphrases score lower than quotes, so a model should stay close to its sources.

The article's own headline counts as one of its sentences here (EVIDENCE_KINDS); other page
furniture does not. A claim that no such window holds may rest on two sentences that are not adjacent, of one chunk
or of two (`SupportScorer.across`: the event in one, its outcome in another): the pair passes the
same rules and threshold, and each of its sentences must state a part of the claim (MIN_TERMS
words of it the other lacks).

The winning window becomes the citation: its sentences are verbatim spans of the file, so an
LLM's citations meet the extractive engine's standard (the quote is the text of the cited lines).
A pair wins over its best single sentence only by a clear margin, so quotes stay short.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

import numpy as np

from rag.answer.support_check import MIN_TERMS, NUMBER_WORDS, SupportVerdict, numbers, supports
from rag.models import Chunk, Sentence
from rag.text.lexical import content_words

__all__ = ["NUMBER_WORDS", "Anchor", "SupportScorer", "SupportVerdict", "lexical_support", "numbers", "supports"]

_PAIR_MARGIN = 0.05
LIST_FIGURES = 3
MAX_WINDOW = 12
ACROSS_CANDIDATES = 6
# What a claim may rest on: the article's statements, and its own headline (furniture kind
# "headline": its title repeated in its text), which states what the article reports. Other
# furniture (captions, related links, promos, timestamps) is not the article's claim.
EVIDENCE_KINDS = ("sentence", "headline")
_CAPITALISED = re.compile(r"(?<![\w'’-])[A-Z][\w'’.&-]*")


@dataclass
class Anchor:
    """The sentences of one cited chunk that best support a claim, with the scores."""

    chunk: Chunk
    sentences: list[Sentence]
    lexical: float
    semantic: float
    numbers_ok: bool
    verdict: SupportVerdict = field(default_factory=lambda: SupportVerdict(True))

    @property
    def score(self) -> float:
        return round((self.lexical + max(self.semantic, 0.0)) / 2, 4)

    def supports(self, threshold: float) -> bool:
        return self.verdict.supported and self.numbers_ok and self.score >= threshold

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.sentences)


def lexical_support(claim: str, evidence: str) -> float:
    terms = set(content_words(claim))
    if not terms:
        return 0.0
    return len(terms & set(content_words(evidence))) / len(terms)


class SupportScorer:
    """Scores claims against chunks; sentence vectors are computed once per scorer."""

    def __init__(self, embedder):
        self.embedder = embedder
        self._vectors: dict[str, np.ndarray] = {}

    def _embed(self, texts: list[str]) -> None:
        missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        if missing:
            for text, vector in zip(missing, self.embedder.embed(missing)):
                self._vectors[text] = np.asarray(vector, dtype=np.float32)

    def anchor(self, claim: str, chunk: Chunk) -> Anchor | None:
        """The best window of `chunk` for `claim`, or None when the chunk has no sentence."""
        body = [s for s in chunk.sentences if s.kind in EVIDENCE_KINDS] or list(chunk.sentences)
        if not body:
            return None
        self._embed([claim] + [s.text for s in body])
        claim_vector = self._vectors[claim]
        claimed = numbers(claim)
        best = None
        for size in range(1, _longest(claim, claimed, len(body)) + 1):
            windows = [body[i:i + size] for i in range(len(body) - size + 1)]
            wider = max((self._score(w, claim, claim_vector, claimed, chunk) for w in windows), key=_rank)
            if best is None or _rank(wider)[:2] > _rank(best)[:2] or (
                    _rank(wider)[:2] == _rank(best)[:2] and wider.score >= best.score + _PAIR_MARGIN):
                best = wider  # a wider window wins only by a clear margin, so quotes stay short
        return best

    def _score(self, window: list[Sentence], claim: str, claim_vector, claimed: set[float], chunk: Chunk) -> Anchor:
        text = " ".join(s.text for s in window)
        vector = sum(self._vectors[s.text] for s in window)
        norm = float(np.linalg.norm(vector)) or 1.0
        return Anchor(
            chunk=chunk, sentences=window, lexical=round(lexical_support(claim, text), 4),
            semantic=round(float(vector @ claim_vector) / norm, 4),
            numbers_ok=claimed <= numbers(text),
            verdict=supports(claim, [s.text for s in window]),
        )


    def across(self, claim: str, chunks: list[Chunk]) -> list[Anchor]:
        """A claim that no window of one chunk holds may be stated by two sentences that are not
        next to each other: in one chunk (the event in one, its outcome three sentences later),
        or in two chunks (one source names the trial, another the attack it is about). The
        ACROSS_CANDIDATES sentences of `chunks` holding most of the claim's terms are paired;
        a pair counts only when each of its sentences holds MIN_TERMS or more words of the claim
        the other lacks (a part of the claim, not one name picked up elsewhere) and the pair passes the same rules and threshold as a window.
        Returns the best pair's anchors, one per chunk it draws on (empty: no such pair)."""
        terms = set(content_words(claim))
        if len(chunks) == 0 or not terms:
            return []
        body = [(c, i, s) for c in chunks for i, s in enumerate(x for x in c.sentences if x.kind in EVIDENCE_KINDS)]
        held = {id(s): terms & set(content_words(s.text)) for _, _, s in body}  # the claim's words each holds
        named = _name_terms(claim)
        ranked = sorted(body, key=lambda t: -len(held[id(t[2])]))[:ACROSS_CANDIDATES]
        self._embed([claim] + [s.text for _, _, s in ranked])
        claimed = numbers(claim)
        best = None
        for (ca, ia, a), (cb, ib, b) in itertools.combinations(ranked, 2):
            if ca.id == cb.id and abs(ia - ib) <= 1:
                continue  # adjacent sentences of one chunk are a window anchor() has tried
            own_a, own_b = held[id(a)], held[id(b)]
            if not _parts(own_a, own_b, named):
                continue  # each must state a part of the claim: a name picked up elsewhere is no part
            pair = sorted([(ca, ia, a), (cb, ib, b)], key=lambda t: (chunks.index(t[0]), t[1]))
            scored = self._score([t[2] for t in pair], claim, self._vectors[claim], claimed, pair[0][0])
            if best is None or _rank(scored) > _rank(best[0]):
                best = (scored, pair)
        if best is None:
            return []
        scored, pair = best
        out: dict[str, Anchor] = {}
        for chunk, _, sentence in pair:
            if chunk.id in out:
                out[chunk.id].sentences.append(sentence)
            else:
                out[chunk.id] = Anchor(chunk, [sentence], scored.lexical, scored.semantic, scored.numbers_ok,
                                       scored.verdict)
        return list(out.values())


def _name_terms(claim: str) -> set[str]:
    """The claim's terms that are words of a capitalised name ("Alessia Russo", "Germany")."""
    return set(content_words(" ".join(_CAPITALISED.findall(claim))))


def _parts(a: set[str], b: set[str], named: set[str]) -> bool:
    """Whether two sentences holding the claim's words `a` and `b` each state a part of it:
    MIN_TERMS words the other lacks, and, unless the two share a word of the claim (they speak of
    one thing: "Rockets struck the Green Zone" / "No one was hurt by the rockets"), a part that is
    more than a name. A sentence that only names someone ("Forwards Alexandra Popp and Alessia
    Russo have made very different contributions") does not state what the claim says they did
    ("Alessia Russo scored the winning goal in the final", the rest from a sentence about the
    tournament)."""
    own_a, own_b = a - b, b - a
    if min(len(own_a), len(own_b)) < MIN_TERMS:
        return False
    return bool(a & b) or bool(own_a - named and own_b - named)


def _longest(claim: str, claimed: set[float], sentences: int) -> int:
    """Windows are one or two sentences; a claim that lists figures ("California: $5.85, Hawaii:
    $5.31, ...": at least LIST_FIGURES numbers) may rest on a list printed one item a line, which
    the splitter cuts into one sentence per line: up to one line per figure, and one for its lead-in."""
    listed = len(claimed) if len(claimed) >= LIST_FIGURES else 1
    return min(max(2, listed + 1), sentences, MAX_WINDOW)


def _rank(anchor: Anchor) -> tuple:
    # A window the rules accept, then numbers that match, outrank any score: a wrong figure or
    # a dropped negation is never the best evidence.
    return (anchor.verdict.supported, anchor.numbers_ok, anchor.score)
