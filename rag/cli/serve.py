"""rag serve"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from rag.cli.app import app
from rag.cli.options import LocalModel, StoreOptions, grouped

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@app.command()
@grouped
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on; 0.0.0.0 serves the network.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.", min=1, max=65535)] = 8000,
    local_model: LocalModel = None,
    *,
    store: StoreOptions,
) -> None:
    """Serve the HTTP API, its OpenAPI docs (/docs) and the web page (/)."""
    import uvicorn

    from rag.server import create_app

    settings = store.settings(llm_local_model=local_model)
    if host not in _LOOPBACK and not settings.api_token:
        print(f"warning: serving {host} without a token; set RAG_API_TOKEN to require one", file=sys.stderr)
    # `rag ask` and `rag search` find this server through a file in the store directory.
    reach = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(host, host)
    url = f"http://[{reach}]:{port}" if ":" in reach else f"http://{reach}:{port}"
    if not settings.llm_local_model:
        uvicorn.run(create_app(settings, host=host, announce=url), host=host, port=port, log_level="info")
        return
    from rag.api import Rag

    rag = Rag(settings)
    try:
        rag.start_local_model()  # for the server's lifetime, or one line saying why it cannot start
        uvicorn.run(create_app(settings, rag, host=host, announce=url), host=host, port=port, log_level="info")
    finally:
        rag.close()
