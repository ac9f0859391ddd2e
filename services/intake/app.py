"""Intake's composition root: settings -> directory, pool, relay, routes."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from services.intake import handlers, metrics
from services.intake.deps import Deps
from services.intake.errors import Invalid, Problem
from services.intake.settings import IntakeSettings
from services.intake.store import SCHEMA
from shared.clock import Clock, SystemClock
from shared.db import create_pool
from shared.directory import load_directory
from shared.http import add_operational_routes
from shared.kafka import make_producer
from shared.migrations import apply_migrations
from shared.outbox import OUTBOX_MIGRATION, OutboxRelay

log = structlog.get_logger()
MIGRATIONS = Path(__file__).parent / "migrations"
PROBLEM_JSON = "application/problem+json"


def create_app(settings: IntakeSettings | None = None, clock: Clock | None = None) -> FastAPI:
    """Build the intake application; it connects to its database and broker when started."""
    settings = settings or IntakeSettings()
    directory = load_directory(settings.directory)
    clock = clock or SystemClock()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = await create_pool(settings.database_url, service="intake", max_size=settings.db_pool_max)
        await apply_migrations(
            pool, SCHEMA, MIGRATIONS, builtin={0: ("000_outbox", OUTBOX_MIGRATION.format(schema=SCHEMA))}
        )
        relay = OutboxRelay(
            dsn=settings.database_url,
            schema=SCHEMA,
            producer_factory=lambda: make_producer(settings, "intake"),
        )
        stop = asyncio.Event()
        relay_task = asyncio.create_task(relay.run(stop), name="outbox-relay")
        app.state.deps = Deps(settings=settings, directory=directory, clock=clock, pool=pool, relay=relay)
        log.info("intake_started", port=settings.intake_port, organisations=len(directory.organisations))
        try:
            yield
        finally:
            stop.set()  # the relay publishes what is left before it returns
            try:
                await asyncio.wait_for(relay_task, 20)
            except TimeoutError:
                log.error("outbox_relay_stop_timeout", schema=SCHEMA)
            await pool.close()
            log.info("intake_stopped", published=relay.published)

    app = FastAPI(
        title="Missing the Point — intake",
        version="1",
        description=(
            "Report children missing from care, their returns and risk changes (police forces and councils), "
            "and return-interview progress (independent providers). Every request carries "
            "`Authorization: Bearer <api key>`. Errors are RFC 9457 problems (`application/problem+json`)."
        ),
        lifespan=lifespan,
    )
    app.include_router(handlers.router)

    async def database_ready() -> bool:
        deps: Deps = app.state.deps
        return bool(await deps.pool.fetchval("SELECT true"))

    async def broker_ready() -> bool:
        return bool(app.state.deps.relay.broker_ok)

    add_operational_routes(app, {"database": database_ready, "broker": broker_ready})

    @app.exception_handler(Problem)
    async def problem(request: Request, exc: Problem) -> JSONResponse:
        metrics.REJECTED.labels(status=str(exc.status)).inc()
        log.info(
            "request_refused", status=exc.status, problem=exc.slug, org=getattr(request.state, "org", None)
        )
        return JSONResponse(exc.body(), status_code=exc.status, media_type=PROBLEM_JSON)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"pointer": "/" + "/".join(str(p) for p in err["loc"]), "detail": err["msg"], "code": err["type"]}
            for err in exc.errors()
        ]
        return await problem(request, Invalid(errors=errors))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        body = {"type": "about:blank", "title": str(exc.detail), "status": exc.status_code}
        return JSONResponse(body, status_code=exc.status_code, media_type=PROBLEM_JSON, headers=exc.headers)

    return app
