"""`--local-model PATH.gguf` (setting `llm_local_model`): rag runs llama.cpp itself.

The server is `python -m rag.llm.local_server` (the prebuilt xllamacpp wheel) in a child
process on a free loopback port, started when the first request is sent (an answer from the
response cache needs none; `rag serve` starts it at once and keeps it), checked with its
/health endpoint, and stopped when rag closes or exits. A child rather than a thread: a file
llama.cpp cannot read may abort the process that loads it, and its log goes to a file
(`<store_dir>/llm-server.log`) instead of the terminal.

Nothing is left behind: `close()` and an atexit hook stop the child, the CLI turns SIGTERM
into a normal exit, and the child is also asked by the kernel (PR_SET_PDEATHSIG) to die with
the thread that started it, so even a SIGKILLed rag leaves no server.

Threads: every core this process may use, up to 8. Context: `llm_context_window`, the budget
the engine packs sources to. One slot, and `cache_prompt: false` on every request, so the same
request gets the same answer at temperature 0. Unless set, `llm_timeout` becomes 30 minutes and
`llm_retries` 0: a CPU model is slow, and a retry would only queue behind the request it repeats.
"""

from __future__ import annotations

import atexit
import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from rag.errors import ConfigError, LLMError

GGUF_MAGIC = b"GGUF"
_MAX_THREADS = 8
_PR_SET_PDEATHSIG = 1
_STOP_WAIT = 10.0
LOCAL_TIMEOUT = 1800.0  # seconds to wait for a local model's answer unless llm_timeout is set


class LocalModelError(LLMError):
    """The local llama.cpp server could not be started."""


def check_model_file(path: Path) -> Path:
    """The model file, or a one-line ConfigError saying what is wrong with it."""
    path = Path(path).expanduser()
    if not path.exists():
        raise ConfigError(f"--local-model {path}: no such file")
    if not path.is_file():
        raise ConfigError(f"--local-model {path}: not a file")
    try:
        with open(path, "rb") as handle:
            magic = handle.read(4)
    except OSError as err:
        raise ConfigError(f"--local-model {path}: cannot read it: {err.strerror or err}") from None
    if magic != GGUF_MAGIC:
        raise ConfigError(f"--local-model {path}: not a GGUF model file (llama.cpp reads .gguf files)")
    return path


def server_threads() -> int:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, _MAX_THREADS))


def model_name(path: Path) -> str:
    return Path(path).stem


def die_with_parent(parent: int) -> None:
    """Called by the server process itself: the kernel kills it when the thread that started it
    ends; a parent already gone by now means exit at once."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass  # not Linux: close() and atexit still stop it
    if os.getppid() != parent:
        os._exit(0)


class LocalModel:
    """One llama.cpp server for one .gguf file, owned by this process."""

    def __init__(self, path: Path, n_ctx: int, log_path: Path, start_timeout: float = 300.0,
                 threads: int | None = None):
        self.path = check_model_file(path)
        self.n_ctx = n_ctx
        self.log_path = Path(log_path)
        self.start_timeout = start_timeout
        self.threads = threads or server_threads()
        self.proc: subprocess.Popen | None = None
        self.base_url: str | None = None
        self.started_s: float | None = None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def start(self) -> str:
        """Start the server and wait until it answers /health; returns its /v1 base URL."""
        if self.base_url:
            return self.base_url
        try:
            import xllamacpp  # noqa: F401  (fail here, in one line, not in the child)
        except ImportError:
            raise ConfigError("--local-model needs xllamacpp: pip install xllamacpp==2026.10.11549 "
                              "(make install-local-llm)") from None
        began = time.perf_counter()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
        command = [sys.executable, "-m", "rag.llm.local_server", "--model", str(self.path), "--port", "0",
                   "--ctx", str(self.n_ctx), "--threads", str(self.threads), "--parent", str(os.getpid())]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL,
                                         env=env)
        atexit.register(self.stop)
        try:
            url = self._read_url(began)
            self._wait_healthy(url, began)
        except BaseException:
            self.stop()
            raise
        self.base_url = url
        self.started_s = round(time.perf_counter() - began, 2)
        return url

    def stop(self) -> None:
        atexit.unregister(self.stop)
        proc, self.proc, self.base_url = self.proc, None, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(_STOP_WAIT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(_STOP_WAIT)
        if proc.stdout:
            proc.stdout.close()

    # --- internals -----------------------------------------------------------------------------

    def _read_url(self, began: float) -> str:
        line: list[str] = []
        reader = threading.Thread(target=lambda: line.append(self.proc.stdout.readline().decode(errors="replace")),
                                  daemon=True)
        reader.start()
        reader.join(max(1.0, self.start_timeout - (time.perf_counter() - began)))
        url = line[0].strip() if line else ""
        if not url.startswith("http://127.0.0.1:"):
            try:
                self.proc.wait(_STOP_WAIT)  # its output ended: it is on its way out
            except subprocess.TimeoutExpired:
                pass
            raise self._failure("did not start")
        return url

    def _wait_healthy(self, url: str, began: float) -> None:
        health = url.removesuffix("/v1") + "/health"
        while time.perf_counter() - began < self.start_timeout:
            if self.proc.poll() is not None:
                raise self._failure("did not start")
            try:
                with urllib.request.urlopen(health, timeout=5) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass  # 503 while the model loads, or not listening yet
            time.sleep(0.25)
        raise self._failure(f"was not healthy after {self.start_timeout:.0f} s")

    def _failure(self, what: str) -> LocalModelError:
        return LocalModelError(f"the local model server for {self.path.name} {what}: {self._last_log_line()} "
                               f"(log: {self.log_path})")

    def _last_log_line(self) -> str:
        try:
            lines = self.log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        except OSError:
            return "no log"
        errors = [line for line in lines if line.startswith("error:") or " E " in line or "error" in line.lower()]
        return " ".join((errors or lines or ["no output"])[-1].split())[:200]


def for_settings(settings) -> LocalModel:
    return LocalModel(settings.llm_local_model, settings.llm_context_window,
                      Path(settings.store_dir) / "llm-server.log",
                      start_timeout=max(300.0, settings.llm_timeout))


class LazyClient:
    """The OpenAI client of the local server, started on first use (a cache hit never uses it)."""

    def __init__(self, local: LocalModel, settings):
        self._local, self._settings, self._client = local, settings, None

    def __getattr__(self, name: str):
        if self._client is None:
            from rag.llm.client import make_client

            self._client = make_client(served_settings(self._settings, self._local.start()))
        return getattr(self._client, name)


def served_settings(settings, base_url: str = "http://127.0.0.1/v1"):
    """The settings the LLM client uses against the local server."""
    update = {"llm_base_url": base_url, "llm_extra_body": {"cache_prompt": False, **settings.llm_extra_body}}
    given = settings.model_fields_set
    if "llm_model" not in given:
        update["llm_model"] = model_name(settings.llm_local_model)
    # A CPU model takes minutes per answer on a busy machine, and its one slot answers a retry
    # only after the request that timed out: wait long, and do not pile retries behind it.
    if "llm_timeout" not in given:
        update["llm_timeout"] = max(settings.llm_timeout, LOCAL_TIMEOUT)
    if "llm_retries" not in given:
        update["llm_retries"] = 0
    return settings.model_copy(update=update)
