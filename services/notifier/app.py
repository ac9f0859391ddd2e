"""The notifier's composition root: settings -> directory, runtime, subscribers, delivery worker, HTTP."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.notifier import handlers
from services.notifier.assignments.acceptance import AcceptanceTimer
from services.notifier.core.settings import NotifierSettings
from services.notifier.store import tables
from services.notifier.store.migrate import MIGRATIONS
from services.notifier.store.tables import SCHEMA
from services.notifier.webhooks.handoff import Handoff, delivery_lease
from services.notifier.webhooks.worker import DeliveryWorker
from shared.clock import Clock, SystemClock
from shared.http import add_operational_routes
from shared.live_directory import LiveDirectory
from shared.retention import RetentionLoop
from shared.runtime import Loop, Runtime, running


def create_app(settings: NotifierSettings | None = None, clock: Clock | None = None) -> FastAPI:
    """Build the notifier: it consumes, delivers webhooks and serves health while the app runs."""
    settings = settings or NotifierSettings()
    directory = LiveDirectory(settings.directory, allow_examples=settings.allow_example_directory)
    clock = clock or SystemClock()
    handoff = Handoff(delivery_lease(settings))

    def loops(runtime: Runtime) -> list[Loop]:
        timer = AcceptanceTimer(
            runtime.pool,
            directory,
            clock,
            namespace=settings.topic_namespace,
            poll_seconds=settings.acceptance_poll_seconds,
            exhausted_retry_seconds=settings.exhausted_retry_seconds,
        )
        retention = RetentionLoop(
            runtime.pool, tables.PURGES, directory, clock, settings.retention_interval_seconds
        )
        return [
            DeliveryWorker(runtime.pool, directory, clock, settings, handoff).run,
            timer.run,
            retention.run,
        ]

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with running(
            settings,
            service="notifier",
            schema=SCHEMA,
            migrations=MIGRATIONS,
            subscribe=lambda broker, runtime: handlers.register(broker, runtime, clock, directory, handoff),
            loops=loops,
        ) as runtime:
            app.state.runtime = runtime
            directory.reload_on_sighup(asyncio.get_running_loop())
            try:
                yield
            finally:
                directory.stop_reloading()

    app = FastAPI(title="Missing the Point — notifier", lifespan=lifespan, openapi_url=None)

    async def database() -> bool:
        return await app.state.runtime.database_ready()  # type: ignore[no-any-return]  # app.state is untyped

    async def broker() -> bool:
        return await app.state.runtime.broker_ready()  # type: ignore[no-any-return]  # app.state is untyped

    add_operational_routes(app, {"database": database, "broker": broker})
    return app
