"""Reading an LLM's draft answer: validated JSON (LLMReply), or plain text with [n] markers.

JSON is validated with pydantic. Small models wrap it in code fences or add a sentence around
it, so the outermost {...} is tried too; a sentence given as a string with markers is read as
one. Anything else is malformed, and the caller falls back to asking for [n] markers.
"""

from __future__ import annotations

import json
import re

from pydantic import ValidationError

from rag.answer.refusal import REFUSAL_PHRASE
from rag.models import LLMReply, ReplyClaim, ReplyConflict, ReplySentence
from rag.text.sentences import split_sentences

_MARKERS = re.compile(r"\s*\[\s*(?:sources?\s*)?(\d+(?:\s*[,;]\s*(?:sources?\s*)?\d+)*)\s*\]", re.IGNORECASE)
_LEADING_MARKERS = re.compile(rf"^(?:{_MARKERS.pattern})+", re.IGNORECASE)
_TRAILING = re.compile(rf"([.!?][\"”’']?)((?:{_MARKERS.pattern})+)", re.IGNORECASE)
_CONFLICT = re.compile(r"^\s*CONFLICT\s*:\s*(?P<about>[^|]+)\|(?P<claims>.+)$", re.IGNORECASE | re.MULTILINE)
_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$", re.IGNORECASE)


class MalformedReply(ValueError):
    """The model's reply is not the JSON object it was asked for."""


def parse_json_reply(text: str) -> LLMReply:
    data = load_json(text)
    if not isinstance(data, dict):
        raise MalformedReply("the reply is JSON but not an object")
    data = dict(data)
    data.setdefault("conflicts", [])
    data.setdefault("refused", False)
    sentences = data.get("sentences")
    if isinstance(sentences, list):
        data["sentences"] = [_sentence_item(s) for s in sentences]
    try:
        reply = LLMReply.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise MalformedReply(f"the reply does not match the schema at {where}: {first['msg']}") from None
    return _split_markers(reply)


def parse_marker_reply(text: str) -> LLMReply:
    """'Sentence [1]. Next sentence [2][3].' plus optional 'CONFLICT: about | value [n] | ...' lines."""
    conflicts = [_conflict_line(m) for m in _CONFLICT.finditer(text)]
    # "fired. [1] Next" → "fired [1]. Next": markers after the full stop hide the sentence break.
    body = _TRAILING.sub(lambda m: m.group(2) + m.group(1), _CONFLICT.sub("", text).strip())
    if _is_refusal(body):
        return LLMReply(refused=True, sentences=[], conflicts=[])
    sentences: list[ReplySentence] = []
    for span in split_sentences(body, set(range(1, body.count("\n") + 2))):
        piece = body[span.start:span.end]
        lead = _LEADING_MARKERS.match(piece)
        if lead and sentences:  # "fired. [1] Next ..." : the markers belong to the sentence before
            sentences[-1].citations += _numbers(lead.group())
            piece = piece[lead.end():]
        text_only, cited = _strip_markers(piece)
        if any(ch.isalnum() for ch in text_only):
            sentences.append(ReplySentence(text=text_only, citations=cited))
        elif cited and sentences:
            sentences[-1].citations += cited
    return LLMReply(refused=False, sentences=sentences, conflicts=[c for c in conflicts if c.claims])


# A sentence about the sources, not the news: the model saying in its own words that they do not
# answer ("The sources do not contain an answer to this question.", "The provided context does
# not mention who won.", "There is no information about the winner in the sources.", "I cannot
# answer this from the sources."). It is a refusal, never a claim to verify. Only words that name
# what the model was given count ("sources", "context"): "The report does not include a price" and
# "The documents do not mention him" may be news.
_SOURCES = r"(?:the |these |those |my |your )?(?:provided |given |cited |available |above |numbered )*" \
           r"(?:sources?|context|articles?|corpus|passages?)(?: provided| given| above)?"
_OWN_REFUSAL = re.compile(
    rf"^(?:however,?\s+|unfortunately,?\s+)?(?:{_SOURCES}\s+(?:do|does|did)\s+not|{_SOURCES}\s+(?:don't|doesn't)|"
    rf"neither of {_SOURCES}|none of {_SOURCES})\s+(?:\w+ly\s+)?(?:contain|provide|include|give|offer|hold|have|mention|"
    r"say|state|specify|indicate|name|identify|reveal|answer|address|discuss|report|list)\b"
    rf"|^there (?:is|are) no (?:information|mention|details?|answer|data)\b.*\b(?:in|from|among) {_SOURCES}\W*$"
    rf"|^(?:i|we) (?:cannot|can't|could not|couldn't|am unable to|was unable to) (?:find|answer|determine|tell|say)\b",
    re.IGNORECASE)


def is_refusal_sentence(text: str) -> bool:
    """The shared refusal phrase, or the model's own words for it (`_OWN_REFUSAL`)."""
    return _is_refusal(text) or bool(_OWN_REFUSAL.search(" ".join(text.split())))


def _is_refusal(text: str) -> bool:
    norm = " ".join(text.lower().split()).rstrip(".")
    return norm == REFUSAL_PHRASE.lower().rstrip(".")


def load_json(text: str):
    stripped = _FENCE.sub("", text.strip())
    try:
        return json.loads(stripped)
    except ValueError:
        pass
    start, end = stripped.find("{"), stripped.rfind("}")
    if start == -1:
        raise MalformedReply("the reply holds no JSON object")
    try:
        return json.loads(stripped[start:end + 1] if end > start else stripped[start:])
    except ValueError as err:
        raise MalformedReply(f"the reply is not valid JSON: {err}") from None


def _sentence_item(item):
    if isinstance(item, str):
        text, cited = _strip_markers(item)
        return {"text": text, "citations": cited}
    if isinstance(item, dict):
        item = dict(item)
        item.setdefault("citations", [])
    return item


def _split_markers(reply: LLMReply) -> LLMReply:
    """Markers the model left inside a sentence's text move to its citations."""
    for s in reply.sentences:
        text, cited = _strip_markers(s.text)
        s.text = text
        s.citations = list(dict.fromkeys(s.citations + cited))
    return reply


def _strip_markers(text: str) -> tuple[str, list[int]]:
    cited = [n for m in _MARKERS.finditer(text) for n in _numbers(m.group())]
    clean = _MARKERS.sub("", text)
    clean = re.sub(r"\s+([.,;:!?])", r"\1", clean)
    return " ".join(clean.split()), list(dict.fromkeys(cited))


def _numbers(markers: str) -> list[int]:
    return [int(n) for n in re.findall(r"\d+", markers)]


def _conflict_line(m: re.Match) -> ReplyConflict:
    claims = []
    for part in m.group("claims").split("|"):
        value, cited = _strip_markers(part)
        if value and cited:
            claims.append(ReplyClaim(value=value, citation=cited[0]))
    return ReplyConflict(about=m.group("about").strip(), claims=claims)
