"""The dashboard's queries answer with data from a running system: a real Prometheus (Debian's
`prometheus`, as promtool) scrapes the three services while a child is reported, returned (and one
breached), an offer delivered, a request refused and a poison message dead-lettered; then every
panel's query returns at least one series."""

import json
import shutil
import socket
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from aiokafka import AIOKafkaProducer

from shared import topics
from tests.conftest import Place
from tests.directory_factory import key_for
from tests.e2e.stack import Stack
from tests.events import report, returned
from tests.kafka_reader import poll
from tests.receiver import Receiver

DASHBOARD = (
    Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "dashboards" / "missing-the-point.json"
)
POLICE = {
    "authorization": f"Bearer {key_for('south-wales-police')}",
    "content-type": "application/cloudevents+json",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def prometheus(stack: Stack, tmp_path: Path) -> Iterator[str]:
    binary = shutil.which("prometheus")
    assert binary, "prometheus is missing: `make test` installs it (Debian: apt-get install prometheus)"
    config = {
        "global": {"scrape_interval": "1s"},
        "scrape_configs": [
            {"job_name": job, "static_configs": [{"targets": [f"127.0.0.1:{stack.ports[job]}"]}]}
            for job in ("intake", "scheduler", "notifier")
        ],
    }
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    process = subprocess.Popen(  # noqa: S603  # Debian's Prometheus, on loopback only
        [
            binary,
            f"--config.file={tmp_path / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "prometheus.log").open("w"),
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


async def query(client: httpx.AsyncClient, base: str, expr: str) -> list[dict[str, Any]]:
    answer = (await client.get(f"{base}/api/v1/query", params={"query": expr})).json()
    assert answer["status"] == "success", (expr, answer)
    result: list[dict[str, Any]] = answer["data"]["result"]
    return result


async def test_every_panel_shows_data_from_the_running_services(
    stack: Stack, receiver: Receiver, place: Place, prometheus: str
) -> None:
    now = datetime.now(UTC)
    async with httpx.AsyncClient(base_url=stack.intake_url) as client:
        for event in (
            report("G-1", since=now - timedelta(hours=3)),
            returned("G-1", at=now - timedelta(minutes=10)),
            report("G-2", since=now - timedelta(hours=80)),
            returned("G-2", at=now - timedelta(hours=73)),  # its window closed an hour ago: a breach
        ):
            assert (await client.post("/v1/events", json=event, headers=POLICE)).status_code == 202
        assert (await client.get("/v1/deliveries")).status_code == 401  # a refusal to show
    producer = AIOKafkaProducer(bootstrap_servers=place.bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topics.named(place.namespace, topics.EPISODES), b"not json", key=b"x")
    finally:
        await producer.stop()
    await poll(lambda: receiver.delivered(type_="assignment.offered"), timeout=60)
    await poll(lambda: receiver.delivered(type_="window.breached"), timeout=60)

    panels = [p for p in json.loads(DASHBOARD.read_text())["panels"] if p["type"] != "row"]
    async with httpx.AsyncClient(timeout=10) as client:
        for panel in panels:
            for target in panel["targets"]:

                async def answered(expr: str = target["expr"]) -> list[dict[str, Any]]:
                    return await query(client, prometheus, expr)

                series = await poll(answered, timeout=60, interval=1)
                assert series, panel["title"]
