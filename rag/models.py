"""Domain types. Every surface (CLI, HTTP, web page, eval) renders these same objects."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field
from pydantic.json_schema import SkipJsonSchema


class Span(BaseModel):
    """A region of the ORIGINAL file: character offsets into the decoded text and 1-based lines."""

    char_start: int = Field(description="Offset of the first character (0-based, in code points).")
    char_end: int = Field(description="Offset one past the last character.")
    line_start: int = Field(description="First line, 1-based.")
    line_end: int = Field(description="Last line, 1-based, inclusive.")


class Sentence(Span):
    text: str = Field(description="Verbatim text of the file at char_start:char_end.")
    # Only "sentence" is a statement that may answer; the others are headings and page furniture
    # (rag/text/furniture.py), kept in the text but never an answer, key fact, quote or timeline entry.
    kind: Literal["sentence", "heading", "headline", "subhead", "caption", "promo", "links", "timestamp"] = "sentence"


class DroppedLine(BaseModel):
    """A line the cleaner removed, kept so the decision can be inspected (`rag show --raw`)."""

    line: int
    reason: str
    text: str


class Article(BaseModel):
    source: str = Field(description="Path relative to the corpus root; `file.jsonl#id` for JSONL.")
    path: str = Field(description="Absolute path of the file it was read from.")
    content_hash: str
    title: str | None = None
    date: dt.date | None = None
    outlet: str | None = None
    url: str | None = None
    author: str | None = None
    format: Literal["txt", "md", "html", "jsonl"] = "txt"
    n_lines: int = 0
    n_chunks: int = 0
    dropped: list[DroppedLine] = []


class Chunk(Span):
    id: str = Field(description="Content hash of source, position and text.")
    source: str
    ordinal: int
    text: str = Field(description="Verbatim text of the file at the span.")
    sentences: list[Sentence]
    tokens: int = Field(description="cl100k_base token count of `text`.")
    title: str | None = None
    date: dt.date | None = None
    outlet: str | None = None


class Hit(BaseModel):
    rank: int
    score: float = Field(description="Ranking score (rag.ranking): its fused score relative to the best candidate's, with its article's share and the recency prior when they apply.")
    dense_rank: int | None = None
    lexical_rank: int | None = None
    chunk: Chunk
    duplicates: list[str] = Field(default=[], description="Sources of near-identical chunks folded into this hit.")


class SearchResult(BaseModel):
    query: str
    hits: list[Hit]
    settings_hash: str
    timings: dict[str, float] = {}
    # The query's embedding, reused by the answer engines; never serialised.
    query_vector: SkipJsonSchema[Any] = Field(None, exclude=True, repr=False)


class Citation(BaseModel):
    n: int = Field(description="The marker number used in the answer text, `[n]`.")
    source: str
    line_start: int
    line_end: int
    quote: str = Field(description="Verbatim text of the source within line_start..line_end.")
    char_start: int | None = None
    char_end: int | None = None
    title: str | None = None
    date: dt.date | None = None
    outlet: str | None = None


class AnswerSentence(BaseModel):
    text: str
    citations: list[int] = []
    supported: bool = True
    support: float | None = Field(default=None, description="Support score of the cited text for this sentence.")
    note: str | None = Field(default=None, description="A reading aid, never part of the quote: e.g. who a role or "
                             "pronoun in the attribution is, as the article names them.")
    recited_from: list[str] | None = Field(
        default=None, description="LLM only, set when the sentence was re-cited: the sources (file:lines) the model "
                                  "cited, none of which states it; its citations are to a source of its context that does.")
    latest: bool = Field(False, description="It gives a running figure's most recently dated value (it leads the answer).")


class UnsupportedSentence(BaseModel):
    """A sentence of an LLM's answer that no source of its context supports."""

    text: str
    sources: list[str] = Field(default=[], description="Files of the sources the model cited for it.")
    support: float | None = Field(default=None, description="Best support score among those sources.")
    reason: str


class RejectedOutput(BaseModel):
    """The model's answer, kept when no sentence of it was supported and the answer became a refusal."""

    text: str = Field(description="The model's sentences with its own [n] source numbers.")
    reason: str
    sentences: list[UnsupportedSentence] = []


class Claim(BaseModel):
    value: str = Field(description="The figure as written, e.g. 'more than 20'.")
    number: float
    citation: int
    date: dt.date | None = Field(None, description="Publication date of the article that states it.")
    outlet: str | None = Field(None, description="The outlet of that article.")
    latest: bool = Field(False, description="A running tally's most recently dated figure (listed first).")


class Conflict(BaseModel):
    """Sources that give different figures for the same thing."""

    about: str = Field(description="What the figures count, e.g. 'rockets'.")
    claims: list[Claim]
    tally: bool = Field(False, description="A running tally (a toll, a count): the latest dated figure comes first.")


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0

    def __add__(self, other: Usage | None) -> Usage:
        """Two calls' usage together (None adds nothing): the one way usage is summed."""
        if other is None:
            return self
        return Usage(prompt_tokens=self.prompt_tokens + other.prompt_tokens,
                     completion_tokens=self.completion_tokens + other.completion_tokens,
                     cost_usd=round(self.cost_usd + other.cost_usd, 8))


class Turn(BaseModel):
    """One earlier turn of a conversation (`rag chat`, POST /ask `history`): a follow-up is rewritten from these."""

    model_config = {"extra": "forbid"}
    question: str = Field(max_length=2000, description="The question as asked.")
    rewritten: str | None = Field(None, max_length=2000, description="The standalone question it was answered as.")
    answer: str | None = Field(None, max_length=20_000, description="The answer's text (its [n] markers may stay).")


class EvidenceDates(BaseModel):
    """When the evidence of an answer was published (rag/answer/dating.py)."""

    as_of: dt.date | None = Field(None, description="The --as-of date, else the latest date of the cited articles.")
    first: dt.date | None = Field(None, description="Earliest publication date of the cited articles.")
    last: dt.date | None = None
    articles: int = Field(0, description="Cited articles.")
    undated: int = Field(0, description="Cited articles without a publication date.")
    text: str = Field(description="E.g. 'as of 2022-10-21, from 3 articles dated 2022-10-17…2022-10-20'.")


class Answer(BaseModel):
    question: str
    rewritten: str | None = Field(None, description="A follow-up: the standalone question it was rewritten to and "
                                  "answered as (None when it needed no rewrite).")
    answer: str = Field(description="Text with [n] citation markers.")
    refused: bool = False
    citations: list[Citation] = []
    sentences: list[AnswerSentence] = []
    conflicts: list[Conflict] = []
    removed: list[UnsupportedSentence] = Field(
        default=[], description="LLM only: sentences removed because no source of the context supports them.")
    rejected: RejectedOutput | None = Field(
        default=None, description="LLM only: the model's answer, when none of it was supported (the answer is a refusal).")
    engine: str
    model: str | None = None
    prompt_name: str | None = None
    prompt_hash: str | None = None
    settings_hash: str
    retrieved: list[str] = Field(default=[], description="Sources of the retrieved chunks, best first.")
    usage: Usage = Usage()
    notes: list[str] = Field(default=[], description="What the system did that a reader should know.")
    timings: dict[str, float] = {}
    confidence: float | None = Field(default=None, description="Extractive engine: the refusal score of its best "
                                     "evidence (its answerability score); it answers when this reaches `min_answerable`.")
    refusal_reason: str | None = Field(default=None, description="Why the question was refused: the question terms "
                                       "no retrieved passage covers, or the best evidence score against the threshold.")
    dated: EvidenceDates | None = Field(None, description="The date range of the cited evidence.")


class IngestReport(BaseModel):
    added: list[str] = []
    updated: list[str] = []
    removed: list[str] = []
    skipped: list[str] = []
    failed: dict[str, str] = Field(default={}, description="Path → one-line reason.")
    duplicates: dict[str, str] = Field(default={}, description="Source → the identical source already indexed.")
    chunks: int = Field(default=0, description="Chunks written in this run.")
    total_chunks: int = 0
    embedded: int = Field(default=0, description="Chunk texts embedded (not found in the cache).")
    embedded_sentences: int = Field(default=0, description="Sentence texts embedded (not found in the cache; settings.sentence_vectors).")
    flushed: int = Field(default=0, description="Vector-file rows this run wrote into Chroma (settings.dense_tail_rows).")
    seconds: float = 0.0
    dry_run: bool = False


class FetchOutcome(BaseModel):
    """What `rag ingest URL` / `--feed` did with one URL."""

    url: str
    status: Literal["saved", "updated", "unchanged", "known", "refused"] = Field(
        description="saved: new page; updated: its text changed; unchanged: fetched, same as saved (nothing written); "
                    "known: a feed item fetched before (not fetched again); refused: not saved or indexed (see reason).")
    source: str | None = Field(None, description="The saved file, relative to the corpus root.")
    reason: str | None = Field(None, description="Why it was refused, in one line.")


class FetchReport(BaseModel):
    feed: str | None = None
    items: list[FetchOutcome] = []
    requests: int = Field(0, description="HTTP requests made (the feed included).")
    ingest: IngestReport | None = Field(None, description="The ingest of the saved pages (None: nothing new to index).")
    seconds: float = 0.0


class Passage(BaseModel):
    """Lines of an indexed article: the target of a citation."""

    source: str
    line_start: int
    line_end: int
    lines: list[str]
    title: str | None = None
    date: dt.date | None = None
    outlet: str | None = None
    dropped: list[DroppedLine] = Field(default=[], description="Cleaned-away lines within the range.")


class Status(BaseModel):
    store_dir: str
    chroma: str = Field(description="'embedded at <path>' or the server URL.")
    documents: int
    chunks: int
    vectors: int | None = None
    tail_rows: int | None = Field(None, description="Vector-file rows past the watermark: not yet in Chroma, ranked "
                                  "exactly by searches (settings.dense_tail_rows).")
    sealed_dead: int | None = Field(None, description="Vectors of removed chunks left in sealed Chroma shards, "
                                    "skipped by searches; a flush sweeps them past settings.dense_tail_rows.")
    embedding_model: str | None = None
    fingerprint: dict | None = None
    generation: int | None = None
    sizes: dict[str, int] = Field(default={}, description="Bytes on disk per component.")
    problems: list[str] = Field(default=[], description="Inconsistencies found by --check.")
    garbage: list[str] = Field(default=[], description="What --check found that no query can see (left by an "
                               "interrupted ingest; the next ingest or --repair removes it). Not a problem.")


# --- LLM engine: the reply the model is asked for, and the call log ---------------------------


class ReplySentence(BaseModel):
    """One sentence of an LLM's draft answer, with the numbers of the sources it cites."""

    model_config = {"extra": "forbid"}
    text: str = Field(description="One sentence of the answer, without citation markers.")
    citations: list[int] = Field(description="Numbers of the sources that state this sentence.")


class ReplyClaim(BaseModel):
    model_config = {"extra": "forbid"}
    value: str = Field(description="The figure as the source writes it, e.g. 'more than 20'.")
    citation: int = Field(description="Number of the source that gives this figure.")


class ReplyConflict(BaseModel):
    model_config = {"extra": "forbid"}
    about: str = Field(description="What the figures count, e.g. 'rockets'.")
    claims: list[ReplyClaim]


class LLMReply(BaseModel):
    """The structured answer requested from the model (JSON schema), validated before use."""

    model_config = {"extra": "forbid", "title": "answer"}
    refused: bool = Field(description="True when the sources do not answer the question.")
    sentences: list[ReplySentence]
    conflicts: list[ReplyConflict] = Field(description="Figures on which the sources disagree; usually empty.")


class LLMCall(BaseModel):
    """One line of the LLM call log (`rag log`)."""

    time: dt.datetime
    model: str
    purpose: str = Field(description="What the call was for: answer, judge, briefing, ...")
    prompt_name: str | None = None
    prompt_hash: str | None = None
    context_hash: str = Field(description="Hash of the messages sent.")
    mode: str = Field("text", description="Output requested: json_schema, json_object or text.")
    stream: bool = False
    cached: bool = Field(False, description="Served from the response cache: nothing was sent or spent.")
    attempts: int = Field(1, description="HTTP attempts, retries included.")
    latency_s: float = 0.0
    usage: Usage = Usage()
    usage_estimated: bool = Field(False, description="The server reported no usage; tokens were counted locally.")
    error: str | None = None


class LLMLogReport(BaseModel):
    """Recent calls and totals over the whole log."""

    path: str
    recent: list[LLMCall]
    calls: int = Field(0, description="Calls sent to a server (cache hits excluded).")
    cache_hits: int = 0
    errors: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    mean_latency_s: float = Field(0.0, description="Mean latency of successful calls sent to a server.")


# --- Evaluation (rag eval): cases, scores, runs and comparisons ------------------------------


class EvalCase(BaseModel):
    """A question and what a correct answer must contain (a case in `evals/*.yaml`)."""

    model_config = {"extra": "forbid"}
    kind: Literal["question"] = "question"
    id: str
    question: str
    facts: list[list[str]] = Field(default=[], description="Each fact: acceptable phrasings or numbers; one must appear.")
    sources: list[list[str]] = Field(default=[], description="Sources a good answer cites; an inner list holds alternatives.")
    refuse: bool = Field(False, description="The corpus cannot answer: the right answer is a refusal.")
    tags: list[str] = []
    history: list[str] = Field(default=[], description="A follow-up: the earlier questions of its conversation, asked "
                               "first in this order (the case's question is then rewritten from them).")
    standalone: str | None = Field(None, description="A follow-up: the same question asked on its own.")
    corpus: str = Field("corpus", description="The corpus the case runs on: its file's `corpus:` (default the seed corpus/).")
    file: str | None = Field(None, description="Case file the case was read from.")
    line: int | None = Field(None, description="Line of the case in its file.")


class LabelledEvent(BaseModel):
    """An event a briefing's timeline should date, with its date read from the articles."""

    model_config = {"extra": "forbid"}
    what: list[str] = Field(description="Phrasings that identify the event in a timeline entry's sentence.")
    date: str = Field(description="YYYY-MM-DD, or YYYY-MM-DD/YYYY-MM-DD for a range of days.")


class BriefingCase(BaseModel):
    """A briefing topic and the facts a briefing on it must cover (`kind: briefing`)."""

    model_config = {"extra": "forbid"}
    kind: Literal["briefing"] = "briefing"
    id: str
    topic: str | None = Field(None, description="None briefs the whole corpus (after the filters).")
    since: dt.date | None = None
    until: dt.date | None = None
    source: str | None = Field(None, description="Source glob filter.")
    facts: list[list[str]] = []
    sources: list[list[str]] = []
    tags: list[str] = []
    corpus: str = "corpus"
    file: str | None = None
    line: int | None = None
    events: list[LabelledEvent] = Field(default=[], description="Events and their dates, for timeline accuracy.")
    new_since: dt.date | None = Field(None, description="Brief only what is new since this date (`--new-since`): "
                                      "the articles up to it are the 'before' set.")
    old_facts: list[list[str]] = Field(default=[], description="With new_since: facts the before set already "
                                       "states; a briefing of what is new should not repeat them.")


class Score(BaseModel):
    """One scorer's verdict on one answer: a value (None when it does not apply) and why."""

    value: float | None
    explanation: str


class Trial(BaseModel):
    """One attempt at one case (a run with --repeat N has N trials per case)."""

    epoch: int
    answer: Answer | None = None
    briefing: dict | None = Field(None, description="The briefing as JSON, for briefing cases.")
    scores: dict[str, Score] = {}
    passed: bool = False
    error: str | None = Field(None, description="The engine failed on this case: the one-line error.")
    seconds: float = Field(0.0, description="Wall-clock time of the engine call.")


class CaseResult(BaseModel):
    case: EvalCase | BriefingCase = Field(discriminator="kind")
    trials: list[Trial] = []
    skipped: str | None = Field(None, description="Why the case was not run.")


class MetricSummary(BaseModel):
    """A metric over the cases of a run: mean over repeats, and their spread."""

    mean: float | None
    spread: float = Field(0.0, description="Sample standard deviation across repeats (0 with one repeat).")
    epochs: list[float | None] = Field(default=[], description="The metric in each repeat.")
    cases: int = Field(0, description="Cases the metric applies to.")


class EvalRun(BaseModel):
    """A saved eval run: every case's answers and scores, and where they came from."""

    format: int = 1
    id: str
    created: dt.datetime
    git_commit: str | None = None
    git_dirty: bool | None = None
    engine: str
    model: str | None = None
    prompt_name: str | None = None
    prompt_hash: str | None = None
    settings_hash: str
    settings: dict = Field(default={}, description="The settings that can change an answer.")
    judge: str = "lexical"
    repeat: int = 1
    case_files: list[str] = []
    notes: list[str] = []
    results: list[CaseResult] = []
    metrics: dict[str, MetricSummary] = {}


class MetricChange(BaseModel):
    name: str
    baseline: float | None
    current: float | None
    delta: float | None
    noise: float = Field(description="A change no larger than this is within the noise.")
    higher_is_better: bool = True
    gated: bool = Field(description="A drop beyond the noise fails the regression gate.")
    verdict: Literal["regression", "improvement", "within noise", "unchanged", "n/a"]


class CaseFlip(BaseModel):
    id: str
    baseline: str = Field(description="pass, fail, or 'k/n' for a case that passed some repeats.")
    current: str
    direction: Literal["pass→fail", "fail→pass", "changed"]


class Comparison(BaseModel):
    baseline_id: str
    baseline_path: str | None = None
    shared_cases: int
    only_in_baseline: list[str] = []
    only_in_current: list[str] = []
    metrics: list[MetricChange] = []
    flips: list[CaseFlip] = []
    warnings: list[str] = Field(default=[], description="Differences in provenance worth knowing (engine, settings).")

    @property
    def regressions(self) -> list[str]:
        return [m.name for m in self.metrics if m.verdict == "regression" and m.gated]


# --- Briefings (rag brief, rag/brief): every sentence and bullet cites file and lines ---------


class BriefPoint(BaseModel):
    """A sentence of the summary or a key-fact bullet."""

    text: str
    citations: list[int] = Field(default=[], description="Numbers of the briefing's citations that state it.")
    supported: bool = Field(True, description="False when no cited text supports it (the LLM engine keeps it, marked).")
    support: float | None = None
    episode: int | None = Field(None, description="The episode (see `episodes`) it belongs to.")
    previous: str | None = Field(None, description="--new-since: the earlier value of a figure it updates, as the "
                                 "earlier articles give it, e.g. '12 [3]'.")


class NewArticle(BaseModel):
    """--new-since (extractive): one new article on the topic and the new statements it adds, in its own
    order (rag.brief.new_since_digest)."""

    source: str
    title: str | None = None
    date: dt.date | None = None
    outlet: str | None = None
    points: list[BriefPoint] = Field(default=[], description="What it adds: its new statements on the topic that the "
                                     "rest of the briefing does not say; one said by other new articles too cites them.")
    found: int = Field(0, description="Its new statements on the topic beyond the rest of the briefing, before the cut.")


class BriefEvent(BaseModel):
    """A dated event of the timeline; reported by several sources, it carries all their citations."""

    date: dt.date = Field(description="First day of the event's date range.")
    end: dt.date = Field(description="Last day of the range (the same day for day precision).")
    precision: Literal["day", "week", "month", "year"] = "day"
    when: str = Field(description="The date as shown, e.g. '2020-12-20 (Sunday)' or 'week of 2020-12-14'.")
    text: str
    citations: list[int] = []
    dating: list[str] = Field(default=[], description="How the date was found in each cited source.")
    supported: bool = True
    episode: int | None = None
    expression: str | None = Field(None, description="The date as the lead sentence writes it, e.g. 'Monday'.")
    relative_to: dt.date | None = Field(None, description="The article's own date, when the date was read "
                                        "relative to it ('Monday', 'Dec. 20', 'last week').")


class BriefQuote(BaseModel):
    """Who said what: a quotation and the person or body it is attributed to."""

    speaker: str | None = Field(None, description="As the article names them; None when the article does not say.")
    words: str = Field(description="The quoted words, verbatim.")
    citations: list[int] = []
    supported: bool = True
    episode: int | None = None


class DisagreementSide(BaseModel):
    value: str = Field(description="What this side says, e.g. 'an estimated eight'.")
    citations: list[int]
    date: dt.date | None = Field(None, description="Publication date of the latest article stating it.")
    outlet: str | None = Field(None, description="The outlets stating it, comma-separated.")
    latest: bool = Field(False, description="A running tally's most recently dated figure (listed first).")


class Disagreement(BaseModel):
    """Sources that state incompatible things about the same event: each side with its citations."""

    about: str
    sides: list[DisagreementSide]
    episode: int | None = None
    tally: bool = Field(False, description="A running tally (a toll, a count): the latest dated figure comes first.")


class Episode(BaseModel):
    """A group of articles about one event. Articles months apart, or about different attacks,
    are different episodes, and a briefing never merges them."""

    n: int
    label: str = Field(description="The title of the episode's most central article.")
    start: dt.date | None = Field(None, description="Earliest publication date of its articles (None: all undated).")
    end: dt.date | None = None
    sources: list[str]
    placed_by: list[str] = Field(default=[], description="How each undated article was placed, in words.")


class BriefSource(BaseModel):
    source: str
    title: str | None = None
    outlet: str | None = None
    date: dt.date | None = None
    episode: int | None = None
    cited: int = Field(0, description="How many of the briefing's citations point into this source.")
    note: str | None = Field(None, description="E.g. 'no publication date', 'syndicated copy of ...'.")


class Briefing(BaseModel):
    """A multi-source briefing. md and html are rendered from this; `--format json` prints it."""

    topic: str | None = Field(None, description="None: the whole corpus, after the filters.")
    since: dt.date | None = None
    until: dt.date | None = None
    source_filter: str | None = None
    engine: str
    model: str | None = None
    prompt_name: str | None = None
    prompt_hash: str | None = None
    settings_hash: str
    episodes: list[Episode] = []
    summary: list[BriefPoint] = []
    key_facts: list[BriefPoint] = []
    timeline: list[BriefEvent] = []
    quotes: list[BriefQuote] = []
    disagreements: list[Disagreement] = []
    sources: list[BriefSource] = []
    citations: list[Citation] = []
    usage: Usage = Usage()
    notes: list[str] = Field(default=[], description="What the system did that a reader should know.")
    timings: dict[str, float] = {}
    new_since: dt.date | None = Field(None, description="--new-since: only what the articles up to this date (or the "
                                      "earlier briefing) did not contain.")
    new_since_briefing: str | None = Field(None, description="--new-since BRIEFING.json: the earlier briefing's topic "
                                           "and date, as compared against.")
    new_articles: list[NewArticle] = Field([], description="--new-since (extractive): what each new article on the "
                                           "topic adds, oldest article first.")


class BriefReplyEvent(BaseModel):
    model_config = {"extra": "forbid"}
    date: str = Field(description="The event's date as YYYY-MM-DD (or YYYY-MM, or YYYY).")
    text: str = Field(description="One sentence saying what happened, without citation markers.")
    citations: list[int]


class BriefReplyQuote(BaseModel):
    model_config = {"extra": "forbid"}
    speaker: str = Field(description="Who said it, as the source names them.")
    words: str = Field(description="The quoted words, copied exactly from the source.")
    citations: list[int]


class BriefReply(BaseModel):
    """The structured briefing requested from the model in the reduce step (JSON schema)."""

    model_config = {"extra": "forbid", "title": "briefing"}
    summary: list[ReplySentence] = Field(description="2 to 4 sentences.")
    key_facts: list[ReplySentence]
    timeline: list[BriefReplyEvent]
    quotes: list[BriefReplyQuote]
    disagreements: list[ReplyConflict] = Field(description="Figures on which the sources disagree; usually empty.")


# --- Reliability: repairing an index (rag status --repair) ------------------------------------


class RepairReport(BaseModel):
    """What `rag status --repair` found and did. The index is consistent when `problems` is empty."""

    store_dir: str
    found: list[str] = Field(default=[], description="Problems the check found before the repair.")
    actions: list[str] = Field(default=[], description="What the repair did, in order.")
    problems: list[str] = Field(default=[], description="Problems left after the repair.")
    garbage: list[str] = Field(default=[], description="Unreferenced leftovers after the repair (normally none).")
    seconds: float = 0.0


# --- The web workspace: the sources panel and suggested questions (issue 20) ----------------------


class SourceRow(BaseModel):
    """One indexed article as the sources panel lists it."""

    source: str
    title: str | None = None
    outlet: str | None = None
    date: dt.date | None = None
    chars: int = Field(0, description="Length of the article's text in characters.")
    n_lines: int = 0


class OutletCount(BaseModel):
    outlet: str | None = Field(description="None: articles without an outlet.")
    articles: int


class SourcePage(BaseModel):
    """A page of the indexed articles, after filters and sorting (GET /sources)."""

    total: int = Field(description="Articles that pass the filters, before offset and limit.")
    offset: int
    limit: int
    sort: str
    sources: list[SourceRow]
    outlets: list[OutletCount] = Field(default=[], description="Every outlet of the index and its article count "
                                                               "(with `facets`).")
    first: dt.date | None = Field(None, description="The earliest article date of the index (with `facets`).")
    last: dt.date | None = Field(None, description="The latest article date of the index (with `facets`).")


class Suggestion(BaseModel):
    """A question or briefing topic drawn from the corpus: a name that several recent articles share."""

    kind: Literal["ask", "brief"]
    text: str = Field(description="The question, or the briefing topic.")
    about: str = Field(description="The shared name it is built on.")
    articles: int = Field(description="Recent articles that name it (in the title or the lead).")
    latest: dt.date | None = None
    titles: list[str] = Field(default=[], description="Titles of the most recent of those articles.")
