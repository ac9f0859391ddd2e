"""asyncpg connection pools with JSON codecs."""

import asyncio
import json
from typing import Any

import asyncpg

from shared.waits import wait_any


async def _init_connection(conn: asyncpg.Connection) -> None:
    for name in ("json", "jsonb"):
        await conn.set_type_codec(name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Hand a connection back to the pool as it is.

    asyncpg's default reset costs a round trip per release (UNLISTEN, RESET ALL, advisory unlock). Our
    pooled connections carry no session state to undo: each LISTEN and advisory lock is undone by the
    code that took it, and asyncpg still rolls back an unfinished transaction before calling this.
    """


async def create_pool(dsn: str, *, service: str, max_size: int = 10) -> "asyncpg.Pool[Any]":
    """Open a pool to PostgreSQL tagged with the service name (visible in pg_stat_activity)."""
    pool: asyncpg.Pool[Any] = await asyncpg.create_pool(
        dsn,
        min_size=1,
        max_size=max_size,
        init=_init_connection,
        reset=_keep_session,
        server_settings={"application_name": service},
        command_timeout=60,
    )
    return pool


def columns(rows: list[tuple[Any, ...]], width: int) -> list[list[Any]]:
    """Rows to the column arrays an `unnest($1::..[], $2::..[], ...)` statement takes: one statement
    writes any number of rows (`width` empty arrays when there are none)."""
    return [[row[i] for row in rows] for i in range(width)]


# The database is unreachable, restarting, or the connection was cut mid-query: wait and retry.
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InsufficientResourcesError,
    OSError,
    TimeoutError,
)
# What a background loop survives: the above, and any error the server reports for one round.
LOOP_ERRORS: tuple[type[BaseException], ...] = (asyncpg.PostgresError, *CONNECTION_ERRORS)


async def listen_until_stopped(
    pool: "asyncpg.Pool[Any]", channel: str, callback: Any, stop: asyncio.Event, retry_seconds: float
) -> None:
    """Hold a connection LISTENing on `channel` until `stop` is set; when the
    connection is lost, take another after `retry_seconds` (the caller polls meanwhile)."""
    while not stop.is_set():
        try:
            async with pool.acquire() as conn:
                await conn.add_listener(channel, callback)
                try:
                    await stop.wait()
                finally:
                    await conn.remove_listener(channel, callback)
        except LOOP_ERRORS:
            await wait_any(stop, timeout=retry_seconds)
