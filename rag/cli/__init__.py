"""`rag` command line: thin shells over rag.api.Rag. One module per command group."""

from __future__ import annotations

import gc
import os
import signal
import sys

# One BLAS thread, set before the imports below load numpy and with it OpenBLAS. Every product
# numpy computes here is small (a question's embedding, one ranking over the vector file) and runs
# on one thread already (rag.index.embedders.one_blas_thread); but OpenBLAS starts a helper thread
# per further core when it loads, and each spins for about 0.1 s of CPU before it sleeps (perf:
# 11-13% of a cold ask's samples on 2 cores). On a busy machine the ask paid for it in wall time.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
# The imports make ~35k objects that live as long as the process: collecting while they are
# made (about 70 young collections) frees nothing.
gc.disable()
try:
    # Commands register themselves on `app` when their module is imported.
    from rag.cli import brief as _brief  # noqa: E402, F401
    from rag.cli import chat as _chat  # noqa: E402, F401
    from rag.cli import eval as _eval  # noqa: E402, F401
    from rag.cli import ingest as _ingest  # noqa: E402, F401
    from rag.cli import inspect as _inspect  # noqa: E402, F401
    from rag.cli import log as _log  # noqa: E402, F401
    from rag.cli import query as _query  # noqa: E402, F401
    from rag.cli import serve as _serve  # noqa: E402, F401
    from rag.cli.app import app  # noqa: E402
    from rag.errors import RagError, first_line  # noqa: E402
finally:  # an importer that survives a failed import keeps its collector
    gc.enable()


def main() -> None:
    """Run the CLI: a user error is one line on stderr and a non-zero exit, never a traceback."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # SIGTERM unwinds like an error, so `finally` blocks and atexit stop a --local-model server.
    signal.signal(signal.SIGTERM, _terminated)
    try:
        code = app(standalone_mode=False)  # without standalone mode, typer.Exit(n) comes back as n
        if code == 130:  # typer's answer to Ctrl-C
            _fail("interrupted", 130)
        if isinstance(code, int) and code:
            sys.exit(code)
    except RagError as err:
        _fail(str(err), 1)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except SystemExit:
        raise
    except Exception as err:  # click's usage errors (typer bundles its own click) and anything unexpected
        if callable(getattr(err, "show", None)) and hasattr(err, "exit_code"):
            err.show()
            sys.exit(err.exit_code)
        if type(err).__name__ == "Abort":
            _fail("aborted", 1)
        if os.environ.get("RAG_DEBUG"):
            raise
        # An internal error is an error (1); 2 is kept for usage errors, which click reports above.
        _fail(f"unexpected {type(err).__name__}: {err} (set RAG_DEBUG=1 for a traceback)", 1)


def _terminated(signum, frame) -> None:
    print("error: terminated", file=sys.stderr)
    sys.exit(143)


def _fail(message: str, code: int) -> None:
    print(f"error: {first_line(message)}", file=sys.stderr)
    sys.exit(code)
