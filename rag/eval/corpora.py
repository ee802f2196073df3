"""Case files that name their corpus, and the store each such corpus is evaluated on.

A case file is either a YAML list of cases (they run on the store `rag eval` is given) or a
mapping that names the articles its cases are about:

    corpus: ../../shared/bench/rtqa-2022-summer/articles.jsonl.gz   # relative to this file
    cases:
      - id: ...

The articles file is a JSON-lines file (gzip allowed) of {id, title, date, source, url, text},
as the benchmark ships it. Nothing of it is copied into the repository: from a clean clone with
../shared/bench beside it the path resolves, and its store is built outside the repository.

The store for a named corpus is, in order: the store `rag eval` was given, when it holds the
articles of the corpus (all but the few ingest rejects) (e.g. `--store-dir bench/out/full/stores/main`); `<store>/corpora/<name>`
when it was built before; otherwise it is built there with `--build-corpora` (all the corpus is
embedded once, then cached), and without that flag its cases are skipped with a note.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from rag.errors import ConfigError
from rag.settings import Settings

JSONL_NAME = "articles.jsonl"  # the file a built corpus store ingests: sources are articles.jsonl#<id>


@dataclass(frozen=True)
class NamedCorpus:
    path: Path

    @property
    def name(self) -> str:
        stem = self.path.name.removesuffix(".gz").removesuffix(".jsonl")
        digest = hashlib.sha1(str(self.path.resolve()).encode()).hexdigest()[:8]
        return f"{self.path.parent.name}-{stem}-{digest}"

    def exists(self) -> bool:
        return self.path.is_file()

    def records(self) -> list[dict]:
        """The articles as ingest reads them (dates ISO: the benchmark writes 2022/06/12 too)."""
        opener = gzip.open if self.path.suffix == ".gz" else open
        out = []
        try:
            with opener(self.path, "rt", encoding="utf-8") as handle:
                for line in handle:
                    if not line.strip():
                        continue
                    article = json.loads(line)
                    record = {"id": str(article["id"]), "text": article["text"]}
                    for key in ("title", "source", "url"):
                        if article.get(key):
                            record[key] = article[key]
                    if article.get("date"):
                        record["date"] = str(article["date"]).replace("/", "-")
                    out.append(record)
        except (OSError, ValueError, KeyError) as err:
            raise ConfigError(f"cannot read the corpus {self.path}: {err}") from None
        return out

    def sources(self) -> set[str]:
        return {f"{JSONL_NAME}#{r['id']}" for r in self.records()}


def corpus_of(case_file: Path, value) -> NamedCorpus:
    """The corpus a case file names, resolved against the file's directory."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigError("'corpus' must be the path of an articles file (.jsonl or .jsonl.gz), relative to the case file")
    return NamedCorpus((case_file.parent / value).resolve())


MAX_REJECTED = 0.01  # ingest rejects a few articles (empty after cleaning, exact copies): never indexed


def holds(settings: Settings, sources: set[str]) -> bool:
    """Does the store of `settings` hold the corpus: all of `sources` but the few that ingest
    rejects (at most 1%)?"""
    from rag.index.docstore import DocStore

    db = settings.store_dir / "rag.db"
    if not db.exists() or not sources:
        return False
    docs = DocStore(db)
    try:
        missing = len(sources - set(docs.manifest()))
    finally:
        docs.close()
    return missing <= MAX_REJECTED * len(sources)


def corpus_settings(settings: Settings, corpus: NamedCorpus, build: bool, notes: list[str]) -> Settings | None:
    """Settings whose store holds `corpus`, building it when asked; None when it is not there."""
    if not corpus.exists():
        notes.append(f"skipped the cases on {corpus.path}: no such file (the benchmark data goes in "
                     "../shared/bench beside the repository)")
        return None
    sources = corpus.sources()
    if holds(settings, sources):
        return settings
    store = settings.store_dir / "corpora" / corpus.name
    own = settings.model_copy(update={"store_dir": store, "corpus_dir": store / "corpus"})
    if holds(own, sources):
        return own
    if not build:
        notes.append(f"skipped the cases on {corpus.path}: its store is not built ({len(sources)} articles); "
                     f"run with --build-corpora, or --store-dir a store that holds them")
        return None
    _build(own, corpus, notes)
    return own


def _build(settings: Settings, corpus: NamedCorpus, notes: list[str]) -> None:
    from rag.api import Rag

    settings.corpus_dir.mkdir(parents=True, exist_ok=True)
    path = settings.corpus_dir / JSONL_NAME
    with open(path, "w", encoding="utf-8") as handle:
        handle.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in corpus.records())
    rag = Rag(settings)
    try:
        report = rag.ingest([settings.corpus_dir])
    finally:
        rag.close()
    notes.append(f"built the store for {corpus.path} in {settings.store_dir}: {len(report.added)} articles, "
                 f"{report.chunks} chunks, {report.seconds:.0f}s")
