"""The audit trail: who read or wrote what about which child and when (never what was sent or
seen), operators' commands, and its listing."""

from datetime import datetime
from typing import Any

import asyncpg

from services.intake.store.base import Connection, Pool, translated
from shared.child_data import pseudonym

INSERT_AUDIT = """
INSERT INTO intake.audit (at, org_id, api_key_id, action, child_key, event_id)
VALUES ($1, $2, $3, $4, $5, $6)
"""

INSERT_OPERATOR_ACTION = """
INSERT INTO intake.audit (at, org_id, api_key_id, action, child_key, event_id) VALUES (now(), 'operator', $1, $2, $3, NULL)
"""


async def record_operator_action(conn: Connection, action: str, child_key: str | None, by: str) -> None:
    """Write an operator's command to the audit trail: an export or erasure of a child's data (an
    erasure under the child's pseudonym: the record stays, the child is no longer named), or a command
    that reads children's data in bulk (no child named)."""
    subject = pseudonym(child_key) if child_key and action.startswith("erase") else child_key
    await conn.execute(INSERT_OPERATOR_ACTION, by, action, subject)


# A command line's own connection could not be made, or the database refused it.
UNREACHABLE = (OSError, asyncpg.PostgresError)


async def record_operator_command(dsn: str, action: str, by: str) -> None:
    """Record an operator's command in the audit trail over a connection of its own (the command line
    runs it before the command it names)."""
    conn = await asyncpg.connect(dsn)
    try:
        await record_operator_action(conn, action, None, by)
    finally:
        await conn.close()


@translated
async def record_access(
    pool: Pool, at: datetime, org_id: str, api_key_id: str, action: str, child_key: str | None
) -> None:
    """Write a read (`read:child`, `read:audit`) or a refused attempt (`refused:<status>:<problem>`) to
    the audit trail: who, what, which child if any, when; never what was sent or seen."""
    await pool.execute(INSERT_AUDIT, at, org_id, api_key_id, action, child_key, None)


SELECT_AUDIT = """
SELECT seq, at, org_id, api_key_id, action, child_key, event_id FROM intake.audit
WHERE ($1::text IS NULL OR child_key = $1)
  AND ($2::text IS NULL OR org_id = $2)
  AND ($3::bigint IS NULL OR seq < $3)
ORDER BY seq DESC LIMIT $4
"""


@translated
async def audit_page(
    pool: Pool, *, child_key: str | None, org_id: str | None, before: int | None, limit: int
) -> list[dict[str, Any]]:
    """The newest audit records first, optionally for one child or one organisation, before a cursor."""
    return [dict(r) for r in await pool.fetch(SELECT_AUDIT, child_key, org_id, before, limit)]
