"""What every store of intake shares: the schema's name, the pool, and the database out of reach
for a moment answered as intake's own retryable error."""

import functools
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeAlias, TypeVar

import asyncpg

from services.intake.core.errors import Unavailable
from shared.db import CONNECTION_ERRORS

SCHEMA = "intake"
Pool: TypeAlias = asyncpg.Pool
Connection: TypeAlias = asyncpg.Connection
P = ParamSpec("P")
R = TypeVar("R")


def translated(function: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """The database out of reach for a moment (restarting, the pool reconnecting) becomes Unavailable,
    intake's own retryable error, answered 503 with Retry-After."""

    @functools.wraps(function)
    async def call(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await function(*args, **kwargs)
        except CONNECTION_ERRORS as exc:
            raise Unavailable() from exc

    return call


@translated
async def ping(pool: Pool) -> bool:
    """Whether the database answers."""
    return bool(await pool.fetchval("SELECT true"))
