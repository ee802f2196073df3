"""The RealTime QA benchmark: load it, and write the corpora the phases ingest.

Every corpus is one JSONL file (ingest reads each line as its own source, `articles.jsonl#<id>`),
written under the run directory, never into the repository.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from bench.metrics import contains, normalise

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "bench" / "rtqa-2022-summer"
CORPUS_FILE = "articles.jsonl"


def load_articles(data: Path) -> list[dict]:
    with gzip.open(data / "articles.jsonl.gz", "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def load_questions(data: Path) -> list[dict]:
    with open(data / "questions.jsonl", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def record(article: dict, id_: str | None = None) -> dict:
    """The JSONL line ingest reads. Dates become ISO (the data has 2022/06/12 as well)."""
    out = {"id": id_ or article["id"], "text": article["text"]}
    for key in ("title", "source", "url"):
        if article.get(key):
            out[key] = article[key]
    if article.get("date"):
        out["date"] = article["date"].replace("/", "-")
    return out


def write_corpus(directory: Path, records: list[dict]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / CORPUS_FILE
    with open(path, "w", encoding="utf-8") as handle:
        handle.writelines(json.dumps(rec, ensure_ascii=False) + "\n" for rec in records)
    return path


def article_id(source: str) -> str:
    """`articles.jsonl#5b14cd16b6fe.c2` → `5b14cd16b6fe` (scale copies map to their original)."""
    return source.split("#", 1)[-1].split(".c", 1)[0]


def quick_subset(articles: list[dict], questions: list[dict], n_questions: int, n_articles: int):
    """The first questions with one gold article each, their gold articles, then distractors."""
    chosen = [q for q in questions if len(q["gold_ids"]) == 1][:n_questions]
    keep = list(dict.fromkeys(g for q in chosen for g in q["gold_ids"]))
    for a in articles:
        if len(keep) >= n_articles:
            break
        if a["id"] not in keep:
            keep.append(a["id"])
    by_id = {a["id"]: a for a in articles}
    return [by_id[i] for i in keep], chosen


def scale_copies(articles: list[dict], target: int) -> tuple[list[dict], int]:
    """Copies of the corpus until it holds >= target documents.

    Copy n of an article keeps its text and title (so its chunk texts, and their cached
    embeddings, are identical) under a new id, which makes each JSONL line, and so its content
    hash, distinct: ingest indexes every copy as its own document.
    """
    copies = max(1, -(-target // len(articles)))
    out = [record(a) for a in articles]
    for n in range(2, copies + 1):
        out.extend(record(a, f"{a['id']}.c{n}") for a in articles)
    return out, copies


def unanswerable_split(articles: list[dict], questions: list[dict]) -> tuple[list[dict], list[dict]]:
    """The corpus without every question's gold articles, and the questions it cannot answer:
    those whose answer string appears in none of the remaining articles."""
    gold = {g for q in questions for g in q["gold_ids"]}
    rest = [a for a in articles if a["id"] not in gold]
    texts = [normalise(f"{a.get('title') or ''}\n{a['text']}") for a in rest]
    blind = [q for q in questions if not any(contains(t, q["answer"], normalised=True) for t in texts)]
    return rest, blind
