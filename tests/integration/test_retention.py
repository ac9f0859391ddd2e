"""Rows past their retention period go, in every service's own tables; rows still needed stay."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from services.intake.store import keeping as intake_store
from services.intake.store.migrate import MIGRATIONS as INTAKE_MIGRATIONS
from services.notifier.store import tables as notifier_store
from services.notifier.store.migrate import MIGRATIONS as NOTIFIER_MIGRATIONS
from services.scheduler.store import tables as scheduler_store
from services.scheduler.store.migrate import MIGRATIONS as SCHEDULER_MIGRATIONS
from shared.db import create_pool
from shared.directory import RetentionSettings
from shared.migrations import apply_migrations
from shared.outbox import outbox_migrations
from shared.retention import PURGED, purge_once
from tests.conftest import Place

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
OLD, RECENT = NOW - timedelta(days=400), NOW - timedelta(days=1)


@pytest.fixture
async def pool(place: Place) -> AsyncIterator["asyncpg.Pool[Any]"]:
    created = await create_pool(place.database_url, service="retention-test")
    for schema, migrations in (
        ("intake", INTAKE_MIGRATIONS),
        ("scheduler", SCHEDULER_MIGRATIONS),
        ("notifier", NOTIFIER_MIGRATIONS),
    ):
        await apply_migrations(created, schema, migrations, builtin=outbox_migrations(schema))
    try:
        yield created
    finally:
        await created.close()


async def _outbox(pool: "asyncpg.Pool[Any]", schema: str, sent_at: datetime | None) -> None:
    await pool.execute(
        f"INSERT INTO {schema}.outbox (topic, key, value, headers, sent_at) VALUES ('t', 'W06000015/C-1', '', '{{}}', $1)",  # noqa: S608
        sent_at,
    )


async def _delivery(
    pool: "asyncpg.Pool[Any]", webhook_id: str, state: str, delivered_at: datetime | None
) -> None:
    delivery = await pool.fetchval(
        "INSERT INTO notifier.deliveries (webhook_id, org_id, url, event_type, body, state, next_attempt_at,"
        " created_at, delivered_at) VALUES ($1, 'nyas-cymru', 'https://x.example', 'assignment.offered', 'b', $2,"
        " $3, $3, $4) RETURNING id",
        webhook_id, state, OLD, delivered_at,
    )  # fmt: skip
    await pool.execute(
        "INSERT INTO notifier.delivery_attempts (delivery_id, attempt, attempted_at, latency_ms) VALUES ($1, 1, $2, 1)",
        delivery, OLD,
    )  # fmt: skip


async def _listed_delivery(pool: "asyncpg.Pool[Any]", webhook_id: str, state: str, at: datetime) -> None:
    """A delivery as intake lists it to its organisation (GET /v1/deliveries), with one attempt."""
    await pool.execute(
        "INSERT INTO intake.deliveries (webhook_id, org_id, event_type, queued_at, state, round, attempt,"
        " last_attempt_at) VALUES ($1, 'nyas-cymru', 'assignment.offered', $3, $2, 0, 1, $3)",
        webhook_id, state, at,
    )  # fmt: skip
    await pool.execute(
        "INSERT INTO intake.delivery_attempts (webhook_id, round, attempt, attempted_at, latency_ms, state)"
        " VALUES ($1, 0, 1, $2, 1, $3)",
        webhook_id, at, state,
    )  # fmt: skip


async def count(pool: "asyncpg.Pool[Any]", table: str) -> int:
    return int(await pool.fetchval(f"SELECT count(*) FROM {table}"))  # noqa: S608


async def test_each_service_removes_only_what_its_retention_period_lets_go(pool: "asyncpg.Pool[Any]") -> None:
    for schema in ("intake", "scheduler", "notifier"):
        await _outbox(pool, schema, OLD)  # published long ago: goes
        await _outbox(pool, schema, RECENT)  # published yesterday: stays
        await _outbox(pool, schema, None)  # not yet published: stays whatever its age
    await _delivery(pool, "old-delivered", "delivered", OLD)
    await _delivery(pool, "new-delivered", "delivered", RECENT)
    await _delivery(pool, "old-failed", "failed", None)  # parked for an operator: stays
    await _listed_delivery(pool, "old-delivered", "delivered", OLD)
    await _listed_delivery(pool, "new-delivered", "delivered", RECENT)
    await _listed_delivery(pool, "old-failed", "failed", OLD)
    await pool.execute(
        "INSERT INTO notifier.inbox (event_key, received_at) VALUES ('a|1', $1), ('a|2', $2)", OLD, RECENT
    )
    await pool.execute(
        "INSERT INTO intake.applied (event_key, applied_at) VALUES ('a|1', $1), ('a|2', $2)", OLD, RECENT
    )
    await pool.execute(
        "INSERT INTO intake.audit (at, org_id, api_key_id, action) VALUES ($1, 'ops', 'k', 'read:audit')", OLD
    )
    before = PURGED.labels(table="notifier.deliveries")._value.get()

    settings = RetentionSettings()  # the defaults: outbox 7 days, webhooks 90, inbox 30, audit kept
    removed = {}
    for store in (intake_store, scheduler_store, notifier_store):
        removed |= await purge_once(pool, store.PURGES, settings, NOW)

    assert removed == {
        "intake.deliveries": 1,
        "intake.outbox": 1,
        "intake.applied": 1,
        "scheduler.outbox": 1,
        "notifier.deliveries": 1,
        "notifier.outbox": 1,
        "notifier.inbox": 1,
    }
    for schema in ("intake", "scheduler", "notifier"):
        assert await count(pool, f"{schema}.outbox") == 2
    assert {r["webhook_id"] for r in await pool.fetch("SELECT webhook_id FROM notifier.deliveries")} == {
        "new-delivered",
        "old-failed",
    }
    assert await count(pool, "notifier.delivery_attempts") == 2  # the removed delivery's went with it
    assert {r["webhook_id"] for r in await pool.fetch("SELECT webhook_id FROM intake.delivery_attempts")} == {
        "new-delivered",
        "old-failed",
    }
    assert await count(pool, "intake.audit") == 1  # the records policy has not said otherwise
    assert PURGED.labels(table="notifier.deliveries")._value.get() == before + 1

    # a council's records policy of a year lets the old audit record go too; a second run finds nothing
    assert await purge_once(pool, intake_store.PURGES, RetentionSettings(audit_days=365), NOW) == {
        "intake.audit": 1
    }
    assert await purge_once(pool, intake_store.PURGES, RetentionSettings(audit_days=365), NOW) == {}
