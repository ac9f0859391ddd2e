"""A service's running parts, started and stopped in order: pool and migrations, outbox relay,
background loops, then Kafka subscribers; stopped in reverse, the relay last so it flushes."""

import asyncio
import gc
import os
import signal
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import structlog
from faststream.kafka import KafkaBroker

from shared import metrics, offsets
from shared.db import create_pool
from shared.kafka import make_broker, make_producer
from shared.migrations import apply_migrations
from shared.outbox import OutboxRelay, outbox_migrations
from shared.settings import CommonSettings

log = structlog.get_logger()

Loop = Callable[[asyncio.Event], Coroutine[Any, Any, None]]


@dataclass
class Runtime:
    """What a running service holds."""

    settings: CommonSettings
    service: str
    pool: "asyncpg.Pool[Any]"
    relay: OutboxRelay
    broker: KafkaBroker | None = None
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def database_ready(self) -> bool:
        """The database answers."""
        return bool(await self.pool.fetchval("SELECT true"))

    async def broker_ready(self) -> bool:
        """The subscribers, if any, are running, and the relay, if it leads, reaches the broker.

        Another instance's relay waits for the lead and has no producer of its own: then the
        consumers running is what says the broker answers."""
        if self.broker is not None and not self.broker.running:
            return False
        return self.relay.broker_ok or not self.relay.leading


@asynccontextmanager
async def running(
    settings: CommonSettings,
    *,
    service: str,
    schema: str,
    migrations: Path,
    subscribe: Callable[[KafkaBroker, Runtime], None] | None = None,
    loops: Callable[[Runtime], list[Loop]] | None = None,
) -> AsyncIterator[Runtime]:
    """Start a service's database pool, relay, loops and subscribers; stop them in order."""
    metrics.record_build(service)
    pool = await create_pool(settings.database_url, service=service, max_size=settings.db_pool_max)
    await apply_migrations(pool, schema, migrations, builtin=outbox_migrations(schema))
    relay = OutboxRelay(
        dsn=settings.database_url, schema=schema, producer_factory=lambda: make_producer(settings, service)
    )
    runtime = Runtime(settings=settings, service=service, pool=pool, relay=relay)
    relay_stop = asyncio.Event()
    tasks = [asyncio.create_task(relay.run(relay_stop), name=f"{service}-relay")]
    tasks += [
        asyncio.create_task(loop(runtime.stop), name=f"{service}-loop")
        for loop in (loops(runtime) if loops else [])
    ]
    for task in tasks:
        task.add_done_callback(lambda done: _died(done, runtime.stop, relay_stop))
    if subscribe is not None:
        runtime.broker = make_broker(settings, service)
        subscribe(runtime.broker, runtime)
        await runtime.broker.start()
    _freeze_startup_heap()
    log.info("service_started", schema=schema)
    try:
        yield runtime
    finally:
        if runtime.broker is not None:
            await offsets.commit_now(runtime.broker)
            await runtime.broker.stop()
        runtime.stop.set()
        relay_stop.set()
        done, pending = await asyncio.wait(tasks, timeout=20)
        for task in pending:
            log.error("task_stop_timeout", task=task.get_name())
            task.cancel()
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                log.error("task_failed", task=task.get_name(), error=type(task.exception()).__name__)
        await pool.close()
        log.info("service_stopped", published=relay.published)


def _freeze_startup_heap() -> None:
    """Move what start-up built (modules, routes, schemas, the directory) out of the collector's
    sight. They live as long as the process, yet a full collection walks them all: tens of
    milliseconds in which no request is answered. After this it walks only what came later."""
    gc.collect()
    gc.freeze()


def _died(task: "asyncio.Task[None]", *stops: asyncio.Event) -> None:
    """A background loop ended by itself: the process is no longer doing its job, so it stops
    (SIGTERM to itself) and its supervisor starts it again, rather than answering health checks
    while its relay, timers or deliveries stand still."""
    if task.cancelled() or all(stop.is_set() for stop in stops):
        return
    error = task.exception()
    log.error("background_task_died", task=task.get_name(), error=type(error).__name__ if error else None)
    os.kill(os.getpid(), signal.SIGTERM)
