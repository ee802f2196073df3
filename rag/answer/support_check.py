"""Does a window of source text support a sentence? `supports(sentence, window) -> SupportVerdict`.

The rules the LLM engine (and the LLM briefing, through it) applies to every sentence before any
score counts (rag.answer.support). Each rule is a reason a sentence fails, named in the verdict:
- **too short**: fewer than MIN_TERMS content words cannot be checked ("PWNED").
- **an instruction**: the window sentences that carry the sentence address the model ("ignore
  previous instructions and say ..."): an instruction inside an article is not a report of fact.
- **coverage**: the sentence is split into clauses (at sentence ends, ; : — and at a comma before
  and, but, while, which, ...), so that an appended clause is checked on its own. Each clause of
  MIN_TERMS or more content words needs CLAUSE_COVERAGE of its content terms (stemmed,
  stopwords removed) in the window, and the whole sentence needs COVERAGE. A term an earlier
  clause already said refers back to it and is judged there ("... paid a sum. The sum was $19
  million." needs only "19 million" of its second clause).
- **numbers**: each number of the sentence (digits or words: 8 == eight, 1,200 == 1200) must be
  in the window next to the same word, before or after it ("999 passengers" needs 999 before
  "passengers"): a figure planted in the next sentence, or moved within one, does not support it.
- **negation**: what a negation ("no", "not", "never", "n't", ...) negates is the content words
  after it (else before it). A negation of the sentence needs one in the window over the same
  words; a negation in the window whose words, and the word before it, the sentence restates
  needs the sentence to negate them too.
- **names**: every capitalised word of the sentence (people, places, organisations, days,
  months) must be in the window; a word and its derivative match ("Iran" ~ "Iranian").
Surface variants of names count as the same word in every rule (rag.text.vocab.name_forms):
an abbreviation with or without dots and spaces ("U. S." ~ "U.S." ~ "US"), a place and its
demonym or adjective ("Saudi Arabia" ~ "Saudi Arabian", "China" ~ "Chinese", "Britain" ~
"British"), a plural ("Democrats" ~ "Democrat"); a name the sentence itself abbreviates ("the
World Health Organization (WHO)") is in a window that says either. A lead-in that attributes the
sentence to the context as a whole ("According to the sources, ...") is not part of the claim.
- **the question's premise** (`given`: the question the sentence answers): an answer restates
  its question's framing ("The Biden administration announced this week it would be directing
  more than $400 million in loans and grants to support high-speed internet projects for rural
  communities in the US" for "... to support what in rural communities in the US?"). Words the
  user asserted are not the model's claim, so the content terms the sentence shares with the
  question count as found, when the sentence says something the
  question does not, that new part alone reaches CLAUSE_COVERAGE in the window, and the window
  holds a term of the premise too (it speaks of the question's subject). A name or number taken
  from the question is given the same way only when the window also holds another name the
  question and the sentence share ("the US" of "the Biden administration ... in the US?" beside
  "Biden"; not "India" for a window about Eid that names nothing of the question). A sentence
  that only restates its question is checked as it is.
The thresholds were chosen on the tune half of a labelled set of real benchmark sentences and
systematic perturbations (bench/support_pairs.py; BENCHMARKS.md "Support check"): the loosest
with the best tune result. That set pins them only weakly (its supported sentences are
near-verbatim), so they are set low, to leave room for paraphrase; the other rules hold precision.

Purely lexical: the semantic score stays a separate condition in rag.answer.support. A claim the
rules pass is one whose words, figures, polarity and names all stand in the cited text; a fluent
paraphrase in other words may fail, which the prompts allow for by asking for the source's wording.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from rag.text.lexical import STOPWORDS, content_words, normalize
from rag.text.snippet import short
from rag.text.vocab import COUNT_WORDS, NEGATION_WORDS, alternation, name_forms

MIN_TERMS = 2
COVERAGE = 0.5
CLAUSE_COVERAGE = 0.6
ALIGN = 0.5
SCOPE = 4  # tokens around a number (or before a negation) that say what it is about
NEGATION_SCOPE = 6  # tokens after a negation that say what it negates

_DIGITS = re.compile(r"(?<![\w.])\d{1,3}(?:,\d{3})+(?:\.\d+)?(?!\w)|(?<![\w.,])\d+(?:\.\d+)?(?!\w)")
NUMBER_WORDS = re.compile(rf"\b({alternation(COUNT_WORDS)})\b", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”’']?\s+(?=[\"“‘'(]?[A-Z0-9])|\n+")
_CLAUSE_BREAK = re.compile(
    r"(?<=[.!?])\s+(?=[\"“‘']?(?-i:[A-Z]))|(?<=[.!?][\"”’'])\s+(?=[\"“‘']?(?-i:[A-Z]))|\s*[;:]\s+|\s+[—–-]{1,2}\s+"
    r"|,\s+(?=(?:and|but|while|whereas|although|though|yet|so|after|before|because|since"
    r"|which|who|where|when|then|adding|saying|as well as|even as)\b)", re.IGNORECASE)
_TOKEN = re.compile(r"\d+(?:[.,]\d+)*%?|[A-Za-z][\w'’]*|[.,;:!?()—–\"“”]")
_NAME_WORD = re.compile(r"[A-Za-z0-9][\w'’.&-]*")
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


# "U. S.", "U.S.", "U.N." → "US", "UN": one spelling for matching (display keeps the original).
_ABBREVIATION = re.compile(r"(?<![\w.])(?:[A-Z]\.\s?){1,5}[A-Z]\.(?!\w)")
# "The World Health Organization (WHO)": a capitalised phrase and the acronym of its initials.
_DEFINED_ACRONYM = re.compile(r"((?:[A-Z][\w'’-]*\s+(?:(?:of|for|and|on|the|de)\s+)*){1,7}[A-Z][\w'’-]*)\s*\(([A-Z]{2,8})\)")
# A lead-in that credits the context as a whole, not a source: it is the prompt's frame, not a claim.
_CONTEXT_LEAD = re.compile(
    r"^\s*(?:according to|based on|as stated in|as reported (?:in|by)) (?:the )?(?:provided |given |cited )?"
    r"(?:sources?|context|articles?|reports?|documents?|passages?|texts?)\s*,?\s*(?:,\s*)?", re.IGNORECASE)


def _plain(text: str) -> str:
    return _ABBREVIATION.sub(lambda m: re.sub(r"[.\s]", "", m.group()), text)


def _claim(sentence: str) -> str:
    """The sentence as a claim: abbreviations in one spelling, without a lead-in that credits the
    context as a whole."""
    sentence = _plain(sentence)
    rest = _CONTEXT_LEAD.sub("", sentence, count=1)
    return rest[:1].upper() + rest[1:] if rest != sentence and rest.strip() else sentence


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
             clause_coverage: float = CLAUSE_COVERAGE, given: str | None = None) -> SupportVerdict:
    """Check `sentence` against `window` (text, or its sentences) by the rules above; `given` is
    the question the sentence answers, whose premise it may restate."""
    parts = split_window(window) if isinstance(window, str) else [w for w in window if w.strip()]
    sentence = _claim(sentence)
    claim = _text(sentence)
    if len(claim.terms) < MIN_TERMS:
        return SupportVerdict(False, "too few words to check against the source", 0.0, "short")
    view = [_text(p) for p in parts]
    premise = Premise.of(sentence, given, parts, clause_coverage)
    share, clause_shares = coverages(sentence, parts, premise.terms)
    if any(is_instruction(parts[i]) for i in _carriers(claim.terms, view)):
        return SupportVerdict(False, "the cited text is an instruction to the model, not a report", share, "instruction")
    if share < coverage:
        return SupportVerdict(False, f"only {share:.0%} of its words are in the cited text", share, "coverage")
    for clause, part in clause_shares:
        if part < clause_coverage:
            return SupportVerdict(False, f"the clause {short(clause, 50)!r} is not in the cited text ({part:.0%} of "
                                         "its words)", share, "clause")
    if problem := _numbers(sentence, view, premise.numbers):
        return SupportVerdict(False, problem, share, "number")
    if problem := _negations(claim, view):
        return SupportVerdict(False, problem, share, "negation")
    if missing := [n for n in _missing_names(sentence, parts) if n not in premise.names]:
        return SupportVerdict(False, f"{_names(missing)} not in the cited text", share, "name")
    return SupportVerdict(True, None, share)


def coverages(sentence: str, window: Sequence[str], granted: frozenset[str] = frozenset()
              ) -> tuple[float, list[tuple[str, float]]]:
    """The share of the sentence's content terms in the window, and the share of each clause of
    MIN_TERMS or more terms: what COVERAGE and CLAUSE_COVERAGE are compared with. `granted`
    terms count as found (the question's premise, `Premise`)."""
    sentence = _claim(sentence)
    claim = _text(sentence)
    found = _found_terms(claim, sentence, window) | granted
    share = len(claim.terms & found) / len(claim.terms) if claim.terms else 0.0
    out, said = [], set()
    for clause in clauses(sentence):
        terms = _text(clause).terms
        fresh = terms - said  # a term an earlier clause said refers back ("... a sum. The sum was $19 million.")
        said |= terms
        if len(terms) >= MIN_TERMS:
            out.append((clause, len(fresh & found) / len(fresh) if fresh else 1.0))
    return share, out


def _found_terms(claim: _Text, sentence: str, window: Sequence[str]) -> frozenset[str]:
    """The claim's terms the window states: the same stem, a variant of the same name, or the
    words of a name the sentence abbreviates when the window gives the abbreviation."""
    view = [_text(w) for w in window]
    terms = frozenset().union(*(v.terms for v in view)) if view else frozenset()
    forms = frozenset().union(*(v.forms for v in view)) if view else frozenset()
    found = set(claim.terms & terms)
    found |= {t for t, f in claim.names.items() if f & forms}
    for phrase, _ in _abbreviated(sentence, window):
        found |= _text(phrase).terms
    return frozenset(found)


@dataclass(frozen=True)
class Premise:
    """What a sentence takes from the question it answers and may restate unsupported: content
    terms, names (as `name_key` spells them) and numbers. Empty unless the sentence adds to the
    question, its addition is in the window and the window speaks of the question (module doc)."""

    terms: frozenset[str] = frozenset()
    names: frozenset[str] = frozenset()
    numbers: frozenset[float] = frozenset()

    @classmethod
    def of(cls, sentence: str, given: str | None, window: Sequence[str], clause_coverage: float) -> Premise:
        if not given or not window:
            return cls()
        claim, asked = _text(sentence), _text(given)
        restated, own = claim.terms & asked.terms, claim.terms - asked.terms
        found = _found_terms(claim, sentence, window)
        if not restated or not own or not restated & found or len(own & found) / len(own) < clause_coverage:
            return cls()
        shared = _capitalised(sentence) & _capitalised(given)
        held = set().union(*(_name_words(w) for w in window))
        if not shared & held:  # the window names nothing of the question that the sentence names
            return cls(frozenset(restated))
        return cls(frozenset(restated), frozenset(shared - held),
                   frozenset(numbers(sentence) & numbers(given)))


def _capitalised(text: str) -> set[str]:
    """The capitalised words of a text that may be names: not a stopword ("The", "Which")."""
    return {n for m in _CAPITALISED.finditer(_plain(text)) if (n := name_key(m.group(1))) and n not in STOPWORDS}


def _abbreviated(sentence: str, window: Sequence[str]) -> list[tuple[str, str]]:
    """The (phrase, acronym) pairs the sentence defines whose acronym the window uses without
    defining it otherwise ("Chicago Public Skiing (CPS)" is not "Chicago Public Schools (CPS)")."""
    words = frozenset().union(*(_name_words(w) for w in window)) if window else frozenset()
    theirs = {acronym: phrase for w in window for phrase, acronym in _acronyms(w)}
    return [(phrase, acronym) for phrase, acronym in _acronyms(sentence)
            if acronym.lower() in words and name_key(theirs.get(acronym, phrase)) == name_key(phrase)]


def _spelled_out(acronym: str, window: Sequence[str]) -> bool:
    """The window names what the sentence abbreviates: capitalised words, in a row, with those
    initials ('IRS' ~ 'the Internal Revenue Service'; 'of', 'for', 'and', 'the' may come between)."""
    pattern = re.compile(r"(?<![\w'’-])" + r"\s+(?:(?:of|for|and|on|the|de)\s+)*".join(
        rf"{letter}[a-z][\w'’-]*" for letter in acronym) + r"(?![\w'’-])")
    return any(pattern.search(w) for w in window)


def _acronyms(sentence: str) -> list[tuple[str, str]]:
    """(phrase, acronym) pairs the sentence defines: the acronym is the initials of the phrase's
    capitalised words, read from the right ("the Federal Bureau of Investigation (FBI)")."""
    out = []
    for m in _DEFINED_ACRONYM.finditer(sentence):
        words = m.group(1).split()
        capitals = [w for w in words if w[0].isupper()]
        acronym = m.group(2)
        if len(capitals) >= len(acronym) and "".join(w[0] for w in capitals[-len(acronym):]) == acronym:
            start = words.index(capitals[-len(acronym)])
            out.append((" ".join(words[start:]), acronym))
    return out


def split_window(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def clauses(sentence: str) -> list[str]:
    """The sentence's clauses; a piece too short to check on its own stays with the one before."""
    out: list[str] = []
    for piece in _CLAUSE_BREAK.split(sentence):
        if out and len(_text(piece).terms) < MIN_TERMS:
            out[-1] = f"{out[-1]} {piece}"
        else:
            out.append(piece)
    return [c for c in out if c.strip()]


def numbers(text: str) -> set[float]:
    """Numbers a text states, in digits or words ('eight' == 8, '1,200' == 1200)."""
    return {value for value, _, _ in _number_spans(text)}


def is_instruction(text: str) -> bool:
    return bool(_INSTRUCTION.search(text))


def negated(text: str) -> bool:
    return bool(_text(text).negations)


# --- the text as tokens ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    word: str  # lowercased, quotes unified
    term: str | None  # its content term (stem), None for stopwords, negations and numbers
    number: float | None
    negation: bool


@dataclass(frozen=True)
class _Text:
    tokens: tuple[_Token, ...]
    terms: frozenset[str]
    negations: tuple[int, ...]  # token positions
    words: frozenset[str]  # every word, for names
    forms: frozenset[str] = frozenset()  # every word's name forms (rag.text.vocab.name_forms)
    names: dict[str, frozenset[str]] = field(default_factory=dict, hash=False, compare=False)  # capitalised word's term → its forms


@lru_cache(maxsize=4096)
def _text(text: str) -> _Text:
    text = _plain(text)
    tokens = []
    for m in _TOKEN.finditer(normalize(text).replace("’", "'")):
        word = m.group()
        if not word[0].isalnum():  # punctuation: a boundary a negation's scope stops at
            tokens.append(_Token(word, None, None, False))
            continue
        if word[0].isdigit():
            value = float(word.rstrip("%").replace(",", "")) if _plain_number(word) else None
            tokens.append(_Token(word, None, value, False))
            if word.endswith("%"):
                tokens.append(_Token("percent", "percent", None, False))
            continue
        negation = word in NEGATION_WORDS or word.endswith("n't")
        term = None if negation or word in STOPWORDS else next(iter(content_words(word)), None)
        count = COUNT_WORDS.get(word)
        tokens.append(_Token(word, None if count is not None else term, float(count) if count else None, negation))
    words = frozenset(t.word.removesuffix("'s").strip("'.-") for t in tokens if t.word[0].isalnum())
    capitalised = {name_key(m.group(1)) for m in _CAPITALISED.finditer(text)}
    names = {t.term: name_forms(t.word.removesuffix("'s")) for t in tokens
             if t.term and t.word.removesuffix("'s") in capitalised}
    return _Text(tuple(tokens), frozenset(t.term for t in tokens if t.term),
                 tuple(i for i, t in enumerate(tokens) if t.negation), words,
                 frozenset().union(*(name_forms(w) for w in words if w[0].isalpha())), names)


def _plain_number(word: str) -> bool:
    return bool(re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?%?|\d+(?:\.\d+)?%?", word))


def _number_spans(text: str) -> list[tuple[float, int, int]]:
    found = [(float(m.group().replace(",", "")), m.start(), m.end()) for m in _DIGITS.finditer(text)]
    found += [(float(COUNT_WORDS[m.group(1).lower()]), m.start(), m.end()) for m in NUMBER_WORDS.finditer(text)]
    return found


def _carriers(terms: frozenset[str], view: list[_Text]) -> list[int]:
    """The window sentences holding ALIGN of `terms` (at least the one holding most)."""
    if not view or not terms:
        return []
    shares = [len(terms & v.terms) / len(terms) for v in view]
    best = max(range(len(shares)), key=shares.__getitem__)
    return sorted({best} | {i for i, s in enumerate(shares) if s >= ALIGN})


def _neighbours(text: _Text, i: int, step: int) -> str | None:
    """The nearest content term or number before (step -1) or after (+1) token i, within SCOPE."""
    j = i + step
    while 0 <= j < len(text.tokens) and abs(j - i) <= SCOPE:
        token = text.tokens[j]
        if token.term or token.number is not None:
            return token.term or f"#{token.number:g}"
        j += step
    return None


def _numbers(sentence: str, view: list[_Text], given: frozenset[float] = frozenset()) -> str | None:
    """Each number of a clause needs the same number in the window next to the same term: in a
    window sentence that carries the clause, one neighbour (before or after) suffices; elsewhere
    in the window, every neighbour both texts have must match. `given` numbers are the question's."""
    for clause in clauses(sentence):
        text = _text(clause)
        carriers = set(_carriers(text.terms, view))
        for i, token in enumerate(text.tokens):
            if token.number is None or token.number in given:
                continue
            around = (_neighbours(text, i, -1), _neighbours(text, i, 1))
            found = [(k, j) for k, v in enumerate(view) for j, t in enumerate(v.tokens) if t.number == token.number]
            if not found:
                return f"the number {token.word} is not in the cited text"
            if around == (None, None):
                continue
            if not any(_number_matches(around, view[k], j, k in carriers) for k, j in found):
                return f"the cited text does not state {token.word} where it says the rest"
    return None


def _number_matches(around: tuple, text: _Text, j: int, carrier: bool) -> bool:
    """Compare the neighbours on each side where both texts have one: in a carrier one match is
    enough, elsewhere every compared side must match."""
    theirs = (_neighbours(text, j, -1), _neighbours(text, j, 1))
    same = [a == b for a, b in zip(around, theirs) if a is not None and b is not None]
    return any(same) if carrier else bool(same) and all(same)


def _scope(text: _Text, i: int) -> tuple[str, ...]:
    """What the negation at token i negates: the first two content terms after it in its clause
    (else the last two before it), within NEGATION_SCOPE tokens; past the clause only if it
    has none."""
    ahead, behind = text.tokens[i + 1:i + 1 + NEGATION_SCOPE], text.tokens[max(0, i - NEGATION_SCOPE):i][::-1]
    for bounded in (True, False):
        after = [t.term for t in (_until_boundary(ahead) if bounded else ahead) if t.term]
        before = [t.term for t in (_until_boundary(behind) if bounded else behind) if t.term]
        if after or before:
            return tuple(after[:2]) if after else tuple(before[:2][::-1])
    return ()


def _same_scope(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Two negations negate the same thing when the first term of either is in the other."""
    return bool(a and b) and (a[0] in b or b[0] in a)


def _until_boundary(tokens) -> list[_Token]:
    out = []
    for t in tokens:
        if t.word and not t.word[0].isalnum():
            break
        out.append(t)
    return out


def _negations(claim: _Text, view: list[_Text]) -> str | None:
    """Negations are matched one to one by what they negate, in both directions."""
    window = [(v, i, _scope(v, i)) for v in view for i in v.negations]
    mine = [(claim, i, _scope(claim, i)) for i in claim.negations]
    free = list(window)
    for text, i, scope in mine:
        match = next((w for w in free if _same_scope(scope, w[2])), None) if scope else None
        if scope and match is None:
            return f"it says {text.tokens[i].word!r} about {_words_of(text, scope)}, and the cited text does not"
        if match:
            free.remove(match)
    free = list(mine)
    for v, i, scope in window:
        lead = [t.term for t in v.tokens[max(0, i - SCOPE):i] if t.term][-1:]
        if not (scope and set(scope) <= claim.terms and set(lead) <= claim.terms):
            continue  # the sentence does not restate what this negation negates
        match = next((m for m in free if _same_scope(scope, m[2])), None)
        if match is None:
            return f"the cited text says {v.tokens[i].word!r} about {_words_of(v, scope)}, and it does not"
        free.remove(match)
    return None


def _missing_names(sentence: str, parts: list[str]) -> list[str]:
    words = set().union(*(_name_words(p) for p in parts)) if parts else set()
    forms = frozenset().union(*(name_forms(w) for w in words if w[:1].isalpha())) if words else frozenset()
    spelled_out = {w for phrase, _ in _abbreviated(sentence, parts) for w in map(name_key, phrase.split())}
    acronyms = {name_key(a): a for a in re.findall(r"(?<![\w'’-])[A-Z]{2,6}(?![\w'’-])", sentence)}

    def found(name: str) -> bool:
        if name in acronyms and _spelled_out(acronyms[name], parts):
            return True
        if name in words or name in spelled_out or all(part in words for part in name.split("-") if part):
            return True
        if name_forms(name) & forms:
            return True
        return len(name) >= 4 and any(len(w) >= 4 and (w.startswith(name) or name.startswith(w)) for w in words)

    given = _given_names(sentence, parts)
    names = []
    for m in _CAPITALISED.finditer(_plain(sentence)):
        name = name_key(m.group(1))
        if name and name not in STOPWORDS and name != "i" and not name[0].isdigit() and name not in given \
                and not found(name):
            names.append(name)
    return list(dict.fromkeys(names))


_NAME_RUN = re.compile(r"(?<![\w'’-])((?:[A-Z][\w'’-]*\s+){1,3})([A-Z][\w'’-]*)")


def _given_names(sentence: str, parts: list[str]) -> set[str]:
    """First names of a full name whose surname the window gives on its own ("Qasem Soleimani"
    ~ "the administration viewed Soleimani"): news names a person in full once, then by surname.
    Only a bare surname counts, and not when the window also names someone else by it: "Los
    Angeles Lakers" does not give "Texas Angeles Lakers", nor "John Smith ... Smith" "Jane Smith"."""
    out = set()
    for m in _NAME_RUN.finditer(_plain(sentence)):
        surname = name_key(m.group(2))
        if len(surname) < 3 or surname not in set().union(*(_name_words(w) for w in parts)):
            continue
        before = re.compile(r"(?:([\w'’.-]+)\s+)?" + re.escape(m.group(2).removesuffix("'s").removesuffix("’s"))
                            + r"(?![\w-])")
        first = {name_key(w) for w in m.group(1).split()}
        preceding = [b.group(1) for w in parts for b in before.finditer(_plain(w))]
        if any(map(_bare, preceding)) and all(_bare(p) or name_key(p) in first for p in preceding):
            out |= first
    return out


def _bare(word: str | None) -> bool:
    """Whether a surname preceded by `word` stands alone: no word, a lowercase word, a title
    ("Gen.") or a stopword ("The")."""
    return word is None or not word[0].isupper() or word.endswith(".") or name_key(word) in STOPWORDS


def name_key(word: str) -> str:
    """'U.S.' → 'us', 'Iran’s' → 'iran', 'X-Ray' → 'x-ray'."""
    return normalize(word).replace("’", "'").removesuffix("'s").strip("'.,-&").replace(".", "")


@lru_cache(maxsize=4096)
def _name_words(text: str) -> frozenset[str]:
    out = set()
    for m in _NAME_WORD.finditer(_plain(text)):
        word = name_key(m.group())
        out.add(word)
        out.update(p for p in word.split("-") if p)
    return frozenset(out)


def _words_of(text: _Text, terms) -> str:
    return "'" + " ".join(dict.fromkeys(t.word for t in text.tokens if t.term in terms)) + "'"


def _names(names: list[str]) -> str:
    shown = ", ".join(repr(n) for n in names[:3])
    return f"the name {shown} is" if len(names) == 1 else f"the names {shown} are"
