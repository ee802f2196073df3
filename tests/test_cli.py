"""End to end through the CLI on corpus/, with the real MiniLM embedder and embedded Chroma."""

import gc
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rag.answer.refusal import REFUSAL_PHRASE
from rag.errors import InputError

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"


def ask(cli, store, question, *extra):
    code, out, err = cli("ask", question, "--store-dir", store, "--json", *extra)
    assert code == 0, err
    return json.loads(out)


def assert_citations_verbatim(answer):
    for c in answer["citations"]:
        lines = (CORPUS / c["source"]).read_text().split("\n")
        assert c["quote"] in "\n".join(lines[c["line_start"] - 1:c["line_end"]]), c


def test_ask_json_has_the_answer_model(cli, corpus_store):
    answer = ask(cli, corpus_store, "What did Zarif say about Trump's allegations?")
    assert {"question", "answer", "refused", "citations", "sentences", "conflicts", "engine", "settings_hash",
            "timings"} <= set(answer)
    assert answer["engine"] == "extractive" and not answer["refused"]
    assert any("Zarif" in s["text"] for s in answer["sentences"])
    for sentence in answer["sentences"]:
        assert sentence["citations"] and f"[{sentence['citations'][0]}]" in answer["answer"]
        quotes = {c["n"]: c["quote"] for c in answer["citations"]}
        assert sentence["text"] == quotes[sentence["citations"][0]]
    assert_citations_verbatim(answer)


def test_conflicting_figures_are_shown_with_their_own_citations(cli, corpus_store):
    answer = ask(cli, corpus_store, "How many rockets were fired at the US embassy in Baghdad?")
    assert not answer["refused"]
    [conflict] = [c for c in answer["conflicts"] if c["about"] in ("rockets", "missiles")]
    values = {c["number"] for c in conflict["claims"]}
    assert 8 in values and 20 in values
    cited = {c["n"]: c for c in answer["citations"]}
    for claim in conflict["claims"]:
        assert claim["value"].lower() in cited[claim["citation"]]["quote"].lower()
    sources = {cited[c["citation"]]["source"] for c in conflict["claims"]}
    assert {"003_568550a85670bdb3.txt", "002_5cca6cf56978dda1.txt"} <= sources
    assert_citations_verbatim(answer)


def test_unanswerable_questions_are_refused(cli, corpus_store):
    for question in ("Who won the 2018 World Cup?", "What did Angela Merkel say about the rocket attack?"):
        answer = ask(cli, corpus_store, question)
        assert answer["refused"] and answer["answer"] == REFUSAL_PHRASE and answer["citations"] == []


def test_human_output_names_files_and_lines(cli, corpus_store):
    code, out, _ = cli("ask", "When was Qasem Soleimani killed?", "--store-dir", corpus_store)
    assert code == 0
    assert "January 3, 2020" in out or "Jan. 3, 2020" in out
    assert ".txt:" in out and "[1]" in out


def test_search_shows_file_lines_score_and_respects_filters(cli, corpus_store):
    code, out, _ = cli("search", "Pompeo phone call with the Iraqi prime minister", "--store-dir", corpus_store,
                       "--json", "-k", "3")
    result = json.loads(out)
    assert code == 0 and len(result["hits"]) == 3
    assert "004_bd0859deabb9f25c.txt" in {h["chunk"]["source"] for h in result["hits"]}
    for hit in result["hits"]:
        assert hit["chunk"]["line_start"] <= hit["chunk"]["line_end"] and hit["score"] > 0
    _, out, _ = cli("search", "rockets", "--store-dir", corpus_store, "--json", "--source", "00[12]_*")
    assert {h["chunk"]["source"][:3] for h in json.loads(out)["hits"]} <= {"001", "002"}
    _, out, _ = cli("search", "rockets", "--store-dir", corpus_store, "--json", "--since", "2020-12-24")
    assert {h["chunk"]["source"] for h in json.loads(out)["hits"]} == {"000_eb6e83a28ce734ce.txt"}
    _, out, _ = cli("search", "rockets", "--store-dir", corpus_store, "--json", "--until", "2019-01-01")
    assert json.loads(out)["hits"] == []


def test_one_article_does_not_fill_all_results(cli, corpus_store):
    _, out, _ = cli("search", "Iran militia rocket attacks embassy", "--store-dir", corpus_store, "--json", "-k", "5")
    sources = [h["chunk"]["source"] for h in json.loads(out)["hits"]]
    assert len(set(sources)) >= 3


def test_show_prints_the_cited_lines(cli, corpus_store):
    code, out, _ = cli("show", "003_568550a85670bdb3.txt:15", "--store-dir", corpus_store)
    assert code == 0 and "15  " in out and "An estimated eight rockets were fired overall" in out
    _, out, _ = cli("show", "004_bd0859deabb9f25c.txt:9-11", "--store-dir", corpus_store, "--raw")
    assert "[dropped: separator]" in out and "[dropped: trailing-headlines]" in out
    code, _, err = cli("show", "003_568550a85670bdb3.txt:90-99", "--store-dir", corpus_store)
    assert code == 1 and "out of range" in err


def test_status_reports_the_index(cli, corpus_store):
    code, out, _ = cli("status", "--store-dir", corpus_store, "--json", "--check")
    status = json.loads(out)
    assert code == 0 and status["documents"] == 5 and status["chunks"] > 20
    assert status["embedding_model"] == "all-MiniLM-L6-v2" and status["problems"] == []
    # Chroma holds the chunks up to the watermark, the vector file's tail the rest (rag.index.tail).
    assert status["vectors"] + status["tail_rows"] == status["chunks"] and "chroma" in status["sizes"]


def test_store_dir_comes_from_the_environment_too(cli, corpus_store, monkeypatch):
    monkeypatch.setenv("RAG_STORE_DIR", str(corpus_store))
    code, out, _ = cli("status", "--json")
    assert code == 0 and json.loads(out)["documents"] == 5


def test_errors_are_one_line_without_traceback(tmp_path):
    """The installed entry point, in a fresh process."""
    for args in (["ask", "anything at all"], ["show", "nope.txt:1"], ["search", "   "]):
        run = subprocess.run([sys.executable, "-m", "rag", *args, "--store-dir", str(tmp_path / "none")],
                             capture_output=True, text=True, cwd=tmp_path)
        assert run.returncode == 1, run.stderr
        assert run.stderr.count("\n") == 1 and run.stderr.startswith("error: ")
        assert "Traceback" not in run.stderr


def test_bad_date_and_missing_path(cli, corpus_store, tmp_path):
    code, _, err = cli("search", "rockets", "--since", "yesterday", "--store-dir", corpus_store)
    assert code == 2 and "Traceback" not in err
    code, _, err = cli("ingest", tmp_path / "nope", "--store-dir", tmp_path / "s")
    assert code == 1 and "no such file or directory" in err


def test_usage_errors_print_usage_not_an_unexpected_error(cli, corpus_store):
    code, _, err = cli("search", "rockets", "-k", "0", "--store-dir", corpus_store)
    assert code == 2 and "Invalid value" in err and "unexpected" not in err and "Traceback" not in err


def test_search_ask_and_brief_take_as_of(cli, corpus_store):
    _, out, _ = cli("search", "rockets", "--store-dir", corpus_store, "--json", "--as-of", "2019-01-01")
    assert json.loads(out)["hits"] == []
    _, out, _ = cli("search", "rockets", "--store-dir", corpus_store, "--json", "--as-of", "2020-12-23")
    hits = json.loads(out)["hits"]
    assert hits and all(h["chunk"]["date"] is not None and h["chunk"]["date"] <= "2020-12-23" for h in hits)
    assert "000_eb6e83a28ce734ce.txt" not in {h["chunk"]["source"] for h in hits}  # dated 2020-12-24
    code, out, _ = cli("ask", "When was Qasem Soleimani killed?", "--store-dir", corpus_store, "--json",
                       "--as-of", "2019-01-01")
    assert code == 0 and json.loads(out)["refused"] is True
    code, out, _ = cli("brief", "--store-dir", corpus_store, "--format", "json", "--as-of", "2020-12-23")
    sources = {s["source"] for s in json.loads(out)["sources"]}
    assert code == 0 and sources and "000_eb6e83a28ce734ce.txt" not in sources
    code, _, err = cli("search", "rockets", "--store-dir", corpus_store, "--as-of", "yesterday")
    assert code == 2 and "as-of" in err


def test_the_cli_starts_openblas_on_one_thread():
    # Every numpy product of a query runs on one BLAS thread; idle OpenBLAS helpers spin on a busy machine.
    code = ("import rag.cli, numpy, threadpoolctl\n"
            "print([p['num_threads'] for p in threadpoolctl.threadpool_info() if p['internal_api'] == 'openblas'])")
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout
    assert json.loads(out) == [1]


@pytest.mark.parametrize("command", ["ask", "search"])
def test_ask_and_search_run_without_the_cyclic_collector(cli, monkeypatch, tmp_path, command):
    from rag import remote

    seen = []

    def stop_here(*args):  # where the command asks for a running server: the collector is paused
        seen.append(gc.isenabled())
        raise InputError("stopped")

    monkeypatch.setattr(remote, command, stop_here)
    assert gc.isenabled()
    code, _, err = cli(command, "rockets", "--store-dir", tmp_path)
    assert (code, err.strip(), seen) == (1, "error: stopped", [False])
    assert gc.isenabled()  # and on again after it, for the rest of a process that goes on


def test_a_cold_search_freezes_the_heap_at_exit(corpus_store):
    # The hook registered first runs last: by then the command's own hook has frozen the heap, so the
    # full collections Python makes at exit have nothing left to traverse.
    code = ("import atexit, gc, sys\n"
            "atexit.register(lambda: print(gc.get_freeze_count() > 0, file=sys.stderr))\n"
            "sys.argv = ['rag', 'search', 'rockets', '--store-dir', sys.argv[1]]\n"
            "from rag.cli import main\n"
            "main()\n")
    env = {**os.environ, "RAG_CONFIG": os.devnull}
    run = subprocess.run([sys.executable, "-c", code, str(corpus_store)], capture_output=True, text=True, env=env)
    assert run.returncode == 0 and run.stderr.strip().splitlines()[-1] == "True", run.stderr
