"""Request counts and latencies per route, served at GET /metrics (Prometheus text or JSON)."""

from __future__ import annotations

import threading
import time
from collections import deque

from pydantic import BaseModel, Field

_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_WINDOW = 1000  # recent latencies kept per route for quantiles


class RouteMetrics(BaseModel):
    method: str
    route: str = Field(description="The route template, e.g. /documents/{source}.")
    count: int
    statuses: dict[str, int] = Field(description="Responses per HTTP status code.")
    mean_seconds: float
    p50_seconds: float = Field(description="Median of the last 1000 requests.")
    p95_seconds: float
    max_seconds: float


class MetricsReport(BaseModel):
    uptime_seconds: float
    in_flight: int
    requests: int
    routes: list[RouteMetrics]


class _Series:
    def __init__(self):
        self.statuses: dict[int, int] = {}
        self.count = 0
        self.total = 0.0
        self.max = 0.0
        self.buckets = [0] * len(_BUCKETS)
        self.recent: deque[float] = deque(maxlen=_WINDOW)

    def add(self, status: int, seconds: float) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1
        self.count += 1
        self.total += seconds
        self.max = max(self.max, seconds)
        self.recent.append(seconds)
        for i, bound in enumerate(_BUCKETS):
            if seconds <= bound:
                self.buckets[i] += 1


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Metrics:
    def __init__(self):
        self._lock = threading.Lock()
        self._series: dict[tuple[str, str], _Series] = {}
        self.started = time.monotonic()
        self.in_flight = 0

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        with self._lock:
            self._series.setdefault((method, route), _Series()).add(status, seconds)

    def report(self) -> MetricsReport:
        with self._lock:
            routes = [
                RouteMetrics(
                    method=method, route=route, count=s.count,
                    statuses={str(k): v for k, v in sorted(s.statuses.items())},
                    mean_seconds=round(s.total / s.count, 6), p50_seconds=round(_quantile(list(s.recent), 0.5), 6),
                    p95_seconds=round(_quantile(list(s.recent), 0.95), 6), max_seconds=round(s.max, 6),
                )
                for (method, route), s in sorted(self._series.items())
            ]
        return MetricsReport(uptime_seconds=round(time.monotonic() - self.started, 3), in_flight=self.in_flight,
                             requests=sum(r.count for r in routes), routes=routes)

    def prometheus(self) -> str:
        out = [
            "# HELP rag_http_requests_total HTTP requests by method, route template and status.",
            "# TYPE rag_http_requests_total counter",
        ]
        with self._lock:
            series = sorted(self._series.items())
            for (method, route), s in series:
                for status, n in sorted(s.statuses.items()):
                    out.append(f'rag_http_requests_total{{method="{method}",route="{_escape(route)}",status="{status}"}} {n}')
            out += ["# HELP rag_http_request_seconds Time from request to the end of the response.",
                    "# TYPE rag_http_request_seconds histogram"]
            for (method, route), s in series:
                labels = f'method="{method}",route="{_escape(route)}"'
                for bound, n in zip(_BUCKETS, s.buckets):
                    out.append(f'rag_http_request_seconds_bucket{{{labels},le="{bound}"}} {n}')
                out.append(f'rag_http_request_seconds_bucket{{{labels},le="+Inf"}} {s.count}')
                out.append(f"rag_http_request_seconds_sum{{{labels}}} {s.total:.6f}")
                out.append(f"rag_http_request_seconds_count{{{labels}}} {s.count}")
        out += ["# HELP rag_http_requests_in_flight Requests being served now.",
                "# TYPE rag_http_requests_in_flight gauge", f"rag_http_requests_in_flight {self.in_flight}",
                "# HELP rag_uptime_seconds Seconds since the server started.",
                "# TYPE rag_uptime_seconds gauge", f"rag_uptime_seconds {time.monotonic() - self.started:.3f}"]
        return "\n".join(out) + "\n"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


class MetricsMiddleware:
    """ASGI middleware timing each request to the end of its response (a stream included)."""

    def __init__(self, app, metrics: Metrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        status = 500

        async def recording_send(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        self.metrics.in_flight += 1
        try:
            await self.app(scope, receive, recording_send)
        finally:
            self.metrics.in_flight -= 1
            self.metrics.observe(scope["method"], _route(scope), status, time.perf_counter() - started)


def _route(scope) -> str:
    # The template, not the path: /documents/{source} is one series however many sources exist.
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    if template:
        return template
    path = scope["path"]
    for mount in ("/static", "/docs-assets"):
        if path.startswith(mount + "/"):
            return mount
    return "unmatched"
