"""A child's webhooks, for export and erasure, are found by the child's key: the same reference in
another authority is another child, whose webhooks stay where they are."""

from datetime import UTC, datetime

import asyncpg
import pytest

from services.notifier.store import tables
from services.notifier.store.migrate import MIGRATIONS
from services.notifier.webhooks import store as delivery_store
from services.notifier.webhooks.queue import body
from shared.child_data import erase, export
from shared.contracts.tasks import EpisodeOpened
from shared.db import create_pool
from shared.migrations import apply_migrations
from shared.outbox import outbox_migrations
from tests.conftest import Place
from tests.events import CARDIFF, NEWPORT

NOW = datetime(2026, 11, 2, 9, tzinfo=UTC)


@pytest.fixture
async def conn(place: Place) -> asyncpg.Connection:
    pool = await create_pool(place.database_url, service="notifier-test")
    try:
        await apply_migrations(pool, "notifier", MIGRATIONS, builtin=outbox_migrations("notifier"))
    finally:
        await pool.close()
    connection = await asyncpg.connect(place.database_url)
    yield connection
    await connection.close()


async def test_the_same_reference_in_another_authority_is_another_child(conn: asyncpg.Connection) -> None:
    # Newport's child 1001, placed in Cardiff, and Cardiff's own child 1001: Cardiff is told of both
    # (the host council of the first), and both bodies name Cardiff and the reference 1001.
    for webhook_id, responsible in (("msg_newport", NEWPORT), ("msg_cardiff", CARDIFF)):
        opened = EpisodeOpened(
            child_ref="1001",
            responsible_authority=responsible,
            placement_authority=CARDIFF,
            episode_id=f"ep-{webhook_id}",
            kind="missing",
            started_at=NOW,
            risk_level="medium",
        )
        await delivery_store.add_delivery(
            conn,
            webhook_id=webhook_id,
            org_id="cardiff",
            url="https://cardiff.example/hooks",
            event_type=opened.type_name,
            body=body(webhook_id, opened, NOW),
            now=NOW,
        )

    exported = await export(conn, tables.CHILD_ROWS, f"{CARDIFF}/1001")
    assert [row["webhook_id"] for row in exported["notifier.deliveries"]] == ["msg_cardiff"]

    assert await erase(conn, tables.CHILD_ROWS, f"{CARDIFF}/1001") == {"notifier.deliveries": 1}
    left = await conn.fetch("SELECT webhook_id FROM notifier.deliveries")
    assert [row["webhook_id"] for row in left] == ["msg_newport"]
