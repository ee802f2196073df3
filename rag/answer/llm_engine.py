"""The LLM engine: retrieve, pack numbered sources, ask for a structured answer, verify it.

Before the model is asked, the context must speak to the question (rag.answer.answerability):
when no passage holds `llm_min_question_coverage` of the question's key terms, the answer is a
refusal and the model is not asked (a small model answers near-topic sources anyway). With an
as-of date, a question about a recent period ("this week") needs such a passage from an article
of that period (rag.answer.question_period).
Nothing the model says is shown unchecked:
1. a citation to a source number that was not in the context is dropped, and noted;
2. each sentence is checked against every source it cites (rag.answer.grounding, with the support
   test of rag.answer.support); the citations that support it stay, re-anchored to the exact
   sentences of the file they rest on. With none, the other sources of the context are tried
   and the sentence is re-cited to one that supports it (citation repair); a claim may rest on two
   sentences together (rag.answer.support.SupportScorer.across);
3. with `llm_judge`, an LLM verdict decides support instead of the threshold (scores are kept);
   else, with `llm_entailment`, a sentence that fails on words alone is kept when the LLM finds
   every part of it stated by its cited window (rag.answer.entailment);
4. sentences still unsupported follow `llm_unsupported` (rag.answer.unsupported): removed and
   counted, or shown flagged; when none is supported, the answer is a refusal that keeps the
   model's text as rejected output;
5. an answer whose quotes together hold less of the question's key terms than the gate asks of
   a passage does not answer it (true and beside the point): a refusal, kept as rejected output;
   the same when every quote is from outside the recent period the question names, or when it
   asks for a number and the answer states none. A reply that only restates the question is
   refused before verification (its words are the question's premise, no claim; `off_echo`);
6. when the extractive engine's refusal model, reading each quote as its lead, scores none at
   `llm_min_evidence`, the answer is a refusal kept as rejected output (rag.answer.evidence_check;
   no model call); then, with `llm_answer_check`,
   when the extractive engine's answerability verdict refuses a question the LLM answered, the
   model is asked whether its verified answer gives what the question asks; a no is a refusal
   kept as rejected output (`llm_answer_check`, rag.answer.llm_second_look);
7. each figure of a reported conflict must be stated by the source it cites, and a conflict
   needs two different verified figures; the shared disagreement finder also runs over the
   figures of the whole context (rag.answer.context_conflicts).
The answer's [n] are citation numbers (one verbatim quote each), not the model's source numbers."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field, replace

import numpy as np

from rag.answer.answerability import question_coverage, quotes_coverage
from rag.answer.citations import CitationBook, render_answer_text
from rag.answer.context import Context, pack_sources
from rag.answer.context_conflicts import disagreements
from rag.answer.entailment import second_opinion
from rag.answer.evidence_check import check_evidence
from rag.answer.grounding import Grounding, ScoreSupport, ground
from rag.answer.judge import judge_support
from rag.answer.llm_second_look import second_look
from rag.answer.question import analyse
from rag.answer.question_period import period_coverage, period_reason, question_period
from rag.answer.refusal import REFUSAL_PHRASE
from rag.answer.reply import (
    MalformedReply,
    is_refusal_sentence,
    parse_json_reply,
    parse_marker_reply,
)
from rag.answer.support import NUMBER_WORDS as _NUMBER_WORDS
from rag.answer.support import numbers
from rag.answer.support_check import MIN_TERMS
from rag.answer.unsupported import decide
from rag.errors import ConfigError, LLMError
from rag.index.store import Store
from rag.llm.chat import LLM
from rag.models import (
    Answer,
    AnswerSentence,
    Claim,
    Conflict,
    LLMReply,
    RejectedOutput,
    ReplyConflict,
    UnsupportedSentence,
    Usage,
)
from rag.prompts import Prompt, load_prompt
from rag.retrieval import Filters, search
from rag.text.dates import find_date_mentions
from rag.text.lexical import content_words, normalize
from rag.text.snippet import short
from rag.text.vocab import AUXILIARY_VERBS

MARKERS_PROMPT = "answer_markers"
_YES_NO = re.compile(rf"\s*(?:{'|'.join(AUXILIARY_VERBS)})\b", re.IGNORECASE)
_YEAR = re.compile(r"(?<![\w,.])(?:18|19|20)\d\d(?!\w|[,.]\d)")
REPLY_SCHEMA = LLMReply.model_json_schema()


@dataclass
class Draft:
    reply: LLMReply
    prompt: Prompt
    calls: list = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def answer_llm(store: Store, llm: LLM, question: str, k: int | None = None, filters: Filters = Filters(), *,  # noqa: B008 (frozen)
               prompt: str | None = None, on_token=None, mode: str | None = None) -> Answer:
    settings = store.settings
    chosen, notes = choose_prompt(prompt or settings.llm_prompt, settings, streaming=on_token is not None)
    gated = gate(store, question, k or settings.answer_k, filters, chosen)
    result, context = gated.result, gated.context
    clock = time.perf_counter()
    notes += gated.notes
    base = {"question": result.query, "engine": "llm", "model": llm.model, "settings_hash": result.settings_hash,
            "retrieved": list(dict.fromkeys(h.chunk.source for h in result.hits))}
    if context is None:
        return Answer(answer=REFUSAL_PHRASE, refused=True, prompt_name=chosen.name, prompt_hash=chosen.hash,
                      notes=["nothing was retrieved, so the LLM was not asked"], timings=result.timings, **base)
    if gated.why:
        return Answer(answer=REFUSAL_PHRASE, refused=True, refusal_reason=gated.why, prompt_name=chosen.name,
                      prompt_hash=chosen.hash, notes=notes + [f"{gated.why}; the LLM was not asked"],
                      timings=result.timings, **base)
    draft = draft_answer(llm, chosen, context, result.query, on_token)
    asked = time.perf_counter()
    answer = verify_draft(draft, context, store, llm, settings.llm_support_threshold, settings.llm_judge,
                          result.query, mode or settings.llm_unsupported, entail=settings.llm_entailment)
    answer = off_question(answer.model_copy(update=base), settings.llm_min_question_coverage,
                          settings.llm_min_answer_similarity, store.embedder, result.query_vector)
    answer = off_period(answer, question_period(question, filters.as_of))
    answer = off_kind(answer)
    answer = check_evidence(answer, store, question, filters, _refused_beside, k)
    if settings.llm_answer_check:
        answer = second_look(answer, store, llm, question, filters, _refused_beside, k)
    answer.notes = notes + draft.notes + answer.notes + _cost_notes(draft, llm)
    answer.timings = {**result.timings, "llm": round(asked - clock, 4),
                      "verify": round(time.perf_counter() - asked, 4)}
    return answer


@dataclass
class Gated:
    """What the answerability gate decided: the search, its packed context (None: nothing was
    retrieved), why the model is not asked (None: it is), and notes."""

    result: object
    context: Context | None
    why: str | None = None
    notes: list[str] = field(default_factory=list)
    coverage_why: str | None = None  # `why`, when no passage covers the question at all


def gate(store: Store, question: str, k: int, filters: Filters, prompt: Prompt) -> Gated:
    """Retrieve, pack and gate. When the question names a recent period and the context speaks
    to it only in older articles, the search is made again within the period (an older article's
    words crowd out the week's report), and that context is gated instead."""
    gated = _gated(store, question, k, filters, prompt)
    period = question_period(question, filters.as_of)
    if not gated.why or period is None or gated.context is None or gated.why == gated.coverage_why:
        return gated
    within = replace(filters, since=max(period.since, filters.since or period.since))
    again = _gated(store, question, k, within, prompt)
    if again.context is None or again.why:
        return gated
    again.notes.insert(0, f"searched again within the period the question names ({period.phrase!r}: published "
                          f"{within.since.isoformat()} to {period.as_of.isoformat()}): the first search found it "
                          "only in older articles")
    return again


def _gated(store: Store, question: str, k: int, filters: Filters, prompt: Prompt) -> Gated:
    settings = store.settings
    result = search(store, question, k, filters)
    if not result.hits:
        return Gated(result, None)
    context = pack_sources(result.hits, prompt, result.query, settings)
    if not context.sources:
        raise ConfigError(f"no retrieved passage fits the {context.budget}-token source budget; "
                          "raise llm_context_window or lower llm_max_tokens")
    notes = []
    if context.left_out:
        notes.append(f"{context.left_out} of {len(result.hits)} retrieved passages did not fit the "
                     f"{context.budget}-token source budget")
    gated = Gated(result, context, notes=notes)
    gated.why, gated.coverage_why = _unanswerable(question, context, filters, settings.llm_min_question_coverage)
    return gated


def _unanswerable(question: str, context: Context, filters: Filters, threshold: float) -> tuple[str | None, str | None]:
    """Why the context cannot answer the question (the gate), or None, and the same when the
    reason is that no passage covers it at all: a passage needs `threshold` of the question's
    key terms, from an article of the recent period the question names (rag.answer.question_period)."""
    cover = question_coverage(question, context)
    if cover.share < threshold:
        why = cover.reason(threshold)
        return why, why
    period = question_period(question, filters.as_of)
    if period is None:
        return None, None
    recent = period_coverage(question, context, period)
    return (period_reason(recent, period, threshold) if recent.share < threshold else None), None


def choose_prompt(name: str, settings, streaming: bool) -> tuple[Prompt, list[str]]:
    """The answer prompt; streaming and `llm_output = "markers"` need one that writes [n] markers."""
    prompt = load_prompt(name)
    if output_of(prompt) == "markers" or not (streaming or settings.llm_output == "markers"):
        return prompt, []
    why = "--stream prints text as it arrives" if streaming else "llm_output is 'markers'"
    return load_prompt(MARKERS_PROMPT), [f"used prompt {MARKERS_PROMPT} instead of {prompt.name}: {why}"]


def output_of(prompt: Prompt) -> str:
    return str(prompt.meta.get("output", "json"))


def draft_answer(llm: LLM, prompt: Prompt, context: Context, question: str, on_token=None) -> Draft:
    messages = prompt.messages(sources=context.text, question=question)
    if output_of(prompt) == "markers":
        call = (llm.stream(messages, on_token, prompt=prompt, purpose="answer") if on_token
                else llm.chat(messages, prompt=prompt, purpose="answer"))
        return Draft(parse_marker_reply(call.text), prompt, [call])
    call = llm.chat(messages, json_schema=REPLY_SCHEMA, prompt=prompt, purpose="answer")
    notes = [] if call.mode == "json_schema" else [f"the server takes no JSON schema; asked for {call.mode}"]
    try:
        return Draft(parse_json_reply(call.text), prompt, [call], notes)
    except MalformedReply as err:
        cut = " (cut off at llm_max_tokens)" if call.finish_reason == "length" else ""
        notes.append(f"the model's JSON was unusable{cut}: {err}; asked again for text with [n] markers")
    fallback = load_prompt(MARKERS_PROMPT)
    retry = llm.chat(fallback.messages(sources=context.text, question=question), prompt=fallback, purpose="answer")
    reply = parse_marker_reply(retry.text)
    if not reply.refused and not reply.sentences:
        raise LLMError("the model's reply could be read neither as JSON nor as text with [n] markers")
    return Draft(reply, fallback, [call, retry], notes)


def verify_draft(draft: Draft, context: Context, store: Store, llm: LLM, threshold: float, judge: bool,
                 question: str = "", mode: str = "remove", *, entail: bool = False) -> Answer:
    reply, notes = draft.reply, []
    usage = _usage(draft.calls)
    common = {"question": "", "engine": "llm", "settings_hash": "", "prompt_name": draft.prompt.name,
              "prompt_hash": draft.prompt.hash}
    claims = [s for s in reply.sentences if s.text and not is_refusal_sentence(s.text)]
    if reply.refused or not claims:
        return Answer(answer=REFUSAL_PHRASE, refused=True, usage=usage, **common)
    notes += [f"left out {short(s.text)!r}: the model says what its sources do not state, not what they do"
              for s in reply.sentences if s.text and is_refusal_sentence(s.text)]
    echoes = [s for s in claims if restates(question, s.text)]
    if echoes and len(echoes) == len(claims):  # the question's own words are no claim to verify
        return off_echo(Answer(answer=" ".join(s.text for s in echoes), usage=usage, notes=notes, **{
            **common, "question": question}, sentences=[AnswerSentence(text=s.text, support=0.0) for s in echoes]))
    claims = [s for s in claims if s not in echoes]
    notes += [f"left out {short(s.text)!r}: it only restates the question" for s in echoes]
    test = ScoreSupport(store.embedder, threshold, question or None)
    groundings = []
    for claim in claims:
        grounding = ground(claim.text, claim.citations, context, test)
        if judge:
            usage += _judge(llm, grounding, notes)
        elif entail:
            usage += second_opinion(llm, grounding)
        groundings.append(grounding)
        notes += grounding.notes
    decision = decide(groundings, claims, context, mode)
    notes += decision.notes
    if decision.rejected is not None:
        return Answer(answer=REFUSAL_PHRASE, refused=True, rejected=decision.rejected, usage=usage, notes=notes,
                      **common)
    book = CitationBook()
    sentences = [_sentence(g, context, book) for g in decision.shown]
    conflicts = [c for c in (_verify_conflict(rc, context, book, notes) for rc in reply.conflicts) if c]
    used = [(e.anchor.chunk, s) for g in decision.shown if g.supported for e in g.evidence for s in e.anchor.sentences]
    if question:  # a briefing step has no question: its disagreements are found by the briefing
        conflicts += _found_conflicts(context, question, used, store.embedder, book, conflicts)
    return Answer(answer=render_answer_text(sentences), sentences=sentences, citations=book.citations,
                  conflicts=conflicts, removed=decision.removed, usage=usage, notes=notes, **common)


def off_question(answer: Answer, threshold: float, similarity: float, embedder, question_vector=None) -> Answer:
    """A verified answer whose quotes do not speak to the question does not answer it: together
    they hold less of its key terms than the gate asks of a passage
    (rag.answer.answerability.quotes_coverage), and none is semantically close to it (MiniLM
    cosine below `similarity`: a paraphrase of the question passes). It becomes a refusal, its
    sentences kept as rejected output with the reason."""
    if answer.refused or not answer.sentences or not answer.question:
        return answer
    quoted = [c.quote for c in answer.citations]
    cover = quotes_coverage(answer.question, quoted)
    if cover.share >= threshold:
        return answer
    closest = _closest(answer.question, quoted, embedder, question_vector)
    if closest >= similarity:
        return answer
    shown = ", ".join(repr(t) for t in cover.missing[:4])
    why = (f"the supported sentences do not speak to the question: their quotes hold {cover.share:.0%} of its key "
           f"terms (at least {threshold:.0%} needed; missing {shown}) and the closest is at cosine {closest:.2f} "
           f"(at least {similarity:.2f} needed)")
    return _refused_beside(answer, why)


def off_period(answer: Answer, period) -> Answer:
    """A question about a recent period ("this week", read against its as-of date) is answered
    only from articles of that period: the gate lets the model be asked when the context holds a
    passage of the period, but a small model may still answer from an older article ("The IRS will
    begin processing 2021 tax returns as soon as Jan. 24." for "The IRS announced it will do what
    this week?", asked in June). When no quote of the verified answer is from an article published
    in the period (QuestionPeriod.holds, the gate's test), the answer is a refusal kept as
    rejected output."""
    if period is None or answer.refused or not answer.sentences or any(period.holds(c.date) for c in answer.citations):
        return answer
    dates = sorted({c.date.isoformat() for c in answer.citations if c.date}) or ["undated"]
    why = (f"the question asks about {period.phrase!r} (articles published since {period.since.isoformat()}), and "
           f"every quote of the answer is from an article outside it ({', '.join(dates[:3])})")
    return _refused_beside(answer, why)


def off_kind(answer: Answer) -> Answer:
    """A question that asks for a number ("how many", "how much", rag.answer.question.analyse) is
    not answered by sentences that state none ("Netflix reported that it lost subscribers in the
    first quarter" for "how many subscribers did it lose?"): a refusal kept as rejected output."""
    if answer.refused or not answer.sentences or analyse(answer.question).kind != "number":
        return answer
    if any(numbers(_without_dates(s.text)) for s in answer.sentences):
        return answer
    return _refused_beside(answer, "the question asks for a number, and no sentence of the answer states one")


def off_echo(answer: Answer) -> Answer:
    """An answer that only restates its question does not answer it ("NASA released astonishing
    images from space this week." for "NASA released astonishing images from space this week.
    What did the images show?"): when no sentence holds a content word the question lacks, it is
    a refusal kept as rejected output. A yes/no question may be answered in its own words.
    verify_draft applies it to the model's reply before any sentence is verified: the question's
    words are its premise (rag.answer.support_check.Premise), and a sentence of those alone is
    no claim, so it is neither checked nor counted as removed; in a reply that says more it is left out."""
    if answer.refused or not answer.sentences or not all(restates(answer.question, s.text) for s in answer.sentences):
        return answer
    return _refused_beside(answer, "the answer only restates the question: no sentence says anything it does not")


def restates(question: str, text: str) -> bool:
    """Whether `text` restates `question`: MIN_TERMS or more content words, none that the question
    lacks (a yes/no question excepted). Shorter text is the support check's ("too short")."""
    if not question or _YES_NO.match(question):
        return False
    said = set(content_words(text))
    return len(said) >= MIN_TERMS and not said - set(content_words(question))


def _without_dates(text: str) -> str:
    """The text without its date expressions and bare years ("of 2022"): a year or a day of the
    month is not a count."""
    for m in reversed(find_date_mentions(text)):
        text = text[:m.start] + " " + text[m.end:]
    return _YEAR.sub(" ", text)


def _refused_beside(answer: Answer, why: str) -> Answer:
    quotes = {c.n: c for c in answer.citations}
    rejected = RejectedOutput(text=answer.answer, reason=why, sentences=[
        UnsupportedSentence(text=s.text, sources=list(dict.fromkeys(quotes[n].source for n in s.citations if n in quotes)),
                            support=s.support, reason=why) for s in answer.sentences])
    return answer.model_copy(update={
        "answer": REFUSAL_PHRASE, "refused": True, "refusal_reason": why, "rejected": rejected, "sentences": [],
        "citations": [], "conflicts": [], "notes": answer.notes + [f"refused: {why}; the answer is kept as rejected output"]})


def _closest(question: str, texts: list[str], embedder, question_vector=None) -> float:
    """The highest cosine of `texts` with the question (Embedder vectors are L2-normalised); the
    search's own question vector when given, so the question is not embedded twice."""
    if not texts:
        return 0.0
    if question_vector is None:
        question_vector = embedder.embed([question])[0]
    vectors = np.asarray(embedder.embed(texts), dtype=np.float32)
    return float(max(vectors @ np.asarray(question_vector, dtype=np.float32)))


def _judge(llm: LLM, grounding: Grounding, notes: list[str]) -> Usage | None:
    """With `llm_judge`, the LLM's verdict on the sentence's evidence decides support."""
    if not grounding.evidence:
        return None
    verdict = judge_support(llm, grounding.text, "\n".join(e.anchor.text for e in grounding.evidence))
    if verdict.supported is None:
        notes.append(f"the judge gave no verdict on {short(grounding.text)!r}; the support score decides")
    else:
        grounding.supported = grounding.judged = verdict.supported
    return verdict.usage


def _sentence(g: Grounding, context: Context, book: CitationBook) -> AnswerSentence:
    numbers_ = list(dict.fromkeys(book.cite(e.anchor.chunk, s) for e in g.evidence for s in e.anchor.sentences))
    recited = None
    if g.repaired_from is not None:
        recited = list(dict.fromkeys(_where(context.source(n).chunk) for n in g.repaired_from))
    support = max(e.score for e in g.evidence) if recited is not None else g.support
    return AnswerSentence(text=g.text, citations=numbers_, supported=g.supported and bool(g.evidence),
                          support=support, recited_from=recited)


def _where(chunk) -> str:
    """file:lines of a context source: two chunks of one file are different sources."""
    return f"{chunk.source}:{chunk.line_start}-{chunk.line_end}"


def _found_conflicts(context, question, used, embedder, book: CitationBook, reported: list[Conflict]) -> list[Conflict]:
    """The shared finder's disagreements over the context, less those the model reported."""
    out = []
    for about, claims in disagreements(context, question, used, embedder):
        numbers_ = {c.number for c in claims}
        if any(len(numbers_ & {c.number for c in r.claims}) >= 2 for r in reported + out):
            continue
        out.append(Conflict(about=about, claims=[
            Claim(value=c.value, number=c.number, citation=book.cite(c.chunk, c.sentence)) for c in claims]))
    return out


def _verify_conflict(reported: ReplyConflict, context: Context, book: CitationBook, notes: list[str]):
    found = []
    for claim in reported.claims:
        source = context.source(claim.citation)
        sentence = _figure_sentence(claim.value, reported.about, source.chunk) if source else None
        values = sorted(numbers(claim.value))
        if sentence is None or not values:
            notes.append(f"dropped conflict figure {claim.value!r} [{claim.citation}]: "
                         + ("no such source" if source is None else "not stated by that source"))
            continue
        found.append((claim.value, values[0], source.chunk, sentence))
    if len({number for _, number, _, _ in found}) < 2:
        if reported.claims:
            notes.append(f"dropped the reported conflict on {reported.about!r}: "
                         "fewer than two different figures were found in their sources")
        return None
    # Cited only now: a conflict that fails verification leaves no citation behind.
    return Conflict(about=reported.about, claims=[
        Claim(value=value, number=number, citation=book.cite(chunk, sentence))
        for value, number, chunk, sentence in found])


def _figure_sentence(value: str, about: str, chunk):
    """The chunk's sentence that states the figure. A bare number must come with the thing
    counted ('20' alone also matches 'December 20'); 'more than 20' verbatim is enough."""
    wanted = re.compile(r"(?<!\w)" + re.escape(normalize(" ".join(value.split()))) + r"(?!\w)")
    specific = bool(re.search(r"[a-z]", _NUMBER_WORDS.sub("", value.lower())))
    figures, counted = numbers(value), set(content_words(about))
    body = [s for s in chunk.sentences if s.kind == "sentence"] or chunk.sentences

    def counts_it(sentence) -> bool:
        return not counted or bool(counted & set(content_words(sentence.text)))

    for s in body:
        if wanted.search(normalize(" ".join(s.text.split()))) and (specific or counts_it(s)):
            return s
    return next((s for s in body if figures and figures <= numbers(s.text) and counts_it(s)), None)


def _usage(calls) -> Usage:
    total = Usage()
    for call in calls:
        if not call.cached:  # a cached answer cost nothing this time
            total += call.usage
    return total


def _cost_notes(draft: Draft, llm: LLM) -> list[str]:
    notes = []
    cached = [c for c in draft.calls if c.cached]
    if cached:
        first = Usage()
        for call in cached:
            first += call.usage
        notes.append(f"answered from the response cache: no tokens spent now "
                     f"(first asked: {first.prompt_tokens}+{first.completion_tokens} tokens, ${first.cost_usd:.6f})")
    if any(not c.priced for c in draft.calls):
        notes.append(f"no price for model {llm.model!r} in llm_prices: cost counted as $0")
    if any(c.usage_estimated for c in draft.calls):
        notes.append("the server reported no token usage; tokens were counted with tiktoken")
    return notes

