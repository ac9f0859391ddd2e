"""The whole path with every connection to the broker and the database encrypted and checked: the
services verify both servers' certificates against a CA made for this test, and neither server can
be reached in plain text."""

import asyncio
import os
import ssl
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError

from shared import topics
from shared.kafka import client_options, create_topics
from shared.settings import CommonSettings
from tests.conftest import Place
from tests.directory_factory import DirectoryFactory, key_for
from tests.e2e.stack import Stack, running_stack, service_env
from tests.events import report, returned
from tests.kafka_reader import poll
from tests.receiver import Receiver
from tests.tls import (
    Certificates,
    TlsFront,
    database_address,
    free_port_pair,
    make_certificates,
    tls_dsn,
)
from tools.embedded import free_port, start_tansu

POLICE = {
    "authorization": f"Bearer {key_for('south-wales-police')}",
    "content-type": "application/cloudevents+json",
}


@pytest.fixture
def certificates(tmp_path: Path) -> Certificates:
    return make_certificates(tmp_path / "ca")


@pytest.fixture
async def database(place: Place, certificates: Certificates) -> AsyncIterator[tuple[str, TlsFront]]:
    """This test's database, reachable only through TLS; the DSN the services are given."""
    port = free_port()
    with TlsFront(port, database_address(place.database_url), certificates, postgres=True) as front:
        yield tls_dsn(place.database_url, port, certificates.ca), front


@pytest.fixture
async def broker(certificates: Certificates, tmp_path: Path) -> AsyncIterator[CommonSettings]:
    """Tansu behind TLS; the settings every client of the system is given to reach it."""
    plain, secure = free_port_pair()
    tansu = await asyncio.to_thread(start_tansu, plain, tmp_path / "tansu.log", advertised_port=secure)
    try:
        with TlsFront(secure, ("127.0.0.1", plain), certificates):
            settings = CommonSettings(
                kafka_bootstrap=f"127.0.0.1:{secure}",
                kafka_security_protocol="SSL",
                kafka_ssl_cafile=certificates.ca,
            )
            await create_topics(
                settings.kafka_bootstrap, topics.all_with_dlq(), 2, client=client_options(settings)
            )
            yield settings
    finally:
        await asyncio.to_thread(tansu.stop)


@pytest.fixture
def tls_stack(
    broker: CommonSettings,
    database: tuple[str, TlsFront],
    certificates: Certificates,
    directory: DirectoryFactory,
    receiver: Receiver,
    tmp_path: Path,
) -> Iterator[Stack]:
    env = service_env(
        {
            **os.environ,
            "MTP_KAFKA_BOOTSTRAP": broker.kafka_bootstrap,
            "MTP_KAFKA_SECURITY_PROTOCOL": "SSL",
            "MTP_KAFKA_SSL_CAFILE": str(certificates.ca),
            "MTP_DATABASE_URL": database[0],
            "MTP_DIRECTORY": str(directory.write(receiver.url)),
            "MTP_KAFKA_SESSION_TIMEOUT_MS": "6000",
            "MTP_WEBHOOK_ALLOW_HTTP_LOOPBACK": "true",
        }
    )
    (tmp_path / "logs").mkdir()
    with running_stack(env, tmp_path / "logs") as running:
        yield running


async def test_a_return_reaches_the_provider_over_tls_to_the_broker_and_the_database(
    tls_stack: Stack,
    receiver: Receiver,
    broker: CommonSettings,
    database: tuple[str, TlsFront],
    certificates: Certificates,
    tmp_path: Path,
) -> None:
    now = datetime.now(UTC)
    async with httpx.AsyncClient(base_url=tls_stack.intake_url) as client:
        for event in (
            report("TLS-1", since=now - timedelta(hours=5)),
            returned("TLS-1", at=now - timedelta(minutes=20)),
        ):
            assert (await client.post("/v1/events", json=event, headers=POLICE)).status_code == 202
    offers = await poll(lambda: receiver.delivered(type_="assignment.offered"), timeout=60)
    assert offers

    # The services reached the database over TLS only, checking its certificate ...
    dsn, front = database
    assert front.connections >= 3  # a pool per service at least
    assert front.refused == 0
    other_ca = make_certificates(tmp_path / "another-ca").ca
    with pytest.raises(ssl.SSLCertVerificationError):
        await asyncpg.connect(dsn.replace(str(certificates.ca), str(other_ca)))
    # ... and neither front answers in plain text.
    with pytest.raises((ConnectionError, asyncpg.PostgresConnectionError, OSError)):
        await asyncpg.connect(dsn.replace("sslmode=verify-full", "sslmode=disable"))
    assert front.refused == 1
    plain = AIOKafkaProducer(bootstrap_servers=broker.kafka_bootstrap, request_timeout_ms=3000)
    with pytest.raises((KafkaConnectionError, TimeoutError)):
        await asyncio.wait_for(plain.start(), 10)
    await plain.stop()
