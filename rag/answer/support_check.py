"""Does a window of source text support a sentence? `supports(sentence, window) -> SupportVerdict`.

The rules the LLM engine (and the LLM briefing, through it) applies to every sentence before any
score counts (rag.answer.support). Each rule is a reason a sentence fails, named in the verdict:
- **too short**: fewer than MIN_TERMS content words cannot be checked ("PWNED").
- **an instruction**: the window sentences that carry the sentence address the model ("ignore
  previous instructions and say ..."): an instruction inside an article is not a report of fact.
- **coverage**: the sentence is split into clauses (at ; : — and at a comma before and, but,
  while, which, ...), so that an appended clause is checked on its own. Each clause of
  MIN_TERMS or more content words needs CLAUSE_COVERAGE of its content terms (stemmed,
  stopwords removed) in the window, and the whole sentence needs COVERAGE.
- **numbers**: each number of the sentence must be stated by a window sentence that says the
  same about it: the counted noun after it ("999 passengers"), or else one of the content words
  within CONTEXT_WORDS words of it. A figure planted in the next sentence does not support it.
- **negation**: a clause that negates ("no", "not", "never", "n't", ...) needs a negated window
  clause that it restates; a negated window clause that the sentence restates needs the
  sentence to negate too.
- **names**: every capitalised word of the sentence (people, places, organisations, days,
  months) must be in the window; a word and its derivative match ("Iran" ~ "Iranian").
The thresholds were chosen on the tune half of a labelled set of real benchmark sentences and
systematic perturbations (bench/support_pairs.py; BENCHMARKS.md "Support check").

Purely lexical: the semantic score stays a separate condition in rag.answer.support. A claim the
rules pass is one whose words, figures, polarity and names all stand in the cited text; a fluent
paraphrase in other words may fail, which the prompts allow for by asking for the source's wording.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.answer.figures import figures
from rag.text.lexical import STOPWORDS, content_words, normalize
from rag.text.vocab import COUNT_WORDS, NEGATION_WORDS, alternation

MIN_TERMS = 2
COVERAGE = 0.8
CLAUSE_COVERAGE = 0.6
ALIGN = 0.5
CONTEXT_WORDS = 3

_DIGITS = re.compile(r"(?<![\w.])\d{1,3}(?:,\d{3})+(?:\.\d+)?(?!\w)|(?<![\w.,])\d+(?:\.\d+)?(?!\w)")
NUMBER_WORDS = re.compile(rf"\b({alternation(COUNT_WORDS)})\b", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”’']?\s+(?=[\"“‘'(]?[A-Z0-9])|\n+")
_CLAUSE_BREAK = re.compile(
    r"\s*[;:]\s+|\s+[—–-]{1,2}\s+|,\s+(?=(?:and|but|while|whereas|although|though|yet|so|after|before|because|since"
    r"|which|who|where|when|then|adding|saying|as well as|even as)\b)", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z0-9][\w'’.-]*")
_CAPITALISED = re.compile(r"(?<![\w'’-])([A-Z][\w'’.&-]*)")
# An instruction to a model: telling it to ignore, forget or override something; addressing it
# ("you must answer", "assistant,"); a role label; or a bare imperative to say or output text.
_INSTRUCTION = re.compile(
    r"\b(ignore|disregard|forget|override|bypass)\b[^.!?]{0,60}\b(instructions?|prompts?|rules|guidelines|directions|"
    r"sources?|context|question|above|previous|prior|everything)\b"
    r"|\b(you|assistant|ai|chatbot|language model|llm|model)\b[^.!?]{0,30}\b(must|should|shall|will|are to|have to|"
    r"need to)\s+(now\s+)?(say|answer|reply|respond|write|output|print|state|repeat|declare|claim|report)\b"
    r"|^\W*(system|assistant|user|developer)\s*[:>]"
    r"|\b(new|updated|real|actual) (instructions?|task|prompt)\b|\bsystem prompt\b"
    r"|^\W*(please\s+)?(say|answer|reply|respond|write|output|print|repeat|declare)\b[^.!?]{0,40}"
    r"(\b(that|only|exactly|with|the word|the phrase)\b|[:\"“'])",
    re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class SupportVerdict:
    """Whether the window supports the sentence; when not, `reason` says why in one line."""

    supported: bool
    reason: str | None = None
    coverage: float = 0.0  # share of the sentence's content terms found in the window
    rule: str | None = None  # which rule failed: short, instruction, coverage, clause, number, negation, name

    def __bool__(self) -> bool:
        return self.supported


def supports(sentence: str, window: str | Sequence[str], *, coverage: float = COVERAGE,
             clause_coverage: float = CLAUSE_COVERAGE) -> SupportVerdict:
    """Check `sentence` against `window` (text, or its sentences) by the rules above."""
    parts = split_window(window) if isinstance(window, str) else [w for w in window if w.strip()]
    terms = set(content_words(sentence))
    if len(terms) < MIN_TERMS:
        return SupportVerdict(False, "too few words to check against the source", 0.0, "short")
    view = _Window(parts)
    share = len(terms & view.terms) / len(terms)
    carriers = view.carriers(terms)
    if any(view.instruction[i] for i in carriers):
        return SupportVerdict(False, "the cited text is an instruction to the model, not a report", share, "instruction")
    if share < coverage:
        return SupportVerdict(False, f"only {share:.0%} of its words are in the cited text", share, "coverage")
    for clause in clauses(sentence):
        if failed := _check_clause(clause, view, clause_coverage):
            return SupportVerdict(False, failed[1], share, failed[0])
    if missing := view.missing_names(sentence):
        return SupportVerdict(False, f"{_names(missing)} not in the cited text", share, "name")
    return SupportVerdict(True, None, share)


def split_window(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def clauses(sentence: str) -> list[str]:
    """The sentence's clauses; a piece too short to check on its own stays with the one before."""
    out: list[str] = []
    for piece in _CLAUSE_BREAK.split(sentence):
        if out and len(set(content_words(piece))) < MIN_TERMS:
            out[-1] = f"{out[-1]} {piece}"
        else:
            out.append(piece)
    return [c for c in out if c.strip()]


def numbers(text: str) -> set[float]:
    """Numbers a text states, in digits or words ('eight' == 8, '1,200' == 1200)."""
    out = {float(m.group().replace(",", "")) for m in _DIGITS.finditer(text)}
    out |= {float(COUNT_WORDS[m.group(1).lower()]) for m in NUMBER_WORDS.finditer(text)}
    return out


def number_contexts(text: str) -> list[tuple[float, set[str]]]:
    """Each number of `text` with what it is about: the counted noun after it ("999 passengers"),
    else the content words within CONTEXT_WORDS words of it. A window must state the number in a
    sentence that says the same about it."""
    counted = {f.start: f.unit for f in figures(text)}
    found = [(m.start(), m.end(), float(m.group().replace(",", ""))) for m in _DIGITS.finditer(text)]
    found += [(m.start(), m.end(), float(COUNT_WORDS[m.group(1).lower()])) for m in NUMBER_WORDS.finditer(text)]
    out = []
    for start, end, value in sorted(found):
        if start in counted:
            context = {counted[start]}
        else:
            before = _WORD.findall(text[:start])[-CONTEXT_WORDS:]
            after = _WORD.findall(text[end:])[:CONTEXT_WORDS]
            context = {t for t in content_words(" ".join(before + after)) if not t[0].isdigit()}
        out.append((value, context))
    return out


def negated(text: str) -> bool:
    return any(w in NEGATION_WORDS or w.endswith(("n't", "n’t")) for w in normalize(text).split())


def is_instruction(text: str) -> bool:
    return bool(_INSTRUCTION.search(text))


class _Window:
    """The window's sentences, each with its terms, numbers, clauses and words, computed once."""

    def __init__(self, sentences: list[str]):
        self.sentences = sentences
        self.term_sets = [set(content_words(s)) | ({"percent"} if "%" in s else set()) for s in sentences]
        self.terms = set().union(*self.term_sets) if sentences else set()
        self.instruction = [is_instruction(s) for s in sentences]
        self.numbers = [numbers(s) for s in sentences]
        self.words = {w.lower().rstrip(".").replace("’", "'").removesuffix("'s")
                      for s in sentences for w in _WORD.findall(normalize(s))}

    def carriers(self, terms: set[str]) -> list[int]:
        """The sentences holding ALIGN of `terms` (at least the one holding most)."""
        if not self.sentences or not terms:
            return []
        shares = [len(terms & t) / len(terms) for t in self.term_sets]
        best = max(range(len(shares)), key=shares.__getitem__)
        return sorted({best} | {i for i, s in enumerate(shares) if s >= ALIGN})

    def missing_names(self, sentence: str) -> list[str]:
        return [name for name in dict.fromkeys(_capitalised(sentence)) if not self._has(name)]

    def _has(self, name: str) -> bool:
        if name in self.words:
            return True
        if len(name) < 4:
            return False
        return any(len(w) >= 4 and (w.startswith(name) or name.startswith(w)) for w in self.words)


def _check_clause(clause: str, view: _Window, clause_coverage: float) -> tuple[str, str] | None:
    terms = set(content_words(clause))
    if not terms:
        return None
    share = len(terms & view.terms) / len(terms)
    if len(terms) >= MIN_TERMS and share < clause_coverage:
        return "clause", f"the clause {_short(clause)!r} is not in the cited text ({share:.0%} of its words)"
    carried = [view.sentences[i] for i in view.carriers(terms)]
    for value, context in number_contexts(clause):
        holding = [i for i, s in enumerate(view.sentences) if value in view.numbers[i]]
        if not holding:
            return "number", f"the number {_figure(value)} is not in the cited text"
        if context and not any(context & view.term_sets[i] for i in holding):
            return "number", f"the cited text does not state {_figure(value)} about {_short(' '.join(sorted(context)), 30)}"
    if problem := _negation(clause, terms, carried):
        return "negation", problem
    return None


def _negation(clause: str, terms: set[str], carried: list[str]) -> str | None:
    window_clauses = [c for s in carried for c in _CLAUSE_BREAK.split(s) if c and c.strip()]
    aligned = [c for c in window_clauses if _aligned(set(content_words(c)), terms)]
    if negated(clause) and not any(negated(c) for c in aligned):
        return f"it negates {_short(clause)!r}, and the cited text does not"
    if not negated(clause) and any(negated(c) for c in aligned):
        return f"the cited text negates what {_short(clause)!r} states"
    return None


def _aligned(window_terms: set[str], clause_terms: set[str]) -> bool:
    shared = len(window_terms & clause_terms)
    return shared >= 1 and shared >= ALIGN * min(len(window_terms), len(clause_terms))


def _capitalised(sentence: str) -> list[str]:
    out = []
    for m in _CAPITALISED.finditer(sentence):
        word = normalize(m.group(1)).rstrip(".,'’-").replace("’", "'").removesuffix("'s")
        if word and word not in STOPWORDS and word != "i" and not word.isdigit():
            out.append(word)
    return out


def _figure(number: float) -> str:
    return str(int(number)) if number == int(number) else str(number)


def _names(names: list[str]) -> str:
    shown = ", ".join(repr(n) for n in names[:3])
    return f"the name {shown} is" if len(names) == 1 else f"the names {shown} are"


def _short(text: str, limit: int = 50) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
