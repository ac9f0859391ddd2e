"""Intake on the embedded pair: single-event accept latency at a steady rate, and batch ingestion.

Run by hand: `.venv/bin/python -m bench.intake [--rate 500] [--seconds 20] [--batches 40]`.
Starts its own Tansu broker, a temporary PostgreSQL and intake as a separate process, all on
127.0.0.1, and stops them at the end. Bounded: rate × seconds single events, then `batches` × 500.
The load generator shares the machine with the server, so figures are indicative.
"""

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import uvloop

from bench.pipe import PARTITIONS
from shared import topics
from shared.kafka import create_topics
from tools.demo import write_demo_directory
from tools.embedded import free_port, start_postgres, start_tansu

CARDIFF = "W06000015"


def event(n: int) -> dict[str, Any]:
    """A missing report about one of 1,000 children, with a fresh id."""
    since = (datetime.now(UTC) - timedelta(hours=5)).isoformat()
    return {
        "specversion": "1.0",
        "id": f"bench-{uuid.uuid4().hex}",
        "type": "missing.reported",
        "data": {
            "child_ref": f"B-{n % 1000}",
            "responsible_authority": CARDIFF,
            "placement_authority": CARDIFF,
            "kind": "missing",
            "missing_since": since,
            "risk_level": "medium",
            "exploitation_indicators": [],
            "police_force": "south-wales-police",
            "police_reference": f"BENCH-{n}",
        },
    }


async def steady(
    client: aiohttp.ClientSession, headers: dict[str, str], rate: int, seconds: float, connections: int
) -> dict[str, float]:
    """Open loop: one request every 1/rate s whatever the answers do; latency measured from the
    moment each request was due, so queueing behind a slow server counts."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue()

    async def worker() -> None:
        while (item := await queue.get()) is not None:
            due, body = item
            async with client.post("/v1/events", data=body, headers=headers) as answer:
                await answer.read()
            latencies.append(time.perf_counter() - due)
            statuses[answer.status] = statuses.get(answer.status, 0) + 1

    workers = [asyncio.create_task(worker()) for _ in range(connections)]
    total = int(rate * seconds)
    bodies = [json.dumps(event(n)).encode() for n in range(total)]
    begin = time.perf_counter()
    for n, body in enumerate(bodies):
        due = begin + n / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        queue.put_nowait((due, body))
    for _ in workers:
        queue.put_nowait(None)
    await asyncio.gather(*workers)
    elapsed = time.perf_counter() - begin
    cuts = statistics.quantiles(latencies, n=100)
    print(
        f"steady: {total} single events in {elapsed:.1f} s ({total / elapsed:.0f}/s, offered {rate}/s); "
        f"accept latency p50 {cuts[49] * 1000:.1f} ms, p99 {cuts[98] * 1000:.1f} ms, "
        f"max {max(latencies) * 1000:.1f} ms; statuses {statuses}"
    )
    return {
        "offered_per_s": rate,
        "achieved_per_s": round(total / elapsed),
        "p50_ms": round(cuts[49] * 1000, 2),
        "p99_ms": round(cuts[98] * 1000, 2),
    }


async def burst(client: aiohttp.ClientSession, headers: dict[str, str], batches: int, parallel: int) -> float:
    """Batches of 500, `parallel` requests in flight; events accepted per second."""
    batch_headers = {**headers, "content-type": "application/cloudevents-batch+json"}
    queue = list(range(batches))
    statuses: dict[int, int] = {}

    async def worker() -> None:
        while queue:
            b = queue.pop()
            body = [event(b * 500 + i) for i in range(500)]
            async with client.post("/v1/events", json=body, headers=batch_headers) as answer:
                await answer.read()
            statuses[answer.status] = statuses.get(answer.status, 0) + 1

    begin = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(parallel)))
    elapsed = time.perf_counter() - begin
    total = batches * 500
    print(
        f"burst: {total} events in {batches} batches of 500, {parallel} in flight: {elapsed:.1f} s, "
        f"{total / elapsed:.0f} events/s accepted; statuses {statuses}"
    )
    return total / elapsed


async def drained(dsn: str, since: float) -> None:
    """Wait until the outbox is published; report how long after the burst started."""
    conn = await asyncpg.connect(dsn)
    try:
        deadline = time.monotonic() + 120
        while await conn.fetchval("SELECT count(*) FROM intake.outbox WHERE sent_at IS NULL"):
            if time.monotonic() > deadline:
                print("outbox: not drained within 120 s")
                return
            await asyncio.sleep(0.05)
        sent = await conn.fetchval("SELECT count(*) FROM intake.outbox")
        print(f"outbox: all {sent} rows published {time.perf_counter() - since:.1f} s after the burst began")
    finally:
        await conn.close()


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def main(args: argparse.Namespace) -> dict[str, Any]:
    """Run both phases; print and return the figures."""
    figures: dict[str, Any] = {}
    folder = Path(tempfile.mkdtemp(prefix="mtp-bench-"))
    postgres = start_postgres(folder / "pg", temporary=True)
    broker = start_tansu()
    process = None
    try:
        await create_topics(broker.bootstrap, topics.all_with_dlq(), partitions=PARTITIONS)
        directory, keys = write_demo_directory(folder / "directory", "http://127.0.0.1:9")
        port = free_port()
        env = {
            **os.environ,
            "MTP_KAFKA_BOOTSTRAP": broker.bootstrap,
            "MTP_DATABASE_URL": postgres.dsn,
            "MTP_DIRECTORY": str(directory),
            "MTP_INTAKE_PORT": str(port),
            "MTP_INTAKE_METRICS_PORT": str(free_port()),
            "MTP_LOG_LEVEL": args.log_level,
        }
        log = (folder / "intake.log").open("ab")
        process = subprocess.Popen(  # noqa: ASYNC220  # started once, before any load
            [sys.executable, "-m", "services.intake"], env=env, stdout=log, stderr=log
        )
        headers = {
            "authorization": f"Bearer {keys['south-wales-police']}",
            "content-type": "application/cloudevents+json",
        }
        # aiohttp: a tenth of httpx's CPU per request, left to the server being measured.
        async with aiohttp.ClientSession(
            base_url=f"http://127.0.0.1:{port}",
            connector=aiohttp.TCPConnector(limit=args.connections),
            timeout=aiohttp.ClientTimeout(total=30),
        ) as client:
            deadline = time.monotonic() + 60
            while True:
                try:
                    async with client.get("/readyz") as ready:
                        if ready.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("intake not ready within 60 s")
                await asyncio.sleep(0.2)
            intake_cpu, broker_cpu = cpu_seconds(process.pid), cpu_seconds(broker.process.pid)
            figures["steady"] = await steady(client, headers, args.rate, args.seconds, args.connections)
            intake_cpu = cpu_seconds(process.pid) - intake_cpu
            broker_cpu = cpu_seconds(broker.process.pid) - broker_cpu
            per_event = intake_cpu / (args.rate * args.seconds) * 1000
            print(
                f"CPU in the steady phase: intake {intake_cpu:.1f} s ({per_event:.2f} ms per event), "
                f"broker {broker_cpu:.1f} s; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
            )
            begin = time.perf_counter()
            figures["batch_events_per_s"] = round(await burst(client, headers, args.batches, args.parallel))
            await drained(postgres.dsn, begin)
    finally:
        if process is not None:
            process.terminate()
            process.wait(30)
        broker.stop()
        postgres.stop()
    return figures


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    """The command-line options (also the defaults `make bench` uses)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--parallel", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--log-level", default="warning")
    return parser.parse_args(argv)


if __name__ == "__main__":
    uvloop.run(main(arguments()))
