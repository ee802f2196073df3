"""Page furniture that survives line cleaning: what a sentence span is, when it is not a statement.

The cleaner (rag/text/clean.py) drops whole lines that are certainly furniture. What it keeps can
still be a headline, a question-shaped subhead, a photo caption or credit, video/ad/newsletter
furniture, a related link or a timestamp. Those stay in the text, in the chunks and in
`rag show --raw`, but their `Sentence.kind` says what they are, and the contract every engine
relies on is: only `kind == "sentence"` is a statement that may be an answer, a key fact, a
quote or a timeline entry.

Kinds (besides "sentence" and the splitter's "heading", a short unpunctuated line):
- headline: the article's title repeated in its text;
- subhead: a paragraph that is one short question ("What happens next?");
- caption: a photo caption or credit ("Photos: …", "In pictures: …", "Name/Getty Images A man …");
- promo: video, ad, newsletter, subscription, disclosure and "read more" furniture;
- links: related links (a URL, "More AP tennis: …", a "Label:Headline" run together);
- timestamp: an update or publication time, or a video's running time and source.
Each rule was found on, and is tested against, labelled lines of the 2,210 benchmark articles
(tests/test_furniture_bench.py); none names an article.
"""

from __future__ import annotations

import re

from rag.text.clean import AGENCIES
from rag.text.lexical import words
from rag.text.vocab import MONTH_PATTERN

FURNITURE_VERSION = "2"
FURNITURE_KINDS = ("headline", "subhead", "caption", "promo", "links", "timestamp")

_WORD = re.compile(r"[\w'’]+")
_CAPTION_PREFIX = re.compile(r"^\s*(photos?|gallery|in pictures|pictured|slideshow|watch|video)\s*:", re.IGNORECASE)
# "Adnan Abidi/Reuters People help …", "Stringer/EPA-EFE/Shutterstock Afghans …": a credit run into its caption.
_CREDIT_LEAD = re.compile(
    rf"^(?:[A-Z][\w.'’-]*\s+){{0,3}}[A-Z][\w.'’-]*(?:\s*/\s*[\w.'’ -]{{0,30}})*\s*/\s*(?:{AGENCIES})(?:[-\w]*)?\b")
_VIDEO = re.compile(r"\bvideo ad feedback\b|\bad feedback\b", re.IGNORECASE)
# A gallery's "Hide Caption 17 of 49 Photos: …" run into the next caption.
_GALLERY_COUNTER = re.compile(r"\bhide caption \d+ of \d+\b", re.IGNORECASE)
_PROMO = re.compile(
    r"\bnewsletter\b.{0,80}\b(sign up|subscribe|inbox|digest|provides you|delivered|get it)\b|"
    r"\b(sign up|subscribe)\b.{0,60}\b(newsletter|briefing|alerts?|here|now|today)\b|\bsubscribe (to|today|now|here)\b|"
    r"\b(digital|a) subscriber\b|\bsubscriber-only\b|\b(a|your|our|newsletter) subscription\b|"
    r"\bprivacy policy\b|\bprivacy notice\b|\bcontent partner\b|\bproduced independently\b|"
    r"\bmade possible in part by\b|\bdoes not provide editorial input\b|\bsupported in part by a grant\b|"
    r"\bsupport(ing)? (our|local) journalism\b|^\W*follow\b.{0,60}\b(facebook|twitter|instagram|tiktok|flipboard)\b|"
    r"^\W*(read|see|watch|listen|keep reading|click|tap|check)\b.{0,40}\b(here|below|more|now|podcast)\W*$|"
    r"^\W*(read more|keep reading|prefer to listen)\W*$|\bdownload our app\b|\bpodcasts?\b.{0,40}\bright here\b|"
    r"\bwe may (earn|receive)\b.{0,30}\bcommission\b|\bget up to speed\b",
    re.IGNORECASE,
)
_URL = re.compile(r"https?://|\bwww\.\w", re.IGNORECASE)
_URL_TEXT = re.compile(r"(https?://|www\.)\S+", re.IGNORECASE)
# "More AP tennis: https://…", "More top reads from Oilprice.com:"; not "More soccer to Nashville: While I …".
_MORE_PREFIX = re.compile(r"^\s*(more|related|also read|read more|see also|latest)\b[^:]{0,40}:\s*(https?://|www\.|$)", re.IGNORECASE)
# USA TODAY's inline related links glue a label to a headline: "Proud Boys:Who are the Proud Boys?"
_GLUED_LABEL = re.compile(rf"^(?!{MONTH_PATTERN})[A-Z][^:.!?]{{2,60}}:[A-Z“\"‘'][^\s]")
_TIMESTAMP = re.compile(
    r"^\W*(updated|published|posted|last updated)\b[^.]{0,50}\b(\d{1,2}:\d\d|\d{4}|(a|p)\.?m\.?)(\W+\w+){0,6}\W*$",
    re.IGNORECASE,
)
# A video's running time and source: "… their reactions 02:08 - Source: CNN".
_RUNNING_TIME = re.compile(r"\b\d{1,2}:\d\d\s*-\s*source:\s*\w+", re.IGNORECASE)
_MAX_LINK_WORDS = 3  # words besides the URLs: with more, the URL is part of a statement
_MAX_SUBHEAD_WORDS = 20


def furniture_kind(text: str, paragraph: str, title: str | None) -> str | None:
    """The furniture kind of a sentence span, or None for a statement. `paragraph` is the text of
    the paragraph holding it (a subhead is a whole paragraph); `title` is the article's title."""
    s = text.strip()
    if not s:
        return None
    if title and _same_words(s, title):
        return "headline"
    if _VIDEO.search(s):
        return "promo"
    if _TIMESTAMP.search(s) or _RUNNING_TIME.search(s):
        return "timestamp"
    if _CAPTION_PREFIX.match(s) or _CREDIT_LEAD.match(s) or _GALLERY_COUNTER.search(s):
        return "caption"
    if _PROMO.search(s):
        return "promo"
    if _MORE_PREFIX.match(s) or _GLUED_LABEL.match(s) or (
            _URL.search(s) and len(_WORD.findall(_URL_TEXT.sub(" ", s))) <= _MAX_LINK_WORDS):
        return "links"
    if s.endswith("?") and paragraph.strip() == s and len(_WORD.findall(s)) <= _MAX_SUBHEAD_WORDS \
            and not s.startswith(("\"", "“", "'", "‘")):
        return "subhead"
    return None


def _same_words(a: str, b: str) -> bool:
    wa, wb = words(a), words(b)
    return bool(wa) and wa == wb
