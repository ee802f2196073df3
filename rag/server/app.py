"""The FastAPI application: one Rag per process, thin routes, auth, limits, metrics, the web page."""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from rag import remote
from rag.api import Rag
from rag.pictures import plotly_js
from rag.server import errors
from rag.server.auth import require_token
from rag.server.guard import SiteGuard, allowed_hosts
from rag.server.limits import BodyLimit
from rag.server.metrics import MetricsMiddleware
from rag.server.routes import protected, public
from rag.server.state import ServerState
from rag.settings import Settings

STATIC = Path(__file__).parent / "static"

_DESCRIPTION = """Cited answers and briefings over news articles: the same library, models and
answers as the `rag` command line. Every Answer is the JSON `rag ask --json` prints.

With `RAG_API_TOKEN` set, every endpoint except `/healthz` needs `Authorization: Bearer <token>`
(use the Authorize button). Without a token, requests from other web sites may not write, and
uploads need an `X-Rag-Client` header (any value). Errors are `{"error": "<one line>", "details": [...]}`."""


UPLOAD_ROUTES = {("POST", "/documents")}


def create_app(settings: Settings, rag: Rag | None = None, warm: bool = True, host: str | None = None,
               announce: str | None = None) -> FastAPI:
    """An app serving `settings`' index. Pass `rag` to share an existing Rag (it is then not closed),
    `host`, the address the server is bound to, which it then also answers for, and `announce` (the
    URL it is reached at) to let `rag ask`/`rag search` hand it their questions."""
    state = ServerState(settings, rag)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        from threadpoolctl import threadpool_limits

        # Requests already run in parallel threads; BLAS threads on top of them oversubscribe the
        # cores. On 2 busy cores 8 concurrent asks took 85 s with OpenBLAS's default threads and
        # 6.8 s with one BLAS thread each (idle BLAS threads spin); on quiet cores, 4.0 s vs 3.9 s.
        blas = threadpool_limits(limits=1, user_api="blas")
        if warm:
            state.warm_in_background()  # load models now, without delaying the first /healthz
        if announce:
            remote.announce(settings, announce)
        try:
            yield
        finally:
            if announce:
                remote.withdraw(settings)
            state.close()
            blas.restore_original_limits()

    app = FastAPI(title="rag", version="0.1.0", description=_DESCRIPTION, lifespan=lifespan,
                  docs_url=None, redoc_url=None, openapi_url=None)
    app.state.server = state
    errors.install(app)
    app.include_router(public)
    app.include_router(protected)
    _docs(app)
    _page(app)
    # Added innermost first: metrics see every response, a 413 from the limit included.
    app.add_middleware(BodyLimit, limit=settings.api_max_body_bytes, upload_limit=settings.api_max_upload_bytes,
                       upload_routes=UPLOAD_ROUTES)
    if settings.api_cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.api_cors_origins, allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type", "X-Rag-Client"])
    hosts, any_ip = allowed_hosts(host, settings.api_allowed_hosts)
    app.add_middleware(SiteGuard, hosts=hosts, any_ip=any_ip, cors_origins=settings.api_cors_origins,
                       upload_routes=UPLOAD_ROUTES, token=bool(settings.api_token))
    app.add_middleware(MetricsMiddleware, metrics=state.metrics)
    return app


def _docs(app: FastAPI) -> None:
    """OpenAPI at /openapi.json (token required) and Swagger UI at /docs, from local files only."""
    import fastapi_offline

    @app.get("/openapi.json", include_in_schema=False, dependencies=[Depends(require_token)])
    def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False)
    def docs() -> FileResponse:
        # The page shell holds no data; it fetches /openapi.json with the token the web page stored.
        return FileResponse(STATIC / "docs.html")

    app.mount("/docs-assets", StaticFiles(directory=Path(fastapi_offline.__file__).parent / "static"),
              name="docs-assets")


def _page(app: FastAPI) -> None:
    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    @app.get("/lib/plotly.min.js", include_in_schema=False)
    def plotly() -> FileResponse:
        # From the installed plotly package: the page fetches nothing from any other site.
        return FileResponse(plotly_js(), media_type="text/javascript", headers={"Cache-Control": "max-age=86400"})

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
