"""HTTP plumbing every service serves: health, readiness, Prometheus metrics, one log line per request."""

import time
from collections.abc import Awaitable, Callable

import structlog
from fastapi import FastAPI
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, Gauge, Histogram, generate_latest, start_http_server
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = structlog.get_logger()

Check = Callable[[], Awaitable[bool]]

READY = Gauge(
    "mtp_ready", "1 when the latest /readyz found the dependency answering, 0 when it did not.", ["check"]
)
REQUEST_SECONDS = Histogram(
    "mtp_http_request_seconds",
    "HTTP request duration by route and status.",
    ["route", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)


def add_operational_routes(app: FastAPI, checks: dict[str, Check], *, metrics: bool = True) -> None:
    """Serve /healthz (alive), /readyz (each dependency answers) and, unless the app is public (its
    metrics are served on a port of their own: `serve_metrics`), /metrics."""

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        results = {}
        for name, check in checks.items():
            try:
                results[name] = await check()
            except Exception:
                results[name] = False
            READY.labels(check=name).set(1 if results[name] else 0)
        ready = all(results.values())
        return JSONResponse({"ready": ready, "checks": results}, status_code=200 if ready else 503)

    if metrics:

        @app.get("/metrics", include_in_schema=False)
        async def metrics_page() -> PlainTextResponse:
            return PlainTextResponse(generate_latest().decode(), media_type=CONTENT_TYPE_LATEST)

    app.add_middleware(RequestLog)


def serve_metrics(host: str, port: int) -> None:
    """Serve /metrics on a port of its own, in a thread beside the service (for a service whose own
    port is public: what it counts says how busy it is, which is nobody else's business)."""
    start_http_server(port, addr=host)


class RequestLog:
    """One log line and one histogram observation per request (pure ASGI: no extra task per request).

    The route is the matched template, never the path, so no child reference reaches the logs; `org`
    is what the handler put in `request.state.org`.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client sees if the app fails before answering

        async def noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, noting_status)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", "unmatched")
            REQUEST_SECONDS.labels(route=route, status=str(status)).observe(elapsed)
            if route not in ("/healthz", "/readyz", "/metrics"):
                log.info(
                    "http_request",
                    method=scope["method"],
                    route=route,
                    status=status,
                    duration_ms=round(elapsed * 1000, 2),
                    org=scope.get("state", {}).get("org"),
                )
