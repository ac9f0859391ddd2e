"""Where the tests' broker and database come from: the MTP_* servers given, else Docker, else embedded."""

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Servers:
    """A Kafka-protocol broker and a PostgreSQL server for the whole test session."""

    bootstrap: str
    admin_dsn: str  # a DSN with rights to create databases
    kind: str
    _stops: list[Callable[[], None]] = field(default_factory=list)
    _restart_database: Callable[[], None] | None = None

    def restart_database(self) -> None:
        """Restart PostgreSQL (embedded, container); for a server we were only given, cut every
        connection to it instead, which is what its clients see of a restart."""
        if self._restart_database is not None:
            self._restart_database()
            return
        import asyncio

        import asyncpg

        async def terminate() -> None:
            conn = await asyncpg.connect(self.admin_dsn)
            try:
                await conn.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE pid <> pg_backend_pid() AND datname LIKE 't_%'"
                )
            finally:
                await conn.close()

        asyncio.run(terminate())

    def stop(self) -> None:
        for stop in reversed(self._stops):
            stop()


def docker_answers() -> bool:
    """Whether a Docker engine is reachable (not merely a docker client installed)."""
    if shutil.which("docker") is None:
        return False
    try:
        probe = subprocess.run(["docker", "info"], capture_output=True, timeout=5, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


def start_servers() -> Servers:
    """Start (or find) the broker and the database, once per test session."""
    bootstrap = os.environ.get("MTP_KAFKA_BOOTSTRAP")
    dsn = os.environ.get("MTP_DATABASE_URL")
    stops: list[Callable[[], None]] = []
    restart: Callable[[], None] | None = None
    kind = "given"
    if not (bootstrap and dsn) and docker_answers():
        kind = "testcontainers"
        if not bootstrap:
            from testcontainers.kafka import KafkaContainer

            kafka = KafkaContainer("confluentinc/cp-kafka:7.7.1").with_kraft()
            kafka.start()
            stops.append(kafka.stop)
            bootstrap = kafka.get_bootstrap_server()
        if not dsn:
            from testcontainers.postgres import PostgresContainer

            postgres = PostgresContainer("postgres:17", driver=None)
            postgres.start()
            stops.append(postgres.stop)
            dsn = postgres.get_connection_url()
            restart = lambda: postgres.get_wrapped_container().restart(timeout=10)  # noqa: E731
    if not (bootstrap and dsn):
        from tools.embedded import start_postgres, start_tansu

        kind = "embedded"
        if not bootstrap:
            tansu = start_tansu()
            stops.append(tansu.stop)
            bootstrap = tansu.bootstrap
        if not dsn:
            folder = Path(tempfile.mkdtemp(prefix="mtp-tests-"))
            postgres_server = start_postgres(folder / "pg", temporary=True)
            stops.append(postgres_server.stop)
            dsn = postgres_server.dsn
            restart = postgres_server.restart
    return Servers(bootstrap=bootstrap, admin_dsn=dsn, kind=kind, _stops=stops, _restart_database=restart)
