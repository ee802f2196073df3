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
words of it the other lacks, and more than a name). Two sentences, together or as a window, do
not support a claim when one of them only names someone and the two share no word of it
(`_only_named`), nor, of two articles, when one lends only the claim's attribution
("..., according to March data from Realtor.com": `_credited`). A pair holds the claim as it is:
the question's premise (support_check.Premise, given for a window) is not given to two sentences
apart, which would otherwise need little more than the answer's name and any word of the question.

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
from rag.text.lexical import content_words, term_set
from rag.text.vocab import SPEECH_VERBS, alternation

__all__ = ["NUMBER_WORDS", "Anchor", "SupportScorer", "SupportVerdict", "lexical_support", "numbers", "supports"]

_PAIR_MARGIN = 0.05
LIST_FIGURES = 3
MAX_WINDOW = 12
PARAGRAPH_WINDOW = 3
ACROSS_CANDIDATES = 6
# What a claim may rest on: the article's statements, and its own headline (furniture kind
# "headline": its title repeated in its text), which states what the article reports. Other
# furniture (captions, related links, promos, timestamps) is not the article's claim.
EVIDENCE_KINDS = ("sentence", "headline")
_CAPITALISED = re.compile(r"(?<![\w'’-])[A-Z][\w'’.&-]*")
_PERSONAL = re.compile(r"\b(he|she|him|his|her|hers|they|them|their)\b", re.IGNORECASE)
_ATTRIBUTION = re.compile(rf"(?:\baccording to|\bas reported by)\s+(?P<who>[^,;]+?)\s*[.!?]?$|,\s*(?P<who2>[^,;]{{1,60}}?)\s+"
                          rf"(?:{alternation(SPEECH_VERBS)})\s*[.!?]?$|^(?:according to|as reported by)\s+(?P<who3>[^,;]+),", re.IGNORECASE)


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

    def __init__(self, embedder, question: str | None = None):
        self.embedder = embedder
        # The question answered: a window's verdict lets the claim restate its premise
        # (support_check.Premise); two sentences apart (`across`) must hold the claim as it is.
        self.question = question
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
        listed = len(claimed) >= LIST_FIGURES
        for size in range(1, _longest(claim, claimed, len(body)) + 1):
            windows = [body[i:i + size] for i in range(len(body) - size + 1)]
            if size > 2 and not listed:
                windows = [w for w in windows if _one_paragraph(w)]  # three sentences: of one paragraph
            if not windows:
                continue
            wider = max((self._score(w, claim, claim_vector, claimed, chunk, self.question) for w in windows),
                        key=_rank)
            if best is None or _rank(wider)[:2] > _rank(best)[:2] or (
                    _rank(wider)[:2] == _rank(best)[:2] and wider.score >= best.score + _PAIR_MARGIN):
                best = wider  # a wider window wins only by a clear margin, so quotes stay short
        return best

    def _score(self, window: list[Sentence], claim: str, claim_vector, claimed: set[float], chunk: Chunk,
               question: str | None = None) -> Anchor:
        text = " ".join(s.text for s in window)
        vector = sum(self._vectors[s.text] for s in window)
        norm = float(np.linalg.norm(vector)) or 1.0
        verdict = self._pair_verdict(claim, window)  # a failing verdict is falsy: no `or`
        if verdict is None:
            verdict = supports(claim, [s.text for s in window], given=question)
        asked = numbers(question) if question and verdict.supported else set()
        return Anchor(
            chunk=chunk, sentences=window, lexical=round(lexical_support(claim, text), 4),
            semantic=round(float(vector @ claim_vector) / norm, 4),
            numbers_ok=claimed - asked <= numbers(text), verdict=verdict,
        )

    def _pair_verdict(self, claim: str, window: list[Sentence]) -> SupportVerdict | None:
        """A failing verdict for two sentences of which one only names someone the other does not
        speak of (`_only_named`); None otherwise. Longer windows are lists, one figure a line."""
        if len(window) != 2:
            return None
        terms = term_set(claim)
        a, b = (terms & term_set(s.text) for s in window)
        if not _only_named(a, b, _name_terms(claim), window[1].text):
            return None
        return SupportVerdict(False, "one of its two sentences only names someone the other does not speak of",
                              rule="name")

    def across(self, claim: str, chunks: list[Chunk]) -> list[Anchor]:
        """A claim that no window of one chunk holds may be stated by two sentences that are not
        next to each other: in one chunk (the event in one, its outcome three sentences later),
        or in two chunks (one source names the trial, another the attack it is about). The
        ACROSS_CANDIDATES sentences of `chunks` holding most of the claim's terms are paired;
        a pair counts only when each of its sentences holds MIN_TERMS or more words of the claim
        the other lacks and more than a name (`_parts`: a part of the claim, not a name picked up
        elsewhere), and the pair passes the same rules and threshold as a window.
        Returns the best pair's anchors, one per chunk it draws on (empty: no such pair)."""
        terms = set(content_words(claim))
        if len(chunks) == 0 or not terms:
            return []
        body = [(c, i, s) for c in chunks for i, s in enumerate(x for x in c.sentences if x.kind in EVIDENCE_KINDS)]
        held = {id(s): terms & term_set(s.text) for _, _, s in body}  # the claim's words each holds
        named, credited = _name_terms(claim), _credited(claim)
        ranked = sorted(body, key=lambda t: -len(held[id(t[2])]))[:ACROSS_CANDIDATES]
        self._embed([claim] + [s.text for _, _, s in ranked])
        claimed = numbers(claim)
        best = None
        for (ca, ia, a), (cb, ib, b) in itertools.combinations(ranked, 2):
            if ca.id == cb.id and abs(ia - ib) <= 1:
                continue  # adjacent sentences of one chunk are a window anchor() has tried
            pair = sorted([(ca, ia, a), (cb, ib, b)], key=lambda t: (chunks.index(t[0]), t[1]))
            (first_chunk, _, first), (second_chunk, _, second) = pair
            if not _parts(held[id(first)], held[id(second)], named,
                          second.text if first_chunk.id == second_chunk.id else None):
                continue  # each must state a part of the claim: a name picked up elsewhere is no part
            if first_chunk.source != second_chunk.source and not _parts(
                    held[id(first)] - credited, held[id(second)] - credited, named, None):
                continue  # of two articles, one may not lend only its attribution (`_credited`)
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


def _credited(claim: str) -> set[str]:
    """The terms of the claim's attribution ("..., according to March data from Realtor.com",
    "..., the agency said"). Of two articles, one may not lend a claim only its attribution: "SW19
    is the postcode district in Southwest London" and "rents have gone up 8.8% in metro Detroit,
    according to March data from Realtor.com" do not make "The cheapest London borough to rent in
    is SW19, according to March data from Realtor.com". Within one article, its attribution is
    the article's own."""
    found = _ATTRIBUTION.search(claim.strip())
    return set(content_words(next(g for g in found.group("who", "who2", "who3") if g))) if found else set()


def _parts(a: set[str], b: set[str], named: set[str], later: str | None) -> bool:
    """Whether two sentences holding the claim's words `a` and `b` (in this order) each state a
    part of it: MIN_TERMS words the other lacks, and more than a name (`_only_named`)."""
    return min(len(a - b), len(b - a)) >= MIN_TERMS and not _only_named(a, b, named, later)


def _only_named(a: set[str], b: set[str], named: set[str], later: str | None) -> bool:
    """Whether one of two sentences, holding the claim's words `a` and `b` (in this order), adds
    nothing to the other but a name, while the two share no word of the claim. A sentence that
    only names someone ("Forwards Alexandra Popp and Alessia Russo have made very different
    contributions") does not state what the claim says they did ("Alessia Russo scored the
    winning goal in the Euro 2022 final", the rest from the sentence before it, about the
    tournament). Two sentences that share a word speak of one thing ("Rockets struck the Green
    Zone" / "No one was hurt by the rockets"); so does a name followed, in the same text
    (`later`: the second sentence, None across two sources), by a sentence that refers back to
    a person ("Cory Martin was arrested." / "He said he was trying to kill a spider.")."""
    if a & b:
        return False
    if b - a and not (b - a) - named:
        return True
    return bool(a - b) and not (a - b) - named and not (later is not None and _PERSONAL.search(later))


def _name_terms(claim: str) -> set[str]:
    """The claim's terms that are words of a capitalised name ("Alessia Russo", "Germany")."""
    return set(content_words(" ".join(_CAPITALISED.findall(claim))))


def _longest(claim: str, claimed: set[float], sentences: int) -> int:
    """Windows are one or two sentences, or three of one paragraph (a claim that merges a
    paragraph: "Apple announced an updated iPhone SE, a budget version ... It starts at $429 and
    is available for preorder on Friday. The new phone launches March 18."); a claim that lists
    figures ("California: $5.85, Hawaii: $5.31, ...": at least LIST_FIGURES numbers) may rest on
    a list printed one item a line, which the splitter cuts into one sentence per line: up to one
    line per figure, and one for its lead-in."""
    listed = len(claimed) if len(claimed) >= LIST_FIGURES else 1
    return min(max(PARAGRAPH_WINDOW, listed + 1), sentences, MAX_WINDOW)


def _one_paragraph(window: list[Sentence]) -> bool:
    """No blank line between the window's sentences (each starts on the line the last ends, or the next)."""
    return all(b.line_start - a.line_end <= 1 for a, b in zip(window, window[1:]))


def _rank(anchor: Anchor) -> tuple:
    # A window the rules accept, then numbers that match, outrank any score: a wrong figure or
    # a dropped negation is never the best evidence.
    return (anchor.verdict.supported, anchor.numbers_ok, anchor.score)
