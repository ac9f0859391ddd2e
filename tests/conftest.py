"""Fixtures: one broker and one database server per session; a fresh database and topics per test."""

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

from services.intake.store.migrate import MIGRATIONS as INTAKE_MIGRATIONS
from services.notifier.store.migrate import MIGRATIONS as NOTIFIER_MIGRATIONS
from services.scheduler.store.migrate import MIGRATIONS as SCHEDULER_MIGRATIONS
from shared import topics
from shared.kafka import create_topics
from shared.migrations import apply_migrations, grant_service_role
from shared.outbox import outbox_migrations
from tests.directory_factory import DirectoryFactory
from tests.servers import Servers, start_servers
from tools.database_roles import login_roles, service_logins
from tools.embedded import database_dsn


@pytest.fixture(scope="session")
def servers() -> Iterator[Servers]:
    found = start_servers()
    try:
        yield found
    finally:
        found.stop()


@dataclass(frozen=True)
class Place:
    """Where one test's services meet: its own database and its own topic namespace."""

    bootstrap: str
    database_url: str
    namespace: str

    def env(self, directory: Path, **extra: str) -> dict[str, str]:
        """Environment for a service process of this test."""
        return {
            **os.environ,
            "MTP_KAFKA_BOOTSTRAP": self.bootstrap,
            "MTP_DATABASE_URL": self.database_url,
            "MTP_TOPIC_NAMESPACE": self.namespace,
            "MTP_DIRECTORY": str(directory),
            "MTP_KAFKA_SESSION_TIMEOUT_MS": "6000",
            "MTP_WEBHOOK_ALLOW_HTTP_LOOPBACK": "true",
            "MTP_LOG_LEVEL": "info",
            **extra,
        }

    def settings_kwargs(self, directory: Path) -> dict[str, object]:
        """Keyword arguments for an in-process service's settings."""
        return {
            "kafka_bootstrap": self.bootstrap,
            "database_url": self.database_url,
            "topic_namespace": self.namespace,
            "directory": directory,
            "kafka_session_timeout_ms": 6000,
        }


@pytest.fixture
async def place(servers: Servers) -> AsyncIterator[Place]:
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(servers.admin_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    namespace = f"{name}."
    await create_topics(servers.bootstrap, topics.all_with_dlq(namespace), partitions=2)
    yield Place(servers.bootstrap, database_dsn(servers.admin_dsn, name), namespace)
    admin = await asyncpg.connect(servers.admin_dsn)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def least_privilege(place: Place) -> dict[str, str]:
    """Each service's own database login for this test's database, as `mtp run` and compose have them:
    a role per service, the schemas owned by another role that applied the migrations and granted each
    service its rows (intake's audit trail append-only). Returns each service's DSN."""
    owner = (await login_roles(place.database_url, {OWNER: True}))[OWNER]
    logins = await service_logins(place.database_url, prefix=ROLE_PREFIX)
    conn = await asyncpg.connect(owner)
    try:
        for schema, folder, append_only in SCHEMAS:
            await apply_migrations(conn, schema, folder, builtin=outbox_migrations(schema))
            await grant_service_role(conn, schema, f"{ROLE_PREFIX}{schema}", append_only=append_only)
    finally:
        await conn.close()
    return logins


# Roles belong to the whole server: each test process (pytest-xdist's worker, if any) has names of its
# own, so two processes sharing one server (MTP_DATABASE_URL) never change each other's passwords.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
ROLE_PREFIX = f"mtp_test_{_WORKER}_" if _WORKER else "mtp_test_"
OWNER = f"{ROLE_PREFIX}owner"
SCHEMAS = (
    ("intake", INTAKE_MIGRATIONS, ("audit",)),
    ("scheduler", SCHEDULER_MIGRATIONS, ()),
    ("notifier", NOTIFIER_MIGRATIONS, ()),
)


@pytest.fixture
def directory(tmp_path: Path) -> DirectoryFactory:
    return DirectoryFactory(tmp_path)
