"""The HTTP API and web page: a thin FastAPI shell over one long-lived `rag.api.Rag`."""

from rag.server.app import create_app

__all__ = ["create_app"]
