"""`python -m bench.upgrade`: how long the scheduler takes to bring histories folded before the kept
state to the kept form (the upgrade loop, `services/scheduler/kept/upgrade.py`), per million events.

Writes histories as the release before left them (events only, children not kept) into a fresh
database: many children with a few absences each and a few with hundreds, then times the upgrade loop
over all of them. Nothing of them was recorded as published, so the loop publishes everything due (an
upper bound: after a real upgrade, what was due was published already).
"""

import argparse
import random
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import uvloop

from services.scheduler.domain.history import stable_id
from services.scheduler.kept.upgrade import keep_histories
from services.scheduler.store import tables
from services.scheduler.store.migrate import MIGRATIONS
from shared.contracts.assignments import assignment_id
from shared.contracts.episodes import MissingReported, Returned
from shared.contracts.interviews import InterviewCompleted, InterviewOffered
from shared.db import create_pool
from shared.directory import Directory
from shared.migrations import apply_migrations
from shared.outbox import outbox_migrations
from tools.embedded import database_dsn, start_postgres

CARDIFF = "W06000015"
INSERT_FACT = """
INSERT INTO scheduler.facts (fact_key, child_key, type, time, data, received_at, seq)
VALUES ($1, $2, $3, $4, $5::text::jsonb, $6, $7)
"""


def histories(children: int, long_children: int, long_absences: int, seed: int = 7) -> list[tuple[Any, ...]]:
    """Rows of events: most children missing one to four times, a few `long_absences` times; each
    absence reported, returned, and its interview offered and held by the provider."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    rows: list[tuple[Any, ...]] = []
    for n in range(children + long_children):
        ref = f"U{n}"
        absences = long_absences if n >= children else rng.randint(1, 4)
        start = now - timedelta(days=2 * absences + 5)
        for i in range(absences):
            at = start + timedelta(days=2 * i)
            report = MissingReported(
                child_ref=ref, responsible_authority=CARDIFF, placement_authority=CARDIFF, kind="missing",
                missing_since=at, risk_level="medium", police_force="p", police_reference=f"{ref}-{i}",
            )  # fmt: skip
            back = Returned(child_ref=ref, responsible_authority=CARDIFF, returned_at=at + timedelta(hours=6))
            episode = stable_id("episode", f"{CARDIFF}/{ref}", f"/orgs/p|{ref}-{i}-0")
            held = assignment_id(stable_id("task", episode), "provider")
            offer = InterviewOffered(assignment_id=held, offered_at=at + timedelta(hours=20))
            interview = InterviewCompleted(
                assignment_id=held, completed_at=at + timedelta(hours=30), outcome="completed",
                exploitation_indicators=[], safeguarding_concern=False,
            )  # fmt: skip
            for k, (org, data) in enumerate(
                (("p", report), ("p", back), ("provider", offer), ("provider", interview))
            ):
                rows.append(
                    (f"/orgs/{org}|{ref}-{i}-{k}", f"{CARDIFF}/{ref}", data.type_name, at, data.model_dump_json(),
                     now, 4 * i + k + 1)
                )  # fmt: skip
    return rows


async def run(children: int, long_children: int, long_absences: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        server = start_postgres(Path(folder) / "pg", temporary=True)
        try:
            name = f"upgrade_{uuid.uuid4().hex[:8]}"
            admin = await asyncpg.connect(server.dsn)
            await admin.execute(f'CREATE DATABASE "{name}"')
            await admin.close()
            pool = await create_pool(database_dsn(server.dsn, name), service="bench-upgrade")
            try:
                await apply_migrations(
                    pool, tables.SCHEMA, MIGRATIONS, builtin=outbox_migrations(tables.SCHEMA)
                )
                rows = histories(children, long_children, long_absences)
                async with pool.acquire() as conn:
                    await conn.execute(
                        "INSERT INTO scheduler.children (child_key, updated_at, kept) "
                        "SELECT DISTINCT unnest($1::text[]), now(), false",
                        [row[1] for row in rows],
                    )
                    await conn.executemany(INSERT_FACT, rows)
                started = time.perf_counter()
                kept = await keep_histories(
                    pool, Directory(organisations=[]), namespace="bench.", now=lambda: datetime.now(UTC)
                )
                seconds = time.perf_counter() - started
            finally:
                await pool.close()
        finally:
            server.stop()
    return {
        "children": kept,
        "events": len(rows),
        "seconds": round(seconds, 1),
        "events_per_s": round(len(rows) / seconds),
        "minutes_per_million_events": round(1e6 / (len(rows) / seconds) / 60, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.upgrade", description=__doc__)
    parser.add_argument("--children", type=int, default=10_000, help="children with one to four absences")
    parser.add_argument("--long", type=int, default=5, help="children with many absences")
    parser.add_argument("--absences", type=int, default=500, help="absences of each of those")
    args = parser.parse_args()
    print(uvloop.run(run(args.children, args.long, args.absences)))


if __name__ == "__main__":
    main()
