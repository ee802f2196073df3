"""Plain-text and Markdown renderings of the domain objects (the CLI and reports use these)."""

from __future__ import annotations

import textwrap

from rag.answer.citations import markers, where
from rag.models import Answer, IngestReport, Passage, SearchResult, Status
from rag.text.snippet import short

_WIDTH = 100


def _wrap(text: str, indent: str = "") -> str:
    return textwrap.fill(text, _WIDTH, initial_indent=indent, subsequent_indent=indent)


def answer_text(answer: Answer) -> str:
    lines = [f"(answered as: {answer.rewritten})"] if answer.rewritten else []
    if answer.refused:
        lines.append(answer.answer)
        if answer.refusal_reason:
            lines.append(_wrap(f"Why: {answer.refusal_reason}"))
        if answer.rejected:
            lines += ["", f"Rejected model output ({answer.rejected.reason}):", _wrap(answer.rejected.text, "  > ")]
    else:
        for s in answer.sentences:
            marks = markers(s.citations)
            flag = "" if s.supported else "  (UNSUPPORTED by its citation)"
            note = f"  ({s.note})" if s.note else ""
            latest = "  (latest figure)" if s.latest else ""
            lines.append(_wrap(f"{s.text} {marks}{latest}{flag}{recited_flag(s)}{note}"))
    for conflict in answer.conflicts:
        lines.append("")
        tally = " (a running tally: the latest dated figure first)" if conflict.tally else ""
        lines.append(f"Sources disagree on the number of {conflict.about}{tally}:")
        grouped: dict[str, list] = {}
        for claim in conflict.claims:
            grouped.setdefault(claim.value.lower(), []).append(claim)
        for value, claims in grouped.items():
            lines.append(f"  - {value} " + markers(c.citation for c in claims) + claim_sources(claims))
    if answer.citations:
        lines.append("")
        for c in answer.citations:
            lines.append(_wrap(f"[{c.n}] {where(c)}{cited_from(c)}  \"{short(c.quote, 220)}\"", ""))
    if answer.dated:
        lines.append(f"Evidence: {answer.dated.text}")
    for note in answer.notes:
        lines.append(f"note: {note}")
    total = sum(answer.timings.values())
    meta = f"engine {answer.engine}" + (f" ({answer.model})" if answer.model else "")
    lines.append(f"\n{meta} · settings {answer.settings_hash} · {total:.2f}s")
    return "\n".join(lines)


def cited_from(citation) -> str:
    """' (Reuters, 2022-10-20)': the outlet and date of a citation's article ('no date' when it has none)."""
    date = citation.date.isoformat() if citation.date else "no date"
    return f" ({citation.outlet}, {date})" if citation.outlet else f" ({date})"


def claim_sources(claims) -> str:
    """' — Reuters 2022-09-30, AP 2022-10-01; latest': who gives a figure, and when."""
    seen = dict.fromkeys(" ".join(x for x in (c.outlet, c.date.isoformat() if c.date else None) if x)
                         for c in claims)
    where = ", ".join(w for w in seen if w)
    latest = "latest" if any(c.latest for c in claims) else ""
    parts = "; ".join(p for p in (where, latest) if p)
    return f" — {parts}" if parts else ""


def recited_flag(sentence) -> str:
    """'  (re-cited: the model cited a.txt)' for a sentence whose citation was repaired."""
    if sentence.recited_from is None:
        return ""
    return f"  (re-cited: the model cited {', '.join(sentence.recited_from) or 'no source of its context'})"


def search_text(result: SearchResult) -> str:
    if not result.hits:
        return "no results"
    out = []
    for hit in result.hits:
        c = hit.chunk
        head = f"{hit.rank}. {c.source}:{c.line_start}-{c.line_end}  score {hit.score:.4f}"
        if c.date or c.title:
            head += f"  ({', '.join(x for x in (str(c.date or ''), short(c.title or '', 70)) if x)})"
        out.append(head)
        if hit.duplicates:
            out.append(f"   also in: {', '.join(hit.duplicates)}")
        out.append(_wrap(short(c.text, 400), "   "))
    return "\n".join(out)


def passage_text(passage: Passage, raw: bool = False) -> str:
    dropped = {d.line: d.reason for d in passage.dropped}
    width = len(str(passage.line_end))
    out = [f"{passage.source}  {passage.title or ''}".rstrip()]
    for offset, line in enumerate(passage.lines):
        number = passage.line_start + offset
        mark = f"  [dropped: {dropped[number]}]" if raw and number in dropped else ""
        out.append(f"{number:>{width}}  {line}{mark}")
    return "\n".join(out)


def ingest_text(report: IngestReport) -> str:
    verb = "would add" if report.dry_run else "added"
    out = [
        f"{verb} {len(report.added)}, updated {len(report.updated)}, removed {len(report.removed)}, "
        f"skipped {len(report.skipped)} unchanged"
        + (f", {len(report.duplicates)} duplicates" if report.duplicates else "")
        + (f", {len(report.failed)} failed" if report.failed else "")
    ]
    if report.dry_run:
        for label, items in (("add", report.added), ("update", report.updated), ("remove", report.removed)):
            out += [f"  {label} {s}" for s in items]
    else:
        out.append(f"{report.chunks} chunks written ({report.embedded} embedded), "
                   f"{report.total_chunks} in the index"
                   + (f", {report.flushed} vectors flushed into Chroma" if report.flushed else "")
                   + f" · {report.seconds:.1f}s")
    out += [f"  duplicate {s} = {twin}" for s, twin in report.duplicates.items()]
    return "\n".join(out)


def status_text(status: Status) -> str:
    out = [
        f"store      {status.store_dir}",
        f"chroma     {status.chroma}",
        f"documents  {status.documents}",
        f"chunks     {status.chunks}",
        f"embedding  {status.embedding_model or '-'}",
    ]
    if status.fingerprint:
        fp = status.fingerprint
        out.append(f"chunking   {fp.get('chunk_tokens')} tokens, overlap {fp.get('chunk_overlap_sentences')} "
                   f"sentence(s), pipeline {fp.get('pipeline')}")
    if status.generation is not None:
        out.append(f"generation {status.generation}")
    sizes = ", ".join(f"{k} {v / 1e6:.1f} MB" for k, v in status.sizes.items())
    out.append(f"on disk    {sizes}")
    if status.vectors is not None:
        out.append(f"vectors    {status.vectors}")
    if status.tail_rows:
        out.append(f"tail       {status.tail_rows} vector-file rows not yet in Chroma")
    out += [f"problem    {p}" for p in status.problems]
    return "\n".join(out)
