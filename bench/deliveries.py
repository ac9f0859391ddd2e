"""Webhook deliveries per second to a local receiver, with several notifier delivery workers.

    python -m bench.deliveries [--count 5000] [--workers 3] [--hang 8] [--timeout 5]

Starts an embedded PostgreSQL (or uses MTP_DATABASE_URL), a receiver on 127.0.0.1 in its own process,
and `--workers` processes each running the notifier's DeliveryWorker. Then, twice: rows are inserted
straight into `notifier.deliveries` and the time until all are delivered is measured. The second
round adds `--hang` deliveries to an endpoint that never answers within the webhook timeout, to show
that a hanging receiver costs the others nothing measurable. Bounded: at most 20,000 deliveries and
`--deadline` seconds per round. The machine is shared, so the figures are indicative.
"""

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import uvicorn
import yaml

from services.notifier.core.settings import NotifierSettings
from services.notifier.store.migrate import MIGRATIONS
from services.notifier.store.tables import SCHEMA
from services.notifier.webhooks.store import WAKE_WORKERS
from services.notifier.webhooks.worker import DeliveryWorker
from shared.clock import SystemClock
from shared.db import create_pool
from shared.directory_file import load_directory
from shared.live_directory import LiveDirectory
from shared.logging import configure_logging
from shared.migrations import apply_migrations
from shared.outbox import outbox_migrations
from tools.embedded import database_dsn, free_port, start_postgres, wait_for_port

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # the public Standard Webhooks test secret
MAX_COUNT = 20_000
BODY = b'{"specversion":"1.0","type":"bench.event","data":{"n":' + b"0" * 240 + b"}}"


async def _receive(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A receiver that answers 204 at once, except on /hang, where it waits far past any timeout."""
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    if scope["path"] == "/hang":
        await asyncio.sleep(3600)
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def run_receiver(port: int) -> None:
    uvicorn.run(_receive, host="127.0.0.1", port=port, log_level="error", access_log=False, lifespan="off")


def run_worker(dsn: str, directory: Path, timeout: float) -> None:
    configure_logging("bench-worker", "error")
    settings = NotifierSettings(
        database_url=dsn,
        directory=directory,
        webhook_allow_http_loopback=True,
        webhook_timeout_seconds=timeout,
        max_delivery_attempts=1,
    )

    async def go() -> None:
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        pool = await create_pool(dsn, service="bench-worker", max_size=8)
        try:
            await DeliveryWorker(
                pool, LiveDirectory.fixed(load_directory(directory)), SystemClock(), settings
            ).run(stop)
        finally:
            await pool.close()

    asyncio.run(go())


def write_directory(folder: Path, port: int) -> Path:
    path = folder / "directory.yaml"
    organisations = [
        {
            "id": org,
            "kind": "ops",
            "name": org,
            "notify_url": f"http://127.0.0.1:{port}/{org}",
            "webhook_secret": SECRET,
        }
        for org in ("fast", "hang")
    ]
    path.write_text(yaml.safe_dump({"organisations": organisations}))
    return path


async def one_round(
    pool: "asyncpg.Pool[Any]", port: int, label: str, count: int, hang: int, deadline: float
) -> float:
    await pool.execute("TRUNCATE notifier.delivery_attempts, notifier.deliveries")
    now = datetime.now(UTC)
    rows = [
        (f"msg_{label}_{org}_{n}", org, f"http://127.0.0.1:{port}/{org}", "bench.event", BODY, now, now)
        for org, many in (("hang", hang), ("fast", count))
        for n in range(many)
    ]
    started = time.perf_counter()
    async with pool.acquire() as conn, conn.transaction():
        await conn.copy_records_to_table(
            "deliveries",
            schema_name=SCHEMA,
            records=rows,
            columns=["webhook_id", "org_id", "url", "event_type", "body", "next_attempt_at", "created_at"],
        )
        await conn.execute(WAKE_WORKERS)
    delivered = 0
    while time.perf_counter() - started < deadline:
        delivered = await pool.fetchval(
            "SELECT count(*) FROM notifier.deliveries WHERE org_id = 'fast' AND state = 'delivered'"
        )
        if delivered >= count:
            break
        await asyncio.sleep(0.05)
    elapsed = time.perf_counter() - started
    print(
        f"{label:<22} {delivered:>6} of {count} delivered in {elapsed:6.2f} s = {delivered / elapsed:7.0f}/s"
        f"  (plus {hang} to a hanging receiver)"
    )
    return delivered / elapsed


async def migrate(dsn: str) -> None:
    pool = await create_pool(dsn, service="bench", max_size=2)
    try:
        builtin = outbox_migrations(SCHEMA)
        await apply_migrations(pool, SCHEMA, MIGRATIONS, builtin=builtin)
    finally:
        await pool.close()


async def measure(args: argparse.Namespace, dsn: str, port: int) -> None:
    pool = await create_pool(dsn, service="bench", max_size=4)
    try:
        await asyncio.sleep(3)  # let the worker processes import and connect before the clock starts
        print(f"{args.workers} delivery workers, {os.cpu_count()} cores, webhook timeout {args.timeout} s")
        await one_round(pool, port, "warm-up", min(args.count, 500), 0, args.deadline)
        plain = await one_round(pool, port, "all answering", args.count, 0, args.deadline)
        hung = await one_round(pool, port, "with hanging receiver", args.count, args.hang, args.deadline)
        print(f"the hanging receiver changed the others' rate by {100 * (hung - plain) / plain:+.0f}%")
    finally:
        await pool.close()


def bench(args: argparse.Namespace, dsn: str, folder: Path) -> None:
    asyncio.run(migrate(dsn))
    port = free_port()
    directory = write_directory(folder, port)
    me = [sys.executable, "-m", "bench.deliveries"]
    procs = [subprocess.Popen([*me, "receiver", str(port)])]
    try:
        wait_for_port(port)
        worker = [*me, "worker", dsn, str(directory), str(args.timeout)]
        procs += [subprocess.Popen(worker) for _ in range(args.workers)]
        asyncio.run(measure(args, dsn, port))
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=args.timeout + 5)
            except subprocess.TimeoutExpired:
                proc.kill()


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "receiver":
        run_receiver(int(sys.argv[2]))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        run_worker(sys.argv[2], Path(sys.argv[3]), float(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--hang", type=int, default=8)
    parser.add_argument("--timeout", type=float, default=5.0)
    parser.add_argument("--deadline", type=float, default=60.0)
    args = parser.parse_args()
    args.count = min(args.count, MAX_COUNT)
    with tempfile.TemporaryDirectory(prefix="mtp-bench-") as folder:
        given = os.environ.get("MTP_DATABASE_URL")
        server = None if given else start_postgres(Path(folder) / "pg", temporary=True)
        try:
            dsn = given or database_dsn(server.dsn, "postgres")  # type: ignore[union-attr]
            bench(args, dsn, Path(folder))
        finally:
            if server is not None:
                server.stop()


if __name__ == "__main__":
    main()
