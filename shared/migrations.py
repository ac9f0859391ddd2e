"""Numbered SQL migrations per service schema, applied at start-up under an advisory lock."""

import re
from pathlib import Path
from typing import Any

import asyncpg
import structlog

log = structlog.get_logger()
_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")


def migration_files(folder: Path) -> list[tuple[int, Path]]:
    """Return the `NNN_name.sql` files of a folder in order; refuse duplicates and strays."""
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


async def apply_migrations(
    pool: "asyncpg.Pool[Any]", schema: str, folder: Path, *, builtin: dict[int, tuple[str, str]] | None = None
) -> list[int]:
    """Create the schema if needed and apply the migrations not yet applied; return their numbers.

    `builtin` adds migrations defined in code (number -> (name, SQL)), such as the shared outbox table.
    """
    applied_now: list[int] = []
    async with pool.acquire() as conn:
        # One applier at a time, whichever instance of whichever service starts first.
        await conn.execute("SELECT pg_advisory_lock(hashtext($1))", f"migrations:{schema}")
        try:
            await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            await conn.execute(
                f"CREATE TABLE IF NOT EXISTS {schema}.schema_migrations ("
                " version integer PRIMARY KEY, name text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {
                row["version"] for row in await conn.fetch(f"SELECT version FROM {schema}.schema_migrations")
            }
            steps = {version: (path.name, path.read_text()) for version, path in migration_files(folder)}
            for version, step in (builtin or {}).items():
                if version in steps:
                    raise ValueError(f"{folder}: migration {version} is reserved")
                steps[version] = step
            for version in sorted(steps):
                if version in done:
                    continue
                name, sql = steps[version]
                async with conn.transaction():
                    await conn.execute(sql)
                    await conn.execute(
                        f"INSERT INTO {schema}.schema_migrations (version, name) VALUES ($1, $2)",
                        version,
                        name,
                    )
                applied_now.append(version)
                log.info("migration_applied", schema=schema, version=version, migration=name)
        finally:
            await conn.execute("SELECT pg_advisory_unlock(hashtext($1))", f"migrations:{schema}")
    return applied_now
