"""The timer loop against real PostgreSQL, in virtual time: timers set, the clock moved, each fires once."""

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from services.scheduler.domain.child import fold
from services.scheduler.domain.history import Entry
from services.scheduler.kept.store import load as kept_load
from services.scheduler.settle import settle_children
from services.scheduler.store import tables
from services.scheduler.store.migrate import MIGRATIONS
from services.scheduler.timers import TimerLoop
from shared.child_data import erase, export
from shared.clock import ManualClock
from shared.db import create_pool
from shared.directory import Directory, TimingSettings
from shared.live_directory import LiveDirectory
from shared.migrations import apply_migrations
from shared.outbox import outbox_migrations
from tests.conftest import Place
from tests.kafka_reader import poll
from tests.unit.timeline import assigned, offered, reported, returned
from tools.cli import SERVICES as ERASED_IN_ORDER

T0 = datetime(2026, 3, 2, 22, 0, tzinfo=UTC)
TIMING = TimingSettings()
DIRECTORY = Directory(organisations=[])  # every authority on the default thresholds
LIVE = LiveDirectory.fixed(DIRECTORY)


@pytest.fixture
async def pool(place: Place) -> AsyncIterator["asyncpg.Pool[Any]"]:
    created = await create_pool(place.database_url, service="scheduler-test")
    await apply_migrations(
        created,
        tables.SCHEMA,
        MIGRATIONS,
        builtin=outbox_migrations("scheduler"),
    )
    try:
        yield created
    finally:
        await created.close()


async def settle(
    pool: "asyncpg.Pool[Any]", now: datetime, facts: list[Entry], child: str = "W06000015/C-1"
) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await settle_children(
            conn,
            [],
            now=now,
            directory=DIRECTORY,
            namespace="t.",
            new_entries=[(child, fact) for fact in facts],
        )


async def published(pool: "asyncpg.Pool[Any]") -> list[tuple[str, dict[str, Any]]]:
    """(type, data) of every outbox row, in order."""
    rows = await pool.fetch("SELECT headers, value FROM scheduler.outbox ORDER BY seq")
    out = []
    for row in rows:
        headers = row["headers"] if isinstance(row["headers"], dict) else json.loads(row["headers"])
        out.append((headers["ce_type"], json.loads(row["value"])))
    return out


async def pending_moments(pool: "asyncpg.Pool[Any]") -> list[datetime]:
    rows = await pool.fetch("SELECT due_at FROM scheduler.timers WHERE state = 'pending' ORDER BY due_at")
    return [row["due_at"] for row in rows]


def of_child(ref: str, facts: list[Entry]) -> list[Entry]:
    """The same history for another child."""
    return [
        Entry(f"{f.key}|{ref}", f.type, f.time, f.data.model_copy(update={"child_ref": ref})) for f in facts
    ]


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


async def test_timers_fire_once_each_and_a_timer_whose_reason_has_gone_does_nothing(
    pool: "asyncpg.Pool[Any]",
) -> None:
    clock = ManualClock(at(10))
    loop = TimerLoop(pool, clock, LIVE, namespace="t.")
    facts = [reported(at(0)), returned(at(10))]
    await settle(pool, clock.now(), facts)
    # One timer per child: the next moment that could bring something; each firing sets the next.
    assert await pending_moments(pool) == [at(34)]
    before = len(await published(pool))

    clock.set(at(34))
    assert await loop.fire_due() == 1
    assert await loop.fire_due() == 0  # once
    assert await pending_moments(pool) == [at(58)]
    clock.set(at(58))
    assert await loop.fire_due() == 1
    assert await pending_moments(pool) == [at(82)]
    stages = [(t, d.get("stage"), d.get("late")) for t, d in (await published(pool))[before:]]
    assert stages == [
        ("window.warning", "no_provider_accepted", False),
        ("window.warning", "no_offer_made", False),
    ]

    # The provider offers at hour 60: the breach timer at 82 fires and finds nothing to say.
    task_id = fold(facts, TIMING).tasks[0].task_id
    clock.set(at(60))
    await settle(pool, clock.now(), [assigned(at(11), task_id), offered(at(60), task_id)])
    count = len(await published(pool))
    clock.set(at(82))
    assert await loop.fire_due() == 1
    assert len(await published(pool)) == count
    episode = await pool.fetchrow("SELECT offered_late, breached FROM scheduler.episodes")
    assert (episode["offered_late"], episode["breached"]) == (False, False)
    assert await pool.fetchval(tables.PENDING_TIMERS) == 0


async def test_after_downtime_every_overdue_timer_fires_at_once_flagged_late(
    pool: "asyncpg.Pool[Any]",
) -> None:
    clock = ManualClock(at(10))
    for n in range(50):
        facts = of_child(f"C-{n}", [reported(at(0)), returned(at(10))])
        await settle(pool, clock.now(), facts, f"W06000015/C-{n}")
    assert await pool.fetchval(tables.PENDING_TIMERS) == 50
    before = len(await published(pool))

    clock.set(at(100))  # the scheduler was down from hour 10 to hour 100
    loop = TimerLoop(pool, clock, LIVE, namespace="t.", batch=500)
    assert await loop.fire_due() == 50
    assert await loop.fire_due() == 0
    late = [(t, d.get("stage"), d["late"]) for t, d in (await published(pool))[before:]]
    assert sorted(set(late), key=str) == sorted(
        {
            ("window.warning", "no_provider_accepted", True),
            ("window.warning", "no_offer_made", True),
            ("window.breached", None, True),
        },
        key=str,
    )
    assert len(late) == 150
    assert await pool.fetchval("SELECT count(*) FROM scheduler.episodes WHERE breached") == 50


async def test_an_earlier_timer_wakes_the_sleeping_loop_through_notify(pool: "asyncpg.Pool[Any]") -> None:
    clock = ManualClock(at(0))
    # Polls only every 60 s: only the NOTIFY can wake it sooner.
    loop = TimerLoop(pool, clock, LIVE, namespace="t.", poll_seconds=60)
    stop = asyncio.Event()
    running = asyncio.create_task(loop.run(stop))
    try:
        await poll(lambda: loop.sleeping, timeout=10, interval=0.01)
        # A report at hour 0 sets a long-missing timer at hour 24; the clock is already past it.
        clock.set(at(25))
        await settle(pool, at(0), [reported(at(0))])
        fired = await poll(
            lambda: pool.fetchval("SELECT count(*) FROM scheduler.timers WHERE state = 'fired'"),
            timeout=10,
            interval=0.02,
        )
        assert fired == 1
        types = [t for t, _ in await published(pool)]
        assert types.count("alert.long_missing") == 1
    finally:
        stop.set()
        await running


async def test_a_silent_instance_loses_its_claim_after_the_lease(
    pool: "asyncpg.Pool[Any]", place: Place
) -> None:
    clock = ManualClock(at(10))
    await settle(pool, clock.now(), [reported(at(0)), returned(at(10))])
    clock.set(at(100))
    hung = await asyncpg.connect(place.database_url)
    try:
        # An instance claims and then stops talking, holding its claim open.
        await hung.execute("BEGIN")
        claimed, _ = await tables.claim_due_timers(hung, clock.now(), 500, lease_seconds=1)
        assert len(claimed) == 1
        other = TimerLoop(pool, clock, LIVE, namespace="t.")
        assert await other.fire_due() == 0  # skipped while the claim holds
        assert await poll(other.fire_due, timeout=15, interval=0.2) == 1  # taken over after the lease
    finally:
        await hung.close()
    types = [t for t, _ in await published(pool)]
    assert types.count("window.breached") == 1


async def test_a_child_busy_elsewhere_is_skipped_not_waited_for(pool: "asyncpg.Pool[Any]") -> None:
    clock = ManualClock(at(10))
    await settle(pool, clock.now(), [reported(at(0)), returned(at(10))])
    clock.set(at(35))
    busy = await pool.acquire()
    try:
        async with busy.transaction():
            await kept_load.lock_children(busy, ["W06000015/C-1"], clock.now())
            # The event handler holds the child: the loop leaves its timer pending and does not block...
            loop = TimerLoop(pool, clock, LIVE, namespace="t.")
            assert await asyncio.wait_for(loop.fire_due(), timeout=5) == 0
            # ...and the handler can still set that very timer without waiting on the loop.
            assert await asyncio.wait_for(tables.add_timers(busy, [("W06000015/C-1", at(34))]), 5) == []
        assert await loop.fire_due() == 1
    finally:
        await pool.release(busy)


async def test_once_a_childs_part_is_erased_no_timer_of_it_fires_to_bring_it_back(
    pool: "asyncpg.Pool[Any]",
) -> None:
    # `mtp child erase` erases the scheduler's part before the notifier's and intake's, so that no
    # timer of the child can publish anything that would put the child back into their tables.
    assert ERASED_IN_ORDER[0] == "scheduler"
    clock = ManualClock(at(10))
    loop = TimerLoop(pool, clock, LIVE, namespace="t.")
    await settle(pool, clock.now(), [reported(at(0)), returned(at(10))])
    assert await pool.fetchval(tables.PENDING_TIMERS) == 1
    async with pool.acquire() as conn, conn.transaction():
        await erase(conn, tables.CHILD_ROWS, "W06000015/C-1")

    clock.set(at(100))  # every moment the child's window had, passed
    assert await loop.fire_due() == 0
    assert await published(pool) == []
    async with pool.acquire() as conn:
        assert await export(conn, tables.CHILD_ROWS, "W06000015/C-1") == {}
