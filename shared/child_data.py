"""Where each service keeps a child's data, for the data subject's rights: everything held about a
child exported, or erased.

Each service's store lists its own tables (`ChildTable`): the table, how its rows of one child are
found from the child's key (`$1`, `<authority>/<child_ref>`) and its reference (`$2`), and whether
erasure deletes them or only replaces the key with a pseudonym (the audit trail: who did what stays on
record, about nobody anyone can name). The lists are ordered so that deleting in that order breaks no
reference between tables.
"""

import asyncio
import hashlib
import hmac
import json
import os
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import asyncpg
import typer

from shared.operator_guard import require_audited

REASON = re.compile(r"^[a-z][a-z0-9_]{0,63}$")  # why a child was erased: a code, never free text


@dataclass(frozen=True)
class ChildTable:
    """One table's rows about a child."""

    table: str
    where: str  # a condition on the table's rows; $1 is the child's key, $2 its reference
    erase: Literal["delete", "pseudonymise"] = "delete"
    key_column: str = "child_key"  # what pseudonymising replaces


PSEUDONYM_KEY_ENV = "MTP_PSEUDONYM_KEY"
PSEUDONYM_KEY_MIN = 32


class NoPseudonymKey(Exception):
    """The secret that keys pseudonyms is not set (or too short): nothing is erased without it."""


def pseudonym_key() -> bytes:
    """The secret pseudonyms are keyed with, from the environment: kept outside the database, so
    that whoever reads the database and knows a child's reference cannot tell which records were its."""
    value = os.environ.get(PSEUDONYM_KEY_ENV, "")
    if len(value) < PSEUDONYM_KEY_MIN:
        raise NoPseudonymKey(
            f"set {PSEUDONYM_KEY_ENV} to a secret of at least {PSEUDONYM_KEY_MIN} characters, the same "
            "for every erasure (`openssl rand -base64 48`), kept outside the database"
        )
    return value.encode()


def pseudonym(child_key: str, key: bytes | None = None) -> str:
    """What stands for an erased child where a record must stay: the same for the same child under the
    same secret, and nothing anyone can recompute from the child's reference without it (HMAC-SHA-256)."""
    digest = hmac.new(key or pseudonym_key(), child_key.encode(), hashlib.sha256).hexdigest()
    return "erased:" + digest[:24]


async def export(conn: asyncpg.Connection, places: Sequence[ChildTable], child_key: str) -> dict[str, Any]:
    """Every row about the child in these tables, as JSON-ready values, by table."""
    child_ref = child_key.split("/", 1)[1]
    found: dict[str, Any] = {}
    for place in places:
        rows = await conn.fetch(
            f"SELECT row_to_json(t)::text AS row FROM {place.table} t WHERE {place.where}",  # noqa: S608  # names from the stores
            *_arguments(place, child_key, child_ref),
        )
        if rows:
            found[place.table] = [json.loads(row["row"]) for row in rows]
    return found


async def erase(conn: asyncpg.Connection, places: Sequence[ChildTable], child_key: str) -> dict[str, int]:
    """Delete the child's rows (or pseudonymise them where a record must stay), in the caller's
    transaction; return how many rows each table lost or changed. Erasing again changes nothing."""
    child_ref = child_key.split("/", 1)[1]
    counts: dict[str, int] = {}
    for place in places:
        arguments = _arguments(place, child_key, child_ref)
        if place.erase == "delete":
            sql = f"DELETE FROM {place.table} t WHERE {place.where}"  # noqa: S608  # names from the stores
        else:
            arguments.append(pseudonym(child_key))
            sql = f"UPDATE {place.table} t SET {place.key_column} = ${len(arguments)} WHERE {place.where}"  # noqa: S608
        status = await conn.execute(sql, *arguments)
        changed = int(status.split()[-1])
        if changed:
            counts[place.table] = changed
    return counts


def _arguments(place: ChildTable, child_key: str, child_ref: str) -> list[str]:
    return [child_key, child_ref] if "$2" in place.where else [child_key]


Audit = Callable[[asyncpg.Connection, str, str, str], Awaitable[None]]  # (conn, action, child_key, by)


def command(service: str, tables: Sequence[ChildTable], audit: Audit | None = None) -> typer.Typer:
    """A service's own `export` and `erase` commands over its tables (`mtp child` runs every
    service's and puts the answers together), reading MTP_DATABASE_URL."""
    app = typer.Typer(help=f"A child's data in the {service}'s tables.", add_completion=False)

    async def run(dsn: str, child_key: str, action: str, by: str) -> dict[str, Any]:
        conn = await asyncpg.connect(dsn)
        try:
            async with conn.transaction():
                if action == "export":
                    found = await export(conn, tables, child_key)
                else:
                    found = await erase(conn, tables, child_key)
                if audit is not None:
                    await audit(conn, action, child_key, by)
                return found
        finally:
            await conn.close()

    def answer(child_key: str, action: str, by: str, dsn: str) -> None:
        try:
            found = asyncio.run(run(dsn, child_key, action, by))
        except (OSError, asyncpg.PostgresError) as exc:
            typer.echo(
                f"{service}: cannot reach the database (MTP_DATABASE_URL): {type(exc).__name__}", err=True
            )
            raise typer.Exit(2) from None
        typer.echo(json.dumps({service: found}, default=str))

    Dsn = Annotated[str, typer.Option(envvar="MTP_DATABASE_URL", help="PostgreSQL DSN.")]
    Key = Annotated[str, typer.Argument(help="The child's key: AUTHORITY/CHILD_REF.")]
    By = Annotated[str, typer.Option(help="Who asks (kept in the audit trail).")]

    @app.command("export")
    def export_command(child_key: Key, by: By, database_url: Dsn) -> None:
        """Print every row about the child, by table, as JSON."""
        require_audited("child:export")
        answer(child_key, "export", by, database_url)

    @app.command("erase")
    def erase_command(
        child_key: Key, reason: Annotated[str, typer.Option()], by: By, database_url: Dsn
    ) -> None:
        """Delete the child's rows (pseudonymise the audit trail's); print how many, by table."""
        if not REASON.match(reason):
            raise typer.BadParameter(
                "a code in lower case, digits and _ (no free text)", param_hint="--reason"
            )
        require_audited("child:erase")
        try:
            pseudonym_key()
        except NoPseudonymKey as exc:
            typer.echo(f"{service}: not erased: {exc}", err=True)
            raise typer.Exit(2) from None
        answer(child_key, f"erase:{reason}", by, database_url)

    return app
