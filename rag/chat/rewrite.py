"""Follow-up questions rewritten into standalone ones before retrieval.

"When was he born?" retrieves nothing useful on its own: the person is in the conversation, not
in the question. A follow-up is rewritten from the previous turn (its standalone question and
its answer) and then answered as any question; the Answer carries the rewrite as `rewritten`.

The gate decides whether a question needs the conversation at all, and both engines use it:
- ellipsis: "what/how about X?", "and the X?", "and in X?", or a bare fragment with no verb
  ("In 2021?") continue the previous question;
- a third-person pronoun (he, she, it, they and their forms) with no antecedent in the question
  itself: nothing before the pronoun that could name what it refers to (a capitalised name, or
  a noun after "the/a/an/this"). "What did the president say about his plan?" stays as it is;
  so does an expletive "it" ("how long did it take to ...", "is it true that ...").
A question the gate passes is left exactly as typed.

The extractive engine rewrites deterministically (`rewrite_from`): a pronoun becomes the
previous turn's subject (a person pronoun prefers the person the previous answer named when
the previous question asked who; "his/her/its/their" become "X's"); ellipsis puts the new
subject in place of the previous question's subject, or adds the fragment to it. The LLM engine
asks the model (rag/prompts/rewrite.md) and falls back to the deterministic rewrite when the
reply is not one question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.models import Turn
from rag.text.vocab import AUXILIARY_VERBS, CALENDAR_WORDS

_PERSONAL = {"he", "she", "him", "her", "his", "hers", "himself", "herself"}
_THING = {"it", "its", "itself"}
_GROUP = {"they", "them", "their", "theirs", "themselves"}
_POSSESSIVE = {"his", "its", "their", "theirs", "hers"}
_PRONOUN = re.compile(r"\b(" + "|".join(sorted(_PERSONAL | _THING | _GROUP, key=len, reverse=True)) + r")\b",
                      re.IGNORECASE)
_ELLIPSIS = re.compile(r"^\s*(?:and\s+)?(?:what|how)\s+about\s+(?P<rest>.+?)\s*[?.!]*\s*$", re.IGNORECASE)
_AND = re.compile(r"^\s*and\s+(?P<rest>(?:the|in|on|at|for|from|by|with|during|after|before|since)\b.+?)\s*[?.!]*\s*$",
                  re.IGNORECASE)
# Inside a question "may" is the verb ("May I ..."), never the month the shared list guards against.
_AUXILIARY = frozenset(AUXILIARY_VERBS) | {"may"}
_AUXILIARY_ALTERNATION = "|".join(sorted(_AUXILIARY))
_QUESTION_OPENERS = {"who", "whom", "whose", "what", "which", "when", "where", "why", "how"}
_WH = re.compile(rf"^\s*({'|'.join(sorted(_QUESTION_OPENERS))}|{_AUXILIARY_ALTERNATION})\b", re.IGNORECASE)
_PREPOSITION = re.compile(r"^\s*(in|on|at|for|from|by|with|during|after|before|since)\b", re.IGNORECASE)
# "it" that refers to nothing: "how long did it take", "is it true", "it is expected that".
_EXPLETIVE = re.compile(r"\bit['’]s\b|\b(?:is|was|will be|would be)\s+it\s+\w+\s+to\b|\bit\s+is\s+not\b|\bit\s+(?:take|took|takes|cost|costs|mean|means|rain|rained|snow|snowed)\b|"
                        r"\b(?:is|was|will|would|does|did)\s+it\s+(?:true|possible|likely|safe|legal|take|cost|mean)\b|"
                        r"\bit\s+(?:is|was|has been|will be)\s+(?:expected|reported|said|believed|likely|possible|"
                        r"true|estimated|thought|unclear|time)\b", re.IGNORECASE)
_DETERMINER = re.compile(r"\b(?:the|a|an|this|that|these|those)\s+[A-Za-z]", re.IGNORECASE)
_INNER_NAME = re.compile(r"(?<=\S\s)[A-Z][A-Za-z]")
_OBJECT = {"him", "them"}  # "her" is as often possessive: read as one
_NOMINATIVE = {"he", "she", "it", "they"}
_CLAUSE = re.compile(r",|[.?!:;](?=\s)|\b(?:and|but|that|who|which|whose|when|while|after|before|because|since|said|says|told|tells|as)\b",
                     re.IGNORECASE)
_WH_NOUN = re.compile(rf"^\s*(?:what|which|whose|how many|how much)\s+(?!(?:{_AUXILIARY_ALTERNATION})\b)[A-Za-z]",
                      re.IGNORECASE)
_OPENING_PHRASE = re.compile(r"^\s*(?:in|on|at|for|during|after|before|with)\s+(?:his|her|its|their)\b", re.IGNORECASE)
_NOT_SUBJECT = _QUESTION_OPENERS | _AUXILIARY | {
    "and", "but", "so", "then", "also", "in", "on", "at", "for", "from", "with", "by", "during", "after", "before",
    "since", "tell", "say", "give", "list", "name", "explain", "describe", "true", "false"}
_NAME = re.compile(r"\b[A-Z][\w'’.-]*(?:\s+(?:of|de|the|al|bin|van|von)?\s*[A-Z][\w'’.-]*)*")
_TIME_NOUNS = {"year", "week", "month", "day", "time", "morning", "afternoon", "evening", "night", "weekend",
               "season", "quarter", "decade", "century"}
_THE_PHRASE = re.compile(r"\b(?:the)\s+((?:[A-Za-z0-9'’-]+\s+){0,3}?[A-Za-z][A-Za-z'’-]+)(?=\s+(?:of|in|on|at|for|"
                         r"to|that|which|who|was|were|is|are|has|have|had|did|does|will|would|near|from|by)\b|\s*[?.!,]|$)")
_QUESTION_WORDS = {"Who", "Whom", "Whose", "What", "Which", "When", "Where", "Why", "How", "Is", "Are", "Was", "Were",
                   "Do", "Does", "Did", "Has", "Have", "Had", "Can", "Could", "Will", "Would", "Should", "And", "In",
                   "On", "At", "The", "A", "An", "I", "According"}
_ORG_WORDS = {"Department", "Ministry", "Agency", "Company", "Inc", "Corp", "Party", "Council", "Court", "House",
              "Senate", "Congress", "Committee", "University", "Bank", "Hurricane", "Storm", "Typhoon", "Union",
              "Association", "Organization", "Office", "Service", "Administration", "Airlines", "Group", "Fund",
              "Network", "Club", "League", "Games", "Cup", "Act", "Bill", "Times", "News", "Post", "Island", "Bowl", "Bowls",
              "Series", "Open", "Olympics", "Championship", "Awards", "Festival", "Contest", "Prize", "Day",
              "Islands", "County", "City", "State", "States", "Republic", "Kingdom", "Park", "River", "Sea", "Ocean"}


@dataclass(frozen=True)
class Gate:
    """Why a question needs the conversation ('pronoun he', 'ellipsis'), or None: leave it."""

    reason: str | None
    pronoun: str | None = None

    @property
    def needed(self) -> bool:
        return self.reason is not None


def gate(question: str) -> Gate:
    """Does `question` depend on an earlier turn? (The same gate for both engines.)"""
    if _ELLIPSIS.match(question) or _AND.match(question):
        return Gate("ellipsis")
    if _fragment(question):
        return Gate("fragment")
    for m in _PRONOUN.finditer(question):
        word = m.group(1).lower()
        if word in _THING and _EXPLETIVE.search(question):
            continue
        if _has_antecedent(question, m.start()):
            return Gate(None)  # the question names what its pronouns refer to
        return Gate(f"pronoun {word}", word)
    return Gate(None)


def _has_antecedent(question: str, at: int) -> bool:
    """Something before the pronoun at `at` that it can refer to: a noun after a determiner or
    after "what/which", a capitalised name, or a subject opening the question ("Netflix says it ...").
    A possessive in an opening phrase refers ahead to a name ("In his new series, Bill Nye ...")."""
    prefix = question[:at]
    pronoun = question[at:].split()[0].lower().strip("?,.;:!") if question[at:].split() else ""
    # "how many people did it kill": the pronoun is the subject, after its auxiliary
    inverted = pronoun in _NOMINATIVE and (prefix.split() or [""])[-1].lower() in _AUXILIARY
    if pronoun in _OBJECT or inverted:
        # A pronoun cannot refer to the subject or object of its own clause ("where will the
        # winner eat with him", "how many rockers did it recall"): a noun phrase counts only
        # before a clause boundary (a name inside the clause still may: "the Warren Buffett
        # lunch auction ... with him").
        bounds = list(_CLAUSE.finditer(prefix))
        if pronoun in _OBJECT and _INNER_NAME.search(prefix):
            return True
        if not bounds:
            return False
        prefix = prefix[:bounds[-1].start()]
    if _DETERMINER.search(prefix) or _INNER_NAME.search(prefix):
        return True
    if _WH_NOUN.match(question) and len(prefix.split()) >= 2 and not inverted:
        return True
    if _OPENING_PHRASE.match(question) and _INNER_NAME.search(question[at:]):
        return True
    first = prefix.split()[0].lower().strip(",:;") if prefix.split() else ""
    return bool(first) and first not in _NOT_SUBJECT and _PRONOUN.fullmatch(first) is None


def _fragment(question: str) -> bool:
    """'In 2021?', 'And in Texas?': a short piece with no question word, continuing the last question."""
    text = re.sub(r"^\s*and\s+", "", question.strip(), flags=re.IGNORECASE)
    return bool(_PREPOSITION.match(text)) and len(text.split()) <= 5 and not _WH.match(text)


def rewrite_from(question: str, history: list[Turn]) -> str | None:
    """The standalone question, or None when the question needs no rewrite (or nothing to rewrite from)."""
    found = gate(question)
    if not found.needed or not history:
        return None
    previous = history[-1]
    before = previous.rewritten or previous.question
    if found.reason == "ellipsis":
        rest = (_ELLIPSIS.match(question) or _AND.match(question)).group("rest")
        return _continue(before, rest, previous)
    if found.reason == "fragment":
        fragment = re.sub(r"^\s*and\s+", "", question.strip(), flags=re.IGNORECASE).rstrip(" ?.!")
        return _append(before, fragment)
    referent = _referent(found.pronoun, previous)
    if referent is None:
        return None
    return _replace_pronouns(re.sub(r"^\s*and\s+(?=\w)", "", question, flags=re.IGNORECASE).capitalize()
                             if re.match(r"\s*and\s", question, re.IGNORECASE) else question, referent)


def _continue(before: str, rest: str, previous: Turn) -> str:
    """'What about X?' after a question about S: that question with X in place of S."""
    rest = rest.strip()
    if _PREPOSITION.match(rest):
        return _append(before, rest)
    head = rest.split()[-1].lower()
    same_kind = re.search(rf"\b(?:the|a|an|this|that)\s+(?:[\w'’-]+\s+){{0,2}}?{re.escape(head)}\b", before, re.IGNORECASE)
    if same_kind:  # "the 2022 auction" after "the 2019 auction": the same kind of thing, another one
        return before[:same_kind.start()] + rest + before[same_kind.end():]
    subject = _subject(previous, person=False)
    if subject and subject in before and rest[:1].isupper() == subject[:1].isupper():
        return before.replace(subject, rest, 1)
    return _append(before, f"for {rest}")


def _append(before: str, fragment: str) -> str:
    return f"{before.rstrip().rstrip('?.!').rstrip()} {fragment.strip()}?"


def _referent(pronoun: str, previous: Turn) -> str | None:
    if pronoun in _GROUP:  # "they" after "Where did Jennifer Lopez and Ben Affleck marry?": both of them
        names = _names(previous.rewritten or previous.question)
        for a, b in zip(names, names[1:]):
            if f"{a} and {b}" in (previous.rewritten or previous.question):
                return f"{a} and {b}"
    if pronoun in _GROUP:  # "they/them" after "how many rockets ...": the rockets
        counted = re.search(r"\bhow\s+many\s+((?:[a-z'’-]+\s+)?[a-z'’-]+s)\b", previous.rewritten or previous.question,
                            re.IGNORECASE)
        if counted:
            return "the " + counted.group(1)
    return _subject(previous, person=pronoun in _PERSONAL)


def _subject(previous: Turn, person: bool) -> str | None:
    """What the previous turn was about: for a person pronoun after a 'who' question, the person
    its answer names; else the previous question's first name, else its 'the X' phrase, else
    the answer's first name."""
    question = previous.rewritten or previous.question
    asked = _names(question)
    answered = [n for n in _names(previous.answer or "") if n not in asked and not any(n in a for a in asked)]
    if person:
        people = [n for n in answered if _person_like(n)] if re.match(r"\s*who\b", question, re.IGNORECASE) else []
        people += [n for n in asked if _person_like(n)] + [n for n in answered if _person_like(n)]
        if people:
            return people[0]
    # A thing: what the question mentions first, a name or a "the X" phrase ("the US embassy").
    # a possessor ("Sotheby's presale estimate for the fossil") modifies; it is rarely what "it" is
    mentions = [(question.find(n) + (1000 if re.search(rf"{re.escape(n)}['’]s\b", question) else 0), n) for n in asked]
    mentions += [(m.start(), "the " + m.group(1)) for m in _THE_PHRASE.finditer(question)
                 if m.group(1).split()[-1].lower() not in _TIME_NOUNS]
    if mentions:
        return min(mentions, key=lambda item: (item[0], -len(item[1])))[1]
    return answered[0] if answered else None


def _names(text: str) -> list[str]:
    out = []
    for m in _NAME.finditer(text):
        words = m.group().rstrip(".").split()
        while words and (words[0] in _QUESTION_WORDS or words[0] in CALENDAR_WORDS):
            words = words[1:]
        if not words:
            continue
        name = " ".join(words).removesuffix("'s").removesuffix("’s")
        if m.start() == 0 and len(words) == 1 and m.group().split()[0] == words[0]:
            continue  # a capitalised first word is not a name by itself
        if name not in out:
            out.append(name)
    return out


def _person_like(name: str) -> bool:
    words = name.split()
    return 2 <= len(words) <= 4 and not any(w.strip(".") in _ORG_WORDS for w in words)


def _replace_pronouns(question: str, referent: str) -> str:
    """Every third-person pronoun becomes the referent ('his' → "X's"); the first letter stays as typed."""
    def swap(m: re.Match) -> str:
        word = m.group(1).lower()
        if word in ("himself", "herself", "itself", "themselves"):
            return referent
        if word in _POSSESSIVE or (word == "her" and _possessive_her(question, m.end())):
            return referent + ("'" if referent.endswith("s") else "'s")
        return referent

    return _PRONOUN.sub(swap, question)


def _possessive_her(question: str, end: int) -> bool:
    """'her husband' (possessive) rather than 'ask her' (object): a word follows, not a preposition or the end."""
    following = question[end:].lstrip()
    word = re.match(r"[A-Za-z'’-]+", following)
    return bool(word) and word.group().lower() not in {"to", "in", "on", "at", "for", "from", "about", "with", "by",
                                                       "and", "or", "after", "before", "during", "when", "that", "if"}
