"""Scoring and the BENCHMARKS.md section of `make bench-llm` (every figure computed here, from
the recorded answers in <run>/answers/ and the hand labels in bench/llm_labels.jsonl).

Engines are compared on the SAME questions: those every compared phase has answered.
"""

from __future__ import annotations

import json
import re
import statistics
from pathlib import Path

from bench.data import ROOT
from bench.llm_unanswerable import RARE, UNANSWERABLE_SETS, still_answerable, verify
from bench.metrics import contains

FIRST_BEFORE = "9da8361"  # main before issue 16: verification marks unsupported text and never refuses

SECTION = ROOT / "bench" / "llm_results.md"
LABELS = ROOT / "bench" / "llm_labels.jsonl"
HEADING = "## The LLM engine with a real model (make bench-llm)"
PHASES = (("ask-extractive-after", "extractive"), ("ask-llm-before", "LLM, before"),
          # optional: main as a later round started from it (snapshot-main/COMMIT), on the same recorded output
          ("ask-llm-main", "LLM, main at this round's start"), ("ask-llm-after", "LLM, after"))
TARGETS = {"refusal": 0.90, "accuracy_drop": 0.02, "repaired": 0.80, "removed_right": 0.90}
_MARKER = re.compile(r"\[\d+\]")
SETS = ("seed", "check", "tune", *UNANSWERABLE_SETS)


def rows(run: Path, phase: str) -> dict[tuple[str, str], dict]:
    path = run / "answers" / f"{phase}.jsonl"
    if not path.exists():
        return {}
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            out[(row["set"], row["id"])] = row
    return out


def questions(run: Path, name: str) -> dict[str, dict]:
    path = run / f"questions-{name}.jsonl"
    return {q["id"]: q for q in map(json.loads, path.read_text(encoding="utf-8").splitlines())} if path.exists() else {}


def answer_of(row: dict):
    from rag.models import Answer

    return Answer.model_validate(row["answer"]) if "answer" in row else None


def text_of(answer) -> str:
    return _MARKER.sub(" ", answer.answer) if answer is not None else ""


class Lookup:
    """source → (raw, format) from the stores of the 'after' code, for citation validity."""

    def __init__(self, run: Path):
        from bench.llm_phases import stores
        from rag.index.docstore import DocStore

        self.docs = {}
        for code in ("after", "main", "before"):
            for name, (store, _) in stores(run, code).items():
                if name not in self.docs and (store / "rag.db").exists():
                    self.docs[name] = DocStore(store / "rag.db")

    def __call__(self, set_name: str):
        docs = self.docs.get(set_name)

        def lookup(source: str):
            raw = docs.raw(source) if docs else None
            article = docs.article(source) if raw is not None else None
            return (raw, article.format) if article is not None else None

        return lookup

    def line(self, set_name: str, source: str, number: int) -> str | None:
        """Line `number` (1-based) of a source of that set's corpus, or None."""
        docs = self.docs.get(set_name)
        raw = docs.raw(source) if docs else None
        lines = raw.splitlines() if raw is not None else []
        return lines[number - 1] if 1 <= number <= len(lines) else None


def score(run: Path) -> dict:
    from rag.eval.scorers import citation_validity, passed, score_answer
    from rag.models import EvalCase

    recorded = {phase: rows(run, phase) for phase, _ in PHASES}
    present = [r for r in recorded.values() if r]
    common = set.intersection(*(set(r) for r in present)) if present else set()
    # Questions whose context the 'after' code retrieved differently: no recorded output for it.
    unrecorded = {key for r in present for key, row in r.items() if row.get("not_recorded")} & common
    common -= unrecorded
    lookup = Lookup(run)
    sets = {name: questions(run, name) for name in SETS}
    answerable, problems = verify(still_answerable(), lookup.line)
    out = {"common": {name: sum(1 for s, _ in common if s == name) for name in sets},
           "unrecorded": {name: sum(1 for s, _ in unrecorded if s == name) for name in sets},
           "totals": {name: len(qs) for name, qs in sets.items()}, "phases": {},
           "still_answerable": sorted("/".join(k) for k in answerable), "hand_check_problems": problems}
    for phase, _ in PHASES:
        got = recorded[phase]
        if not got:
            continue
        m: dict = {"errors": 0, "citations": 0, "valid": 0, "sentences": 0, "removed": 0, "flagged": 0,
                   "recited": 0, "refused_by_policy": 0, "refused_off_question": 0, "seconds": []}
        seed = {"pass": [], "facts": [], "refused_unanswerable": [], "answered_answerable": []}
        accurate: dict[str, list[bool]] = {"check": [], "tune": []}
        blind: dict[str, list[tuple[str, bool]]] = {name: [] for name in UNANSWERABLE_SETS}
        for key in sorted(common):
            name, qid = key
            row, q = got[key], sets[name][qid]
            answer = answer_of(row)
            m["seconds"].append(row["seconds"])
            if answer is None:
                m["errors"] += 1
            else:
                validity = citation_validity(answer.answer, answer.citations, lookup(name), answer.refused)
                m["citations"] += len(answer.citations)
                m["valid"] += round((validity.value or 0) * len(answer.citations)) if answer.citations else 0
                m["sentences"] += len(answer.sentences) + len(answer.removed)
                m["removed"] += len(answer.removed)
                m["flagged"] += sum(not s.supported for s in answer.sentences)
                m["recited"] += sum(s.recited_from is not None for s in answer.sentences)
                beside = answer.rejected is not None and off_question(answer.rejected.reason)
                m["refused_by_policy"] += answer.rejected is not None and not beside
                m["refused_off_question"] += beside
            if name == "seed":
                case = EvalCase(id=qid, question=q["question"], refuse=q["refuse"], facts=q["facts"],
                                sources=q["sources"], tags=q["tags"])
                if answer is None:
                    seed["pass"].append(0.0)
                    (seed["refused_unanswerable"] if case.refuse else seed["facts"]).append(0.0)
                    continue
                scores = score_answer(case, answer, row["seconds"], lookup(name))
                seed["pass"].append(1.0 if passed(scores) else 0.0)
                if case.refuse:
                    seed["refused_unanswerable"].append(1.0 if answer.refused else 0.0)
                else:
                    seed["facts"].append(scores["fact_recall"].value)
                    seed["answered_answerable"].append(0.0 if answer.refused else 1.0)
            elif name in accurate:
                accurate[name].append(answer is not None and not answer.refused and contains(text_of(answer), q["answer"]))
            else:
                blind[name].append((qid, answer is not None and answer.refused))
        m["seed"] = {k: _mean(v) for k, v in seed.items()} | {"n": len(seed["pass"]),
                                                               "n_unanswerable": len(seed["refused_unanswerable"])}
        for half in ("check", "tune"):
            m[half] = {"accuracy": _mean(accurate[half]), "n": len(accurate[half])}
            m[f"{half}_unanswerable"] = refusal(blind, half, answerable)
        m["unanswerable"] = m["check_unanswerable"]
        m["seconds"] = {"mean": _mean(m["seconds"]), "p95": _p95(m["seconds"])}
        out["phases"][phase] = m
    out["after_alone"] = alone(recorded.get("ask-llm-after", {}), sets, answerable)
    out["calls"] = calls(run)
    out["conflicts"] = conflicts(run, recorded, common, sets["seed"])
    out["labels"] = label_summary(_sentence_texts(recorded.get("ask-llm-after", {})))
    if out["labels"]:
        out["labels"]["removed_by"] = removed_by(recorded, common)
    out["config"] = json.loads((run / "config.json").read_text())
    return out


def refusal(blind: dict, half: str, answerable: set) -> dict:
    """Refusals on one half's variant questions: raw (every variant), and over the truly
    unanswerable ones (less those a verified hand-check entry shows a kept article answers)."""
    out = {"by_set": {}}
    every, truly = [], []
    for name, (of_half, _) in UNANSWERABLE_SETS.items():
        if of_half != half:
            continue
        got = blind[name]
        real = [ok for qid, ok in got if (name, qid) not in answerable]
        out["by_set"][name] = {"refused": _mean([ok for _, ok in got]), "n": len(got),
                               "truly_refused": _mean(real), "truly_n": len(real)}
        every += [ok for _, ok in got]
        truly += real
    out.update(refused=_mean(every), n=len(every), truly_refused=_mean(truly), truly_n=len(truly),
               truly_k=sum(truly))
    return out


def alone(got: dict, sets: dict, answerable: set) -> dict:
    """'after' on every question it has a recorded answer for, not only those all phases share:
    the gate refuses some questions without the model, so 'after' can cover questions the
    phase that calls the model has not reached."""
    refused, accurate = [], []
    for (name, qid), row in got.items():
        answer = answer_of(row)
        if row.get("not_recorded") or answer is None:
            continue
        q = sets[name].get(qid)
        if q is None:
            continue
        if (name in UNANSWERABLE_SETS and UNANSWERABLE_SETS[name][0] == "check" and (name, qid) not in answerable) \
                or (name == "seed" and q["refuse"]):
            refused.append(answer.refused)
        elif name == "check":
            accurate.append(not answer.refused and contains(text_of(answer), q["answer"]))
    return {"refused": sum(refused), "n_unanswerable": len(refused), "accurate": sum(accurate),
            "n_check": len(accurate)}


def calls(run: Path) -> dict:
    """Tokens and latency of the model calls that were really sent (not cache hits)."""
    found = []
    for path in sorted((run / "logs").glob("*-calls.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            call = json.loads(line)
            if not call.get("cached") and not call.get("error"):
                found.append(call)
    if not found:
        return {}
    tokens = [c["usage"]["prompt_tokens"] + c["usage"]["completion_tokens"] for c in found]
    latency = [c["latency_s"] for c in found]
    return {"n": len(found), "prompt_tokens": _mean([c["usage"]["prompt_tokens"] for c in found]),
            "completion_tokens": _mean([c["usage"]["completion_tokens"] for c in found]),
            "tokens": _mean(tokens), "latency_mean_s": _mean(latency), "latency_p50_s": statistics.median(latency),
            "latency_p95_s": _p95(latency)}


def conflicts(run: Path, recorded: dict, common: set, seed: dict) -> dict:
    """Seed conflict cases: does the answer show two or more figures, each citing a quote that states it?"""
    out = {}
    for phase, _ in PHASES:
        shown = []
        for (name, qid) in sorted(common):
            if name != "seed" or "conflict" not in seed[qid]["tags"] or phase not in recorded or not recorded[phase]:
                continue
            answer = answer_of(recorded[phase][(name, qid)])
            shown.append(answer is not None and _both_figures(answer))
        if shown:
            out[phase] = {"shown": sum(shown), "n": len(shown)}
    return out


def _both_figures(answer) -> bool:
    from rag.answer.support import numbers

    quotes = {c.n: c.quote for c in answer.citations}
    for conflict in answer.conflicts:
        cited = {claim.number for claim in conflict.claims
                 if claim.citation in quotes and claim.number in numbers(quotes[claim.citation])}
        if len(cited) >= 2:
            return True
    return False


def _before_is(commit: str) -> str:
    if commit.startswith(FIRST_BEFORE):
        return "main before issue 16: verification marks unsupported sentences and never refuses"
    return "the code this run's 'after' is compared with (`--before`)"


def off_question(reason: str) -> bool:
    """Rejected as beside the question or its period (rag.answer.llm_engine.off_question,
    off_period, off_kind, off_echo; rag.answer.llm_second_look, rag.answer.evidence_check), not by the support check: such sentences are supported and are not counted as removed."""
    return reason.startswith(("the supported sentences do not speak to the question", "the question asks about",
                              "the question asks for a number", "the answer only restates the question",
                              "the answer does not give what the question asks",
                              "the extractive engine's refusal model finds"))


def labels() -> list[dict]:
    if not LABELS.exists():
        return []
    return [json.loads(line) for line in LABELS.read_text(encoding="utf-8").splitlines() if line.strip()]


def _sentence_texts(after: dict) -> dict[str, str]:
    """text → what the 'after' code did with the sentence (removed, kept or recited); the model's
    output is the same for every code version, so a label follows its sentence's text."""
    from bench.llm_labels import sentence_items

    return {item["text"]: item["kind"] for key, row in after.items() for item in sentence_items(key, row)}


def label_summary(texts: dict[str, str]) -> dict:
    """The support check against the hand labels: removed sentences truly unsupported; kept ones
    truly supported; repairs truly right; and right-but-wrong-source sentences repaired. A label
    counts only while a sentence of this run has its text; it is scored by what this run did."""
    every = labels()
    found = [{**x, "kind": texts[x["text"]]} for x in every if x["text"] in texts]
    if not every:
        return {}

    def share(items, good):
        return {"right": sum(good(x) for x in items), "n": len(items)}

    removed = [x for x in found if x["kind"] == "removed"]
    kept = [x for x in found if x["kind"] == "kept"]
    recited = [x for x in found if x["kind"] == "recited"]
    # A label's "stated by another source" is about the citation the model gave when it was labelled.
    # A sentence this run kept stands on the source the model cited this time (a live run can see
    # another context), so it was not miscited here; whether that source truly states it is `kept`.
    wrong_source = [x for x in found if x.get("stated_by_other_source") and x["kind"] != "kept"]
    return {"n": len(found), "stale": len(every) - len(found), "removed": share(removed, lambda x: not x["supported"]),
            "kept": share(kept, lambda x: x["supported"]), "recited": share(recited, lambda x: x["supported"]),
            "wrong_source_repaired": share(wrong_source, lambda x: x["kind"] == "recited"),
            "overall": share(found, lambda x: x["supported"] == (x["kind"] != "removed"))}


def removed_by(recorded: dict, common: set) -> dict:
    """Per LLM column: of the sentences it removed (or rejected), how many the hand labels call
    unsupported. Labels are matched by text: every column verifies the same model output."""
    verdict = {x["text"]: x["supported"] for x in labels()}
    out = {}
    for phase, _ in PHASES:
        if not phase.startswith("ask-llm") or not recorded.get(phase):
            continue
        texts = []  # (half, text)
        for key in sorted(common):
            answer = answer_of(recorded[phase][key])
            if answer is not None:
                half = "tune" if key[0].startswith("tune") else "seed" if key[0] == "seed" else "check"
                texts += [(half, s.text) for s in answer.removed] + (
                    [(half, s.text) for s in answer.rejected.sentences if not off_question(s.reason)]
                    if answer.rejected else [])
        matched = [(half, verdict[t]) for half, t in texts if t in verdict]
        out[phase] = {"right": sum(not v for _, v in matched), "n": len(matched), "removed": len(texts),
                      "by_half": {h: {"right": sum(not v for x, v in matched if x == h),
                                      "n": sum(x == h for x, _ in matched)} for h in ("tune", "check")}}
    return out


def _mean(values) -> float | None:
    values = [float(v) for v in values if v is not None]
    return sum(values) / len(values) if values else None


def _p95(values) -> float | None:
    ordered = sorted(values)
    return ordered[max(0, -(-95 * len(ordered) // 100) - 1)] if ordered else None


# ------------------------------------------------------------------------------------ rendering

def _f(x, digits: int = 3) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def _share(d: dict | None) -> str:
    if not d or not d.get("n"):
        return "–"
    return f"{d['right']}/{d['n']} ({d['right'] / d['n']:.2f})"


def render(run: Path, scored: dict) -> str:
    config = json.loads((run / "config.json").read_text())
    p = scored["phases"]
    common, totals = scored["common"], scored["totals"]
    lines = [HEADING, "",
             "_Generated by `make bench-llm` (`python -m bench.llm`) from `bench/out/llm/`; do not edit by hand._", "",
             (f"- **Model:** Qwen2.5-Coder-1.5B-Instruct Q4_K_M (`{Path(config['model']).name}`, sha256 checked), "
              f"served by llama.cpp (xllamacpp) with {config['threads']} threads, context {config['n_ctx']}, "
              f"temperature 0, `cache_prompt: false`, {config.get('priority', 'under `nice -n 15`')}."),
             ((f"- **Code:** before = `{config['commits']['before']}` ({_before_is(config['commits']['before'])}); "
               f"after = `{config['commits']['after']}`. " if "ask-llm-before" in p else
               f"- **Code:** after = `{config['commits']['after']}`. ")
              + "The LLM columns read the same recorded model output (one response cache), so they differ in "
              "verification and gating alone."),
             (f"- **Questions (same for every column):** seed eval cases on corpus/ {common['seed']} of "
              f"{totals['seed']}; check-half sample {common['check']} of {totals['check']}; check-half unanswerable "
              f"variants {_of(common, totals, 'unanswerable')} (\"rest\" corpus) + "
              f"{_of(common, totals, 'unanswerable-strict')} (\"strict\"); tune-half sample "
              f"{_of(common, totals, 'tune')}, its variants {_of(common, totals, 'tune-unanswerable')} + "
              f"{_of(common, totals, 'tune-unanswerable-strict')} (see \"The unanswerable sets\" below). "
              "Fewer than all means the model had not "
              "answered the rest when this was rendered (see the call latency below); the run resumes where "
              "it stopped." + _unrecorded(scored.get("unrecorded", {}))),
             ("- **As of:** each benchmark question (check and unanswerable sets) is asked as of its quiz date "
              "(`Filters(as_of=...)`, as `rag ask --as-of` does): no article published after it is used, and a "
              "period it names (\"this week\", \"Sunday\") is read against it by the gate."),
             f"- **Load:** {_loads(run)}.", ""]
    extra = run / "snapshot-main" / "COMMIT"
    if "ask-llm-main" in p and extra.exists():
        lines[-1:-1] = [(f"- **'main at this round's start':** `{extra.read_text().strip()[:7]}` — main when this round "
                         "of the issue began, on the same recorded model output (its model calls are the ones "
                         "recorded; 'after' reads them from the response cache): what this round's changes are "
                         "measured against." + _note(run / "snapshot-main" / "NOTE"))]
    lines += ["| | " + " | ".join(label for _, label in PHASES if _ in p) + " |",
              "|---|" + "---|" * len([1 for phase, _ in PHASES if phase in p])]

    def row(label, get):
        cells = [get(p[phase]) for phase, _ in PHASES if phase in p]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")

    row("Seed eval: pass rate", lambda m: _f(m["seed"]["pass"]))
    row("Seed eval: fact recall (answerable)", lambda m: _f(m["seed"]["facts"]))
    row("Seed eval: refused when unanswerable", lambda m: _f(m["seed"]["refused_unanswerable"]))
    row("Seed eval: answered when answerable", lambda m: _f(m["seed"]["answered_answerable"]))
    row("Check sample: answer contains the gold answer", lambda m: _f(m["check"]["accuracy"]))
    row("Check variants: refused (raw, every variant)", lambda m: _refused(m["check_unanswerable"], "refused", "n"))
    row("Check variants: refused, truly unanswerable (hand check)",
        lambda m: _refused(m["check_unanswerable"], "truly_refused", "truly_n"))
    row("Tune sample: answer contains the gold answer", lambda m: _f(m["tune"]["accuracy"]))
    row("Tune variants: refused (raw)", lambda m: _refused(m["tune_unanswerable"], "refused", "n"))
    row("Tune variants: refused, truly unanswerable (hand check)",
        lambda m: _refused(m["tune_unanswerable"], "truly_refused", "truly_n"))
    row("Citations verbatim at their lines (invariant: quotes are source sentences)",
        lambda m: f"{m['valid']}/{m['citations']}")
    row("Sentences removed as unsupported", lambda m: f"{m['removed']} of {m['sentences']}")
    row("Sentences shown flagged unsupported", lambda m: f"{m['flagged']} of {m['sentences']}")
    row("Citations repaired (re-cited to another context source)", lambda m: str(m["recited"]))
    row("Answers refused because nothing was supported", lambda m: str(m["refused_by_policy"]))
    row("Answers refused as beside the question (supported quotes that do not speak to it, none from its period, or no number for a 'how many')",
        lambda m: str(m.get("refused_off_question", 0)))
    row("Engine errors", lambda m: str(m["errors"]))
    row("Seconds per answer, mean (an LLM column replayed from the response cache spends no model time: see the calls below)", lambda m: _f(m["seconds"]["mean"], 1))
    c = scored.get("calls") or {}
    if c:
        lines += ["", (f"Model calls really sent: {c['n']}, mean {c['prompt_tokens']:.0f} prompt + "
                       f"{c['completion_tokens']:.0f} completion tokens; latency mean {c['latency_mean_s']:.0f} s, "
                       f"p50 {c['latency_p50_s']:.0f} s, p95 {c['latency_p95_s']:.0f} s (prompt processing dominates).")]
    if first := config.get("first_answer"):
        lines += ["", (f"`rag ask --engine llm --local-model {Path(config['model']).name} --no-cache` from a cold "
                       f"start (no server running, no manual step): {'answered' if first['answered'] else 'no answer'} "
                       f"in {first['seconds']:.0f} s (model load included), exit {first['code']}, "
                       f"{first['left_behind']} server process(es) left behind.")]
    lines += ["", "### Targets", "", "| Target | Result | Met |", "|---|---|---|"]
    lines += [f"| {t} | {r} | {_met(ok)} |" for t, r, ok in verdicts(scored)]
    lab = scored.get("labels") or {}
    if lab:
        lines += ["", "### The support check against hand labels", "",
                  (f"{lab['n']} sentences of the 'after' answers (removed, kept and re-cited), read by hand against "
                   "the sources of their context and labelled supported or not (`bench/llm_labels.jsonl`, with "
                   "each sentence's id `set/question/kind/index`):"), "",
                  f"- removed sentences truly unsupported: {_share(lab['removed'])}",
                  f"- kept sentences truly supported: {_share(lab['kept'])}",
                  f"- re-cited sentences truly supported by their new source: {_share(lab['recited'])}",
                  f"- right facts credited to the wrong source, repaired: {_share(lab['wrong_source_repaired'])}",
                  f"- the support check agrees with the label: {_share(lab['overall'])}"]
        labels_of = dict(PHASES)
        for phase, d in (lab.get("removed_by") or {}).items():
            halves = d.get("by_half", {})
            split_ = "; ".join(f"{h} half {_share(halves[h])}" for h in ("tune", "check") if h in halves)
            lines.append(f"- sentences removed or rejected by '{labels_of[phase]}': {d['removed']}; of those labelled, "
                         f"truly unsupported {_share(d)}" + (f" ({split_}; seed cases count in neither)"
                                                             if split_ else ""))
    lines += variant_lines(scored) + gate_lines(run) + relevance_lines(run)
    return "\n".join(lines) + "\n"


def _of(common: dict, totals: dict, name: str) -> str:
    return f"{common.get(name, 0)} of {totals.get(name, 0)}"


def _refused(d: dict, share: str, n: str) -> str:
    return f"{_f(d[share])} (n={d[n]})" if d[n] else "–"


def variant_lines(scored: dict) -> list[str]:
    """How the unanswerable sets are made and hand-checked (bench/llm_unanswerable.py)."""
    found, problems = scored.get("still_answerable", []), scored.get("hand_check_problems", [])
    out = ["", "### The unanswerable sets and their hand check", "",
           ("A variant question is asked of a corpus without the articles that answer it (bench/llm_unanswerable.py): "
            "\"rest\" drops every benchmark question's gold articles, and its questions are those whose answer string "
            "no remaining article holds; \"strict\" also drops, for each question whose answer string at most "
            f"{RARE} remaining articles still hold, those articles, and its questions are those. Another article may "
            "still report the event in other words, so a variant judged still answerable by hand is listed in "
            "`bench/llm_still_answerable.jsonl` with the article line that answers it; the harness checks that the "
            "line is in the variant's corpus and holds the answer as that entry words it, and counts the variant as "
            "answerable only then. Refusal is reported raw (every variant) and over the truly unanswerable rest."), "",
           f"Still answerable (verified): {len(found)} — {', '.join(found) if found else 'none'}."]
    if problems:
        out += ["", "Hand-check entries that failed verification (counted as unanswerable):"]
        out += [f"- {p}" for p in problems]
    p = scored["phases"]
    labels = dict(PHASES)
    out += ["", "| column | set | refused (raw) | truly unanswerable | refused of those |", "|---|---|---|---|---|"]
    for phase, m in p.items():
        if not phase.startswith("ask-llm"):
            continue
        for half in ("check", "tune"):
            for name, d in m[f"{half}_unanswerable"]["by_set"].items():
                if d["n"]:
                    out.append(f"| {labels[phase]} | {name} | {_f(d['refused'])} (n={d['n']}) | {d['truly_n']} | "
                               f"{_f(d['truly_refused'])} |")
    return out


def gate_lines(run: Path) -> list[str]:
    """The answerability gate's trade-off from `python -m bench.llm_gate` (results/gate.json)."""
    path = run / "results" / "gate.json"
    if not path.exists():
        return []
    gate = json.loads(path.read_text())
    grid = {half: {g["threshold"]: g for g in rows} for half, rows in gate["grid"].items()}
    first = next(iter(grid["tune"].values()))
    out = ["", "### The answerability gate (`python -m bench.llm_gate`)", "",
           (f"`llm_min_question_coverage` = {gate['chosen']}: the highest threshold whose cost on the tune half stays "
            f"within {gate['max_lost']} (answerable questions whose context holds the gold answer, refused by the "
            "gate). Measured on retrieval alone (no model): every benchmark question of a half, answerable ones on "
            f"the full corpus (tune {first['n_answerable']}, of which {first['n_possible']} with the gold answer in "
            f"the context) and the unanswerable variant's on the corpus without any gold article (tune "
            f"{first['n_unanswerable']})."), "",
           ("| threshold | tune: unanswerable refused | tune: answerable lost | check: unanswerable refused | "
            "check: answerable lost |"), "|---|---|---|---|---|"]
    for t in sorted(grid["tune"]):
        if round(t * 20) % 2 and t != gate["chosen"]:
            continue  # every 0.1, and the chosen value
        a, b = grid["tune"][t], grid["check"].get(t, {})
        mark = "**" if t == gate["chosen"] else ""
        out.append(f"| {mark}{t:.2f}{mark} | {_f(a['refused_unanswerable'])} | {_f(a['lost'])} | "
                   f"{_f(b.get('refused_unanswerable'))} | {_f(b.get('lost'))} |")
    reach = [t for t, g in grid["tune"].items() if (g["refused_unanswerable"] or 0) >= TARGETS["refusal"]
             and (g["lost"] or 0) <= gate["max_lost"]]
    if "with_period" in gate:  # rag.answer.question_period, at the chosen threshold
        w = gate["with_period"]
        out += ["", (f"With the question's recent period (rag.answer.question_period: asked as of its date, \"this "
                     "week\" needs a covering passage of an article from that week; a context that covers it only in older "
                     "articles is searched again within the period) at the same threshold: tune "
                     f"unanswerable refused {_f(w['tune']['refused_unanswerable'])}, answerable lost "
                     f"{_f(w['tune']['lost'])}; check {_f(w['check']['refused_unanswerable'])}, "
                     f"{_f(w['check']['lost'])}. This is the gate as shipped; the table is without it.")]
    out += ["", (f"On tune, thresholds reaching {TARGETS['refusal']} refusal within that cost: "
                 f"{', '.join(f'{t:.2f}' for t in sorted(reach)) if reach else 'none'}. The rows above are the "
                 "gate alone, before any model call; the model's own refusals and the support check add to them "
                 "(the targets above).")]
    return out


def relevance_lines(run: Path) -> list[str]:
    """The off-question test's trade-off from `python -m bench.llm_relevance` (results/relevance.json)."""
    path = run / "results" / "relevance.json"
    if not path.exists():
        return []
    rel = json.loads(path.read_text())
    grid = {half: {g["cosine"]: g for g in rows} for half, rows in rel["grid"].items()}
    n = {half: next(iter(g.values()))["n"] for half, g in grid.items()}
    out = ["", "### The off-question test (`python -m bench.llm_relevance`)", "",
           (f"After verification an answer is refused when its quotes together hold less than {rel['coverage']} of "
            "the question's key terms (the gate's threshold) and none has a MiniLM cosine with the question of "
            f"`llm_min_answer_similarity` = {rel['chosen']} or more; and, for a question about a recent period "
            "(\"this week\", as of its date), when no quote is from an article of that period. The cosine is chosen "
            "on the tune half without a model: the context sentences that hold the gold answer are what a right "
            "answer quotes, and a question is lost when the test would refuse every one of them (tune "
            f"{n['tune']}, check {n['check']} answerable questions with such a sentence in the context). The highest "
            f"cosine with tune lost <= {rel['max_lost']}:"), "",
           "| cosine | tune: lost | check: lost |", "|---|---|---|"]
    for t in sorted(grid["tune"]):
        if t > 0.6 or (round(t * 20) % 2 and t != rel["chosen"]):
            continue
        mark = "**" if t == rel["chosen"] else ""
        out.append(f"| {mark}{t:.2f}{mark} | {_f(grid['tune'][t]['lost'])} | {_f(grid['check'].get(t, {}).get('lost'))} |")
    return out


def _unrecorded(counts: dict) -> str:
    total = sum(counts.values())
    if not total:
        return ""
    parts = ", ".join(f"{n} {name}" for name, n in counts.items() if n)
    return (f" Left out: {total} question(s) ({parts}) that the phase calling the model answered but whose "
            "context another code version retrieves differently (e.g. 'after' searching again within the "
            "question's period), so no recorded output exists for it to verify.")


def verdicts(scored: dict) -> list[tuple[str, str, bool | None]]:
    p = scored["phases"]
    after = p.get("ask-llm-after")
    # This round's changes are measured against main at its start when that was run, else 'before'.
    before, since = (p["ask-llm-main"], "main at this round's start") if p.get("ask-llm-main") else \
        (p.get("ask-llm-before"), "before")
    out = []
    if after:
        blind, seed = after["check_unanswerable"], after["seed"]
        refused = (blind["truly_k"] or 0) + (seed["refused_unanswerable"] or 0) * seed["n_unanswerable"]
        n = blind["truly_n"] + seed["n_unanswerable"]
        result = (f"{_f(refused / n if n else None)} (truly unanswerable check variants {_f(blind['truly_refused'])}, "
                  f"n={blind['truly_n']}; seed {_f(seed['refused_unanswerable'])}, n={seed['n_unanswerable']}; raw "
                  f"variant rate {_f(blind['refused'])}, n={blind['n']})")
        out.append((f"Refusal on unanswerable questions ≥ {TARGETS['refusal']}", result,
                    None if not n else refused / n >= TARGETS["refusal"]))
        if own := scored.get("after_alone"):
            k, n = own["refused"], own["n_unanswerable"]
            out.append(((f"Refusal on truly unanswerable questions ≥ {TARGETS['refusal']} ('after' on every question "
                        "it answered: gate refusals need no model call)"), f"{k}/{n}" + (f" ({k / n:.3f})" if n else ""),
                        None if not n else k / n >= TARGETS["refusal"]))
    if after and before:
        for label, get in (("check-sample accuracy", lambda m: m["check"]["accuracy"]),
                           ("seed fact recall", lambda m: m["seed"]["facts"])):
            b, a = get(before), get(after)
            out.append((f"LLM {label} not lower than {since} by more than {TARGETS['accuracy_drop']}",
                        f"{_f(b)} → {_f(a)}", None if a is None or b is None else a >= b - TARGETS["accuracy_drop"]))
        out.append(("Citation validity 1.000 (invariant)", f"{after['valid']}/{after['citations']}",
                    after["valid"] == after["citations"]))
    lab = scored.get("labels") or {}
    if lab:
        for key, label, target in (("wrong_source_repaired", "Right facts cited to the wrong source: repaired",
                                    TARGETS["repaired"]),
                                   ("removed", "Removed sentences truly unsupported (hand-checked)",
                                    TARGETS["removed_right"])):
            d = lab[key]
            out.append((f"{label} ≥ {target}", _share(d), None if not d["n"] else d["right"] / d["n"] >= target))
    config = scored.get("config") or {}
    if first := config.get("first_answer"):
        out.append(("With --local-model the first answer arrives with no manual server step",
                    f"{first['seconds']:.0f} s, exit {first['code']}, {first['left_behind']} left behind",
                    first["answered"] and first["left_behind"] == 0))
    conf = scored.get("conflicts", {}).get("ask-llm-after")
    if conf:
        out.append(("Conflict questions: both figures shown, each with its citation", f"{conf['shown']}/{conf['n']}",
                    conf["shown"] == conf["n"]))
    return out


def _met(ok) -> str:
    return "–" if ok is None else ("yes" if ok else "**no**")


def _note(path: Path) -> str:
    """A run's own note on what a snapshot is (e.g. main's verification on an older retrieval)."""
    return " " + " ".join(path.read_text(encoding="utf-8").split()) if path.exists() else ""


def _loads(run: Path) -> str:
    found = []
    for phase, label in PHASES:
        path = run / "results" / f"{phase}.json"
        if path.exists():
            load = json.loads(path.read_text()).get("loadavg")
            if load:
                found.append(f"{label} {load[0]:.1f}→{load[1]:.1f}")
    return ("1-minute load average at each phase's start and end (2 cores): " + ", ".join(found)) if found else "–"


def section() -> list[str]:
    """The committed section, for bench/report.py to include in BENCHMARKS.md."""
    return ["", SECTION.read_text(encoding="utf-8").rstrip()] if SECTION.exists() else []


def splice(report: Path, text: str) -> None:
    """Replace (or add, before "## Re-running") this section of an existing BENCHMARKS.md."""
    body = report.read_text(encoding="utf-8") if report.exists() else "# Benchmarks\n"
    start = body.find(HEADING)
    if start != -1:
        ends = [i for i in (body.find("\n## ", start + len(HEADING)), body.find("\n<!--", start)) if i != -1]
        end = min(ends) if ends else -1
        body = body[:start] + text.rstrip() + "\n" + (body[end:] if end != -1 else "")
    else:
        anchor = body.find("\n## Re-running")
        body = (body[:anchor] + "\n" + text.rstrip() + "\n" + body[anchor:]) if anchor != -1 else body + "\n" + text
    report.write_text(body, encoding="utf-8")


def write_report(run: Path, report: Path) -> None:
    scored = score(run)
    (run / "results").mkdir(exist_ok=True)
    (run / "results" / "scores.json").write_text(json.dumps(scored, indent=1, default=str))
    text = render(run, scored)
    SECTION.write_text(text, encoding="utf-8")
    splice(report, text)
    print(f"[bench-llm] {SECTION.relative_to(ROOT)} and {report.name} written")
