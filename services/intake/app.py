"""Intake's composition root: settings -> directory, runtime (pool, relay, read-model subscriber), routes."""

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from faststream.kafka import KafkaBroker
from starlette.exceptions import HTTPException

from services.intake.core import metrics
from services.intake.core.deps import Deps
from services.intake.core.errors import Invalid, Problem, Unavailable
from services.intake.core.settings import IntakeSettings
from services.intake.deliveries import routes as deliveries
from services.intake.docs import answer_examples, answers, event_docs
from services.intake.docs.api_docs import add_docs
from services.intake.docs.asyncapi_docs import add_asyncapi_docs
from services.intake.docs.webhook_docs import webhooks_router
from services.intake.events import handlers
from services.intake.read_model import projection
from services.intake.reads import routes as reads
from services.intake.store import audit, keeping
from services.intake.store.base import SCHEMA, ping
from services.intake.store.migrate import MIGRATIONS
from services.intake.web import pages
from shared import consumer, topics
from shared.clock import Clock, SystemClock
from shared.contracts.envelope import Envelope
from shared.http import add_operational_routes
from shared.live_directory import LiveDirectory
from shared.retention import RetentionLoop
from shared.runtime import Loop, Runtime, running

log = structlog.get_logger()
PROBLEM_JSON = "application/problem+json"
READ_MODEL_GROUP = "mtp-intake-read-model"


def create_app(settings: IntakeSettings | None = None, clock: Clock | None = None) -> FastAPI:
    """Build the intake application; it connects to its database and broker when started."""
    settings = settings or IntakeSettings()
    directory = LiveDirectory(settings.directory, allow_examples=settings.allow_example_directory)
    clock = clock or SystemClock()

    def subscribe(broker: KafkaBroker, runtime: Runtime) -> None:
        async def project(envelopes: Sequence[Envelope]) -> None:
            """Apply task and assignment facts, figures and delivery attempts to intake's read model."""
            await projection.apply(runtime.pool, envelopes, clock.now())

        consumer.subscribe(
            broker,
            settings,
            topics_in=(topics.TASKS, topics.ASSIGNMENTS, topics.FIGURES, topics.DELIVERIES),
            group=READ_MODEL_GROUP,
            handler=project,
        )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        def loops(runtime: Runtime) -> list[Loop]:
            purges = RetentionLoop(
                runtime.pool, keeping.PURGES, directory, clock, settings.retention_interval_seconds
            )
            return [purges.run]

        async with running(
            settings, service="intake", schema=SCHEMA, migrations=MIGRATIONS, subscribe=subscribe, loops=loops
        ) as runtime:
            app.state.runtime = runtime
            app.state.deps = Deps(
                settings=settings,
                live_directory=directory,
                clock=clock,
                pool=runtime.pool,
                relay=runtime.relay,
            )
            log.info(
                "intake_started",
                port=settings.intake_port,
                organisations=len(directory.current.organisations),
            )
            directory.reload_on_sighup(asyncio.get_running_loop())
            try:
                yield
            finally:
                directory.stop_reloading()

    app = FastAPI(
        title="Missing the Point — intake",
        version="1",
        description=(
            "Report children missing from care, their returns and risk changes (police forces and councils), "
            "and return-interview progress (independent providers). Every request carries "
            "`Authorization: Bearer <api key>`. Errors are RFC 9457 problems (`application/problem+json`). "
            "The Kafka topics behind it: [/docs/asyncapi](/docs/asyncapi)."
        ),
        lifespan=lifespan,
        docs_url=None,  # served by api_docs, without a CDN
        redoc_url=None,
    )
    add_docs(app)
    add_asyncapi_docs(app, settings)
    app.include_router(handlers.router)
    app.include_router(reads.router)
    app.include_router(deliveries.router)
    app.include_router(pages.router)
    app.webhooks.include_router(webhooks_router())
    app.openapi = lambda: _document(app, directory, settings)  # type: ignore[method-assign]  # FastAPI's documented hook

    async def database_ready() -> bool:
        deps: Deps = app.state.deps
        return await ping(deps.pool)

    async def broker_ready() -> bool:
        return await app.state.runtime.broker_ready()  # type: ignore[no-any-return]  # app.state is untyped

    # the API's port is public: the metrics are served on their own (__main__, serve_metrics)
    add_operational_routes(app, {"database": database_ready, "broker": broker_ready}, metrics=False)

    @app.exception_handler(Problem)
    async def problem(request: Request, exc: Problem) -> JSONResponse:
        metrics.REJECTED.labels(status=str(exc.status)).inc()
        log.info(
            "request_refused", status=exc.status, problem=exc.slug, org=getattr(request.state, "org", None)
        )
        if isinstance(exc, Unavailable):
            log.warning(
                "request_deferred",
                error=type(exc.__cause__).__name__,
                org=getattr(request.state, "org", None),
            )
        else:
            await _audit_refusal(request, exc)
        return JSONResponse(exc.body(), status_code=exc.status, media_type=PROBLEM_JSON, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"pointer": "/" + "/".join(str(p) for p in err["loc"]), "detail": err["msg"], "code": err["type"]}
            for err in exc.errors()
        ]
        return await problem(request, Invalid(errors=errors))

    @app.exception_handler(Exception)
    async def failure(request: Request, exc: Exception) -> JSONResponse:
        """Whatever went wrong on our side is still answered with a problem document, never a trace."""
        log.error("request_failed", error=type(exc).__name__, org=getattr(request.state, "org", None))
        metrics.REJECTED.labels(status="500").inc()
        return JSONResponse(answer_examples.FAULT, status_code=500, media_type=PROBLEM_JSON)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        body = {"type": "about:blank", "title": str(exc.detail), "status": exc.status_code}
        return JSONResponse(body, status_code=exc.status_code, media_type=PROBLEM_JSON, headers=exc.headers)

    return app


async def _audit_refusal(request: Request, exc: Problem) -> None:
    """Put an organisation's refused attempt in the audit trail: who, what was refused and why (the
    status and problem type), the child asked for (if the path names one). A caller nobody knows
    leaves only a log line and the rejected-requests metric: the trail, kept a year and never edited,
    is not theirs to fill, nor to name a child in. A database that cannot take it does not change the
    answer; the log says so."""
    deps: Deps | None = getattr(request.app.state, "deps", None)
    if deps is None:
        return
    if getattr(request.state, "org", None) is None:
        return  # `request_refused` is logged already
    params = request.path_params
    child = (
        f"{params['authority']}/{params['child_ref']}" if {"authority", "child_ref"} <= set(params) else None
    )
    try:
        await audit.record_access(
            deps.pool,
            deps.clock.now(),
            request.state.org,
            getattr(request.state, "key_id", None) or "-",
            f"refused:{exc.status}:{exc.slug}",
            child,
        )
    except Unavailable:
        log.warning("refusal_not_audited", status=exc.status, problem=exc.slug)


def _document(app: FastAPI, directory: LiveDirectory, settings: IntakeSettings) -> dict[str, Any]:
    """The OpenAPI document: each event type's schema, in the directory's authorities (made again when
    the directory changes them), and once that every operation needs `Authorization: Bearer <key>`."""
    authorities = sorted(
        org.authority_code for org in directory.current.of_kind("local_authority") if org.authority_code
    )
    if app.openapi_schema is None or app.state.openapi_authorities != authorities:
        document = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
            webhooks=app.webhooks.routes,
        )
        document["paths"]["/v1/events"]["post"]["requestBody"] = event_docs.request_body(
            authorities, settings.max_batch
        )
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        for name, schema in event_docs.event_components(authorities).items():
            if schemas.setdefault(name, schema) != schema:
                raise RuntimeError(f"two different schemas are named {name} in the OpenAPI document")
        answers.add_common_answers(document)
        answer_examples.add_answer_examples(document)
        for (path, method, status), links in answers.LINKS.items():
            document["paths"][path][method]["responses"][status]["links"] = links
        document["components"]["securitySchemes"] = {
            "apiKey": {"type": "http", "scheme": "bearer", "description": "An API key from the directory."}
        }
        document["security"] = [{"apiKey": []}]
        app.openapi_schema = document
        app.state.openapi_authorities = authorities
    return app.openapi_schema
