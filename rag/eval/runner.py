"""Running cases against a Rag: ask (or brief), score, repeat, and record where it came from."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

from rag.errors import ConfigError, IndexMismatchError, IndexMissingError, RagError, first_line
from rag.eval.cases import CaseFileError
from rag.eval.entail import Entails, lexical_entails
from rag.eval.metrics import compute_metrics
from rag.eval.provenance import code_version, hashed_settings
from rag.eval.scorers import SourceLookup, passed, score_answer, score_briefing
from rag.models import BriefingCase, CaseResult, EvalCase, EvalRun, Score, Trial
from rag.retrieval import Filters

Progress = Callable[[int, int, str], None]  # (done, total, case id)
_FATAL = (ConfigError, IndexMissingError, IndexMismatchError)  # no later case can succeed either
_MAX_ERRORS_IN_A_ROW = 3
_QUALITY = ("refusal", "fact_recall", "citation_validity", "citation_recall", "citation_precision",
            "source_recall_cited", "source_recall_retrieved")


def store_lookup(rag) -> SourceLookup:
    """source → (original text, format) from the index, read once per source."""
    cache: dict[str, tuple[str, str] | None] = {}

    def lookup(source: str):
        if source not in cache:
            raw = rag.store.docs.raw(source)
            article = rag.store.docs.article(source) if raw is not None else None
            cache[source] = (raw, article.format) if article is not None else None
        return cache[source]

    return lookup


def check_sources(rag, cases: list[EvalCase | BriefingCase]) -> None:
    """A case that expects a source the index does not hold is a typo or the wrong corpus."""
    known = set(rag.store.docs.manifest())
    if not known:
        raise IndexMissingError(f"no index in {rag.settings.store_dir}; run `rag ingest` first")
    for case in cases:
        for alternatives in case.sources:
            if not known & set(alternatives):
                raise CaseFileError(f"{case.file}:{case.line}: case {case.id!r} expects source "
                                    f"{' | '.join(alternatives)}, which is not in the index ({len(known)} sources)")


def run_eval(rag, cases: list[EvalCase | BriefingCase], *, repeat: int = 1, entails: Entails = lexical_entails,
             judge: str = "lexical", case_files: list[str] | None = None, notes: list[str] | None = None,
             progress: Progress | None = None) -> EvalRun:
    """Ask (or brief) every case `repeat` times and score each answer or briefing."""
    if repeat < 1:
        raise ConfigError("--repeat must be at least 1")
    check_sources(rag, cases)
    lookup = store_lookup(rag)
    todo = [CaseResult(case=case) for case in cases]
    if todo:
        # Load the embedder and indexes first, so the first case's latency is not the start-up.
        rag.search(getattr(todo[0].case, "question", None) or "warm up", 1)
    total, done, errors_in_a_row = len(todo) * repeat, 0, 0
    for epoch in range(1, repeat + 1):
        for result in todo:
            trial = _trial(rag, result.case, epoch, lookup, entails)
            result.trials.append(trial)
            errors_in_a_row = errors_in_a_row + 1 if trial.error else 0
            if errors_in_a_row >= _MAX_ERRORS_IN_A_ROW:
                raise RagError(f"stopping the eval: {errors_in_a_row} cases in a row failed; last: {trial.error}")
            done += 1
            if progress:
                progress(done, total, result.case.id)
    return _record(rag, todo, repeat, judge, case_files or [], list(notes or []))


def _trial(rag, case, epoch: int, lookup: SourceLookup, entails: Entails) -> Trial:
    started = time.perf_counter()
    try:
        if isinstance(case, BriefingCase):
            wanted = {k: v for k, v in (("since", case.since), ("until", case.until), ("source", case.source)) if v}
            briefing = rag.brief(case.topic, filters=Filters(**wanted), **({"new_since": case.new_since} if case.new_since else {}))
            seconds = time.perf_counter() - started
            scores = score_briefing(case, briefing, lookup)
            return Trial(epoch=epoch, briefing=briefing.model_dump(mode="json"), scores=scores, passed=passed(scores),
                         seconds=seconds)
        answer = ask_case(rag, case)
        seconds = time.perf_counter() - started
    except _FATAL:
        raise
    except RagError as err:
        return _failed(case, epoch, str(err), time.perf_counter() - started)
    scores = score_answer(case, answer, seconds, lookup, entails)
    return Trial(epoch=epoch, answer=answer, scores=scores, passed=passed(scores), seconds=seconds)


def ask_case(rag, case: EvalCase):
    """A question case's answer; a follow-up (`history`) is asked after its conversation's earlier questions."""
    if not case.history:
        return rag.ask(case.question)
    from rag.chat.session import Conversation

    conversation = Conversation(rag)
    for earlier in case.history:
        conversation.ask(earlier)
    return conversation.ask(case.question)


def _failed(case, epoch: int, error: str, seconds: float) -> Trial:
    """An engine error scores zero on every quality score that would have applied."""
    first = first_line(error)
    keys = _QUALITY
    if isinstance(case, BriefingCase):
        keys = ("fact_recall", "citation_validity", "source_recall_cited") + (
            ("timeline_date_accuracy", "timeline_event_recall") if case.events else ())
    scores = {k: Score(value=0.0, explanation=f"engine error: {first}") for k in keys}
    if isinstance(case, EvalCase) and case.refuse:
        for k in ("fact_recall", "source_recall_cited", "source_recall_retrieved"):
            scores[k] = Score(value=None, explanation="does not apply")
    return Trial(epoch=epoch, scores=scores, passed=False, error=first, seconds=seconds)


def _record(rag, results: list[CaseResult], repeat: int, judge: str, case_files: list[str], notes: list[str]) -> EvalRun:
    settings = rag.settings
    answers = [t.answer for r in results for t in r.trials if t.answer is not None]
    models = sorted({a.model for a in answers if a.model})
    prompts = sorted({(a.prompt_name, a.prompt_hash) for a in answers if a.prompt_hash})
    if len(prompts) > 1:
        notes.append("answers used different prompts: " + ", ".join(f"{n} {h}" for n, h in prompts))
    commit, dirty = code_version()
    created = dt.datetime.now(dt.UTC).replace(microsecond=0)
    engine = answers[0].engine if answers else settings.engine
    run = EvalRun(
        id=f"{created:%Y%m%dT%H%M%SZ}-{engine}-{settings.settings_hash()[:6]}",
        created=created, git_commit=commit, git_dirty=dirty, engine=engine,
        model=", ".join(models) or None,
        prompt_name=prompts[0][0] if len(prompts) == 1 else None,
        prompt_hash=prompts[0][1] if len(prompts) == 1 else None,
        settings_hash=settings.settings_hash(), settings=hashed_settings(settings), judge=judge,
        repeat=repeat, case_files=case_files, notes=notes, results=results,
    )
    run.metrics = compute_metrics(results)
    return run
