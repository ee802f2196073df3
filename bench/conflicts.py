"""The disagreement finder's thresholds, chosen on hand-labelled benchmark figure pairs.

`python -m bench.conflicts` reads bench/labels/figure_pairs.jsonl: 299 pairs of figures from
different articles, found in the question-relevant sentences of each benchmark question's top
six BM25 articles (pairs with noun cosine >= 0.35 and sentence cosine >= 0.25, sampled evenly
over similarity bands, plus 60 pairs with different numbers), each labelled by reading both
sentences: do the two figures measure the same quantity of the same event, place and time
window? The pairs are found by article id and character offsets; no text is copied.

For every (UNIT_SIMILARITY, EVENT_SIMILARITY) on a grid it scores rag.answer.conflicts
.same_quantity (with its place and time-window rules) on the tune half (questions of the tune
quiz weeks, bench/split.toml) and reports the best by F1, then that choice on the check half.
`false disputes` counts pairs labelled different that the finder takes for one quantity and
would show as a disagreement (values that cannot both be true, or counts reported with other
values on other dates: a running tally): what a reader would wrongly see as a dispute.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

from bench.data import DATA, load_articles, load_questions
from bench.split import half_of

LABELS = Path(__file__).with_name("labels") / "figure_pairs.jsonl"
UNIT_GRID = [0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9]
EVENT_GRID = [0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8]


@dataclass
class _Stated:
    sentence: object
    chunk: object


def load_pairs(data: Path) -> list[dict]:
    """Each labelled pair with both figures rebuilt (rag.answer.conflicts._Ref) and its cosines."""
    from rag.answer import conflicts
    from rag.answer.figures import figures
    from rag.answer.question import analyse
    from rag.index.embedders import MiniLMEmbedder
    from rag.models import Sentence
    from rag.text.lexical import content_words

    rows = [json.loads(line) for line in LABELS.read_text().splitlines() if line.strip()]
    articles = {a["id"]: a for a in load_articles(data)}
    questions = {q["id"]: q for q in load_questions(data)}
    out = []
    for row in rows:
        question = questions[row["question"]]
        prefer = set(content_words(question["question"]))
        refs, raw = [], []
        for article_id, start, end, fig_start, fig_end in (row["a"], row["b"]):
            article = articles[article_id]
            text = article["text"][start:end]
            published = dt.date.fromisoformat(article["date"].replace("/", "-")) if article.get("date") else None
            stated = _Stated(Sentence(char_start=start, char_end=end, line_start=1, line_end=1, text=text),
                             SimpleNamespace(source=article_id, date=published, outlet=article.get("source")))
            found = [r for r in conflicts._figures([stated], prefer, None)
                     if (r.figure.start, r.figure.end) == (fig_start - start, fig_end - start)]
            refs.append(found[0] if found else None)
            raw.append(next(f for f in figures(text, prefer) if (f.start, f.end) == (fig_start - start, fig_end - start)))
        dates = [articles[x[0]].get("date") for x in (row["a"], row["b"])]
        out.append({**row, "refs": refs, "raw": raw, "half": half_of(question), "dates": dates})
    embedder = MiniLMEmbedder(64)
    words = sorted({f.unit_word.lower() for p in out for f in p["raw"]} |
                   {w.lower() for q in questions.values() if (w := analyse(q["question"]).unit_word)})
    texts = sorted({r.statement.sentence.text for p in out for r in p["refs"] if r} |
                   {articles[x[0]]["text"][x[1]:x[2]] for p in out for x in (p["a"], p["b"])})
    word_vectors = dict(zip(words, embedder.embed(words)))
    text_vectors = dict(zip(texts, embedder.embed(texts)))
    for p in out:
        a, b = p["raw"]
        p["unit"] = float(word_vectors[a.unit_word.lower()] @ word_vectors[b.unit_word.lower()])
        p["counted"] = analyse(questions[p["question"]]["question"]).unit_word
        texts_ab = [articles[x[0]]["text"][x[1]:x[2]] for x in (p["a"], p["b"])]
        p["event"] = float(text_vectors[texts_ab[0]] @ text_vectors[texts_ab[1]])
    for p in out:  # as answers read them: figures of what a "how many" question counts
        asked = word_vectors.get((p["counted"] or "").lower())
        p["asked"] = [r is not None and asked is not None and float(word_vectors[r.figure.unit_word.lower()] @ asked)
                      >= conflicts.UNIT_SIMILARITY for r in p["refs"]]
    return out


def decide(pair: dict, unit: float, event: float, rules: bool = True, answers: bool = False) -> bool:
    """Would the finder treat the two figures as the same quantity at these thresholds?
    `answers`: as for an answer to the pair's question (what it counts waives the shared words)."""
    from rag.answer import conflicts

    if not rules:  # the finder before issue 13: every figure, the noun and sentence tests only
        a, b = pair["raw"]
        return (a.unit == b.unit or pair["unit"] >= unit) and pair["event"] >= event and a.negated == b.negated
    a, b = pair["refs"]
    if a is None or b is None:
        return False  # not read as a count (an identifier, a duration, a time of day)
    saved = conflicts.UNIT_SIMILARITY, conflicts.EVENT_SIMILARITY
    conflicts.UNIT_SIMILARITY, conflicts.EVENT_SIMILARITY = unit, event
    try:
        a.asked, b.asked = pair["asked"] if answers else (False, False)
        return conflicts.same_quantity(a, b, pair["unit"], pair["event"])
    finally:
        conflicts.UNIT_SIMILARITY, conflicts.EVENT_SIMILARITY = saved


def incompatible(pair: dict, tallies: bool = True) -> bool:
    """Would the finder show the two figures as a disagreement if it took them for one
    quantity: they cannot both be true (read as intervals), or they are counts with different
    values from articles of different dates (a running tally)?"""
    from rag.answer.conflicts import _MEASURES, _incompatible, _Ref

    a, b = ([_Ref(figure=f, statement=SimpleNamespace(chunk=SimpleNamespace(source=s[0])), index=0, window=None,
                  places=frozenset()) for f, s in zip(pair["raw"], (pair["a"], pair["b"]))])
    dates = {pair["dates"][0], pair["dates"][1]} - {None}
    tally = a.figure.unit not in _MEASURES and len(dates) > 1 and a.figure.number != b.figure.number
    return _incompatible([a, b]) or (tallies and tally)  # the finder before issue 13 showed no tallies


def score(pairs: list[dict], unit: float, event: float, rules: bool = True, answers: bool = False) -> dict:
    tp = fp = fn = tn = false_disputes = 0
    for p in pairs:
        said = decide(p, unit, event, rules, answers)
        tp += said and p["same"]
        fp += said and not p["same"]
        fn += not said and p["same"]
        tn += not said and not p["same"]
        false_disputes += said and not p["same"] and incompatible(p, tallies=rules)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    disputable = sum(1 for p in pairs if not p["same"] and incompatible(p, tallies=rules))
    return {"pairs": len(pairs), "same": tp + fn, "tp": tp, "fp": fp, "fn": fn, "precision": precision,
            "recall": recall, "f1": f1, "false_disputes": false_disputes, "disputable": disputable}


def choose(pairs: list[dict], rules: bool = True) -> tuple[float, float, dict]:
    """The grid point with the best F1 on `pairs`; ties go to the stricter (higher) thresholds."""
    best = None
    for unit in UNIT_GRID:
        for event in EVENT_GRID:
            result = score(pairs, unit, event, rules)
            key = (round(result["f1"], 6), -result["false_disputes"], unit, event)
            if best is None or key > best[0]:
                best = (key, unit, event, result)
    return best[1], best[2], best[3]


def row(label: str, half: str, unit: float, event: float, r: dict) -> str:
    return (f"| {label} | {half} | {unit:.2f} / {event:.2f} | {r['precision']:.3f} | {r['recall']:.3f} | "
            f"{r['f1']:.3f} | {r['false_disputes']} of {r['disputable']} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.conflicts", description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args(argv)
    from rag.answer import conflicts

    pairs = load_pairs(args.data)
    tune = [p for p in pairs if p["half"] == "tune"]
    check = [p for p in pairs if p["half"] == "check"]
    print(f"{len(pairs)} labelled pairs: tune {len(tune)} ({sum(p['same'] for p in tune)} same), "
          f"check {len(check)} ({sum(p['same'] for p in check)} same)\n")
    print("| Finder | Half | UNIT / EVENT similarity | Precision | Recall | F1 | False disputes |")
    print("|---|---|---|---|---|---|---|")
    before = (0.55, 0.45)
    for label, rules in (("before: every figure, noun + sentence similarity", False),
                         ("counts only, with the quantity, place and time-window rules", True)):
        for half, part in (("tune", tune), ("check", check)):
            print(row(f"{label}, old thresholds", half, *before, score(part, *before, rules)))
    unit, event, _ = choose(tune)
    for half, part in (("tune", tune), ("check", check)):
        print(row("the same, thresholds chosen on tune", half, unit, event, score(part, unit, event)))
    counting = [p for p in pairs if p["counted"]]
    for half, part in (("tune", [p for p in counting if p["half"] == "tune"]),
                       ("check", [p for p in counting if p["half"] == "check"])):
        print(row("pairs of 'how many' questions, as the finder reads them for that question's answer", half,
                  unit, event, score(part, unit, event, answers=True)))
        print(row("the same pairs read as a briefing does (no question)", half, unit, event, score(part, unit, event)))
    current = (conflicts.UNIT_SIMILARITY, conflicts.EVENT_SIMILARITY)
    print(f"\nchosen on tune: UNIT_SIMILARITY = {unit}, EVENT_SIMILARITY = {event}; "
          f"rag.answer.conflicts has {current[0]} / {current[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
