"""The dashboard's queries answer with data from a running system: a real Prometheus (Debian's
`prometheus`, as promtool) scrapes the three services while a child is reported, returned (and one
breached), an offer delivered, a request refused and a poison message dead-lettered; then every
panel's query returns a value it can draw (a number, and for a rate or an increase, more than none)."""

import asyncio
import json
import math
import shutil
import socket
from collections.abc import AsyncIterator
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
async def prometheus(stack: Stack, tmp_path: Path) -> AsyncIterator[str]:
    binary = shutil.which("prometheus")
    assert binary, "prometheus is missing: `make test` installs it (Debian: apt-get install prometheus)"
    config = {
        "global": {"scrape_interval": "1s"},
        "scrape_configs": [
            {
                "job_name": job,
                "static_configs": [{"targets": [stack.metrics_url(job).removeprefix("http://")]}],
            }
            for job in ("intake", "scheduler", "notifier")
        ],
    }
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    log = (tmp_path / "prometheus.log").open("w")
    process = await asyncio.create_subprocess_exec(  # Debian's Prometheus, on loopback only
        binary,
        f"--config.file={tmp_path / 'prometheus.yml'}",
        f"--storage.tsdb.path={tmp_path / 'tsdb'}",
        f"--web.listen-address=127.0.0.1:{port}",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"

    async def ready() -> bool:
        assert process.returncode is None, (tmp_path / "prometheus.log").read_text()  # it did not die
        try:
            async with httpx.AsyncClient(timeout=2) as client:
                return (await client.get(f"{base}/-/ready")).status_code == 200
        except httpx.TransportError:
            return False

    try:
        await poll(ready, timeout=60, interval=0.2)  # until Prometheus answers
        yield base
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), timeout=30)
        log.close()


async def query(client: httpx.AsyncClient, base: str, expr: str) -> list[dict[str, Any]]:
    answer = (await client.get(f"{base}/api/v1/query", params={"query": expr})).json()
    assert answer["status"] == "success", (expr, answer)
    result: list[dict[str, Any]] = answer["data"]["result"]
    return result


async def activity(stack: Stack, place: Place, child: str, returned_ago: timedelta) -> None:
    """A child reported and returned, a request refused and a message no consumer can read."""
    now = datetime.now(UTC)
    async with httpx.AsyncClient(base_url=stack.intake_url) as client:
        for event in (
            report(child, since=now - returned_ago - timedelta(hours=3)),
            returned(child, at=now - returned_ago),
        ):
            assert (await client.post("/v1/events", json=event, headers=POLICE)).status_code == 202
        assert (await client.get("/v1/deliveries")).status_code == 401
    producer = AIOKafkaProducer(bootstrap_servers=place.bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topics.named(place.namespace, topics.EPISODES), b"not json", key=b"x")
    finally:
        await producer.stop()


async def test_every_panel_shows_data_from_the_running_services(
    stack: Stack, receiver: Receiver, place: Place, prometheus: str
) -> None:
    panels = [p for p in json.loads(DASHBOARD.read_text())["panels"] if p["type"] != "row"]
    targets = [(panel["title"], target["expr"]) for panel in panels for target in panel["targets"]]
    # A counter's rate shows once it has grown between two scrapes: activity, every series scraped,
    # then more activity. The second child's window closes seconds later, by its timer: a breach.
    await activity(stack, place, "G-1", timedelta(minutes=10))
    await poll(lambda: receiver.delivered(type_="assignment.offered"), timeout=60)
    async with httpx.AsyncClient(timeout=10) as client:
        for _, expr in targets:
            if "timer_fire_lag" not in expr:  # no timer has fallen due yet

                async def scraped(expr: str = expr) -> list[dict[str, Any]]:
                    return await query(client, prometheus, expr)  # a series, once scraped twice

                await poll(scraped, timeout=60, interval=1)
    await activity(stack, place, "G-2", timedelta(hours=72) - timedelta(seconds=10))
    await poll(lambda: receiver.delivered(type_="window.breached"), timeout=60)

    async with httpx.AsyncClient(timeout=10) as client:
        for title, expr in targets:

            async def shown(expr: str = expr) -> list[float]:
                # a value a panel can draw: a number (not NaN, as a quantile of nothing is), and for a
                # counter's rate or increase, more than nothing happening
                values = [float(s["value"][1]) for s in await query(client, prometheus, expr)]
                drawn = [v for v in values if math.isfinite(v)]
                return [v for v in drawn if v > 0 or not ("rate(" in expr or "increase(" in expr)]

            assert await poll(shown, timeout=60, interval=1), title
