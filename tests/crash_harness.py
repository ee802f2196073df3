"""Kill `rag ingest` with SIGKILL at random moments, then check the index it leaves.

    .venv/bin/python tests/crash_harness.py --runs 50 --min-killed 50 --targeted --minilm 3 --out crash.json

Each run copies a store that holds the *old* corpus, starts an ingest of the *new* corpus, and
kills it with SIGKILL after a random delay (uniform over an unkilled ingest's duration), or at
a named point (`--targeted`: mid-upsert, right after the lexical index's own commit, inside the
docstore transaction, right after the commit, mid-garbage-collection). Then, in a fresh process, it checks that:

1. the parts agree: `check_index` finds no problem (unreferenced garbage is allowed);
2. the committed manifest is exactly the old corpus's or the new corpus's;
3. every probe search (and one extractive answer) returns exactly what a cleanly built index of
   that corpus returns, with every vector a dense candidate and with the default candidate count
   (for `bulk` the latter is only counted: HNSW search is approximate past ~1,000 vectors);
4. `rag status --repair` (every third run) leaves no garbage and changes no answer;
   a search after the kill commits nothing (readers never write: a kill inside Chroma's HNSW
   save leaves its files damaged, reported as healing, searched exactly from the vector file, and
   healed by the repair or the next ingest only);
5. re-running the same ingest finishes it: the new corpus, no garbage, reference answers.

Kinds of run: `incremental` (old -> new), `rebuild` (`--rebuild`), `first` (empty -> new),
`bulk` (> 1,000 vectors per ingest at chunk_tokens 16, so Chroma flushes its HNSW files while
it may be killed) and `minilm` (the real MiniLM embedder, through the real `rag` command).

Hash-embedder ingests run in processes forked from this one after the library is imported (the
same `rag.cli.main` entry point as `rag ingest`, minus interpreter start-up: 2-3 s a run on a
busy machine). This process never opens Chroma itself, so no Chroma state crosses a fork; every
check runs in a forked child too. MiniLM runs spawn `python -m rag ingest` for real.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

PROBES = [
    "How many rockets were fired at the US embassy in Baghdad?",
    "Taji air base attack coalition wounded",
    "What did Pompeo warn Iraq about?",
    "editor's note revised count",
    "zephyr digest variant",
    "harbour ferry strike",
]
QUESTION = PROBES[0]
# where --targeted kills; "save": mid-upsert with the HNSW files as a kill inside Chroma's save leaves them
# "sealed": after a sweep's deletes from a sealed shard, before the shorter list is committed
POINTS = ("upsert", "vectorfile", "lexical", "commit", "committed", "gc", "watermark", "save", "sealed")
FLUSH_THRESHOLD = 600  # rows: above the "flush" kind's old tail (496), below it with the new corpus's (1,322)


@dataclass(frozen=True)
class Kind:
    name: str
    rebuild: bool = False
    start: str = "old"  # the store before the ingest: "old" corpus, or "empty"
    sets: tuple[tuple[str, str], ...] = (("embedding_model", "hash"),)
    spawn: bool = False  # a real `python -m rag ingest` process instead of a fork
    bulk: bool = False
    seeded: bool = False  # the old store is built in two ingests: part of it flushed into Chroma first


# Every ingest flushes its rows into Chroma (rag.index.tail) unless a kind says otherwise, so that
# kills land in Chroma's writes as they did before the vector file's tail existed.
_FLUSH = ("dense_tail_rows", "0")
_SMALL = (("chunk_tokens", "16"), ("chunk_overlap_sentences", "0"))
KINDS = {
    "incremental": Kind("incremental", sets=(("embedding_model", "hash"), _FLUSH)),
    "rebuild": Kind("rebuild", rebuild=True, sets=(("embedding_model", "hash"), _FLUSH)),
    "first": Kind("first", start="empty", sets=(("embedding_model", "hash"), _FLUSH)),
    "bulk": Kind("bulk", bulk=True, sets=(("embedding_model", "hash"), *_SMALL, _FLUSH)),
    # The default threshold: these ingests never open Chroma; the old store's rows are all in the tail.
    "tail": Kind("tail", sets=(("embedding_model", "hash"),)),
    # The old store: part flushed into Chroma, the rest a tail; the new corpus's rows carry the
    # tail past the threshold, so the ingest commits, then flushes (tombstones deleted, the tail
    # upserted, the watermark moved).
    "flush": Kind("flush", bulk=True, seeded=True, sets=(("embedding_model", "hash"), *_SMALL,
                                                         ("dense_tail_rows", str(FLUSH_THRESHOLD)))),
    # As "flush", with Chroma shards of 300 rows (rag.index.shards): the seeded store already has
    # two shards, and the killed flush seals the newest and starts several more.
    "shard": Kind("shard", bulk=True, seeded=True, sets=(("embedding_model", "hash"), *_SMALL,
                                                         ("dense_tail_rows", str(FLUSH_THRESHOLD)),
                                                         ("chroma_shard_rows", "300"))),
    # As "shard", with a threshold of 20 rows: the old store is all in Chroma, and the killed flush
    # also deletes the replaced and removed chunks' vectors from the sealed shards, a shard at a
    # time (rag.index.tail.sweep), since there are more than 20 of them.
    "sweep": Kind("sweep", bulk=True, seeded=True, sets=(("embedding_model", "hash"), *_SMALL,
                                                         ("dense_tail_rows", "20"), ("chroma_shard_rows", "300"))),
    "minilm": Kind("minilm", sets=(_FLUSH,), spawn=True),
    # > 256 texts to embed: sentence-transformers/torch instead of the numpy forward pass.
    "minilm-bulk": Kind("minilm-bulk", sets=(*_SMALL, _FLUSH), spawn=True, bulk=True),
}


@dataclass
class Run:
    kind: str
    number: int
    delay: float | None = None  # seconds after the start when SIGKILL was sent
    point: str | None = None  # --targeted: where the child killed itself
    killed: bool = False  # False: the ingest finished before the kill
    phase: str | None = None  # the last phase the child reached
    state: str | None = None  # "old", "new" or "empty" after the kill
    garbage: list[str] = field(default_factory=list)
    # bulk only: a search at the default candidate count ranked differently from the reference
    approximate_differs: bool = False
    # the kill cut Chroma's HNSW save short: its files are damaged, the vector file whole (rag.index.tail)
    healing: bool = False
    ok: bool = False
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0


# --- the corpora ------------------------------------------------------------------------------

def corpora(bulk: bool) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """(old, new): the new corpus adds, changes, retitles and removes articles and JSONL records."""
    real = {p.name: p.read_bytes() for p in sorted(CORPUS.glob("*.txt"))}
    names = sorted(real)
    old = {n: real[n] for n in names[:4]}
    old["notes.md"] = _front_matter("Rockets hit the Baghdad embassy", real[names[3]])
    old["feed.jsonl"] = _feed({"f1": "harbour", "f2": "bridge", "f3": "market"})
    new = dict(old)
    new[names[1]] = old[names[1]] + b"\nAn editor's note added on Friday said the count of rockets was revised.\n"
    del new[names[2]]
    new[names[4]] = real[names[4]]
    # Same length, same text, another title: every chunk keeps its text and position.
    new["notes.md"] = _front_matter("Rockets hit the Baghdad embassx", real[names[3]])
    new["feed.jsonl"] = _feed({"f1": "harbour", "f3": "market ferry", "f4": "airport"})
    for i in range(4 if not bulk else 20):
        new[f"variant-{i:02d}.txt"] = _variant(i, real[names[i % len(names)]])
    if bulk:
        for i in range(8):
            old[f"variant-{i:02d}.txt"] = _variant(i, real[names[i % len(names)]])
    return old, new


def _front_matter(title: str, body: bytes) -> bytes:
    return f"---\ntitle: {title}\n---\n".encode() + body


_FEED = {
    "harbour": "Dock workers walked out at the harbour on Monday, halting ferries to the islands for a third day.",
    "bridge": "Engineers closed the old river bridge after inspectors found cracked steel cables under the deck.",
    "market": "Stallholders at the covered market protested a rent rise that the council approved in March.",
    "market ferry": "Stallholders at the covered market chartered a ferry to carry their produce past the strike.",
    "airport": "Flights from the regional airport were cancelled when air traffic controllers joined the strike.",
}


def _feed(records: dict[str, str]) -> bytes:
    lines = [json.dumps({"id": key, "title": f"{topic.title()} report",
                         "text": f"{_FEED[topic]}\nThe {topic} dispute has lasted {7 * (i + 2)} days, officials said."})
             for i, (key, topic) in enumerate(records.items())]
    return ("\n".join(lines) + "\n").encode()


def _variant(i: int, article: bytes) -> bytes:
    """Another article made of a real one's paragraphs, reversed, under its own headline."""
    paragraphs = [p for p in article.decode("utf-8").split("\n") if p.strip()]
    head = f"Zephyr{i} digest variant number {i}\n\nThe zephyr{i} digest collects earlier reports on the attacks.\n"
    return (head + "\n".join(reversed(paragraphs)) + "\n").encode()


def write_corpus(directory: Path, files: dict[str, bytes]) -> None:
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    for name, data in files.items():
        (directory / name).write_bytes(data)


# --- processes --------------------------------------------------------------------------------

def preload(minilm: bool) -> None:
    """Import what an ingest uses, so forked children start warm (no Chroma client is created)."""
    import chromadb
    import chromadb.api.rust  # noqa: F401

    import rag.answer.extractive
    import rag.cli
    import rag.index.ingest
    import rag.index.repair
    from rag.text.sentences import split_sentences
    from rag.text.tokens import count_tokens

    count_tokens("warm up the tokenizer")
    split_sentences("Warm up the splitter. It loads a model.", {1})
    if minilm:
        import rag.index.embedders  # noqa: F401


def fork(target, *args) -> int:
    """Run target(*args) in a child process; it exits with 0 unless target raises."""
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            target(*args)
        except BaseException:  # noqa: BLE001 -- the child reports through its exit code and stderr
            traceback.print_exc()
            code = 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    return pid


def wait(pid: int) -> int:
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def cli_args(kind: Kind, store: Path, corpus: Path) -> list[str]:
    args = ["ingest", str(corpus), "--store-dir", str(store), "--wait", "60"]
    for key, value in kind.sets:
        args += ["--set", f"{key}={value}"]
    args += ["--set", f"corpus_dir={corpus}"]
    return args + (["--rebuild"] if kind.rebuild else [])


def ingest_child(kind: Kind, store: Path, corpus: Path, trace: Path | None, point: str | None,
                 sabotage: bool = False) -> None:
    """The forked `rag ingest`: quiet, with phase marks written to `trace`."""
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 -- the child exits right after
    if trace is not None:
        _instrument(trace, point, sabotage)
    from rag.cli import main

    sys.argv = ["rag", *cli_args(kind, store, corpus)]
    try:
        main()
    except SystemExit as done:
        if done.code:
            raise RuntimeError(f"rag ingest exited {done.code}") from None


def _instrument(trace: Path, point: str | None, sabotage: bool) -> None:
    """Mark each phase in `trace` as the child reaches it, and SIGKILL itself at `point`.
    `sabotage` breaks the ingest on purpose (vectors written after the commit), to show that the
    checks catch a non-atomic ingest."""
    from rag.index import docstore, ingest, store, tail, vectorfile, vectorstore

    fd = os.open(trace, os.O_WRONLY | os.O_CREAT | os.O_APPEND)

    def mark(phase: str) -> None:
        os.write(fd, f"{time.monotonic():.4f} {phase}\n".encode())

    def die() -> None:
        mark(f"kill@{point}")
        os.kill(os.getpid(), signal.SIGKILL)

    def wrap(owner, name, phase, kill_inside=None, kill_after=None):
        original = getattr(owner, name)

        def wrapped(*args, **kwargs):
            mark(phase)
            if kill_inside:
                return kill_inside(original, *args, **kwargs)
            result = original(*args, **kwargs)
            if kill_after and point == kill_after:
                die()
            return result

        setattr(owner, name, wrapped)

    def upsert_then_die(original, self, ids, vectors, metadatas):
        half = max(1, len(ids) // 2)
        original(self, ids[:half], vectors[:half], metadatas[:half])
        die()

    def save_cut_short(original, self, ids, vectors, metadatas):
        # A kill cannot be timed inside Chroma's native HNSW save, so its result is made by hand:
        # hnswlib writes the header, then the element files, in place (docs/reliability.md).
        original(self, ids, vectors, metadatas)
        cut_hnsw_save_short(Path(self.client.get_settings().persist_directory), self.name)
        die()

    appended = []

    def append_then_die(original, path, committed, payload):
        # The vector file's rows land in several files: die between two of them, half of one written.
        if appended:
            original(path, committed, payload[: len(payload) // 2])
            die()
        appended.append(path)
        return original(path, committed, payload)

    def lexical_then_die(original, *args):
        original(*args)  # the postings are committed to tantivy, the docstore does not know them yet
        die()

    def commit_then_die(original, self, *args, **kwargs):
        real = self.db  # this thread's connection
        self._local.db = _DiesBeforeCommit(real, die)
        try:
            original(self, *args, **kwargs)
        finally:
            self._local.db = real

    def gc_then_die(original, st, stale, old_collection, collection, *lexical_and_articles, drop_old=True,
                    tombstoned=False):
        if old_collection and old_collection != collection:
            if drop_old:
                st.drop_collection(old_collection)
        elif stale and not tombstoned:
            st.vectors(collection).delete(sorted(stale)[: max(1, len(stale) // 2)])
        die()

    def sweep_then_die(original, st, shard):
        st.docs.set_meta = lambda *args, **kwargs: die()  # the sweep's one commit, after its deletes
        return original(st, shard)

    if sabotage:
        _write_vectors_after_commit(docstore, vectorstore, vectorfile, point, die)
    wrap(ingest, "_plan", "plan")
    wrap(ingest, "parse_document", "parse")
    wrap(ingest, "embed_cached", "embed")
    wrap(vectorstore.ChromaStore, "add", "upsert",
         {"upsert": upsert_then_die, "save": save_cut_short}.get(point or ""))
    wrap(vectorfile, "_append", "vectorfile", append_then_die if point == "vectorfile" else None)
    wrap(ingest, "_write_postings", "lexical", lexical_then_die if point == "lexical" else None)
    wrap(docstore.DocStore, "commit", "commit", commit_then_die if point == "commit" else None,
         kill_after="committed")
    wrap(ingest, "_collect_garbage", "gc", gc_then_die if point == "gc" else None)
    wrap(store.Store, "sweep_garbage", "sweep")
    wrap(tail, "_commit_watermark", "watermark", (lambda original, *args: die()) if point == "watermark" else None)
    wrap(store.Store, "sweep_sealed", "sealed", sweep_then_die if point == "sealed" else None)


def cut_hnsw_save_short(chroma_dir: Path, collection: str) -> None:
    """length.bin shorter than the element count its header names (session 6's campaign found
    this, session 8's CI a cut header.bin); nothing when Chroma has not saved HNSW files yet."""
    db = sqlite3.connect(chroma_dir / "chroma.sqlite3")
    try:
        rows = db.execute("SELECT s.id FROM segments s JOIN collections c ON s.collection = c.id "
                          "WHERE c.name = ? AND s.scope = 'VECTOR'", (collection,)).fetchall()
    finally:
        db.close()
    for (segment,) in rows:
        length = chroma_dir / segment / "length.bin"
        if length.exists():
            os.truncate(length, length.stat().st_size * 45 // 100)


def _write_vectors_after_commit(docstore, vectorstore, vectorfile, point, die) -> None:
    held, held_rows = [], []
    real_add, real_commit, real_append = vectorstore.ChromaStore.add, docstore.DocStore.commit, vectorfile._append
    vectorstore.ChromaStore.add = lambda self, *args: held.append((self, args))
    vectorfile._append = lambda *args: held_rows.append(args)  # the vector file's rows too

    def commit(self, *args, **kwargs):
        real_commit(self, *args, **kwargs)
        if point == "committed":
            die()
        for target, added in held:
            real_add(target, *added)
        for args in held_rows:
            real_append(*args)

    docstore.DocStore.commit = commit


class _DiesBeforeCommit:
    """A sqlite connection whose transaction runs every statement, then dies instead of committing."""

    def __init__(self, real, die):
        self.real, self.die = real, die

    def __getattr__(self, name):
        return getattr(self.real, name)

    def __enter__(self):
        return self.real.__enter__()

    def __exit__(self, *exc):
        if exc[0] is None:
            self.die()
        return self.real.__exit__(*exc)


def spawn_ingest(kind: Kind, store: Path, corpus: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "rag", *cli_args(kind, store, corpus)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)


# --- checking a store ---------------------------------------------------------------------------

def settings_for(kind: Kind, store: Path, corpus: Path, exhaustive: bool = True):
    from rag.settings import Settings

    values = dict(kind.sets)
    if exhaustive:  # every vector is a dense candidate: garbage cannot push live chunks out
        values["candidates"] = "100000"
    return Settings(store_dir=store, corpus_dir=corpus, **values)


def observe(kind: Kind, store: Path, corpus: Path, ask: bool, default_candidates: bool = False) -> dict:
    """What a reader sees: manifest, check results, probe searches (and one answer). With
    `default_candidates`, the probes also run with the default dense candidate count."""
    from rag.api import Rag
    from rag.errors import IndexMissingError, RagError
    from rag.index.status import check_index

    out: dict = {}
    for exhaustive in (True, False) if default_candidates else (True,):
        rag = Rag(settings_for(kind, store, corpus, exhaustive))
        if exhaustive:
            found = check_index(rag.store)
            out["problems"], out["garbage"] = found.problems, found.garbage
            out["manifest"] = {s: h for s, (h, _) in rag.store.docs.manifest().items()}
        generation = rag.store.docs.meta("generation")
        probes = {}
        for query in PROBES:
            try:
                hits = rag.search(query, k=5).hits
                probes[query] = [(h.chunk.text, round(h.score, 5), h.chunk.source) for h in hits]
            except IndexMissingError:
                probes[query] = "no index"
            except RagError as err:  # a store a search must refuse (a vector file cut short): a difference
                probes[query] = f"refused: {err}"
        out["probes" if exhaustive else "probes_default"] = probes
        if ask and exhaustive:
            try:
                answer = rag.ask(QUESTION)
                out["answer"] = [answer.answer, [(c.source, c.line_start, c.line_end) for c in answer.citations]]
            except IndexMissingError:
                out["answer"] = "no index"
            except RagError as err:
                out["answer"] = f"refused: {err}"
        out["reader_wrote"] = out.get("reader_wrote", False) or rag.store.docs.meta("generation") != generation
        rag.close()
    return out


def observe_child(kind: Kind, store: Path, corpus: Path, ask: bool, result: Path, then: str | None) -> None:
    """Observe; then optionally repair or finish the ingest and observe again."""
    data = {"before": observe(kind, store, corpus, ask, default_candidates=True)}
    if then == "repair":
        from rag.index.repair import repair

        report = repair(settings_for(kind, store, corpus))
        data["repair"] = report.model_dump(mode="json")
        data["after_repair"] = observe(kind, store, corpus, ask)
    if then in ("repair", "finish"):
        from rag.errors import RagError
        from rag.index.ingest import ingest

        try:
            ingest(settings_for(kind, store, corpus), [corpus], rebuild=kind.rebuild, lock_wait=60)
        except RagError as err:  # a store the kill left broken: its one-line refusal is the finding
            data["finish_error"] = str(err)
        else:
            data["finished"] = observe(kind, store, corpus, ask)
    result.write_text(json.dumps(data))


def observe_in_child(kind: Kind, store: Path, corpus: Path, ask: bool, then: str | None = None) -> dict:
    result = store.parent / f"{store.name}.observed.json"
    code = wait(fork(observe_child, kind, store, corpus, ask, result, then))
    if code != 0:
        raise RuntimeError(f"the checking process failed (exit {code})")
    return json.loads(result.read_text())


# --- the harness --------------------------------------------------------------------------------

class Harness:
    def __init__(self, work: Path, seed: int, sabotage: bool = False):
        self.work = work
        self.sabotage = sabotage
        self.random = random.Random(seed)
        self.prepared: dict[str, dict] = {}

    def prepare(self, kind: Kind) -> dict:
        """The old store, reference observations of old and new, and an unkilled ingest's duration."""
        key = kind.name
        if key in self.prepared:
            return self.prepared[key]
        base = self.work / key
        shutil.rmtree(base, ignore_errors=True)
        old, new = corpora(kind.bulk)
        corpus = base / "corpus"
        template = base / "template"
        if kind.start == "old":
            if kind.seeded:  # the articles but the variants, flushed into Chroma; then the variants join the tail
                write_corpus(corpus, {k: v for k, v in old.items() if not k.startswith("variant-")})
                flushing = dataclasses.replace(kind, sets=(*[kv for kv in kind.sets if kv[0] != "dense_tail_rows"],
                                                           ("dense_tail_rows", "0")))
                self._ingest_unkilled(flushing, template, corpus)
            write_corpus(corpus, old)
            self._ingest_unkilled(kind, template, corpus)
            reference_old = observe_in_child(kind, template, corpus, ask=True)
        else:
            template.mkdir(parents=True)
            reference_old = None
        write_corpus(corpus, new)
        clean = base / "reference-new"
        shutil.copytree(template, clean)
        duration = self._ingest_unkilled(kind, clean, corpus)
        reference_new = observe_in_child(kind, clean, corpus, ask=True)
        assert not reference_new["before"]["problems"], reference_new["before"]["problems"]
        self.prepared[key] = {"corpus": corpus, "template": template, "duration": duration,
                              "old": reference_old and reference_old["before"], "new": reference_new["before"],
                              "manifest_old": reference_old and reference_old["before"]["manifest"],
                              "manifest_new": reference_new["before"]["manifest"]}
        return self.prepared[key]

    def _ingest_unkilled(self, kind: Kind, store: Path, corpus: Path) -> float:
        started = time.monotonic()
        if kind.spawn:
            proc = spawn_ingest(kind, store, corpus)
            _, err = proc.communicate(timeout=1800)
            if proc.returncode:
                raise RuntimeError(f"rag ingest failed: {err.decode()[-500:]}")
        elif wait(fork(ingest_child, kind, store, corpus, None, None)) != 0:
            raise RuntimeError("the reference ingest failed")
        return time.monotonic() - started

    def run(self, kind: Kind, number: int, point: str | None = None) -> Run:
        prep = self.prepare(kind)
        run = Run(kind=kind.name, number=number, point=point)
        started = time.monotonic()
        store = self.work / kind.name / f"run-{number:04d}"
        shutil.rmtree(store, ignore_errors=True)
        shutil.copytree(prep["template"], store)
        trace = store.parent / f"{store.name}.trace"
        trace.unlink(missing_ok=True)
        if kind.spawn:
            self._kill_spawned(kind, store, prep, run)
        else:
            self._kill_forked(kind, store, prep, run, trace)
        then = "repair" if number % 3 == 0 else "finish"
        try:
            seen = observe_in_child(kind, store, prep["corpus"], ask=number % 5 == 0 or kind.spawn, then=then)
            self._judge(run, seen, prep)
        except Exception as err:  # noqa: BLE001 -- a failed check is this run's result, not the harness's
            run.failures.append(f"check failed: {err}")
        run.ok = not run.failures
        run.seconds = round(time.monotonic() - started, 2)
        if run.ok:
            shutil.rmtree(store, ignore_errors=True)
            trace.unlink(missing_ok=True)
        return run

    def _kill_forked(self, kind: Kind, store: Path, prep: dict, run: Run, trace: Path) -> None:
        pid = fork(ingest_child, kind, store, prep["corpus"], trace, run.point, self.sabotage)
        if run.point is None:
            run.delay = round(self.random.uniform(0, prep["duration"]), 3)
            time.sleep(run.delay)
            _kill(pid)
        code = wait(pid)
        run.killed = code == -signal.SIGKILL
        marks = trace.read_text().split() if trace.exists() else []
        run.phase = marks[-1] if marks else "start"
        if code not in (0, -signal.SIGKILL):
            run.failures.append(f"the ingest exited {code} instead of finishing or being killed")

    def _kill_spawned(self, kind: Kind, store: Path, prep: dict, run: Run) -> None:
        proc = spawn_ingest(kind, store, prep["corpus"])
        lock = store / "lock"
        deadline = time.monotonic() + 600
        while proc.poll() is None and time.monotonic() < deadline:  # wait out interpreter start-up
            if lock.exists() and f"pid {proc.pid}" in lock.read_text():
                break
            time.sleep(0.01)
        run.delay = round(self.random.uniform(0, prep["duration"] * 0.6), 3)
        time.sleep(run.delay)
        _kill(proc.pid)
        _, err = proc.communicate()
        run.killed = proc.returncode == -signal.SIGKILL
        run.phase = "after lock" if run.killed else "finished"
        if proc.returncode not in (0, -signal.SIGKILL):
            run.failures.append(f"rag ingest exited {proc.returncode}: {err.decode()[-300:]}")

    def _judge(self, run: Run, seen: dict, prep: dict) -> None:
        before = seen["before"]
        run.garbage = before["garbage"]
        run.healing = any("healing on next ingest" in g for g in before["garbage"])
        if before["problems"]:
            run.failures.append(f"inconsistent after the kill: {before['problems']}")
        if before.get("reader_wrote"):
            run.failures.append("after the kill: a search committed to the docstore (readers must not write)")
        manifest = before["manifest"]
        if manifest == prep["manifest_new"]:
            run.state, reference = "new", prep["new"]
        elif prep["manifest_old"] is not None and manifest == prep["manifest_old"]:
            run.state, reference = "old", prep["old"]
        elif prep["manifest_old"] is None and not manifest:
            run.state, reference = "empty", None
        else:
            run.failures.append("the manifest is neither the old corpus nor the new one")
            return
        self._same_answers(run, "after the kill", before, reference)
        if reference is not None:
            for query, hits in before["probes_default"].items():
                if _ranked(hits) == _ranked(reference["probes_default"][query]):
                    continue
                if KINDS[run.kind].bulk or run.healing:
                    # Past ~1,000 vectors Chroma's HNSW search is approximate: two copies of one
                    # index can rank near-ties differently, leftovers or not; a healing store ranks
                    # every row exactly, where the reference used the HNSW index. Counted, not failed.
                    # (The exhaustive probes above, and those after the finishing ingest, must match.)
                    run.approximate_differs = True
                else:
                    run.failures.append(f"after the kill: search {query!r} at the default candidate count "
                                        "differs from the reference")
        if "repair" in seen:
            after = seen["after_repair"]
            if after["problems"] or after["garbage"]:
                run.failures.append(f"repair left {after['problems'] + after['garbage']}")
            if after["manifest"] != manifest:
                run.failures.append("repair changed the manifest")
            self._same_answers(run, "after the repair", after, reference)
        if "finish_error" in seen:
            run.failures.append(f"the finishing ingest refused: {seen['finish_error']}")
            return
        finished = seen["finished"]
        if finished["problems"] or finished["garbage"]:
            run.failures.append(f"the finishing ingest left {finished['problems'] + finished['garbage']}")
        if finished["manifest"] != prep["manifest_new"]:
            run.failures.append("the finishing ingest did not reach the new corpus")
        self._same_answers(run, "after the finishing ingest", finished, prep["new"])

    @staticmethod
    def _same_answers(run: Run, when: str, seen: dict, reference: dict | None) -> None:
        if reference is None:
            if any(v != "no index" for v in seen["probes"].values()):
                run.failures.append(f"{when}: an empty index answered a search")
            return
        for query, hits in seen["probes"].items():
            if _ranked(hits) != _ranked(reference["probes"][query]):
                run.failures.append(f"{when}: search {query!r} differs from the reference")
            elif {h[2] for h in hits} - set(reference["manifest"]):
                run.failures.append(f"{when}: search {query!r} shows a source the index does not hold")
        if "answer" in seen and "answer" in reference and _plain(seen["answer"]) != _plain(reference["answer"]):
            run.failures.append(f"{when}: the answer differs from the reference")


def _ranked(hits) -> list:
    """The text at each rank. Identical vectors tie, and Chroma may order ties either way, so copies
    of one text from two sources count as the same hit (the sources must still be indexed). Fused
    scores are not compared: HNSW search is approximate, and among hundreds of near-identical short
    chunks (the bulk runs) a candidate far down the dense list may move a place between two opens
    of the same files, which shifts a fused score by 1e-5 without changing the hits."""
    return hits if isinstance(hits, str) else [text for text, _, _ in hits]


def _plain(value):
    return json.loads(json.dumps(value))


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:  # it finished first
        pass


# --- entry point --------------------------------------------------------------------------------

def plan(runs: int, kinds: list[str], points: list[str], minilm: int, minilm_bulk: int = 0) -> list[tuple[str, str | None]]:
    todo = [(kinds[i % len(kinds)], None) for i in range(runs)]
    todo += [(k, p) for k in kinds if k != "bulk" for p in points]
    todo += [("minilm", None)] * minilm + [("minilm-bulk", None)] * minilm_bulk
    return todo


def _random_kills(results: list[Run]) -> int:
    return sum(r.killed for r in results if r.point is None and not KINDS[r.kind].spawn)


def summarise(results: list[Run], seconds: float) -> dict:
    by_kind: dict[str, dict] = {}
    for r in results:
        row = by_kind.setdefault(r.kind, {"runs": 0, "killed": 0, "old": 0, "new": 0, "empty": 0,
                                          "with_garbage": 0, "failed": 0, "phases": {}})
        row["runs"] += 1
        row["killed"] += r.killed
        if r.state:
            row[r.state] += 1
        row["with_garbage"] += bool(r.garbage)
        row["approximate_differs"] = row.get("approximate_differs", 0) + r.approximate_differs
        row["healing"] = row.get("healing", 0) + r.healing
        row["failed"] += not r.ok
        phase = f"{r.point}(targeted)" if r.point else (r.phase or "?")
        if not r.killed and r.phase != "start":
            phase = "finished"
        row["phases"][phase] = row["phases"].get(phase, 0) + 1
    return {"runs": len(results), "failed": sum(not r.ok for r in results), "seconds": round(seconds, 1),
            "by_kind": by_kind, "failures": [r.__dict__ for r in results if not r.ok],
            "results": [r.__dict__ for r in results]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=50, help="random-moment kills with the hash embedder")
    parser.add_argument("--kinds", default="incremental,rebuild,first", help="kinds the random runs cycle through")
    parser.add_argument("--targeted", action="store_true", help="also kill at each named point of each kind")
    parser.add_argument("--points", help=f"only these named points (comma-separated; from {','.join(POINTS)})")
    parser.add_argument("--sabotage", action="store_true",
                        help="break the ingest on purpose (vectors after the commit): the checks must fail")
    parser.add_argument("--minilm", type=int, default=0, help="random-moment kills of a real `rag ingest` with MiniLM")
    parser.add_argument("--minilm-bulk", type=int, default=0,
                        help="the same with > 1,000 short chunks (torch embeds them; Chroma flushes HNSW files)")
    parser.add_argument("--min-killed", type=int, default=0,
                        help="add random-moment runs until at least this many hash-embedder ingests were killed")
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--work", type=Path, help="working directory (default: a temporary one, removed)")
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    args = parser.parse_args(argv)

    for key in [k for k in os.environ if k.startswith("RAG_")]:  # a developer's settings must not leak in
        del os.environ[key]
    os.environ["RAG_CONFIG"] = os.devnull
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    unknown = [k for k in kinds if k not in KINDS or KINDS[k].spawn]
    if unknown:
        parser.error(f"unknown kinds {unknown}; choose from {[k for k in KINDS if not KINDS[k].spawn]}")
    points = list(POINTS) if args.targeted else []
    if args.points:
        points = [p.strip() for p in args.points.split(",") if p.strip()]
        if set(points) - set(POINTS):
            parser.error(f"unknown points {sorted(set(points) - set(POINTS))}; choose from {list(POINTS)}")
    preload(minilm=args.minilm + args.minilm_bulk > 0)
    work = args.work or Path(tempfile.mkdtemp(prefix="rag-crash-"))
    started = time.monotonic()
    results = []
    try:
        harness = Harness(work, args.seed, args.sabotage)
        todo = plan(args.runs, kinds, points, args.minilm, args.minilm_bulk)
        number = 0
        while todo:
            kind, point = todo.pop(0)
            number += 1
            result = harness.run(KINDS[kind], number, point)
            results.append(result)
            if not todo and _random_kills(results) < args.min_killed and number < 3 * (args.runs + args.min_killed):
                # Some ingests finish before their random kill (a busier or quieter machine than
                # when the duration was measured): run more until enough were really killed.
                todo.append((kinds[number % len(kinds)], None))
            status = "ok" if result.ok else "FAILED " + "; ".join(result.failures)[:300]
            print(f"{number:4d} {kind:11s} {(result.point or f'{result.delay}s'):>9s} "
                  f"{'killed' if result.killed else 'finished':8s} in {result.phase or '-':10s} "
                  f"-> {result.state or '?':5s} garbage {len(result.garbage)}{' healing' if result.healing else ''}"
                  f"  {result.seconds:5.1f}s  {status}",
                  flush=True)
    finally:
        if args.work is None and not any(not r.ok for r in results):
            shutil.rmtree(work, ignore_errors=True)
    summary = summarise(results, time.monotonic() - started)
    if args.out:
        args.out.write_text(json.dumps(summary, indent=2))
    print(json.dumps({k: v for k, v in summary.items() if k not in ("results", "failures")}, indent=2))
    return 1 if summary["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
