"""One typed Settings object: defaults < rag.toml < environment < flags. Passed explicitly."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, field_validator

from rag.errors import ConfigError
from rag.settings_sources import gathered

# Fields that say where things are, or hold secrets, do not change answers: they stay out of the hash.
_UNHASHED = {"store_dir", "corpus_dir", "chroma_url", "llm_api_key", "llm_base_url", "cache_dir", "llm_log"}
# The HTTP API group says how answers are served, never what they are.
_UNHASHED |= {"api_token", "api_max_body_bytes", "api_max_upload_bytes", "api_cors_origins", "api_read_only", "api_upload_dir",
              "api_allowed_hosts", "api_max_briefings"}
# Ingest limits say what may be read, not how it is answered.
_UNHASHED |= {"max_article_bytes", "fetch_timeout"}
# Where committed vectors wait before Chroma holds them: searches rank them exactly either way.
_UNHASHED |= {"dense_tail_rows", "chroma_shard_rows"}


def _env(*names: str) -> AliasChoices:
    return AliasChoices(*names)


class Settings(BaseModel):
    """Every value is read from, in increasing precedence: the defaults here, rag.toml (or
    $RAG_CONFIG), RAG_<NAME> environment variables (aliases where a field names them) and the
    keyword arguments (rag/settings_sources.py)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, validate_default=True)

    def __init__(self, **values):
        super().__init__(**gathered(type(self).model_fields, values))

    # Where data lives
    store_dir: Path = Field(Path(".rag"), description="Index directory (Chroma, BM25, docstore).")
    corpus_dir: Path = Field(Path("corpus"), description="Corpus root: sources are named relative to it.")
    chroma_url: str | None = Field(None, description="Use a Chroma server (http://host:port) instead of the embedded store.")
    collection: str = Field("rag-chunks", description="Chroma collection name.")

    # Embedding and chunking (recorded in the index; a change needs --rebuild)
    embedding_model: str = Field(
        "all-MiniLM-L6-v2",
        description="'all-MiniLM-L6-v2' (local, offline) or 'openai:<model>' (uses the LLM endpoint).",
    )
    embedding_batch_size: int = Field(32, ge=1)
    chunk_tokens: int = Field(160, ge=16, le=240, description="Max cl100k tokens per chunk (MiniLM reads 256 wordpieces).")
    chunk_overlap_sentences: int = Field(1, ge=0, le=5)
    embed_title: bool = Field(True, description="Prefix each chunk's title when embedding and indexing.")
    chroma_shard_rows: int = Field(500_000, ge=1, description="Vectors per Chroma shard: a flush loads only the newest shard (about 0.9 GB at 500,000 MiniLM vectors), whatever the store's size (rag/index/shards.py).")
    dense_tail_rows: int = Field(10_000, ge=0, description="Vectors an ingest leaves only in the vector file (searched exactly) before it flushes them into Chroma; 0 flushes on every ingest (rag/index/tail.py). Also the bound on removed chunks' vectors left in sealed Chroma shards, past which a flush deletes them a shard at a time (rag/index/shards.py).")

    # Retrieval
    top_k: int = Field(5, ge=1, le=200, description="Hits returned by search.")
    candidates: int = Field(50, ge=5, description="Candidates taken from each retriever before fusion.")
    rrf_k: int = Field(60, ge=1, description="Reciprocal-rank-fusion constant.")
    dense_weight: float = Field(1.0, ge=0)
    lexical_weight: float = Field(1.5, ge=0)
    bm25_k1: float = Field(1.5, ge=0, description="BM25 term-frequency saturation (bm25s's default).")
    bm25_b: float = Field(0.75, ge=0, le=1, description="BM25 length normalisation.")
    mmr_lambda: float = Field(0.75, ge=0, le=1, description="MMR trade-off: 1 = relevance only.")
    near_duplicate: float = Field(0.92, gt=0, le=1, description="Cosine above which two chunks are syndicated copies.")
    # Ranking (rag/ranking.py, issue 14). Chosen on the benchmark's *tune* half (bench/retrieval_grid.py;
    # BENCHMARKS.md "Retrieval"). Round 2 kept mmr_lambda 0.75 (the grid's 1.0 lost on check); round 3
    # (the whole-article list) chose lexical_weight 1.5, max_per_article 1 (a tie on tune with 2: the
    # first listed), the article weights and the half-life on tune alone.
    fusion: Literal["rrf", "convex"] = Field("rrf", description="How ranked lists are fused: reciprocal rank, or a convex combination of min-max normalised scores.")
    article_weight: float = Field(1.0, ge=0, description="Weight of the article's summed chunk BM25 (its chunks in the lexical list) among the article signals (0: best chunks only).")
    article_share: float = Field(0.0, ge=0, le=1, description="A chunk's relevance: this share of its article's normalised score, the rest its own (0: chunk-level ranking).")
    max_per_article: int = Field(1, ge=1, description="Among the first article_cap_window hits, at most this many from one article while other articles' candidates remain (so an answer's context holds more than one source).")
    article_cap_window: int = Field(5, ge=0, description="The first hits the per-article cap holds for (0: no cap).")
    recency_half_life_days: float = Field(
        60.0, ge=0, description="With as_of: a chunk's relevance halves for every this many days its article predates as_of (0: no prior).")
    # The recent window (issue 12 round 12): under as_of, candidates of the week's coverage too.
    recent_window_days: int = Field(0, ge=0, description="With as_of: also take the dense and lexical candidates among the articles dated from this many days before as_of up to it (the search's own filters apply as well), so that recent coverage is ranked, and its recency prior counts, even when older, better-matching stories fill the candidate lists (0: off).")
    recent_window_weight: float = Field(0.0, ge=0, description="How the recent window's candidates join the ranking: 0 merged into the dense and lexical lists by their own scores (the same index's cosines and BM25, so a recent chunk stands where its score puts it); above 0 as two lists of their own, fused with this multiple of dense_weight and lexical_weight.")
    # Whole-article BM25 (issue 14 round 3): its own candidate list, each article lending its weight
    # to its best chunks (rag.ranking.credit_best_chunks).
    article_bm25_weight: float = Field(8.0, ge=0, description="Weight of the whole-article BM25 list among the fused signals (0: not read).")
    article_bm25_weight_as_of: float | None = Field(1.0, ge=0, description="The same weight when the search has an as_of date, whose recency prior favours the latest coverage (None: article_bm25_weight).")
    article_candidates: int = Field(20, ge=1, description="Articles taken from the whole-article BM25 list.")
    article_chunks: int = Field(1, ge=1, description="How many of an article's best chunks take its whole-article weight.")
    article_bm25_k1: float = Field(1.2, ge=0, description="BM25 k1 over whole articles.")
    article_bm25_b: float = Field(0.75, ge=0, le=1, description="BM25 b over whole articles.")
    article_feedback_terms: int = Field(0, ge=0, description="RM3 on the whole-article list: expansion terms taken from its first articles (0: no feedback).")
    article_feedback_docs: int = Field(3, ge=1, description="RM3: the first articles the expansion terms come from.")
    article_feedback_original: float = Field(0.6, ge=0, le=1, description="RM3: the original query's share of the expanded query's weight.")
    # Which chunk stands for an article in the hits (issue 14 round 5, rag.passages; chosen on tune).
    passage_choice: Literal["score", "coverage"] = Field("coverage", description="Which of an article's candidate chunks is shown for it: its best-ranked, or the one covering most of the question's rare terms (summed idf; the articles and their order unchanged).")
    passage_margin: float = Field(0.1, ge=0, description="With passage_choice coverage: another chunk replaces the best-ranked one only when it covers (1 + this) times as much.")
    passage_lead_bonus: float = Field(0.3, ge=0, description="With passage_choice coverage: an article's lead (first chunk) competes too, its coverage counted (1 + this) times (news states who, what and where first; issue 14 round 6, chosen on tune).")
    # A briefing's evidence (rag.brief.scope): its k chunks are read for every statement, date and
    # disagreement, not for a first five, so it keeps the chunk-level ranking of round 2 (the answer
    # ranking's whole-article credit, lexical weight and cap are chosen on top-five metrics).
    brief_lexical_weight: float = Field(1.0, ge=0, description="lexical_weight of a briefing's evidence search.")
    brief_article_bm25_weight: float = Field(0.0, ge=0, description="article_bm25_weight of a briefing's evidence search (also under as_of).")
    brief_max_per_article: int = Field(2, ge=1, description="max_per_article of a briefing's evidence search.")

    # Answering
    engine: Literal["extractive", "llm"] = "extractive"
    answer_k: int = Field(8, ge=1, description="Chunks retrieved to answer a question (the LLM engine).")
    extractive_k: int = Field(12, ge=1, description="Chunks the extractive engine reads (chosen on the benchmark's tune half: docs/design.md).")
    answer_max_sentences: int = Field(3, ge=1, le=10)
    min_support: float = Field(0.0, ge=0, le=1, description="An extra floor on the extractive engine's evidence: the best evidence's support (half question-term coverage, half semantic similarity) must reach it, or the question is refused. 0 by default: the answerability model carries the floor fitted with it on the benchmark's tune half (rag/answer/answerable_model.json; stricter for a question asked without a date: docs/design.md).")
    min_answerable: float = Field(0.5, ge=0, le=1, description="The extractive engine's refusal threshold: the answerability score (rag/answer/answerable_score.py; 0.5 at the operating point chosen on the benchmark's tune half, docs/design.md) must reach it, or the question is refused.")
    sentence_vectors: bool = Field(True, description="Embed every statement sentence at ingest (kept in the store's embedding cache), so the extractive engine scores every candidate semantically and a question embeds only itself; off, or for sentences ingested before it, the engine embeds `rerank_sentences` of them at query time (rag/index/sentence_vectors.py).")
    rerank_sentences: int = Field(8, ge=0, description="Candidate sentences embedded at query time for semantic scoring (8 with answer_k 12: docs/design.md).")

    # LLM endpoint (any OpenAI-compatible server)
    llm_base_url: str | None = Field(None, validation_alias=_env("llm_base_url", "RAG_LLM_BASE_URL", "OPENAI_BASE_URL"))
    llm_api_key: str | None = Field(None, validation_alias=_env("llm_api_key", "RAG_LLM_API_KEY", "OPENAI_API_KEY"))
    llm_model: str = Field("gpt-4o-mini", validation_alias=_env("llm_model", "RAG_LLM_MODEL"))
    # LLM engine (rag/llm, rag/answer/llm_engine.py): generation, budget, robustness, costs
    llm_temperature: float = Field(0.0, ge=0, le=2, description="Sampling temperature; 0 repeats on servers that allow it.")
    llm_max_tokens: int = Field(700, ge=16, description="The answer budget: the most tokens the model may write.")
    llm_context_window: int = Field(8192, ge=512, description="The model's context window; sources fill it minus the answer budget.")
    llm_timeout: float = Field(60.0, gt=0, description="Seconds to wait for a response (streaming: between two chunks).")
    llm_retries: int = Field(3, ge=0, le=10, description="Retries with exponential backoff on 429, 5xx, timeouts and dropped connections.")
    llm_output: Literal["auto", "json_schema", "json_object", "markers"] = Field(
        "auto", description="How the answer is requested: 'auto' tries a JSON schema, then a JSON object, then [n] markers.")
    llm_extra_body: dict = Field({}, description='Extra request fields, e.g. {"cache_prompt": false} for llama.cpp.')
    llm_prices: dict[str, tuple[float, float]] = Field(
        default_factory=lambda: {
            "gpt-4o-mini": (0.15, 0.60), "gpt-4o": (2.50, 10.00), "gpt-4.1-nano": (0.10, 0.40),
            "gpt-4.1-mini": (0.40, 1.60), "gpt-4.1": (2.00, 8.00),
        },
        description="USD per million (prompt, completion) tokens by model; a model not listed costs 0 (local).")
    llm_prompt: str = Field("answer", description="The answer prompt: a name in prompts/ or a path to a .md file.")
    llm_support_threshold: float = Field(0.5, ge=0, le=1, description="Support score a sentence needs from its cited text.")
    llm_min_question_coverage: float = Field(0.3, ge=0, le=1, description=(
        "Answerability gate: the LLM is asked only when a passage of the context holds this share of the "
        "question's key terms (rag/answer/answerability.py; chosen on the tune half, bench/llm_gate.py)."))
    llm_min_answer_similarity: float = Field(0.25, ge=-1, le=1, description=(
        "Off-question test: a verified LLM answer whose quotes hold less than llm_min_question_coverage of the "
        "question's key terms and whose best quote's cosine with the question is below this is refused "
        "(rag/answer/llm_engine.py off_question; chosen on the tune half, bench/llm_relevance.py)."))
    llm_judge: bool = Field(False, description="Also ask the LLM whether each sentence is supported (prompts/support_judge.md).")
    llm_entailment: bool = Field(False, description=(
        "Before removing a sentence whose words its cited text lacks (numbers, names and negations in order), ask "
        "the LLM whether that text states every part of it in other words (rag/answer/entailment.py; off: with "
        "Qwen2.5-Coder-1.5B it kept no true sentence of the tune answers and 4 of 21 false ones, "
        "BENCHMARKS.md round 6 of issue 16)."))
    llm_answer_check: bool = Field(False, description=(
        "Off by default: on tune it refused 1 more unanswerable question of 25 (within noise) for one more "
        "model call (~15 s) on about 1 question in 6. When the extractive engine's answerability verdict refuses "
        "a question the LLM answered, ask the LLM whether "
        "its verified answer gives what the question asks; a no refuses (rag/answer/llm_second_look.py; chosen on "
        "the tune half, bench/llm-notes.md round 8 of issue 16)."))
    llm_min_evidence: float = Field(0.2, ge=0, le=1, description=(
        "Refuse a verified LLM answer when the extractive engine's refusal model, reading each quoted sentence as "
        "its lead, scores none at this or more (rag/answer/evidence_check.py; no model call; 0 turns it off; "
        "chosen on the tune half, bench/llm-notes.md round 9)."))
    llm_fallback: Literal["none", "extractive"] = Field("none", description="Answer with this engine when the LLM fails.")
    llm_unsupported: Literal["remove", "show"] = Field(
        "remove", description="LLM sentences no source in the context supports: 'remove' them (the answer says how many "
                              "and why) or 'show' them flagged (--show-unsupported).")
    llm_local_model: Path | None = Field(
        None, description="A .gguf file: rag starts llama.cpp (xllamacpp) on a free loopback port for the LLM engine "
                          "and stops it on exit (--local-model).")
    llm_cache: bool = Field(True, description="Reuse stored responses to identical requests (--no-cache turns it off).")
    cache_dir: Path | None = Field(None, description="LLM response cache directory (default <store_dir>/cache/llm).")
    llm_log: Path | None = Field(None, description="LLM call log, JSON lines (default <store_dir>/llm-log.jsonl).")

    @field_validator("llm_extra_body", "llm_prices", mode="before")
    @classmethod
    def _json_table(cls, value):
        """`--set llm_extra_body='{"cache_prompt": false}'` arrives as a string: read it as JSON."""
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise ValueError("expected a JSON object") from None
        return value

    # HTTP API (rag serve, rag/server): none of these change answers
    api_token: str | None = Field(None, description="Bearer token every endpoint except /healthz requires (env RAG_API_TOKEN); unset = no auth.")
    api_max_body_bytes: int = Field(64_000, ge=1_000, description="Largest JSON request body; larger ones get 413.")
    api_max_upload_bytes: int = Field(20_000_000, ge=1_000, description="Largest article upload request (POST /documents); larger ones get 413.")
    api_cors_origins: list[str] = Field([], description='Origins allowed to call the API from a browser, e.g. ["https://intranet.example"]; empty = CORS off.')
    api_read_only: bool = Field(False, description="Refuse POST /ingest and uploads (403): a query-only server.")
    api_upload_dir: str = Field("uploads", description="Directory under the corpus root where uploaded articles are saved.")
    api_allowed_hosts: list[str] = Field([], description="Host names served besides the bound address and localhost (DNS-rebinding guard); others get 421.")
    api_max_briefings: int = Field(2, ge=1, description="Briefings computed at once; more get 503 with Retry-After.")

    # Reliability (docs/reliability.md): what an ingest agrees to read. Limits, like paths, change no answer.
    max_article_bytes: int = Field(
        5_000_000, ge=1_000,
        description="Largest article ingested: a whole file, or one JSONL record. Larger ones are skipped with a reason.")
    fetch_timeout: float = Field(15.0, gt=0, description="Seconds `rag ingest URL` / `--feed` waits for a page "
                                 "(connect and each read); slower pages are refused with a reason.")

    def settings_hash(self) -> str:
        """Hash of everything that can change an answer (not paths or secrets)."""
        data = self.model_dump(mode="json", exclude=_UNHASHED)
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:12]


def load_settings(**overrides) -> Settings:
    """Build Settings from rag.toml, the environment and explicit overrides (None means 'not given')."""
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**given)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "settings"
        raise ConfigError(f"invalid setting {where}: {first['msg']}") from None
    except (OSError, ValueError) as err:
        raise ConfigError(f"cannot read settings: {err}") from None


def parse_assignments(pairs: list[str]) -> dict[str, str]:
    """Parse `key=value` strings given with --set."""
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set expects key=value, got {pair!r}")
        out[key.strip()] = value.strip()
    return out
