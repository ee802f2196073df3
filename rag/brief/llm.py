"""The LLM briefing: map-reduce over the chunks, held to the answer engine's verification.

1. Scope, episodes and syndicated copies as for the extractive briefing (rag.brief.extractive).
2. Map: the chunks in scope are packed into as many contexts as needed, each within the token
   budget (rag.answer.context.pack_sources); for each, the model lists the facts it reports
   (prompts/brief_map.md). Every fact is verified exactly as an answer is
   (rag.answer.llm_engine.verify_draft): hallucinated source numbers are dropped, each sentence
   is re-anchored to the verbatim sentences that support it, and unsupported facts are dropped.
3. Reduce: the verified sentences become numbered excerpts (file, lines, title, date), packed to
   the budget, and the model writes the briefing from them (prompts/brief_reduce.md, JSON schema
   `BriefReply`), told the episodes so that it keeps them apart.
4. The briefing is verified again: every sentence against the excerpts it cites (unsupported ones
   stay, marked); a timeline date must be stated by, or resolved from, a cited excerpt; a quote's
   words must be verbatim in its excerpt; a disagreement's figures must be stated by their sources.
   If the reduce reply is unusable, the verified map facts are the briefing, and a note says so.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import time

from pydantic import ValidationError

from rag.answer.context import Context, pack_sources
from rag.answer.llm_engine import Draft, draft_answer, verify_draft
from rag.answer.reply import MalformedReply, load_json
from rag.brief.citing import BriefCitations
from rag.brief.extractive import Plan, finish, plan_episodes
from rag.brief.options import BriefOptions
from rag.brief.scope import Scope, gather
from rag.errors import ConfigError, LLMError
from rag.index.store import Store
from rag.llm.chat import LLM
from rag.models import (
    Answer,
    BriefEvent,
    Briefing,
    BriefPoint,
    BriefQuote,
    BriefReply,
    Chunk,
    Citation,
    Disagreement,
    DisagreementSide,
    Hit,
    LLMReply,
    ReplySentence,
    Sentence,
    Usage,
)
from rag.prompts import Prompt, load_prompt
from rag.retrieval import Filters
from rag.text.dates import event_mention, find_date_mentions, resolve_mention
from rag.text.snippet import short
from rag.text.tokens import count_tokens

MAX_MAP_CALLS = 8
REDUCE_SCHEMA = BriefReply.model_json_schema()
_DATE = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$")


def brief_llm(store: Store, llm: LLM, topic: str | None, filters: Filters, options: BriefOptions) -> Briefing:
    clock = time.perf_counter()
    scope = gather(store, topic, filters, options.k, options.max_chunks)
    plan = plan_episodes(scope, topic, options)
    mapper, reducer = load_prompt("brief_map"), load_prompt("brief_reduce")
    question = topic or "everything these articles report"
    notes = list(scope.notes) + list(plan.notes)
    facts, map_usage = _map(store, llm, mapper, question, _hits_in_scope(scope, plan), notes)
    mapped = time.perf_counter()
    book = BriefCitations()
    briefing = Briefing(topic=topic, since=filters.since, until=filters.until, source_filter=filters.source,
                        engine="llm", model=llm.model, prompt_name=f"{mapper.name}+{reducer.name}",
                        prompt_hash=f"{mapper.hash}+{reducer.hash}", settings_hash=store.settings.settings_hash(),
                        episodes=plan.episodes)
    if not facts:
        notes.append("the model found nothing on the topic that its sources support")
    else:
        _reduce(store, llm, reducer, question, facts, scope, plan, briefing, book, notes)
    briefing.usage = map_usage + briefing.usage
    briefing.notes = notes
    finish(briefing, book, store, scope, plan)
    briefing.timings = {"map": round(mapped - clock, 4), "reduce": round(time.perf_counter() - mapped, 4)}
    return briefing


def _hits_in_scope(scope: Scope, plan: Plan) -> list[Hit]:
    kept = {s for e in plan.episodes for s in e.sources} - set(plan.copies)
    return [h for h in scope.hits if h.chunk.source in kept]


# --- map ------------------------------------------------------------------------------------


def _map(store: Store, llm: LLM, prompt: Prompt, question: str, hits: list[Hit], notes: list[str]) -> tuple[list[Answer], Usage]:
    settings = store.settings
    contexts = batches(hits, prompt, question, settings)
    if len(contexts) > MAX_MAP_CALLS:
        left = sum(len(c.sources) for c in contexts[MAX_MAP_CALLS:])
        notes.append(f"{left} chunks were left out: the map step stops after {MAX_MAP_CALLS} calls")
        contexts = contexts[:MAX_MAP_CALLS]
    facts, usage = [], Usage()
    for context in contexts:
        draft = draft_answer(llm, prompt, context, question)
        answer = verify_draft(draft, context, store, llm, settings.llm_support_threshold, settings.llm_judge,
                              mode="mark")
        usage += answer.usage
        notes += [f"map: {n}" for n in draft.notes + answer.notes]
        dropped = [s for s in answer.sentences if not s.supported]
        if dropped:
            notes.append(f"map: dropped {len(dropped)} fact(s) their sources do not support: "
                         + "; ".join(repr(short(s.text)) for s in dropped))
        answer.sentences = [s for s in answer.sentences if s.supported]
        if not answer.refused and answer.sentences:
            facts.append(answer)
    return facts, usage


def batches(hits: list[Hit], prompt: Prompt, question: str, settings) -> list[Context]:
    """Every hit, packed into as few contexts as the token budget allows, in rank order."""
    remaining, out = list(hits), []
    while remaining:
        context = pack_sources(remaining, prompt, question, settings)
        if not context.sources:
            raise ConfigError(f"a chunk does not fit the {context.budget}-token source budget; "
                              "raise llm_context_window or lower llm_max_tokens")
        taken = {id(s.chunk) for s in context.sources}
        remaining = [h for h in remaining if id(h.chunk) not in taken]
        out.append(context)
    return out


# --- reduce ---------------------------------------------------------------------------------


def evidence_hits(facts: list[Answer]) -> list[Hit]:
    """The verified sentences the map step cited, once each, as one-sentence chunks."""
    seen: dict[tuple, Hit] = {}
    for answer in facts:
        for c in answer.citations:
            key = (c.source, c.char_start, c.char_end)
            if key not in seen:
                seen[key] = Hit(rank=len(seen) + 1, score=0.0, chunk=_chunk_of(c))
    return list(seen.values())


def _chunk_of(c: Citation) -> Chunk:
    sentence = Sentence(char_start=c.char_start, char_end=c.char_end, line_start=c.line_start,
                        line_end=c.line_end, text=c.quote)
    ident = hashlib.sha1(f"{c.source}:{c.char_start}:{c.char_end}".encode()).hexdigest()[:16]
    return Chunk(id=ident, source=c.source, ordinal=0, text=c.quote, sentences=[sentence],
                 tokens=count_tokens(c.quote), char_start=c.char_start, char_end=c.char_end,
                 line_start=c.line_start, line_end=c.line_end, title=c.title, date=c.date, outlet=c.outlet)


def _episodes_text(question: str, plan: Plan) -> str:
    if len(plan.episodes) < 2:
        return question
    parts = [f"E{e.n}: {e.label} ({e.start or 'date unknown'}; files {', '.join(e.sources)})" for e in plan.episodes]
    return f"{question}. Separate episodes, never to be merged: " + " | ".join(parts)


def _reduce(store: Store, llm: LLM, prompt: Prompt, question: str, facts: list[Answer], scope: Scope, plan: Plan,
            briefing: Briefing, book: BriefCitations, notes: list[str]) -> None:
    settings = store.settings
    hits = evidence_hits(facts)
    topic = _episodes_text(question, plan)
    context = pack_sources(hits, prompt, topic, settings)
    if context.left_out:
        notes.append(f"reduce: {context.left_out} of {len(hits)} verified excerpts did not fit the "
                     f"{context.budget}-token budget")
    call = llm.chat(prompt.messages(sources=context.text, question=topic), json_schema=REDUCE_SCHEMA,
                    prompt=prompt, purpose="briefing")
    briefing.usage = call.usage if not call.cached else Usage()
    try:
        reply = _parse(call.text)
    except MalformedReply as err:
        notes.append(f"reduce: the model's briefing was unusable ({err}); the verified map facts are shown instead")
        _from_facts(facts, briefing, book, plan)
        return
    _verify_reply(reply, context, store, llm, prompt, briefing, book, scope, plan, notes)


def _parse(text: str) -> BriefReply:
    data = load_json(text)
    if not isinstance(data, dict):
        raise MalformedReply("the reply is JSON but not an object")
    for key in ("summary", "key_facts", "timeline", "quotes", "disagreements"):
        data.setdefault(key, [])
    try:
        return BriefReply.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        raise MalformedReply(f"it does not match the schema at {'.'.join(map(str, first['loc']))}: {first['msg']}") from None


def _verify_reply(reply: BriefReply, context: Context, store: Store, llm: LLM, prompt: Prompt, briefing: Briefing,
                  book: BriefCitations, scope: Scope, plan: Plan, notes: list[str]) -> None:
    settings = store.settings
    items = ([("summary", s) for s in reply.summary if s.text.strip()]
             + [("fact", s) for s in reply.key_facts if s.text.strip()]
             + [("event", e) for e in reply.timeline if e.text.strip()])
    sentences = [ReplySentence(text=x.text, citations=x.citations) for _, x in items]
    draft = Draft(LLMReply(refused=False, sentences=sentences, conflicts=reply.disagreements), prompt)
    answer = verify_draft(draft, context, store, llm, settings.llm_support_threshold, settings.llm_judge,
                          mode="mark")
    briefing.usage += answer.usage
    notes += [f"reduce: {n}" for n in answer.notes]
    # verify_draft skips refusal-like sentences, so results are matched back by their text
    verified = {} if answer.refused else {s.text: s for s in answer.sentences}
    episode_of = {s: e.n for e in plan.episodes for s in e.sources}

    def adopt(numbers: list[int]) -> list[int]:
        return [book.adopt(answer.citations[n - 1]) for n in numbers]

    def episode(numbers: list[int]) -> int | None:
        return next((episode_of.get(answer.citations[n - 1].source) for n in numbers), None)

    for kind, item in items:
        s = verified.get(item.text)
        if s is None:
            continue
        if kind in ("summary", "fact"):
            point = BriefPoint(text=s.text, citations=adopt(s.citations), supported=s.supported, support=s.support,
                               episode=episode(s.citations))
            (briefing.summary if kind == "summary" else briefing.key_facts).append(point)
        elif (dated := _event(item, s, [answer.citations[n - 1] for n in s.citations], scope, notes)) is not None:
            dated.citations, dated.episode = adopt(s.citations), episode(s.citations)
            briefing.timeline.append(dated)
    briefing.timeline.sort(key=lambda e: (e.date, e.end))
    briefing.quotes = [q for q in (_quote(q, context, book, episode_of, notes) for q in reply.quotes) if q]
    briefing.disagreements = [Disagreement(about=c.about, episode=episode([x.citation for x in c.claims]), sides=[
        DisagreementSide(value=x.value, citations=adopt([x.citation])) for x in c.claims]) for c in answer.conflicts]


def _event(event, sentence, cited: list[Citation], scope: Scope, notes: list[str]) -> BriefEvent | None:
    """The model's date stands only if a cited excerpt states it or resolves to it."""
    claimed = _claimed_range(event.date)
    found = []
    for c in cited:
        article = scope.articles.get(c.source)
        published = article.date if article else None
        for m in event_mention(find_date_mentions(c.quote)):
            if (r := resolve_mention(m, published, scope.year_hints.get(c.source))) is not None:
                found.append((c.source, r, m.text))
    if claimed is None and not found:
        notes.append(f"reduce: dropped the timeline event {short(event.text)!r}: no date its excerpts support")
        return None
    match = next((f for f in found if claimed and f[1].start <= claimed[1] and claimed[0] <= f[1].end), None)
    if match is None and found:
        notes.append(f"reduce: the date {event.date!r} of {short(event.text)!r} is not what its excerpts say; "
                     f"shown with {found[0][1].label()} from {found[0][0]}")
        match = found[0]
    if match is None:
        notes.append(f"reduce: dropped the timeline event {short(event.text)!r}: its excerpts state no date "
                     f"(the model gave {event.date!r})")
        return None
    source, r, written = match
    return BriefEvent(date=r.start, end=r.end, precision=r.precision, when=r.label(), text=sentence.text,
                      dating=[f"{source}: {r.basis}"], supported=sentence.supported, expression=written,
                      relative_to=r.relative_to)


def _claimed_range(text: str) -> tuple[dt.date, dt.date] | None:
    m = _DATE.match(text.strip())
    if not m:
        return None
    year, month, day = int(m[1]), int(m[2] or 0), int(m[3] or 0)
    try:
        if day:
            d = dt.date(year, month, day)
            return d, d
        if month:
            return dt.date(year, month, 1), dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)
        return dt.date(year, 1, 1), dt.date(year, 12, 31)
    except ValueError:
        return None


def _quote(q, context: Context, book: BriefCitations, episode_of: dict, notes: list[str]) -> BriefQuote | None:
    """Kept only when the words are verbatim in a cited excerpt; the speaker must be named there."""
    words = _plain(q.words).strip(" \"'.,")
    for n in dict.fromkeys(q.citations):
        source = context.source(n)
        if source is None or not words or words not in _plain(source.chunk.text):
            continue
        sentence = source.chunk.sentences[0]
        number = book.book.cite(source.chunk, sentence)
        named = _plain(q.speaker).split()[-1:] if q.speaker else []
        supported = bool(named) and named[0] in _plain(source.chunk.text)
        if not supported:
            notes.append(f"reduce: the speaker {q.speaker!r} of {short(q.words)!r} is not named in its excerpt")
        return BriefQuote(speaker=q.speaker, words=q.words, citations=[number], supported=supported,
                          episode=episode_of.get(source.chunk.source))
    notes.append(f"reduce: dropped the quote {short(q.words)!r}: not verbatim in the excerpts it cites {q.citations}")
    return None


def _plain(text: str) -> str:
    return " ".join(text.replace("“", '"').replace("”", '"').replace("’", "'").replace("‘", "'").split()).lower()


def _from_facts(facts: list[Answer], briefing: Briefing, book: BriefCitations, plan: Plan) -> None:
    episode_of = {s: e.n for e in plan.episodes for s in e.sources}
    points = []
    for answer in facts:
        for s in answer.sentences:
            cited = [answer.citations[n - 1] for n in s.citations]
            points.append(BriefPoint(text=s.text, citations=[book.adopt(c) for c in cited], supported=s.supported,
                                     support=s.support, episode=episode_of.get(cited[0].source) if cited else None))
    briefing.summary, briefing.key_facts = points[:3], points[3:11]


__all__ = ["LLMError", "batches", "brief_llm", "evidence_hits"]
