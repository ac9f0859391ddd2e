"""Fixtures: one broker and one database server per session; a fresh database and topics per test."""

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

from shared import topics
from shared.kafka import create_topics
from tests.directory_factory import DirectoryFactory
from tests.servers import Servers, start_servers
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


@pytest.fixture
def directory(tmp_path: Path) -> DirectoryFactory:
    return DirectoryFactory(tmp_path)
