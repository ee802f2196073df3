"""The shared vocabulary of news text: months, weekdays, number words, verbs of speech.

Answers, briefings, support checks and eval matching all read these tables, so a word means the
same thing everywhere ("Mar." is March, "Maryland" is not; "billion" is a scale in every table).
"""

from __future__ import annotations

import re

# Month names and the abbreviations news style uses; "Sept" and "Sept." as well as "Sep".
MONTHS: dict[str, int] = {
    name: number
    for number, names in enumerate(
        [("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",),
         ("june", "jun"), ("july", "jul"), ("august", "aug"), ("september", "sept", "sep"),
         ("october", "oct"), ("november", "nov"), ("december", "dec")],
        start=1,
    )
    for name in names
}
MONTH_ABBREVIATIONS = frozenset("jan feb mar apr jun jul aug sep sept oct nov dec".split())

# A month as a whole word: a full name, or an abbreviation with an optional full stop. It never
# matches the start of a longer word ("Maryland", "Marco", "Junior", "Augusta", "Decatur").
MONTH_PATTERN = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December"
    r"|(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?)(?![\w'’-])"
)

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
WEEKDAY_PATTERN = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
MONTH_NAMES = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
               "october", "november", "december")
CALENDAR_WORDS = frozenset(w.capitalize() for w in (*WEEKDAYS, *MONTH_NAMES))
# The first three letters of each ("Jan", "Mon"): what every spelling of the name starts with.
MONTH_PREFIXES = tuple(m[:3].capitalize() for m in MONTH_NAMES)
WEEKDAY_PREFIXES = tuple(d[:3].capitalize() for d in WEEKDAYS)

# Number words: units and tens combine ("twenty-one"); scales multiply ("3 million").
UNIT_WORDS: dict[str, int] = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen".split())}
TENS_WORDS: dict[str, int] = {w: 10 * i for i, w in enumerate(
    "twenty thirty forty fifty sixty seventy eighty ninety".split(), start=2)}
SCALE_WORDS: dict[str, int] = {"hundred": 100, "thousand": 1_000, "million": 1_000_000,
                               "billion": 1_000_000_000, "trillion": 1_000_000_000_000}
# Single words that state a count on their own ("eight rockets", "a dozen", "hundred").
COUNT_WORDS: dict[str, int] = {
    **{w: v for w, v in UNIT_WORDS.items() if v}, **TENS_WORDS, "hundred": 100, "dozen": 12, "dozens": 24,
}

# Verbs that attribute words to a speaker ("..., Zarif said", "said Captain Urban").
SPEECH_VERBS = (
    "said", "says", "saying", "wrote", "writes", "added", "adds", "tweeted", "warned", "warns", "stated",
    "insisted", "argued", "announced", "declared", "noted", "explained", "replied", "claimed", "posted",
    "denied", "denies", "described",
)
# Nouns a question uses for the person or the place it asks about ("which tennis star",
# "which island nation"): the answer is a person's name, or a place's.
PERSON_NOUNS = (
    "person", "persons", "people", "man", "woman", "official", "officials", "leader", "leaders", "minister",
    "ministers", "president", "senator", "senators", "lawmaker", "lawmakers", "governor", "mayor", "judge",
    "justice", "star", "stars", "singer", "actor", "actress", "player", "players", "athlete", "champion",
    "coach", "designer", "author", "writer", "musician", "rapper", "artist", "celebrity", "comedian", "host",
    "guest", "ceo", "founder", "executive", "billionaire", "spokesman", "spokeswoman", "spokesperson",
    "commander", "general", "candidate", "politician", "monarch", "king", "queen", "prince", "princess",
    "pope", "member", "members", "siblings", "couple", "director", "chief", "head", "secretary", "ambassador",
)
PLACE_NOUNS = (
    "country", "countries", "nation", "state", "states", "city", "cities", "town", "village", "region",
    "province", "county", "island", "continent", "capital", "park", "base", "place", "location", "area",
    "airport", "port", "district", "territory", "borough", "neighbourhood", "neighborhood",
)

# Verbs whose subject speaks to an object: "X told Reuters" (X speaks, Reuters listens).
ADDRESS_VERBS = ("told", "tells", "telling")


def alternation(words) -> str:
    """A regex alternation of `words`, longest first so that "says" is not matched as "say"."""
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


def month_number(name: str) -> int | None:
    """'Sept.' → 9, 'march' → 3, 'Maryland' → None."""
    return MONTHS.get(name.lower().rstrip("."))

# Verbs that open a yes/no question ("Did the Fed raise rates?"); not "may", which is also a month.
AUXILIARY_VERBS = ("is", "are", "was", "were", "do", "does", "did", "has", "have", "had", "can", "could", "will",
                   "would", "should", "might", "must")

# Words that negate a clause ("no", "not", "never"...; "n't" is matched as a word ending). A
# negation a source does not carry, or one it carries that a restatement drops, flips the claim.
NEGATION_WORDS = frozenset({"no", "not", "never", "none", "nobody", "nothing", "neither", "nor", "without",
                            "cannot", "nowhere", "noone"})

# Names of places and their adjectives or demonyms ("Saudi Arabia" / "Saudi Arabian", "Iran" /
# "Iranians"): the regular endings below derive most; these are the ones they do not.
IRREGULAR_DEMONYMS: dict[str, str] = {
    "british": "britain", "briton": "britain", "britons": "britain", "french": "france", "dutch": "netherlands",
    "swiss": "switzerland", "filipino": "philippines", "filipinos": "philippines", "afghan": "afghanistan",
    "afghans": "afghanistan", "welsh": "wales", "greek": "greece", "greeks": "greece", "danish": "denmark",
    "dane": "denmark", "danes": "denmark", "norwegian": "norway", "norwegians": "norway", "peruvian": "peru",
    "finnish": "finland", "polish": "poland", "irish": "ireland", "scottish": "scotland", "scots": "scotland",
    "turkish": "turkey", "turks": "turkey", "spanish": "spain", "swedish": "sweden", "swedes": "sweden",
    "thai": "thailand", "english": "england", "icelandic": "iceland", "argentine": "argentina",
    "belgian": "belgium", "belgians": "belgium", "emirati": "emirates", "kiwi": "zealand",
}
DEMONYM_ENDINGS = ("ians", "ian", "ans", "an", "ese", "is", "i", "ish", "ns", "n", "s")
NAME_STEM_MIN = 4  # a shorter stem ("cub" of "Cuban") would match unrelated names


def name_forms(word: str) -> frozenset[str]:
    """The stems a name can share with its inflections and demonyms: 'arabian' → {arabian, arabia,
    arabi, arab}, 'iran' → {iran}. Two spellings name the same place or group when their forms
    meet ('Saudi Arabia' ~ 'Saudi Arabian', 'Ukraine' ~ 'Ukrainian', 'China' ~ 'Chinese')."""
    word = word.lower()
    bases = {word, IRREGULAR_DEMONYMS.get(word, word)}
    bases |= {word[: -len(e)] for e in DEMONYM_ENDINGS if word.endswith(e) and len(word) - len(e) >= NAME_STEM_MIN}
    forms = set(bases)
    forms |= {b[:-1] for b in bases if b[-1:] in "aeiouy" and len(b) > NAME_STEM_MIN}
    return frozenset(f for f in forms if len(f) >= NAME_STEM_MIN or f == word)
