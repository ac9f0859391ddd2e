"""Timer benchmark on embedded PostgreSQL: the claim's plan and cost, and fire lag, with 10,000 and with
1,000,000 pending timers; and the cost of settling a 500-event batch.

`python -m bench.timers` (about two minutes). The pending timers are loaded with COPY and fall due a
day later, so they sit in the index the claim walks; the lag is measured on 2,000 further timers, each
a real child's 24-hour reminder, falling due at a steady 200 per second while the TimerLoop runs.
"""

import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from services.scheduler.domain.history import Entry
from services.scheduler.settle import settle_children
from services.scheduler.store import tables
from services.scheduler.store.migrate import MIGRATIONS
from services.scheduler.timers import TimerLoop
from shared.clock import SystemClock
from shared.contracts.common import EventData
from shared.contracts.episodes import MissingReported, Returned
from shared.db import create_pool
from shared.directory import Directory
from shared.live_directory import LiveDirectory
from shared.migrations import apply_migrations
from shared.outbox import outbox_migrations
from tools.embedded import database_dsn, start_postgres

SIZES = (10_000, 1_000_000)
CLAIM = 1_000
LAG_TIMERS = 2_000
LAG_RATE = 200.0  # timers falling due per second
DIRECTORY = Directory(organisations=[])  # the default thresholds


def fact(ref: str, data: EventData, at: datetime) -> Entry:
    return Entry(f"/bench|{ref}|{data.type_name}", data.type_name, at, data)


def history(ref: str, returned_at: datetime) -> list[Entry]:
    """A child reported and returned: its 24-hour reminder falls due at returned_at + 24 h."""
    base = {"child_ref": ref, "responsible_authority": "W06000015"}
    report = MissingReported(
        **base,
        placement_authority="W06000015",
        kind="missing",
        missing_since=returned_at - timedelta(hours=2),
        risk_level="medium",
        police_force="south-wales-police",
        police_reference=f"R-{ref}",
    )
    back = Returned(**base, returned_at=returned_at)
    return [fact(ref, report, returned_at - timedelta(hours=2)), fact(ref, back, returned_at)]


async def load_pending(conn: asyncpg.Connection, size: int, far: datetime) -> float:
    await conn.execute("TRUNCATE scheduler.timers, scheduler.children, scheduler.facts, scheduler.emitted")
    await conn.execute("TRUNCATE scheduler.outbox, scheduler.episodes, scheduler.interview_tasks")
    started = time.perf_counter()
    records = ((f"W06000015/far-{i}", far + timedelta(milliseconds=i)) for i in range(size))
    await conn.copy_records_to_table(
        "timers", schema_name="scheduler", columns=["child_key", "due_at"], records=records
    )
    await conn.execute("VACUUM ANALYZE scheduler.timers")
    return time.perf_counter() - started


async def claim_cost(conn: asyncpg.Connection, far: datetime) -> tuple[float, float, str]:
    """Median and worst time to claim 1,000 due timers (each claim rolled back), and the plan."""
    now = far + timedelta(hours=1)  # every pending timer is due: the claim takes the first 1,000
    times = []
    for _ in range(20):
        await conn.execute("BEGIN")
        started = time.perf_counter()
        rows = await conn.fetch(tables.CLAIM_DUE_TIMERS, now, CLAIM)
        times.append((time.perf_counter() - started) * 1000)
        await conn.execute("ROLLBACK")
        assert len(rows) == CLAIM
    await conn.execute("BEGIN")
    plan = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + tables.CLAIM_DUE_TIMERS, now, CLAIM)
    await conn.execute("ROLLBACK")
    return statistics.median(times), max(times), "\n".join(row[0] for row in plan)


async def fire_lag(pool: "asyncpg.Pool[Any]") -> tuple[float, float, float, int]:
    """Set 2,000 real reminders falling due at a steady rate, run the loop; lag p50, p99, max (ms)."""
    start = datetime.now(UTC) + timedelta(seconds=8)
    step = timedelta(seconds=1 / LAG_RATE)
    children = [(f"W06000015/lag-{i}", f"lag-{i}", start + i * step) for i in range(LAG_TIMERS)]
    async with pool.acquire() as conn:
        for chunk in range(0, LAG_TIMERS, 250):
            async with conn.transaction():
                await settle_children(
                    conn,
                    [],
                    now=datetime.now(UTC),
                    directory=DIRECTORY,
                    namespace="bench.",
                    new_entries=[
                        (key, f)
                        for key, ref, due in children[chunk : chunk + 250]
                        for f in history(ref, due - timedelta(hours=24))
                    ],
                )
    loop = TimerLoop(pool, SystemClock(), LiveDirectory.fixed(DIRECTORY), namespace="bench.")
    stop = asyncio.Event()
    running = asyncio.create_task(loop.run(stop))
    last_due = children[-1][2]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        fired = await pool.fetchval(
            "SELECT count(*) FROM scheduler.timers WHERE state = 'fired' AND child_key LIKE 'W06000015/lag-%'"
        )
        if fired >= LAG_TIMERS and datetime.now(UTC) > last_due:
            break
        await asyncio.sleep(0.5)
    stop.set()
    await running
    rows = await pool.fetch(
        "SELECT extract(epoch FROM fired_at - due_at) * 1000 AS lag FROM scheduler.timers"
        " WHERE state = 'fired' AND child_key LIKE 'W06000015/lag-%' ORDER BY lag"
    )
    lags = [float(row["lag"]) for row in rows]
    emitted = await pool.fetchval("SELECT count(*) FROM scheduler.emitted WHERE key LIKE 'reminder:%'")
    return _pct(lags, 50), _pct(lags, 99), max(lags), int(emitted)


async def settle_batch(pool: "asyncpg.Pool[Any]") -> float:
    """Milliseconds to apply one 500-event batch (250 children reported and returned) in one transaction."""
    returned_at = datetime.now(UTC) - timedelta(hours=1)
    facts = [(f"W06000015/batch-{i}", f) for i in range(250) for f in history(f"batch-{i}", returned_at)]
    async with pool.acquire() as conn:
        started = time.perf_counter()
        async with conn.transaction():
            await settle_children(
                conn, [], now=datetime.now(UTC), directory=DIRECTORY, namespace="bench.", new_entries=facts
            )
        return (time.perf_counter() - started) * 1000


def _pct(values: list[float], pct: int) -> float:
    return values[min(len(values) - 1, round(len(values) * pct / 100))]


async def main() -> dict[str, Any]:
    """Run every measurement, print the figures and return them."""
    figures: dict[str, Any] = {}
    began = time.monotonic()
    folder = Path(tempfile.mkdtemp(prefix="mtp-bench-"))
    server = start_postgres(folder / "pg", temporary=True)
    try:
        admin = await asyncpg.connect(server.dsn)
        await admin.execute("CREATE DATABASE bench")
        await admin.close()
        pool = await create_pool(database_dsn(server.dsn, "bench"), service="bench")
        await apply_migrations(
            pool,
            tables.SCHEMA,
            MIGRATIONS,
            builtin=outbox_migrations("scheduler"),
        )
        far = datetime.now(UTC) + timedelta(days=1)
        for size in SIZES:
            async with pool.acquire() as conn:
                loaded = await load_pending(conn, size, far)
                median, worst, plan = await claim_cost(conn, far)
            p50, p99, worst_lag, emitted = await fire_lag(pool)
            print(f"\n== {size:,} pending timers (loaded in {loaded:.1f} s)")
            print(f"claim of {CLAIM:,}: median {median:.1f} ms, worst {worst:.1f} ms (20 runs)")
            print(
                f"fire lag at {LAG_RATE:.0f}/s: p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {worst_lag:.1f} ms"
                f" ({emitted:,} reminders published)"
            )
            print("claim plan:\n" + plan)
            figures[str(size)] = {
                "claim_median_ms": round(median, 2),
                "claim_worst_ms": round(worst, 2),
                "fire_lag_p50_ms": round(p50, 2),
                "fire_lag_p99_ms": round(p99, 2),
                "fire_lag_max_ms": round(worst_lag, 2),
                "claim_plan": plan,
            }
        settle_ms = await settle_batch(pool)
        figures["settle_500_events_ms"] = round(settle_ms, 1)
        print(f"\nsettle one 500-event batch (250 children): {settle_ms:.0f} ms")
        await pool.close()
    finally:
        server.stop()
    print(f"total {time.monotonic() - began:.0f} s")
    return figures


if __name__ == "__main__":
    asyncio.run(main())
