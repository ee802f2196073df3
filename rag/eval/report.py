"""Reports of an eval outcome: a rich table for the terminal, and Markdown, JSON and HTML."""

from __future__ import annotations

import html
import json
import sys

from rag.eval.metrics import METRICS, case_status, invariants
from rag.models import CaseResult, Score

FORMATS = ("table", "md", "json", "html")
_COLUMNS = [("facts", "fact_recall"), ("cites", "citation_validity"), ("support", "citation_recall"),
            ("sources", "source_recall_cited"), ("refusal", "refusal")]
_GATE_KEYS = ("refusal", "fact_recall", "citation_validity")


# ---- shared pieces -------------------------------------------------------------------------

def _num(value: float | None, name: str = "") -> str:
    if value is None:
        return "–"
    if name == "cost_usd":
        return f"${value:.4f}"
    if name.endswith("_s"):
        return f"{value:.3f}s"
    if name == "tokens_per_case":
        return f"{value:.0f}"
    return f"{value:.3f}"


def _delta(value: float | None, name: str) -> str:
    if value is None:
        return "–"
    return ("+" if value >= 0 else "−") + _num(abs(value), name)


def _mean(result: CaseResult, key: str) -> float | None:
    values = [s.value for t in result.trials if (s := t.scores.get(key)) and s.value is not None]
    return sum(values) / len(values) if values else None


def _header(outcome) -> list[str]:
    run = outcome.run
    commit = (run.git_commit or "unknown")[:10] + (" (uncommitted changes)" if run.git_dirty else "")
    n_cases = sum(1 for r in run.results if r.skipped is None)
    lines = [
        f"eval run {run.id}",
        f"engine {run.engine}" + (f" · model {run.model}" if run.model else "")
        + (f" · prompt {run.prompt_name} {run.prompt_hash}" if run.prompt_hash else "")
        + f" · settings {run.settings_hash} · judge {run.judge}",
        f"{n_cases} cases × {run.repeat} · commit {commit} · {run.created:%Y-%m-%d %H:%M} UTC · saved to {outcome.path}",
    ]
    return lines


def _failures(result: CaseResult) -> list[str]:
    """Why a case failed, from the first failing trial: the explanations of its failing scores."""
    for trial in result.trials:
        if trial.passed:
            continue
        if trial.error:
            return [f"error: {trial.error}"]
        return [f"{k}: {trial.scores[k].explanation}" for k in _GATE_KEYS
                if k in trial.scores and trial.scores[k].value is not None and trial.scores[k].value < 1]
    return []


def _gate_lines(outcome) -> list[str]:
    lines = [f"FAIL {f}" for f in outcome.failures]
    lines += [f"FAIL regression in {name} beyond the noise" for name in outcome.regressions]
    if outcome.thresholds and not outcome.failures:
        lines.append("ok: every --fail-under threshold met (" +
                     ", ".join(f"{k}≥{v:g}" for k, v in outcome.thresholds.items()) + ")")
    if outcome.comparison and not outcome.regressions:
        lines.append("ok: no regression beyond the noise")
    return lines


def _metric_rows(outcome) -> list[list[str]]:
    run, comparison = outcome.run, outcome.comparison
    changes = {m.name: m for m in comparison.metrics} if comparison else {}
    rows, fixed = [], invariants(run.engine)
    for name, metric in METRICS.items():
        summary = run.metrics.get(name)
        change = changes.get(name)
        if summary is None and change is None:
            continue
        kind = "invariant" if name in fixed else "quality" if metric.higher_is_better else "cost"
        row = [name, _num(summary.mean if summary else None, name),
               f"±{_num(summary.spread, name)}" if summary and run.repeat > 1 else "", str(summary.cases if summary else 0),
               kind]
        if comparison:
            row += [_num(change.baseline, name) if change else "–", _delta(change.delta, name) if change else "–",
                    change.verdict if change else "n/a"]
        rows.append(row)
    return rows


def _metric_head(outcome) -> list[str]:
    head = ["metric", "value", "spread", "cases", "kind"]
    return head + (["baseline", "change", "verdict"] if outcome.comparison else [])


def _case_rows(outcome) -> list[list[str]]:
    rows = []
    for r in outcome.run.results:
        status = case_status(r)
        cells = [_num(_mean(r, key)) for _, key in _COLUMNS]
        seconds = [t.seconds for t in r.trials]
        rows.append([r.case.id, status, *cells, f"{sum(seconds) / len(seconds):.3f}s" if seconds else "–"])
    return rows


_CASE_HEAD = ["case", "result", *[c for c, _ in _COLUMNS], "time"]


# ---- terminal --------------------------------------------------------------------------------

def print_table(outcome, console=None) -> None:
    from rich.console import Console
    from rich.table import Table

    # Piped output gets a fixed, wide layout so case ids are never cut.
    console = console or Console(width=None if sys.stdout.isatty() else 120)
    for line in _header(outcome):
        console.print(line, highlight=False, markup=False)
    metrics = Table(title="metrics", title_justify="left")
    for col in _metric_head(outcome):
        metrics.add_column(col, justify="left" if col in ("metric", "kind", "verdict") else "right")
    for row in _metric_rows(outcome):
        style = "red" if row[-1] == "regression" else "green" if row[-1] == "improvement" else None
        metrics.add_row(*row, style=style)
    cases = Table(title="cases", title_justify="left")
    for col in _CASE_HEAD:
        cases.add_column(col, justify="left" if col in ("case", "result") else "right", no_wrap=col == "case")
    for row in _case_rows(outcome):
        cases.add_row(*row, style=None if row[1] in ("pass", "skipped") else "red")
    console.print(cases)
    console.print(metrics)
    for line in _detail_lines(outcome):
        console.print(line, highlight=False, markup=False)


def _detail_lines(outcome) -> list[str]:
    run, lines = outcome.run, []
    failing = [(r, _failures(r)) for r in run.results if case_status(r) not in ("pass", "skipped")]
    if failing:
        lines.append(f"failing cases ({len(failing)}):")
        for r, why in failing:
            lines.append(f"  {r.case.id} [{case_status(r)}] {r.case.file}:{r.case.line}")
            lines += [f"      {w}" for w in why]
    comparison = outcome.comparison
    if comparison:
        lines.append(f"compared with {comparison.baseline_id} on {comparison.shared_cases} shared cases")
        lines += [f"  {f.id}: {f.baseline} → {f.current}" for f in comparison.flips] or ["  no case flipped"]
        if comparison.only_in_baseline:
            lines.append(f"  only in the baseline: {', '.join(comparison.only_in_baseline)}")
        if comparison.only_in_current:
            lines.append(f"  only in this run: {', '.join(comparison.only_in_current)}")
        lines += [f"  note: {w}" for w in comparison.warnings]
    lines += [f"note: {n}" for n in run.notes]
    if fixed := [name for name in invariants(run.engine) if name in run.metrics]:
        lines.append(f"note: {', '.join(fixed)} are 1.0 by construction with the {run.engine} engine (its sentences "
                     "quote what they cite): invariants that check the code, not measures of quality")
    lines += _gate_lines(outcome)
    return lines


# ---- Markdown ----------------------------------------------------------------------------------

def _md_table(head: list[str], rows: list[list[str]]) -> list[str]:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    return ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)] + [
        "| " + " | ".join(cell(c) for c in row) + " |" for row in rows]


def render_md(outcome) -> str:
    header = _header(outcome)
    out = [f"# {header[0]}", "", *[f"- {line}" for line in header[1:]], "", "## Metrics", ""]
    out += _md_table(_metric_head(outcome), _metric_rows(outcome))
    out += ["", "## Cases", ""] + _md_table(_CASE_HEAD, _case_rows(outcome))
    details = _detail_lines(outcome)
    if details:
        out += ["", "## Details", "", "```text", *details, "```"]
    return "\n".join(out) + "\n"


# ---- JSON -------------------------------------------------------------------------------------

def report_data(outcome) -> dict:
    run = outcome.run
    return {
        "run": run.model_dump(mode="json", exclude={"results", "metrics"}),
        "path": str(outcome.path),
        "metrics": {k: v.model_dump(mode="json") for k, v in run.metrics.items()},
        "invariants": [k for k in invariants(run.engine) if k in run.metrics],
        "cases": [{
            "id": r.case.id, "kind": r.case.kind, "status": case_status(r), "skipped": r.skipped,
            "where": f"{r.case.file}:{r.case.line}",
            "trials": [{"epoch": t.epoch, "passed": t.passed, "error": t.error, "seconds": round(t.seconds, 4),
                        "answer": t.answer.answer if t.answer else None,
                        "scores": {k: s.model_dump() for k, s in t.scores.items()}} for t in r.trials],
        } for r in run.results],
        "comparison": outcome.comparison.model_dump(mode="json") if outcome.comparison else None,
        "gates": {"thresholds": outcome.thresholds, "failures": outcome.failures,
                  "regressions": outcome.regressions, "exit_code": outcome.exit_code},
    }


def render_json(outcome) -> str:
    return json.dumps(report_data(outcome), indent=2, ensure_ascii=False)


# ---- HTML -------------------------------------------------------------------------------------

_CSS = """body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:72em;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}
td:first-child,th:first-child{text-align:left}.fail td{background:#fde8e8}.regression{color:#b00;font-weight:bold}
.improvement{color:#070}details{margin:.3em 0}summary{cursor:pointer}pre{white-space:pre-wrap;background:#f6f6f6;
padding:.5em}.muted{color:#666}"""


def _html_table(head: list[str], rows: list[list[str]], row_class=None) -> str:
    e = html.escape

    def cell(text: str) -> str:
        css = f' class="{text}"' if text in ("regression", "improvement") else ""
        return f"<td{css}>{e(text)}</td>"

    def row(cells: list[str]) -> str:
        css = row_class(cells) if row_class else ""
        return (f'<tr class="{css}">' if css else "<tr>") + "".join(cell(c) for c in cells) + "</tr>"

    return "<table><tr>" + "".join(f"<th>{e(h)}</th>" for h in head) + "</tr>" + "".join(map(row, rows)) + "</table>"


def _html_score(name: str, score: Score) -> str:
    return f"<li><b>{html.escape(name)}</b> {html.escape(_num(score.value, name))}: {html.escape(score.explanation)}</li>"


def render_html(outcome) -> str:
    e = html.escape
    header = _header(outcome)
    parts = [f"<!doctype html><html><head><meta charset=\"utf-8\"><title>{e(header[0])}</title>",
             f"<style>{_CSS}</style></head><body><h1>{e(header[0])}</h1>",
             "".join(f"<p class=\"muted\">{e(line)}</p>" for line in header[1:]),
             "<h2>Metrics</h2>", _html_table(_metric_head(outcome), _metric_rows(outcome)),
             "<h2>Cases</h2>",
             _html_table(_CASE_HEAD, _case_rows(outcome), lambda row: "" if row[1] in ("pass", "skipped") else "fail")]
    details = _detail_lines(outcome)
    if details:
        parts.append("<h2>Details</h2><pre>" + e("\n".join(details)) + "</pre>")
    parts.append("<h2>Answers</h2>")
    for r in outcome.run.results:
        question = getattr(r.case, "question", None) or f"briefing: {getattr(r.case, 'topic', None) or 'whole corpus'}"
        parts.append(f"<details><summary>{e(r.case.id)} — {e(case_status(r))} — {e(question)}</summary>")
        if r.skipped:
            parts.append(f"<p>{e(r.skipped)}</p>")
        for t in r.trials:
            text = t.answer.answer if t.answer else (f"error: {t.error}" if t.error else "(briefing)")
            parts.append(f"<p class=\"muted\">repeat {t.epoch}</p><pre>{e(text)}</pre><ul>"
                         + "".join(_html_score(k, s) for k, s in t.scores.items()) + "</ul>")
        parts.append("</details>")
    parts.append("</body></html>")
    return "\n".join(parts)


def render(outcome, fmt: str) -> str:
    """md, json or html as text (the table format prints with rich: print_table)."""
    if fmt == "md":
        return render_md(outcome)
    if fmt == "json":
        return render_json(outcome)
    if fmt == "html":
        return render_html(outcome)
    raise ValueError(f"unknown report format {fmt!r}")
