"""Statements that touch rows by id stay index lookups as their tables grow (the notifier's webhook
outcomes and batches; the scheduler's loads and writes of children's kept state).

asyncpg prepares each statement once per connection, and PostgreSQL may keep a generic plan made
when the statement was first run: at start-up, with empty tables that have never been analysed.
A statement that joins a table to `unnest()` of its parameters was then planned as a hash join
over the whole table, kept until autovacuum next analysed it: each webhook outcome cost more the
more webhooks there had been. These tests plan the statements on an empty schema, as a fresh
service would, and check that the plan reads the table through an index.
"""

from collections.abc import AsyncIterator

import asyncpg
import pytest

from services.notifier.store import tables
from services.notifier.store.migrate import MIGRATIONS
from services.notifier.webhooks import store as delivery_store
from services.scheduler.kept.store import load as kept_load
from services.scheduler.kept.store import write as kept_write
from services.scheduler.store import tables as scheduler_store
from services.scheduler.store.migrate import MIGRATIONS as SCHEDULER_MIGRATIONS
from shared.db import create_pool
from shared.migrations import apply_migrations
from shared.outbox import outbox_migrations
from tests.conftest import Place


@pytest.fixture
async def fresh(place: Place) -> AsyncIterator[asyncpg.Connection]:
    """A connection to the notifier's schema as it is at first start: empty, never analysed."""
    pool = await create_pool(place.database_url, service="plans-test")
    try:
        await apply_migrations(pool, tables.SCHEMA, MIGRATIONS, builtin=outbox_migrations(tables.SCHEMA))
        async with pool.acquire() as conn:
            yield conn
    finally:
        await pool.close()


async def kept_plan(conn: asyncpg.Connection, statement: str) -> str:
    """The generic plan PostgreSQL would keep for the statement, prepared now."""
    parameters = (await conn.prepare(statement)).get_parameters()
    types = ", ".join(f"{parameter.schema}.{parameter.name}" for parameter in parameters)
    await conn.execute("SET plan_cache_mode = force_generic_plan")
    await conn.execute(f"PREPARE kept ({types}) AS {statement}")
    try:
        nulls = ", ".join("NULL" for _ in parameters)
        rows = await conn.fetch(f"EXPLAIN EXECUTE kept ({nulls})")
    finally:
        await conn.execute("DEALLOCATE kept; RESET plan_cache_mode")
    return "\n".join(row[0] for row in rows)


async def test_recording_a_webhook_outcome_looks_its_delivery_up_by_id(fresh: asyncpg.Connection) -> None:
    plan = await kept_plan(fresh, delivery_store.RECORD_OUTCOMES)
    assert "Seq Scan on deliveries" not in plan, plan


async def test_a_batch_sets_task_statuses_by_id(fresh: asyncpg.Connection) -> None:
    plan = await kept_plan(fresh, tables.WRITE_BATCH)
    assert "Seq Scan on tasks" not in plan, plan


@pytest.fixture
async def scheduler_schema(place: Place) -> AsyncIterator[asyncpg.Connection]:
    """A connection to the scheduler's schema as it is at first start: empty, never analysed."""
    pool = await create_pool(place.database_url, service="plans-test")
    try:
        await apply_migrations(
            pool,
            scheduler_store.SCHEMA,
            SCHEDULER_MIGRATIONS,
            builtin=outbox_migrations(scheduler_store.SCHEMA),
        )
        async with pool.acquire() as conn:
            yield conn
    finally:
        await pool.close()


async def test_loading_children_to_settle_reads_each_through_an_index(
    scheduler_schema: asyncpg.Connection,
) -> None:
    plan = await kept_plan(scheduler_schema, kept_load.LOAD)
    for table in ("facts", "episodes", "interview_tasks", "emitted", "held_reports"):
        assert f"Seq Scan on {table}" not in plan, plan


async def test_writing_what_children_decided_touches_rows_by_key(
    scheduler_schema: asyncpg.Connection,
) -> None:
    plan = await kept_plan(scheduler_schema, kept_write.WRITE)
    for table in ("facts", "children", "episodes", "interview_tasks"):
        assert f"Seq Scan on {table}" not in plan, plan
