"""The scheduler's composition root: settings -> directory, runtime, subscribers, timer loop, HTTP."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.scheduler import handlers
from services.scheduler.core.settings import SchedulerSettings
from services.scheduler.kept.upgrade import UpgradeLoop
from services.scheduler.report.figures_loop import FiguresLoop
from services.scheduler.store import tables
from services.scheduler.store.migrate import MIGRATIONS
from services.scheduler.store.tables import SCHEMA
from services.scheduler.timers import TimerLoop
from services.scheduler.voice.loop import VoiceLoop
from shared.clock import Clock, SystemClock
from shared.http import add_operational_routes
from shared.live_directory import LiveDirectory
from shared.retention import RetentionLoop
from shared.runtime import Loop, Runtime, running


def create_app(settings: SchedulerSettings | None = None, clock: Clock | None = None) -> FastAPI:
    """Build the scheduler: it consumes, fires timers and serves health while the app runs."""
    settings = settings or SchedulerSettings()
    directory = LiveDirectory(settings.directory, allow_examples=settings.allow_example_directory)
    clock = clock or SystemClock()

    def loops(runtime: Runtime) -> list[Loop]:
        timer_loop = TimerLoop(
            runtime.pool,
            clock,
            directory,
            namespace=settings.topic_namespace,
            batch=settings.timer_batch,
            poll_seconds=settings.timer_poll_seconds,
            lease_seconds=settings.timer_lease_seconds,
        )
        retention = RetentionLoop(
            runtime.pool, tables.PURGES, directory, clock, settings.retention_interval_seconds
        )
        figures = FiguresLoop(
            runtime.pool,
            clock,
            directory,
            namespace=settings.topic_namespace,
            interval_seconds=settings.figures_interval_seconds,
        )
        upgrade = UpgradeLoop(runtime.pool, clock, directory, namespace=settings.topic_namespace)
        voice = VoiceLoop(
            runtime.pool, clock, namespace=settings.topic_namespace, poll_seconds=settings.voice_poll_seconds
        )
        return [timer_loop.run, retention.run, figures.run, upgrade.run, voice.run]

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with running(
            settings,
            service="scheduler",
            schema=SCHEMA,
            migrations=MIGRATIONS,
            subscribe=lambda broker, runtime: handlers.register(broker, runtime, clock, directory),
            loops=loops,
        ) as runtime:
            app.state.runtime = runtime
            directory.reload_on_sighup(asyncio.get_running_loop())
            try:
                yield
            finally:
                directory.stop_reloading()

    app = FastAPI(title="Missing the Point — scheduler", lifespan=lifespan, openapi_url=None)

    async def database() -> bool:
        return await app.state.runtime.database_ready()  # type: ignore[no-any-return]  # app.state is untyped

    async def broker() -> bool:
        runtime: Runtime = app.state.runtime
        return await runtime.broker_ready()

    add_operational_routes(app, {"database": database, "broker": broker})
    return app
