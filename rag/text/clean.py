"""Line-level boilerplate removal. Lines are dropped, never edited, so spans stay exact.

Each rule names a reason. The rules describe page furniture in general (navigation,
captions, credits, promos, link stubs, trailing headline lists), not particular articles;
tests run them over the benchmark corpus too.
"""

from __future__ import annotations

import re

from rag.text.lexical import content_words
from rag.text.vocab import MONTH_PREFIXES, WEEKDAY_PATTERN

CLEANER_VERSION = "3"

_WORD = re.compile(r"[\w'’]+")
_TERMINAL = tuple('.?!:;"”’\'…)]')

_SEPARATOR = re.compile(r"^[\W_]+$")
_FILE_CAPTION = re.compile(r"^\s*(FILE( PHOTO)?\s*[-–—:]|FILE PHOTO\b)")
AGENCIES = (
    r"Getty Images|AP Photo|AP|AFP|Reuters|EPA|DPA|Shutterstock|Bloomberg|Xinhua|"
    r"Anadolu|Sipa|NurPhoto|Pool|Handout|picture alliance|SOPA Images|ZUMA|Alamy"
)
# Credit keywords are matched capitalised ("Photo: ..."), so prose such as "the big picture:" stays.
_CREDIT_TAIL = re.compile(
    rf"(\b(Photo|Photograph|Image|Credit)s?\s*(:|by\b)|\(({AGENCIES})\b( Photo)?[^)]{{0,60}}\)\s*$|"
    rf"/\s*({AGENCIES})\s*(via [^.]{{0,40}})?\s*$)"
)
_CREDIT_ONLY = re.compile(rf"^[^.!?]{{0,80}}(\||/)\s*[^.!?]{{0,60}}\b({AGENCIES})\b[^.!?]{{0,30}}$", re.I)
_NAV = re.compile(
    r"^(accessibility links|skip to (main )?content|skip navigation|main menu|toggle navigation|menu|"
    r"search|home|share( this( article| story)?)?|print|email|comments?|advertisement|ad|sponsored|"
    r"log ?in|sign ?in|sign up|subscribe|cookie (settings|policy)|privacy policy|terms of (use|service)|"
    r"all rights reserved|copyright .{0,60}|top stories|most read|trending|latest news|close|back to top)$",
    re.I,
)
_STUB = re.compile(
    r"^(read more|go deeper|read the full (story|article)|continue reading|see also|also read|"
    r"related( stories| articles| coverage)?|watch( now| video)?|listen( now)?|click here|learn more|"
    r"show more|more( on this)?|explore more|view (gallery|comments))\s*[:.…»›>]*$",
    re.I,
)
_STUB_PREFIX = re.compile(r"^(RELATED|READ MORE|MORE|WATCH|LISTEN|SEE ALSO|ALSO READ|READ)\s*:", re.I)
_PROMO = re.compile(
    r"(\bsign(ing)? up\b.{0,60}\b(newsletters?|alerts?|inbox|updates)\b|\bsign up (here|now|today)\b|"
    r"subscribe (to|today|now)\b|\bnewsletter\b.{0,80}\b(sign up|subscribe|inbox|free)\b|"
    r"\b(sign up|subscribe|get|receive)\b.{0,60}\bnewsletter\b|^\W*(\(CNN[^)]*\)\s*)?A version of this (story|article)|"
    r"in your inbox|"
    r"how relevant is this ad|video player was slow|support local journalism|"
    r"details you have shared to manage your registration|download (our|the) app|"
    r"follow us on|accurate at the time (this|of) (article|publication)|"
    r"recommendations are independently chosen|we may (earn|receive) (a )?commission|"
    r"\bjust watched\b|\bmust watch\b|replay more videos|hide caption \d+ of \d+)",
    re.I,
)
_BYLINE = re.compile(
    r"(contributed to this report\.?$|^contributing:|^(follow|contact|reach)\b.{0,80}(twitter|@|e-?mail)|"
    r"\b(network and )?wire reports$|^(from )?(staff|wire) reports$|^by\s+[A-Z][\w.'’-]+(\s+[A-Z][\w.'’-]+){0,3}$|"
    r"^[–—-]\s*[A-Z][\w.'’-]+(\s+[A-Z][\w.'’-]+){0,3}$)",
    re.I,
)
_OUTLET_ONLY = re.compile(
    r"^(the )?(associated press|ap|reuters|afp|cnn|cnn business|bbc news|usa today( sports| network)?|"
    r"npr|axios|bloomberg|the guardian|al jazeera|fox news|nbc news|cbs news|abc news|editors?)$",
    re.I,
)
_DATELINE = re.compile(
    r"^\s*(date\s+\d{4}-\d{2}-\d{2}\b.*|"
    r"(published|updated|posted)\b.{0,60}\d{4}.*|"
    r"[A-Z][a-z]{2,8}\.? \d{1,2},? \d{4}\s*([-–—|·].{0,40})?|"
    r"\d{1,2} [A-Z][a-z]{2,8} \d{4}\s*([-–—|·].{0,40})?|"
    r"(?:[A-Z][\w .,]{0,40}\s)?(CNN|CNN Business|\(AP\)|\(Reuters\)|\(AFP\))\s*[-–—]?)\s*$"
)


_DATA_ITEM = re.compile(r"^\s*([•●▪*–-]|[^:]{1,40}:)")


def _words(line: str) -> list[str]:
    return _WORD.findall(line)


def _is_prose(line: str) -> bool:
    """A body paragraph: long enough and ends like a sentence."""
    return len(_words(line)) >= 12 and line.rstrip().endswith(_TERMINAL)


_SCHEDULE = re.compile(
    rf"^\W*({WEEKDAY_PATTERN}|(?:{'|'.join(MONTH_PREFIXES)})[a-z]*\.? \d)"
    r"|^[^:]{1,30}:",
    re.I,
)


def _headline_like(line: str) -> bool:
    """A linked headline: short, unpunctuated, and not a schedule entry or a "label: value" item."""
    s = line.strip()
    if _SCHEDULE.match(s):
        return False
    return 0 < len(_words(s)) <= 25 and (not s.endswith(_TERMINAL) or s.endswith((" -", " |", "-")))


def classify_line(line: str) -> str | None:
    """Reason to drop a single line judged on its own, or None."""
    s = line.strip()
    if not s:
        return None
    words = _words(s)
    if _SEPARATOR.match(s):
        return "separator"
    if _FILE_CAPTION.match(s) or (len(words) <= 60 and _CREDIT_TAIL.search(s)):
        return "caption"
    if len(words) <= 14 and _CREDIT_ONLY.match(s) and not s.endswith("."):
        return "photo-credit"
    if len(words) <= 6 and (_NAV.match(s) or _OUTLET_ONLY.match(s)):
        return "navigation"
    if len(words) <= 6 and _STUB.match(s) or (_STUB_PREFIX.match(s) and len(words) <= 25):
        return "link-stub"
    if len(words) <= 45 and _PROMO.search(s):
        return "promo"
    if len(words) <= 40 and _BYLINE.search(s):
        return "byline"
    return None


def clean_lines(lines: list[str], skip: dict[int, str] | None = None) -> dict[int, str]:
    """Return {line number (1-based): reason} for every line to drop."""
    dropped = dict(skip or {})
    kept = lambda n: n not in dropped and lines[n - 1].strip() != ""  # noqa: E731
    for n, line in enumerate(lines, start=1):
        if n not in dropped and (reason := classify_line(line)):
            dropped[n] = reason
    _drop_datelines(lines, dropped, kept)
    _drop_caption_before_credit(lines, dropped)
    _drop_duplicates(lines, dropped, kept)
    _drop_header_navigation(lines, dropped, kept)
    _drop_trailing_headlines(lines, dropped, kept)
    return dict(sorted(dropped.items()))


def _drop_datelines(lines, dropped, kept) -> None:
    for n in [n for n in range(1, len(lines) + 1) if kept(n)][:4]:
        if _DATELINE.match(lines[n - 1]) and len(_words(lines[n - 1])) <= 12:
            dropped[n] = "dateline"


def _drop_caption_before_credit(lines, dropped) -> None:
    """A photo caption is the text line right above its credit line."""
    for n, reason in list(dropped.items()):
        if reason != "photo-credit":
            continue
        prev = n - 1
        if prev >= 1 and lines[prev - 1].strip() and prev not in dropped and len(_words(lines[prev - 1])) <= 60:
            dropped[prev] = "caption"


def _drop_duplicates(lines, dropped, kept) -> None:
    seen: set[str] = set()
    for n in range(1, len(lines) + 1):
        if not kept(n):
            continue
        words = _words(lines[n - 1].lower())
        key = " ".join(words)
        # Repeated captions are prose; repeated short "label: value" bullets are data, kept.
        if key in seen and len(words) >= 8 and not _DATA_ITEM.match(lines[n - 1]):
            dropped[n] = "duplicate"
        seen.add(key)


def _drop_header_navigation(lines, dropped, kept) -> None:
    """Short lines above the first body paragraph that share no content word with the body."""
    numbers = [n for n in range(1, len(lines) + 1) if kept(n)]
    first_body = next((n for n in numbers if _is_prose(lines[n - 1])), None)
    if first_body is None:
        return
    body_words = set()
    for n in numbers:
        if n >= first_body:
            body_words.update(content_words(lines[n - 1]))
    for n in numbers:
        if n >= first_body:
            break
        line = lines[n - 1]
        if len(_words(line)) <= 8 and not line.strip().endswith((".", "?", "!")):
            if not (set(content_words(line)) & body_words):
                dropped[n] = "navigation"


MAX_LINK_LIST = 60


def _drop_trailing_headlines(lines, dropped, kept) -> None:
    """A run of 3+ headline-like lines closing the article, mostly unrelated to it, is a link list."""
    run: list[int] = []
    for n in range(len(lines), 0, -1):
        if not lines[n - 1].strip() or (n in dropped and dropped[n] in ("separator", "link-stub")):
            continue
        if n in dropped:
            break
        if not _headline_like(lines[n - 1]):
            break
        run.append(n)
    if len(run) < 3:
        return
    body = set()
    prose = False
    for n in range(1, min(run)):
        if kept(n):
            body.update(content_words(lines[n - 1]))
            prose = prose or lines[n - 1].strip().endswith(_TERMINAL)
    # A link list closes an article written in sentences, and runs to a few dozen links at most;
    # a file made of short unpunctuated lines (a log, a list) is the article itself.
    if not prose or len(run) > MAX_LINK_LIST:
        return
    unrelated = sum(1 for n in run if _overlap(lines[n - 1], body) < 0.34)
    if unrelated >= 0.6 * len(run):
        for n in run:
            dropped[n] = "trailing-headlines"


def _overlap(line: str, vocabulary: set[str]) -> float:
    words = set(content_words(line))
    return len(words & vocabulary) / len(words) if words else 0.0
