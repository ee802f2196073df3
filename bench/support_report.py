"""The "Support check" section of BENCHMARKS.md, rendered from bench/out/support/results.json.

The section sits between two markers and is replaced whole on every run, so the rest of the
file (written by bench/report.py) is never touched.
"""

from __future__ import annotations

from pathlib import Path

from bench.support_pairs import NEGATIVE, POSITIVE

START = "<!-- support-check:start -->"
END = "<!-- support-check:end -->"
_KINDS = {
    "verbatim": "the sentence itself", "trimmed": "trimmed (attribution, lead-in or last phrase cut)",
    "respelled": "a number respelled (8 / eight, 1,200 / 1200)", "merged": "merged with the next sentence",
    "figure_swapped": "a figure swapped (often for one planted in the next sentence)",
    "negated": "a negation added or removed", "appended": "a false clause appended",
    "name_swapped": "a name, weekday or month swapped", "injected": "an injected instruction's payload",
    "wrong_window": "against another passage of its article",
}


def render(result: dict) -> str:
    check, tune = result["halves"]["check"], result["halves"]["tune"]
    chosen = result["tuned_on_tune_half"]
    sizes = result["sizes"]
    lines = [
        START,
        "## Support check (LLM engine verification)",
        "",
        f"Measured {result['date']} by `make bench-support` (`python -m bench.support_bench`, {result['seconds']:.0f} s). "
        f"{result['pairs']:,} labelled (sentence, window) pairs made at run time from {result['articles']} benchmark "
        "articles by `bench/support_pairs.py` (deterministic, seed 19): real sentences as the ingest splits them, "
        "and systematic perturbations of them (kinds below). Articles are split by a hash of their id: "
        f"tune {sizes['tune']['articles']} articles / {sizes['tune']['pairs']:,} pairs "
        f"({sizes['tune']['supported']:,} supported), check {sizes['check']['articles']} articles / "
        f"{sizes['check']['pairs']:,} pairs ({sizes['check']['supported']:,} supported). The injection and "
        "appended-clause templates of the check half are phrasings the tune half never uses; but the instruction "
        "patterns of `support_check._INSTRUCTION` were written with all eight injection phrasings in view, so the "
        "injected row shows that those phrasings are caught, not how unseen ones fare.",
        "",
        "Both checks run as the engine runs them (`SupportScorer.anchor` with MiniLM, threshold 0.5). Before: every "
        "number in the window and (lexical + cosine) / 2 >= 0.5. After: the same and "
        "`rag.answer.support_check.supports` (clause coverage, numbers where the rest is said, negations, names, "
        f"instructions). Thresholds chosen on the tune half: COVERAGE = {chosen.get('coverage')}, "
        f"CLAUSE_COVERAGE = {chosen.get('clause_coverage')} (the loosest pair with the highest recall at "
        "precision >= 0.97 there: looser thresholds leave room for paraphrase, which this set does not hold)"
        + ("." if result["constants_match"] else f"; **the code uses {result['code_constants']}, not these**."),
        "",
        _spread(chosen),
        "",
        "| \"supported\" on the check half | precision | recall | target |",
        "|---|---|---|---|",
        f"| before (today's check) | {_f(check['before']['precision'])} | {_f(check['before']['recall'])} | |",
        f"| after (this check) | {_f(check['after']['precision'])} | {_f(check['after']['recall'])} | P >= 0.95, R >= 0.90 |",
        f"| after, on the tune half (where it was chosen) | {_f(tune['after']['precision'])} | "
        f"{_f(tune['after']['recall'])} | |",
        "",
        "Share judged supported, check half, by kind of pair (for supported kinds higher is better, for the others lower):",
        "",
        "| pair | label | pairs | before | after |",
        "|---|---|---|---|---|",
    ]
    for kind in POSITIVE + NEGATIVE:
        b, a = check["before_by_kind"].get(kind), check["after_by_kind"].get(kind)
        if b:
            label = "supported" if kind in POSITIVE else "not supported"
            lines.append(f"| {_KINDS[kind]} | {label} | {b['pairs']} | {_f(b['judged_supported'])} | "
                         f"{_f(a['judged_supported'])} |")
    rules = result["failing_rules_on_check_positives"]
    if rules:
        lines += ["", "Supported pairs of the check half that the new check rejects, by the rule that failed: "
                  + ", ".join(f"{k} {v}" for k, v in rules.items()) + "."]
    lines += ["", "Limits: the positives are near-verbatim (the prompts ask the model to keep the source's wording); a "
              "fluent paraphrase in other words can fail the coverage rule, and an instruction phrased unlike any "
              "rule in `support_check._INSTRUCTION` passes it. The judge (`llm_judge = true`) remains the option "
              "for paraphrase.", END]
    return "\n".join(lines)


def write_section(path: Path, result: dict) -> None:
    text = path.read_text(encoding="utf-8")
    section = render(result)
    if START in text and END in text:
        before, rest = text.split(START, 1)
        text = before + section + rest.split(END, 1)[1]
    else:
        anchor = "\n## Re-running"
        text = text.replace(anchor, "\n" + section + "\n" + anchor, 1) if anchor in text else text + "\n" + section + "\n"
    path.write_text(text, encoding="utf-8")


def _spread(chosen: dict) -> str:
    spread = chosen.get("grid_spread")
    if not spread:
        return ""
    return (f"Over the whole {chosen['grid']} grid (COVERAGE 0.50-0.95, CLAUSE_COVERAGE 0.3-0.9) the tune half's precision "
            f"ranges {spread['precision'][0]:.3f}-{spread['precision'][1]:.3f} and recall "
            f"{spread['recall'][0]:.3f}-{spread['recall'][1]:.3f}: the other rules do most of the work, and this set pins "
            "the two coverage thresholds only weakly.")


def _f(value) -> str:
    return "—" if value is None else f"{value:.3f}"
