"""The one word tokenizer shared by BM25, cleaning and answer scoring."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_TOKEN = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")

STOPWORDS = frozenset("""
a about above after again against all also am an and any are aren't as at be because been before
being below between both but by can can't cannot could couldn't did didn't do does doesn't doing
don't down during each few for from further had hadn't has hasn't have haven't having he he'd he'll
he's her here here's hers herself him himself his how how's i i'd i'll i'm i've if in into is isn't
it it's its itself let's me more most mustn't my myself no nor not of off on once only or other ought
our ours ourselves out over own same shan't she she'd she'll she's should shouldn't so some such than
that that's the their theirs them themselves then there there's these they they'd they'll they're
they've this those through to too under until up very was wasn't we we'd we'll we're we've were
weren't what what's when when's where where's which while who who's whom why why's will with won't
would wouldn't you you'd you'll you're you've your yours yourself yourselves s t just now says said
say according one
""".split())


LEXICAL_VERSION = "2"

# Irregular past forms the Snowball stemmer leaves alone ("withheld" would never match
# "withhold"). Ambiguous forms (left, found, ground, wound, bit) are deliberately absent.
_IRREGULAR = {past: base for base, forms in (
    ("tell", "told"), ("write", "wrote written"), ("take", "took taken"), ("give", "gave given"),
    ("make", "made"), ("go", "went gone"), ("come", "came"), ("see", "saw seen"), ("know", "knew known"),
    ("think", "thought"), ("bring", "brought"), ("buy", "bought"), ("fight", "fought"), ("catch", "caught"),
    ("teach", "taught"), ("seek", "sought"), ("hold", "held"), ("withhold", "withheld"), ("uphold", "upheld"),
    ("lead", "led"), ("flee", "fled"), ("meet", "met"), ("keep", "kept"), ("feel", "felt"), ("mean", "meant"),
    ("send", "sent"), ("spend", "spent"), ("build", "built"), ("lose", "lost"), ("shoot", "shot"),
    ("strike", "struck"), ("steal", "stole stolen"), ("speak", "spoke spoken"), ("break", "broke broken"),
    ("choose", "chose chosen"), ("freeze", "froze frozen"), ("rise", "rose risen"), ("drive", "drove driven"),
    ("hide", "hid hidden"), ("eat", "ate eaten"), ("fall", "fell fallen"), ("begin", "began begun"),
    ("run", "ran"), ("win", "won"), ("sing", "sang sung"), ("drink", "drank drunk"), ("throw", "threw thrown"),
    ("grow", "grew grown"), ("fly", "flew flown"), ("blow", "blew blown"), ("draw", "drew drawn"),
    ("wear", "wore worn"), ("swear", "swore sworn"), ("forgive", "forgave forgiven"),
    ("forget", "forgot forgotten"), ("get", "got gotten"), ("hang", "hung"), ("sell", "sold"),
    ("sit", "sat"), ("stand", "stood"), ("understand", "understood"), ("pay", "paid"), ("lay", "laid"),
    ("hear", "heard"), ("become", "became"), ("shake", "shook shaken"), ("wake", "woke woken"),
    ("slide", "slid"), ("spin", "spun"), ("dig", "dug"), ("light", "lit"), ("sink", "sank sunk"),
    ("swim", "swam swum"), ("tear", "tore torn"), ("bear", "bore borne"), ("arise", "arose arisen"),
    ("overcome", "overcame"), ("undertake", "undertook undertaken"), ("withdraw", "withdrew withdrawn"),
    ("forbid", "forbade forbidden"), ("mislead", "misled"), ("overthrow", "overthrew overthrown"),
) for past in forms.split()}


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    return _stemmer().stemWord(word)


_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


def _drop_combining(match: re.Match) -> str:
    return "".join(c for c in match.group() if not unicodedata.combining(c))


def normalize(text: str) -> str:
    """Lowercase, strip accents, unify quotes, for matching (never for display)."""
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        # Only the non-ASCII runs are looked at: news text is mostly ASCII with a few curly quotes,
        # and a test of every character was two fifths of a bulk ingest's CPU.
        text = _NON_ASCII.sub(_drop_combining, text)
    return text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"').lower()


def words(text: str) -> list[str]:
    return _TOKEN.findall(normalize(text))  # normalize has made every ’ a '


_TERMS: dict[str, str] = {}  # word → its term ("" for none): one lookup per word of a bulk ingest
_MAX_TERMS = 500_000


def _term(word: str) -> str:
    if word.endswith("'s"):
        word = word[:-2]
    return stem(_IRREGULAR.get(word, word)) if word and word not in STOPWORDS else ""


def content_words(text: str) -> list[str]:
    """Stemmed words without stopwords, possessive 's removed: the terms that carry meaning."""
    if len(_TERMS) > _MAX_TERMS:
        _TERMS.clear()
    out = []
    for word in words(text):
        term = _TERMS.get(word)
        if term is None:
            term = _TERMS[word] = _term(word)
        if term:
            out.append(term)
    return out


@lru_cache(maxsize=65_536)
def term_set(text: str) -> frozenset[str]:
    """A text's distinct content terms, cached: answers read the same retrieved sentences many
    times (and a warm process again for related questions), and tokenising them was the answer
    stage's largest cost."""
    return frozenset(content_words(text))
