"""The kept state in real PostgreSQL: children settled event by event through the scheduler's own
statements (`kept/store/`) publish what the fold from scratch publishes and keep the read models it
gives, at every prefix of generated histories in any arrival order; and a child whose history was
folded before the kept state existed is folded once more from its start at its next event or timer,
or by the upgrade loop, publishing nothing twice and keeping every id."""

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.scheduler.domain.child import ChildState, fold
from services.scheduler.domain.history import Entry
from services.scheduler.domain.read_model import episode_row, task_row
from services.scheduler.domain.triggers import due_events
from services.scheduler.kept.upgrade import keep_histories
from services.scheduler.settle import settle_children
from services.scheduler.store import tables
from services.scheduler.store.migrate import MIGRATIONS
from shared.db import create_pool
from shared.directory import Directory
from shared.migrations import apply_migrations
from shared.outbox import outbox_migrations
from tests.conftest import Place
from tests.unit.generated import histories
from tests.unit.test_kept_state import reference
from tests.unit.timeline import CARDIFF, TIMING, hours

DIRECTORY = Directory(organisations=[])  # every authority on the default thresholds
CHILD = f"{CARDIFF}/C-1"
TABLES = (
    "scheduler.facts, scheduler.children, scheduler.episodes, scheduler.interview_tasks, "
    "scheduler.emitted, scheduler.timers, scheduler.outbox, scheduler.held_reports"
)
WRITTEN = ("updated_at", "recount_at")


@pytest.fixture
async def dsn(place: Place) -> str:
    pool = await create_pool(place.database_url, service="scheduler-test")
    try:
        await apply_migrations(pool, tables.SCHEMA, MIGRATIONS, builtin=outbox_migrations("scheduler"))
    finally:
        await pool.close()
    return place.database_url


@asynccontextmanager
async def connected(dsn: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection as the scheduler's pool makes them (JSON as Python values)."""
    pool = await create_pool(dsn, service="scheduler-test", max_size=1)
    try:
        async with pool.acquire() as conn:
            yield conn
    finally:
        await pool.close()


async def settle(conn: asyncpg.Connection, now: datetime, facts: list[Entry], timers: list[str] = ()) -> None:
    async with conn.transaction():
        await settle_children(
            conn, list(timers), now=now, directory=DIRECTORY, namespace="t.",
            new_entries=[(CHILD, fact) for fact in facts],
        )  # fmt: skip


async def published(conn: asyncpg.Connection) -> dict[str, Any]:
    """Every event the scheduler published, by id: its data as sent."""
    rows = await conn.fetch("SELECT headers, value FROM scheduler.outbox ORDER BY seq")
    found = {}
    for row in rows:
        headers = row["headers"] if isinstance(row["headers"], dict) else json.loads(row["headers"])
        assert headers["ce_id"] not in found, f"{headers['ce_id']} published twice"
        found[headers["ce_id"]] = json.loads(row["value"])
    return found


async def stored_rows(conn: asyncpg.Connection) -> dict[str, dict[str, Any]]:
    """The read models' rows, as the fold's row builders give them."""
    found = {}
    for row in await conn.fetch("SELECT * FROM scheduler.episodes"):
        found[str(row["episode_id"])] = _plain(row, exclude=("state", "live"))
    for row in await conn.fetch("SELECT * FROM scheduler.interview_tasks"):
        found[str(row["task_id"])] = _plain(row, exclude=("state", "live"))
    return found


def _plain(row: asyncpg.Record, exclude: tuple[str, ...]) -> dict[str, Any]:
    def value(item: Any) -> Any:
        if isinstance(item, datetime):
            return item.isoformat()
        if isinstance(item, uuid.UUID):
            return str(item)
        if isinstance(item, list):
            return [value(x) for x in item]
        return item

    return {name: value(item) for name, item in row.items() if name not in exclude + WRITTEN}


def differences(found: dict[str, dict[str, Any]], expected: dict[str, dict[str, Any]]) -> list[str]:
    """Each row and field on which the stored read models and the fold's differ (readable on failure)."""
    lines = [f"only stored: {key}" for key in found.keys() - expected.keys()]
    lines += [f"only in the fold: {key}" for key in expected.keys() - found.keys()]
    for key in found.keys() & expected.keys():
        lines += [
            f"{key} {name}: stored {found[key].get(name)!r}, fold {value!r}"
            for name, value in expected[key].items()
            if found[key].get(name) != value
        ]
    return lines


def expected_rows(state: ChildState, now: datetime) -> dict[str, dict[str, Any]]:
    found = {e.episode_id: episode_row(CHILD, state, e, now) for e in state.episodes}
    found |= {t.task_id: task_row(CHILD, state, t, now) for t in state.tasks}
    return {key: {name: v for name, v in row.items() if name not in WRITTEN} for key, row in found.items()}


async def check_along(dsn: str, arrival: list[Entry]) -> None:
    async with connected(dsn) as conn:
        await conn.execute(f"TRUNCATE {TABLES}")
        fold_published: dict[str, Any] = {}
        moment = hours(0)
        final = None
        for n, state in enumerate(reference(arrival)):
            fact = arrival[n]
            moment = max(moment, fact.happened_at, fact.time)
            await settle(conn, moment, [fact])
            for item in due_events(state, moment, TIMING):
                fold_published.setdefault(item.event_id, item.data.model_dump(mode="json"))
            assert await published(conn) == fold_published, f"after {n + 1}: published"
            assert not differences(await stored_rows(conn), expected_rows(state, moment)), f"after {n + 1}"
            final = state
        assert final is not None
        end = moment + timedelta(days=400)
        await settle(
            conn, end, [], timers=[CHILD]
        )  # every window closes, every absence reaches its last step
        for item in due_events(final, end, TIMING):
            fold_published.setdefault(item.event_id, item.data.model_dump(mode="json"))
        assert await published(conn) == fold_published, "at the end: published"
        assert not differences(await stored_rows(conn), expected_rows(final, end)), "at the end"


async def test_children_settled_in_postgresql_are_the_fold_at_every_prefix(dsn: str) -> None:
    @settings(max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(history=histories(absences=st.integers(1, 8), variety=True), data=st.data())
    def examples(history: tuple[list[Entry], list[Entry]], data: st.DataObject) -> None:
        intake, notifier = history
        arrival = data.draw(st.permutations(intake + notifier))
        arrival = list({f.key: f for f in reversed(arrival)}.values())[::-1]  # the inbox keeps the first
        asyncio.run(check_along(dsn, arrival))

    await asyncio.to_thread(examples)


async def old_form(conn: asyncpg.Connection, facts: list[Entry], now: datetime) -> ChildState:
    """A child as the release before the kept state left it: its events, the read models of its fold, and
    everything due by `now` published."""
    state = fold(facts, TIMING)
    await conn.execute(
        "INSERT INTO scheduler.children (child_key, updated_at, kept) VALUES ($1, $2, false)", CHILD, now
    )
    await conn.executemany(
        "INSERT INTO scheduler.facts (fact_key, child_key, type, time, data, received_at, seq) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7)",
        [(f.key, CHILD, f.type, f.time, f.data.model_dump(mode="json"), now, f.seq) for f in facts],
    )
    async with conn.transaction():
        for item in due_events(state, now, TIMING):
            await conn.execute(
                "INSERT INTO scheduler.emitted (key, child_key, type, due_at, emitted_at, late_seconds) "
                "VALUES ($1, $2, $3, $4, $5, 0)", item.key, CHILD, item.data.type_name, item.at, now,
            )  # fmt: skip
        for row in expected_rows(state, now).values():
            table = "episodes" if "episode_id" in row else "interview_tasks"
            columns = ", ".join(row)
            values = ", ".join(f"${i}" for i in range(1, len(row) + 1))
            casts = [_cast(v) for v in row.values()]
            await conn.execute(f"INSERT INTO scheduler.{table} ({columns}) VALUES ({values})", *casts)  # noqa: S608
    return state


def _cast(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            try:
                return uuid.UUID(value)
            except ValueError:
                return value
    if isinstance(value, list):
        return [_cast(v) for v in value]
    return value


def upgrade_history() -> list[Entry]:
    from tests.unit.timeline import learnt, reported, returned, risk

    facts = []
    for n in range(6):
        start = 40 * n
        facts += [
            reported(hours(start), ref=f"R{n}"),
            risk(hours(start + 2), "high", ("cce",)),
            returned(hours(start + 8)),
        ]
    return learnt(facts)


async def test_a_history_kept_before_the_kept_state_is_folded_again_once_and_nothing_is_published_twice(
    dsn: str,
) -> None:
    async with connected(dsn) as conn:
        facts = upgrade_history()
        before = hours(250)
        state = await old_form(conn, facts, before)
        ids = {e.episode_id for e in state.episodes} | {t.task_id for t in state.tasks}
        # The next event folds the whole history again, then takes the event in.
        later = hours(300)
        from tests.unit.timeline import reported

        news = reported(hours(290), ref="R9")
        news = Entry(news.key, news.type, news.time, news.data, len(facts) + 1)
        await settle(conn, later, [news])
        final = fold([*facts, news], TIMING)
        assert ids <= {e.episode_id for e in final.episodes} | {t.task_id for t in final.tasks}
        assert not differences(await stored_rows(conn), expected_rows(final, later))
        sent = await published(conn)
        already = {item.event_id for item in due_events(state, before, TIMING)}
        assert not already & set(sent), "published again"
        assert set(sent) == {item.event_id for item in due_events(final, later, TIMING)} - already
        assert await conn.fetchval("SELECT kept FROM scheduler.children WHERE child_key = $1", CHILD)


async def test_the_upgrade_loop_keeps_every_history_while_the_scheduler_runs(dsn: str) -> None:
    async with connected(dsn) as conn:
        facts = upgrade_history()
        now = hours(250)
        state = await old_form(conn, facts, now)
        pool = await create_pool(dsn, service="scheduler-test")
        try:
            kept = await keep_histories(pool, DIRECTORY, namespace="t.", now=lambda: now, batch=10)
        finally:
            await pool.close()
        assert kept == 1
        assert await conn.fetchval("SELECT count(*) FROM scheduler.children WHERE NOT kept") == 0
        assert not differences(await stored_rows(conn), expected_rows(state, now))
        assert await published(conn) == {}  # everything due was published by the release before
        assert await conn.fetchval("SELECT count(*) FROM scheduler.episodes WHERE state IS NULL") == 0
