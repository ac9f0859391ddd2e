"""Least privilege, enforced by PostgreSQL: each service's role reads and writes its own schema only,
changes no schema, and cannot rewrite or remove the audit trail; the schemas' owner applies the
migrations (`mtp migrate`), and a service whose role may not apply a pending one refuses to start."""

import asyncio
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from services.intake.store.migrate import MIGRATIONS as INTAKE_MIGRATIONS
from shared.migrations import MigrationsDiffer, MigrationsNeeded, apply_migrations, migration_status
from shared.outbox import outbox_migrations
from tests.conftest import OWNER, ROLE_PREFIX, Place, least_privilege
from tools.database_roles import login_roles, service_logins

REFUSED = asyncpg.InsufficientPrivilegeError


@pytest.fixture
async def logins(place: Place) -> dict[str, str]:
    """The owner has applied every migration and granted each service's role its rows (as `mtp migrate`
    does: the first test runs that command itself)."""
    services = await least_privilege(place)
    owner = (await login_roles(place.database_url, {OWNER: True}))[OWNER]
    return {"owner": owner, **services}


async def test_mtp_migrate_applies_every_services_migrations_as_the_owner_and_grants_each_role(
    place: Place, tmp_path: Path
) -> None:
    owner = (await login_roles(place.database_url, {OWNER: True}))[OWNER]
    await service_logins(place.database_url, prefix=ROLE_PREFIX)
    done = await asyncio.to_thread(  # our own command line
        subprocess.run,
        [
            sys.executable, "-m", "tools.cli", "migrate", "--data-dir", str(tmp_path),
            "--intake-role", f"{ROLE_PREFIX}intake",
            "--scheduler-role", f"{ROLE_PREFIX}scheduler",
            "--notifier-role", f"{ROLE_PREFIX}notifier",
        ],
        env={**os.environ, "MTP_DATABASE_URL": owner},
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (
        f"intake: migrations applied: 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 900; rows granted to {ROLE_PREFIX}intake"
        in done.stdout
    )
    assert (
        f"scheduler: migrations applied: 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 900; rows granted to {ROLE_PREFIX}scheduler"
        in done.stdout
    )
    conn = await asyncpg.connect(owner)
    try:
        granted = await conn.fetchval(
            "SELECT has_table_privilege($1, 'intake.events', 'INSERT')", f"{ROLE_PREFIX}intake"
        )
    finally:
        await conn.close()
    assert granted


@pytest.fixture
async def as_intake(logins: dict[str, str]) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(logins["intake"])
    yield conn
    await conn.close()


async def _audit(conn: asyncpg.Connection, at: datetime) -> None:
    await conn.execute(
        "INSERT INTO intake.audit (at, org_id, api_key_id, action, child_key) "
        "VALUES ($1, 'cardiff', 'k1', 'read:child', 'W06000015/C-1')",
        at,
    )


async def test_intake_may_add_to_the_audit_trail_but_never_change_or_remove_it(
    as_intake: asyncpg.Connection,
) -> None:
    now = datetime.now(UTC)
    await _audit(as_intake, now - timedelta(days=400))
    await _audit(as_intake, now)
    with pytest.raises(REFUSED):
        await as_intake.execute("UPDATE intake.audit SET org_id = 'someone-else'")
    with pytest.raises(REFUSED):
        await as_intake.execute("DELETE FROM intake.audit")
    with pytest.raises(REFUSED):
        await as_intake.execute("TRUNCATE intake.audit")
    # Its one way to remove records is the retention function, for records over a year old only.
    with pytest.raises(REFUSED, match="at least 365 days"):
        await as_intake.fetch("SELECT intake.purge_audit($1, 100)", now)
    with pytest.raises(asyncpg.InvalidParameterValueError):  # a batch without a bound
        await as_intake.fetch("SELECT intake.purge_audit($1, NULL)", now - timedelta(days=365))
    with pytest.raises(REFUSED):  # nor can it move the numbering, to fake gaps or collisions
        await as_intake.fetchval("SELECT setval('intake.audit_seq_seq', 1)")
    removed = await as_intake.fetch("SELECT intake.purge_audit($1, 100)", now - timedelta(days=365))
    assert len(removed) == 1
    assert await as_intake.fetchval("SELECT count(*) FROM intake.audit") == 1


async def test_intake_changes_no_schema_and_cannot_fake_a_migration(as_intake: asyncpg.Connection) -> None:
    with pytest.raises(REFUSED):
        await as_intake.execute("CREATE TABLE intake.extra (id int)")
    with pytest.raises(REFUSED):
        await as_intake.execute("ALTER TABLE intake.audit ADD COLUMN note text")
    with pytest.raises(REFUSED):
        await as_intake.execute("INSERT INTO intake.schema_migrations (version, name) VALUES (6, 'x')")
    with pytest.raises(REFUSED):
        await as_intake.execute("DELETE FROM intake.schema_migrations")


@pytest.mark.parametrize(
    ("service", "others"),
    [
        ("intake", ["scheduler.facts", "notifier.deliveries"]),
        ("scheduler", ["intake.audit", "intake.events", "notifier.deliveries"]),
        ("notifier", ["scheduler.facts", "intake.audit"]),
    ],
)
async def test_no_service_reads_or_writes_another_services_tables(
    logins: dict[str, str], service: str, others: list[str]
) -> None:
    conn = await asyncpg.connect(logins[service])
    try:
        # its own rows it may read and write
        await conn.execute(f"DELETE FROM {service}.outbox WHERE false")  # noqa: S608  # fixed names
        for table in others:
            with pytest.raises(REFUSED):
                await conn.fetch(f"SELECT * FROM {table} LIMIT 1")  # noqa: S608  # fixed names
            with pytest.raises(REFUSED):
                await conn.execute(f"DELETE FROM {table}")  # noqa: S608  # fixed names
    finally:
        await conn.close()


async def test_a_service_whose_role_may_not_apply_a_pending_migration_says_so(
    as_intake: asyncpg.Connection, tmp_path: Path
) -> None:
    # nothing pending: the service's role starts without touching the schema
    assert (
        await apply_migrations(as_intake, "intake", INTAKE_MIGRATIONS, builtin=outbox_migrations("intake"))
        == []
    )
    newer = tmp_path / "migrations"
    shutil.copytree(INTAKE_MIGRATIONS, newer)
    following = max(int(f.name[:3]) for f in INTAKE_MIGRATIONS.glob("[0-9][0-9][0-9]_*.sql")) + 1
    (newer / f"{following:03d}_newer.sql").write_text("CREATE TABLE intake.newer (id int);")
    with pytest.raises(MigrationsNeeded, match=rf"needs migrations {following}.*mtp migrate") as refused:
        await apply_migrations(as_intake, "intake", newer, builtin=outbox_migrations("intake"))
    assert refused.value.versions == [following]


def _status(owner: str, tmp_path: Path) -> dict[tuple[str, int], tuple[str, str]]:
    """`mtp migrate --status`, read back: (schema, number) -> (file, state)."""
    done = subprocess.run(  # our own command line
        [sys.executable, "-m", "tools.cli", "migrate", "--status", "--data-dir", str(tmp_path)],
        env={**os.environ, "MTP_DATABASE_URL": owner},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    rows = [line.split(None, 3) for line in done.stdout.splitlines()]
    return {(schema.rstrip(":"), int(number)): (name, state) for schema, number, name, state in rows}


async def test_migrate_status_shows_each_migration_a_file_changed_after_it_was_applied_stops_the_service_and_the_owner_records_missing_checksums(
    logins: dict[str, str], as_intake: asyncpg.Connection, tmp_path: Path
) -> None:
    status = await asyncio.to_thread(_status, logins["owner"], tmp_path)
    assert status["intake", 3] == ("003_police_reports.sql", "applied")
    assert {state for _, state in status.values()} == {"applied"}
    assert {schema for schema, _ in status} == {"intake", "scheduler", "notifier"}

    # The same migrations, one of them edited after it was applied: the service refuses to start.
    edited = tmp_path / "edited"
    shutil.copytree(INTAKE_MIGRATIONS, edited)
    police = edited / "003_police_reports.sql"
    police.write_text(police.read_text() + "\n-- changed afterwards\n")
    with pytest.raises(MigrationsDiffer, match=r"migration 3 \(003_police_reports\.sql\) differs"):
        await apply_migrations(as_intake, "intake", edited, builtin=outbox_migrations("intake"))
    # A release older than its database (an instance of the last release, mid-deploy) still starts.
    (edited / "003_police_reports.sql").write_text(police.read_text().replace("-- changed afterwards\n", ""))
    older = tmp_path / "older"
    shutil.copytree(INTAKE_MIGRATIONS, older)
    newest = max(older.glob("[0-9][0-9][0-9]_*.sql"))
    newest.unlink()
    assert await apply_migrations(as_intake, "intake", older, builtin=outbox_migrations("intake")) == []
    status_older = await migration_status(as_intake, "intake", older, builtin=outbox_migrations("intake"))
    assert (int(newest.name[:3]), "?", "not in this release") in status_older

    # A database migrated before checksums were kept: the service starts (nothing to compare for those
    # migrations) and may not record them itself; the owner's next migrate does.
    owner = await asyncpg.connect(logins["owner"])
    try:
        await owner.execute("UPDATE intake.schema_migrations SET checksum = NULL WHERE version <= 2")
    finally:
        await owner.close()
    assert (
        await apply_migrations(as_intake, "intake", INTAKE_MIGRATIONS, builtin=outbox_migrations("intake"))
        == []
    )
    status_now = await migration_status(
        as_intake, "intake", INTAKE_MIGRATIONS, builtin=outbox_migrations("intake")
    )
    assert (2, "002_read_model.sql", "applied (checksum not recorded)") in status_now
    owner = await asyncpg.connect(logins["owner"])
    try:
        assert (
            await apply_migrations(owner, "intake", INTAKE_MIGRATIONS, builtin=outbox_migrations("intake"))
            == []
        )
    finally:
        await owner.close()
    status_now = await migration_status(
        as_intake, "intake", INTAKE_MIGRATIONS, builtin=outbox_migrations("intake")
    )
    assert {state for _, _, state in status_now} == {"applied"}
