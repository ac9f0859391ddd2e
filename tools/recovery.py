"""After `mtp run` stopped without draining (a crash, a power cut, `kill -9`), put back what the embedded
broker lost.

The embedded broker keeps its log in memory. An orderly stop waits until the consumers have applied
what the relays published before stopping the broker; a crash does not, and events a relay had
handed to the broker (and marked sent) but a consumer had not yet applied are gone with it. Everything
is still in PostgreSQL, so on the next start each service's outbox rows sent within the consumers'
memory of what they applied (the directory's `retention.inbox_days`) are marked unsent again, and the
relays publish them once more, in order. Consumers ignore what they had already applied.

`mtp run` notes that it is running (`running` in its data folder) and removes the note only when, with
every service stopped, no outbox holds a row and every consumer group (intake's read model included)
has applied everything on its topics; finding the note at start means the last run did not get there.
"""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

SCHEMAS = ("intake", "scheduler", "notifier")
MARK = "running"


def last_run_drained(data_dir: Path) -> bool:
    """Whether the previous `mtp run` on this folder stopped in order (or there was none)."""
    return not (data_dir / MARK).exists()


def note_running(data_dir: Path) -> None:
    (data_dir / MARK).write_text("mtp run is running, or stopped without draining\n")


def note_drained(data_dir: Path) -> None:
    (data_dir / MARK).unlink(missing_ok=True)


async def republish(dsn: str, within_days: float, now: datetime | None = None) -> dict[str, int]:
    """Mark the outbox rows each service sent in the last `within_days` unsent again; how many, by schema."""
    since = (now or datetime.now(UTC)) - timedelta(days=within_days)
    conn = await asyncpg.connect(dsn)
    try:
        found = {}
        for schema in SCHEMAS:
            exists = await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", f"{schema}.outbox")
            if exists:
                found[schema] = await conn.fetchval(
                    f"WITH again AS (UPDATE {schema}.outbox SET sent_at = NULL"  # noqa: S608  # fixed names
                    " WHERE sent_at >= $1 RETURNING 1) SELECT count(*) FROM again",
                    since,
                )
        return found
    finally:
        await conn.close()
