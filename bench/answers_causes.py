"""Why each tune miss happened, by the stage of the pipeline that lost it:
`python -m bench.answers_causes` (issue #12, session 9; the check half is never read).

Every tune question is asked as `make bench-answers` asks it (as of its date; answerable ones of
the full index, unanswerable ones of the blind and held-out stores), once through
`rank` and once through `answer_extractive`, and each miss gets one class, read from what the
engine held at each stage (never from the gold's wording alone):

Answerable questions refused (false refusals) or answered without the gold (wrong):
- a  retrieval: no retrieved chunk (title or text) holds the gold string. Split by whether a gold
     article was retrieved at all, and whether the gold string is in a gold article at all (if
     not, the label's wording is not the article's: a label mismatch, counted under f);
- b  the gold is in a retrieved chunk but in no sentence the answer stage scored (a heading,
     caption or other furniture, the title, or across a sentence break);
- e  a scored sentence holds the gold but fails the answer-type tests (type, "no entity of the
     asked type") or the question names a term the corpus never mentions (question analysis);
- f1 a scored sentence holds the gold but is off the question's topic (`_MIN_TOPIC`);
- c  the gold sentence passes every test but another sentence is the lead (by how much);
     for a refusal also: would the gate have answered with the gold sentence as the lead?
- d  the gold sentence is the lead, and the gate refused (support floor or answerability score);
- f  anything else (the gold sentence is the lead of a wrong answer: a partial match).

Unanswerable questions answered (their answer string is in no indexed article):
- label: the blind question is still answered by a line of the blind corpus (hand check,
  bench/llm_still_answerable.jsonl), or the answer holds the gold string;
- e  the question's kind is "general" (no type test applied) while the benchmark's own label
     (bench/qtypes.py, read from the wording and the gold's form) is typed: question analysis;
- d  the gate passed a lead of the asked type (typed question) or a general question's lead;
     each row keeps the score's margin over the threshold and the lead's coverage.

The rows go to bench/out/answers/causes-tune.json; the table is printed.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
from pathlib import Path

from bench import data as bench_data
from bench.answers import OUT, held_out_groups, isolate, question_date
from bench.data import article_id
from bench.metrics import contains
from bench.qtypes import question_type
from bench.split import half_of, weeks


def _gate_would(ranking, cand, settings, dated: bool) -> float:
    """The refusal score had `cand` been the lead (0 under the support floor)."""
    from rag.answer import extractive
    from rag.answer.answerable_score import answerable, evidence, support_floor

    support = extractive._support(cand)
    floor = max(settings.min_support, support_floor(dated=dated))
    if ranking.unknown or support < floor:
        return 0.0
    return round(answerable(evidence(ranking, cand, support)), 3)


def gold_forms(gold: str) -> list[str]:
    """The gold string, and for a small whole number also its word ("6" and "six"): news style
    spells out numbers under ten, and a sentence saying "six months" holds the answer "6"."""
    from rag.text.vocab import COUNT_WORDS

    words = {str(v): w for w, v in COUNT_WORDS.items() if isinstance(v, int) and v < 20}
    return [gold] + ([words[gold.strip()]] if gold.strip() in words else [])


def holds(text: str, gold: str) -> bool:
    """The text holds the gold answer as a word sequence (the harness's `contains`), in any of
    its forms; a true/false answer is held by no text (an extractive answer cannot state it)."""
    if gold.strip().lower() in ("true", "false"):
        return False
    return any(contains(text, g) for g in gold_forms(gold))


def classify_answerable(store, q: dict, gold_texts: list[str]) -> dict:
    from rag.answer import extractive
    from rag.retrieval import Filters

    settings = store.settings
    filters = Filters(as_of=question_date(q))
    answer = extractive.answer_extractive(store, q["question"], filters=filters)
    ranking = extractive.rank(store, q["question"], filters=filters)
    gold = q["answer"]
    qa = ranking.question
    row = {"id": q["id"], "question": q["question"], "gold": gold, "kind": qa.kind, "bench_type": question_type(q),
           "refused": answer.refused, "confidence": answer.confidence, "reason": answer.refusal_reason,
           "correct": not answer.refused and contains(answer.answer, gold)}
    if row["correct"]:
        row["cls"] = "correct"
        return row
    outcome = "refused" if answer.refused else "wrong"
    hits = ranking.result.hits
    in_chunks = [h for h in hits if holds(f"{h.chunk.title or ''}\n{h.chunk.text}", gold)]
    gold_ids = set(q["gold_ids"])
    retrieved_gold = [h for h in hits if article_id(h.chunk.source) in gold_ids
                      or any(article_id(d) in gold_ids for d in getattr(h, "duplicates", []) or [])]
    row.update({"gold_article_retrieved": bool(retrieved_gold),
                "gold_in_gold_article": any(holds(t, gold) for t in gold_texts),
                "gold_in_chunks": len(in_chunks), "hits": len(hits)})
    if not in_chunks:
        if gold.strip().lower() in ("true", "false"):
            row["cls"], row["sub"] = "f", "label: a true/false question (no sentence states the gold)"
        elif not row["gold_in_gold_article"]:
            row["cls"], row["sub"] = "f", "label: gold string in no gold article"
        elif retrieved_gold:
            row["cls"], row["sub"] = "a", "retrieval: gold article retrieved, not its chunk with the gold"
        else:
            row["cls"], row["sub"] = "a", "retrieval: no gold article retrieved"
        return _tag(row, outcome)
    answering = [c for c in ranking.candidates if extractive._answers(c, qa)]
    lead = answering[0] if answering else None
    gold_cands = [c for c in ranking.candidates if holds(c.sentence.text, gold)]
    row["lead"] = lead.sentence.text[:220] if lead else None
    row["lead_score"] = round(lead.score, 3) if lead else None
    if not gold_cands:
        kinds = sorted({s.kind for h in in_chunks for s in h.chunk.sentences if holds(s.text, gold)})
        in_title = any(holds(h.chunk.title or "", gold) for h in in_chunks)
        row["gold_kinds"] = kinds
        row["cls"] = "b"
        row["sub"] = (f"gold only in non-statement lines ({', '.join(kinds)})" if kinds
                      else "gold only in the title" if in_title else "gold across a sentence break")
        return _tag(row, outcome)
    ans = [c for c in gold_cands if c in answering]
    best = max(ans or gold_cands, key=lambda c: c.score)
    row.update({"gold_sentence": best.sentence.text[:220], "gold_score": round(best.score, 3),
                "gold_position": ranking.candidates.index(best) + 1, "gold_type_ok": best.type_ok,
                "gold_asked": best.asked, "gold_topic": round(best.topic, 3),
                "gold_support": round(extractive._support(best), 3)})
    if ranking.unknown:
        row["cls"], row["sub"] = "e", f"question names a term the corpus never mentions: {ranking.unknown}"
        return _tag(row, outcome)
    if not ans:
        if not best.type_ok:
            row["cls"], row["sub"] = "e", f"gold sentence fails the type test (kind {qa.kind})"
        elif not best.asked and qa.kind in extractive._TYPED:
            row["cls"], row["sub"] = "e", f"gold sentence has no entity of the asked type (kind {qa.kind})"
        else:
            row["cls"], row["sub"] = "f1", "gold sentence off the question's topic (_MIN_TOPIC)"
        return _tag(row, outcome)
    row["gold_answering_position"] = answering.index(best) + 1
    in_gold = [c for c in ans if article_id(c.chunk.source) in gold_ids]
    row["gold_sentence_in_gold_article"] = any(c is best for c in in_gold)
    if answer.refused:
        gates = [(_gate_would(ranking, c, settings, dated=True), c) for c in ans]
        top_gate, top_c = max(gates, key=lambda t: t[0])
        row["best_gate_of_gold_sentences"] = top_gate
        row["best_gate_sentence"] = top_c.sentence.text[:220]
        row["best_gate_from_gold_article"] = article_id(top_c.chunk.source) in gold_ids
    if best is lead:
        if answer.refused:
            support = max(extractive._support(c) for c in answering)
            floor = max(settings.min_support, extractive.support_floor(dated=True))
            row["cls"] = "d"
            row["sub"] = ("gate: support floor" if support < floor
                          else f"gate: answerability score {answer.confidence:.3f} < {settings.min_answerable}")
            row["sub"] += "; " + _gate_note(row, settings)
        else:
            row["cls"], row["sub"] = "f", "gold sentence is the lead; the answer text lacks the gold (partial match)"
        return _tag(row, outcome)
    gap = lead.score - best.score
    row["gap"] = round(gap, 3)
    row["cls"] = "c"
    row["sub"] = f"outranked ({'gap < 0.1' if gap < 0.1 else 'gap >= 0.1'})"
    if answer.refused:
        row["sub"] += "; " + _gate_note(row, settings)
    return _tag(row, outcome)


def _gate_note(row: dict, settings) -> str:
    """Would the gate answer with a sentence holding the gold as the lead? (the best of them)"""
    would = row["best_gate_of_gold_sentences"]
    where = "a gold article's" if row["best_gate_from_gold_article"] else "another article's"
    verdict = "answers" if would >= settings.min_answerable else "still refuses"
    return f"gate with {where} gold sentence as lead {would:.3f} ({verdict})"


def _tag(row: dict, outcome: str) -> dict:
    row["outcome"] = outcome
    return row


def classify_unanswerable(store, q: dict, still: set[str], store_name: str) -> dict | None:
    from rag.answer import extractive
    from rag.retrieval import Filters

    settings = store.settings
    filters = Filters(as_of=question_date(q))
    answer = extractive.answer_extractive(store, q["question"], filters=filters)
    row = {"id": q["id"], "store": store_name, "question": q["question"], "gold": q["answer"],
           "refused": answer.refused, "confidence": answer.confidence, "bench_type": question_type(q)}
    if answer.refused:
        row["cls"] = "refused"
        return row
    ranking = extractive.rank(store, q["question"], filters=filters)
    qa = ranking.question
    answering = [c for c in ranking.candidates if extractive._answers(c, qa)]
    lead = answering[0]
    row.update({"kind": qa.kind, "margin": round(answer.confidence - settings.min_answerable, 3),
                "lead": lead.sentence.text[:220], "lead_source": lead.chunk.source,
                "lead_date": lead.chunk.date.isoformat() if lead.chunk.date else None,
                "lead_coverage": round(lead.coverage, 3), "lead_asked": lead.asked})
    if q["id"] in still and store_name == "blind" or contains(answer.answer, q["answer"]):
        row["cls"], row["sub"] = "label", "still answerable (hand-checked line) or the answer holds the gold"
    elif qa.kind == "general" and row["bench_type"] != "other":
        row["cls"], row["sub"] = "e", f"engine kind general, benchmark type {row['bench_type']}: no type test applied"
    elif qa.kind in extractive._TYPED:
        row["cls"], row["sub"] = "d", f"gate passed a near-topic lead holding an entity of the asked type ({qa.kind})"
    else:
        row["cls"], row["sub"] = "d", f"gate passed a near-topic lead (kind {qa.kind}, no type test)"
    return row


def tune_sets(out: Path, articles: list[dict], questions: list[dict], still: set[str]) -> list[tuple[str, list[dict], int]]:
    """(store, questions, label) for the tune half as bench-answers asks it: the answerable
    questions of the full index (1), the blind questions of the blind store without `still`
    and each held-out group of its store (0)."""
    table = weeks()
    _, blind = bench_data.unanswerable_split(articles, questions)
    sets = [("main", [q for q in questions if half_of(q, table) == "tune"], 1),
            ("blind", [q for q in blind if half_of(q, table) == "tune" and q["id"] not in still], 0)]
    return sets + [(g["name"], g["questions"], 0) for g in held_out_groups(articles, questions) if g["half"] == "tune"]


def over_tune(out: Path, probe) -> list[dict]:
    """`probe(store, q)` for every tune question as bench-answers asks it (`tune_sets`, without the
    hand-checked still-answerable blind questions), each row tagged with its store and label (1
    answerable); a question whose probe returns None is left out."""
    from bench.answers import still_answerable_blind

    articles = bench_data.load_articles(bench_data.DATA)
    questions = bench_data.load_questions(bench_data.DATA)
    still, _ = still_answerable_blind(out / "stores" / "blind")
    rows = []
    for name, qs, label in tune_sets(out, articles, questions, still):
        store = open_store(out, name)
        try:
            rows += [{"store": name, "label": label, **row} for q in qs if (row := probe(store, q)) is not None]
        finally:
            store.close()
    return rows


def open_store(out: Path, name: str):
    from rag.index.store import Store
    from rag.settings import Settings

    d = out / "stores" / name
    return Store(Settings(store_dir=d, corpus_dir=d.parent))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="bench.answers_causes", description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=OUT)
    p.add_argument("--json", type=Path, default=None)
    args = p.parse_args(argv)
    isolate(args.out)
    from bench.answers import still_answerable_blind

    articles = bench_data.load_articles(bench_data.DATA)
    by_id = {a["id"]: f"{a.get('title') or ''}\n{a['text']}" for a in articles}
    questions = bench_data.load_questions(bench_data.DATA)
    still, _problems = still_answerable_blind(args.out / "stores" / "blind")
    rows = []
    for name, qs, label in tune_sets(args.out, articles, questions, set()):
        store = open_store(args.out, name)
        try:
            if label:
                rows += [{"set": "answerable", **classify_answerable(store, q, [by_id.get(g, "") for g in q["gold_ids"]])}
                         for q in qs]
            else:
                rows += [{"set": "unanswerable", **classify_unanswerable(store, q, still, name)} for q in qs]
        finally:
            store.close()
    path = args.json or args.out / "causes-tune.json"
    path.write_text(json.dumps(rows, indent=1, default=str))
    print(render(rows))
    return 0


def render(rows: list[dict]) -> str:
    lines = []
    ans = [r for r in rows if r["set"] == "answerable"]
    for outcome in ("refused", "wrong"):
        sel = [r for r in ans if r.get("outcome") == outcome]
        lines.append(f"answerable {outcome}: {len(sel)} of {len(ans)}")
        for (cls, sub), n in sorted(collections.Counter((r["cls"], r.get("sub", "")) for r in sel).items()):
            lines.append(f"  {cls:3s} {n:3d}  {sub}")
    un = [r for r in rows if r["set"] == "unanswerable"]
    answered = [r for r in un if not r["refused"]]
    lines.append(f"unanswerable answered: {len(answered)} of {len(un)}")
    for (cls, sub), n in sorted(collections.Counter((r["cls"], r.get("sub", "")) for r in answered).items()):
        lines.append(f"  {cls:5s} {n:3d}  {sub}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
