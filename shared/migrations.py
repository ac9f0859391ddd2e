"""Numbered SQL migrations per service schema, and the privileges each service's own role gets.

A service applies its schema's pending migrations at start-up under an advisory lock, when its role
may (it owns the schema: one role for everything, as in the tests). Where each service connects as a
role of its own, the schema's owner applies them beforehand (`python -m services.<name>.store.migrate`,
or `mtp migrate` for all three) and grants the service's role what it needs and no more: reading and
writing its own tables, nothing in any other schema, no DDL, and no UPDATE or DELETE on the tables
kept append-only (intake's audit trail). A service that finds migrations pending which its role
cannot apply stops, saying which and how to apply them.

Each applied migration's SHA-256 is recorded beside it; a service whose migration files differ from what
was applied (a file edited after the fact) refuses to start; one older than its database (an instance
of the previous release, mid-deploy) starts and says so, migrations only adding. `mtp migrate --status`
shows, per migration, whether it is applied, pending, different or from a newer release.
"""

import asyncio
import hashlib
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import asyncpg
import structlog
import typer

log = structlog.get_logger()
_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")
_ROLE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class MigrationsNeeded(RuntimeError):
    """Migrations are pending and this connection's role may not apply them."""

    def __init__(self, schema: str, versions: Sequence[int]) -> None:
        numbers = ", ".join(str(v) for v in versions)
        super().__init__(
            f"schema {schema} needs migrations {numbers}, which this service's database role may not "
            f"apply: apply them as the schema's owner first (`python -m services.{schema}.store.migrate`, "
            "or `mtp migrate` for every service)"
        )
        self.schema, self.versions = schema, list(versions)


class MigrationsDiffer(RuntimeError):
    """The migrations applied to a schema are not the ones this code has."""

    def __init__(self, schema: str, problems: Sequence[str]) -> None:
        super().__init__(
            f"schema {schema} does not match this release's migrations: {'; '.join(problems)}. Run the "
            "release the database was migrated with, or restore the files (`mtp migrate --status` shows each)"
        )
        self.schema, self.problems = schema, list(problems)


def checksum(sql: str) -> str:
    """What identifies a migration's text."""
    return hashlib.sha256(sql.encode()).hexdigest()


def migration_files(folder: Path) -> list[tuple[int, Path]]:
    """Return the `NNN_name.sql` files of a folder in order; refuse duplicates, strays, and a folder
    that is not there (a schema with no migrations is a wrong path, not an empty history)."""
    if not folder.is_dir():
        raise ValueError(f"{folder}: no such migrations folder")
    found: list[tuple[int, Path]] = []
    for path in sorted(folder.glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise ValueError(f"{path}: migration files are named NNN_name.sql")
        found.append((int(match.group(1)), path))
    versions = [version for version, _ in found]
    if len(versions) != len(set(versions)):
        raise ValueError(f"{folder}: two migrations share a number")
    return found


def _steps(folder: Path, builtin: dict[int, tuple[str, str]] | None) -> dict[int, tuple[str, str]]:
    steps = {version: (path.name, path.read_text()) for version, path in migration_files(folder)}
    for version, step in (builtin or {}).items():
        if version in steps:
            raise ValueError(f"{folder}: migration {version} is reserved")
        steps[version] = step
    return steps


async def _applied(conn: asyncpg.Connection, schema: str) -> dict[int, str | None] | None:
    """The versions applied so far with their recorded checksums (None where applied before checksums
    were kept); None when the schema has no migration record yet."""
    if await conn.fetchval("SELECT to_regclass($1)", f"{schema}.schema_migrations") is None:
        return None
    rows = await conn.fetch(
        f"SELECT version, to_jsonb(m)->>'checksum' AS checksum FROM {schema}.schema_migrations m"  # our schema names
    )
    return {row["version"]: row["checksum"] for row in rows}


def _differences(schema: str, steps: dict[int, tuple[str, str]], done: dict[int, str | None]) -> list[str]:
    found = [
        f"migration {version} ({steps[version][0]}) differs from the one applied"
        for version, recorded in sorted(done.items())
        if version in steps and recorded is not None and recorded != checksum(steps[version][1])
    ]
    return found


def _newer(steps: dict[int, tuple[str, str]], done: dict[int, str | None]) -> list[int]:
    """Migrations applied by a newer release (an instance of the older one still starting mid-deploy)."""
    return sorted(set(done) - set(steps))


async def migration_status(
    conn: asyncpg.Connection, schema: str, folder: Path, *, builtin: dict[int, tuple[str, str]] | None = None
) -> list[tuple[int, str, str]]:
    """Each migration (number, name, state): `applied`, `applied (checksum not recorded)`, `differs`,
    `pending`, or `not in this release`."""
    steps = _steps(folder, builtin)
    done = await _applied(conn, schema) or {}
    found = []
    for version in sorted(set(steps) | set(done)):
        if version not in steps:
            found.append((version, "?", "not in this release"))
            continue
        name, sql = steps[version]
        if version not in done:
            state = "pending"
        elif done[version] is None:
            state = "applied (checksum not recorded)"
        else:
            state = "applied" if done[version] == checksum(sql) else "differs"
        found.append((version, name, state))
    return found


async def apply_migrations(
    pool: "asyncpg.Pool[Any] | asyncpg.Connection",
    schema: str,
    folder: Path,
    *,
    builtin: dict[int, tuple[str, str]] | None = None,
) -> list[int]:
    """Create the schema if needed and apply the migrations not yet applied; return their numbers.

    `builtin` adds migrations defined in code (number -> (name, SQL)), such as the shared outbox table.
    With nothing pending it changes nothing (so a role that may not change the schema can call it).
    """
    steps = _steps(folder, builtin)
    if isinstance(pool, asyncpg.Connection):
        return await _apply(pool, schema, steps)
    async with pool.acquire() as conn:
        return await _apply(conn, schema, steps)


async def _apply(conn: asyncpg.Connection, schema: str, steps: dict[int, tuple[str, str]]) -> list[int]:
    done = await _applied(conn, schema)
    if done is not None:
        differences = _differences(schema, steps, done)
        if differences:
            log.error("migrations_differ", schema=schema, problems=differences)
            raise MigrationsDiffer(schema, differences)
        if _newer(steps, done):  # migrations only add, so an older release still works on it
            log.warning("schema_newer_than_release", schema=schema, versions=_newer(steps, done))
        if not set(steps) - set(done):
            await _record_checksums(
                conn, schema, steps, [v for v, recorded in done.items() if recorded is None]
            )
            return []
    applied_now: list[int] = []
    # One applier at a time, whichever instance of whichever service starts first.
    await conn.execute("SELECT pg_advisory_lock(hashtext($1))", f"migrations:{schema}")
    try:
        try:
            if done is None:
                await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
                await conn.execute(
                    f"CREATE TABLE IF NOT EXISTS {schema}.schema_migrations ("
                    " version integer PRIMARY KEY, name text NOT NULL,"
                    " applied_at timestamptz NOT NULL DEFAULT now(), checksum text)"
                )
            await conn.execute(
                f"ALTER TABLE {schema}.schema_migrations ADD COLUMN IF NOT EXISTS checksum text"
            )
            done = await _applied(conn, schema) or {}
            await _record_checksums(
                conn, schema, steps, [v for v, recorded in done.items() if recorded is None]
            )
            for version in sorted(steps):
                if version in done:
                    continue
                name, sql = steps[version]
                async with conn.transaction():
                    await conn.execute(sql)
                    await conn.execute(
                        f"INSERT INTO {schema}.schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                        version,
                        name,
                        checksum(sql),
                    )
                applied_now.append(version)
                log.info("migration_applied", schema=schema, version=version, migration=name)
        except asyncpg.InsufficientPrivilegeError:
            missing = sorted(set(steps) - set(done or {}))
            log.error("migrations_needed", schema=schema, versions=missing)
            raise MigrationsNeeded(schema, missing) from None
    finally:
        await conn.execute("SELECT pg_advisory_unlock(hashtext($1))", f"migrations:{schema}")
    return applied_now


async def _record_checksums(
    conn: asyncpg.Connection, schema: str, steps: dict[int, tuple[str, str]], versions: Sequence[int]
) -> None:
    """Record the checksums of migrations applied before checksums were kept (the files as they are now).
    Only the schema's owner may: a service's own role leaves them for `mtp migrate`."""
    if not versions:
        return
    try:
        await conn.execute(f"ALTER TABLE {schema}.schema_migrations ADD COLUMN IF NOT EXISTS checksum text")
        await conn.executemany(
            f"UPDATE {schema}.schema_migrations SET checksum = $2 WHERE version = $1 AND checksum IS NULL",  # our schema names
            [(version, checksum(steps[version][1])) for version in versions if version in steps],
        )
    except asyncpg.InsufficientPrivilegeError:
        log.info("migration_checksums_left_to_the_owner", schema=schema, versions=list(versions))


async def grant_service_role(
    conn: asyncpg.Connection, schema: str, role: str, *, append_only: Sequence[str] = ()
) -> None:
    """Give a service's role its own schema's rows and nothing more: no DDL, nothing of any other
    schema, and only SELECT and INSERT on the `append_only` tables. Run by the schema's owner after
    every migration (it covers the tables those added)."""
    if not _ROLE.match(role):
        raise ValueError(f"{role!r} is not a role name this system uses (lower case, digits, _)")
    async with conn.transaction():
        await conn.execute(f"REVOKE ALL ON SCHEMA {schema} FROM PUBLIC")
        await conn.execute(f"GRANT USAGE ON SCHEMA {schema} TO {role}")
        await conn.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role}")
        await conn.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {role}")  # no setval
        await conn.execute(f"REVOKE ALL ON ALL FUNCTIONS IN SCHEMA {schema} FROM PUBLIC")
        await conn.execute(f"GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA {schema} TO {role}")
        # What records what was done is never rewritten by the service that writes it.
        for table in ("schema_migrations", *append_only):
            await conn.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {schema}.{table} FROM {role}")
        await conn.execute(f"REVOKE INSERT ON {schema}.schema_migrations FROM {role}")


def migrate_command(
    schema: str,
    folder: Path,
    *,
    builtin: dict[int, tuple[str, str]] | None = None,
    append_only: Sequence[str] = (),
) -> typer.Typer:
    """A service's own `migrate` command: apply its schema's migrations as the owner (MTP_DATABASE_URL),
    then grant the service's role (`--grant`) its rows."""
    app = typer.Typer(add_completion=False)

    async def run(dsn: str, grant: str | None) -> list[int]:
        conn = await asyncpg.connect(dsn)
        try:
            applied = await apply_migrations(conn, schema, folder, builtin=builtin)
            if grant:
                await grant_service_role(conn, schema, grant, append_only=append_only)
            return applied
        finally:
            await conn.close()

    async def status(dsn: str) -> list[tuple[int, str, str]]:
        conn = await asyncpg.connect(dsn)
        try:
            return await migration_status(conn, schema, folder, builtin=builtin)
        finally:
            await conn.close()

    @app.command(
        help=f"Apply the {schema} schema's migrations as its owner (MTP_DATABASE_URL); with --grant, "
        "give the service's own role its rows and nothing more."
    )
    def migrate(
        database_url: Annotated[
            str, typer.Option(envvar="MTP_DATABASE_URL", help="DSN of the role that owns the schema.")
        ],
        grant: Annotated[
            str | None,
            typer.Option(help="The service's own database role, to be given its rows (and nothing else)."),
        ] = None,
        show_status: Annotated[
            bool,
            typer.Option(
                "--status", help="Change nothing: show each migration, applied, pending or different."
            ),
        ] = False,
    ) -> None:
        try:
            if show_status:
                for version, name, state in asyncio.run(status(database_url)):
                    typer.echo(f"{schema}: {version:>3} {name:<32} {state}")
                return
            applied = asyncio.run(run(database_url, grant))
        except MigrationsDiffer as exc:
            typer.echo(f"{schema}: {exc}", err=True)
            raise typer.Exit(2) from None
        except (OSError, asyncpg.PostgresError) as exc:
            typer.echo(f"{schema}: cannot migrate: {type(exc).__name__}: {exc}", err=True)
            raise typer.Exit(2) from None
        done = ", ".join(str(v) for v in applied) or "none pending"
        typer.echo(f"{schema}: migrations applied: {done}" + (f"; rows granted to {grant}" if grant else ""))

    return app
