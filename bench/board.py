"""The coordinator's board of a large council: 10,000 children, 2,000 of them with a return interview
still to offer, 4,000 alerts; server time to render the whole page, p50 / p95 / p99.

`python -m bench.board` (about a minute). Intake runs in this process on its own embedded broker and
database; the read model is loaded directly (as the topics would have filled it), a coordinator signs
in once, and the board is asked for 200 times over the ASGI interface, so what is timed is intake's
own work: the session check, the queries, the audit record and the template.
"""

import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from services.intake.app import create_app
from services.intake.core.settings import IntakeSettings
from shared import topics
from shared.kafka import create_topics
from tests.directory_factory import CARDIFF, NEWPORT, DirectoryFactory, password_for
from tests.servers import start_servers
from tools.embedded import database_dsn

CHILDREN, OPEN_WINDOWS, ALERTS, ASKS = 10_000, 2_000, 4_000, 200
TARGET_P95_MS = 300.0


async def load(dsn: str, now: datetime) -> None:
    """Episodes and tasks for every child (most settled long ago), offers and acceptances for the open
    windows, and alerts."""
    conn = await asyncpg.connect(dsn)
    try:
        children = [f"{CARDIFF}/B-{n:05d}" for n in range(CHILDREN)]
        await conn.copy_records_to_table(
            "episodes",
            schema_name="intake",
            columns=["episode_id", "child_key", "placement_authority", "kind", "started_at", "risk_level",
                     "ended_at", "end_reason"],
            records=[
                (f"ep-{n}", key, NEWPORT if n % 5 == 0 else CARDIFF, "missing",
                 now - timedelta(days=n % 300, hours=30), "medium",
                 None if n % 50 == 0 else now - timedelta(days=n % 300, hours=2),
                 None if n % 50 == 0 else "returned")
                for n, key in enumerate(children)
            ],
        )  # fmt: skip
        await conn.copy_records_to_table(
            "tasks",
            schema_name="intake",
            columns=["task_id", "child_key", "episode_id", "placement_authority", "returned_at", "offer_due_at",
                     "risk_level", "closed_reason"],
            records=[
                (f"task-{n}", key, f"ep-{n}", CARDIFF, now - timedelta(hours=n % 70),
                 now + timedelta(hours=72 - n % 70), "high" if n % 7 == 0 else "medium",
                 None if n < OPEN_WINDOWS else "not_offered")
                for n, key in enumerate(children)
            ],
        )  # fmt: skip
        await conn.copy_records_to_table(
            "assignments",
            schema_name="intake",
            columns=["assignment_id", "provider_id", "child_key", "task_id", "status", "updated_at",
                     "assigned_at", "accept_by"],
            records=[
                (f"asg-{n}", "nyas-cymru", key, f"task-{n}", "accepted" if n % 2 else "offered", now,
                 now - timedelta(hours=1), now + timedelta(hours=3))
                for n, key in enumerate(children[:OPEN_WINDOWS])
            ],
        )  # fmt: skip
        await conn.copy_records_to_table(
            "alerts",
            schema_name="intake",
            columns=["event_key", "child_key", "episode_id", "alert_type", "raised_at", "details"],
            records=[
                (f"alert-{n}", children[n % CHILDREN], f"ep-{n % CHILDREN}", "alert.high_risk",
                 now - timedelta(hours=n), "{}")
                for n in range(ALERTS)
            ],
        )  # fmt: skip
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


async def main() -> dict[str, Any]:
    servers = start_servers()
    try:
        admin = await asyncpg.connect(servers.admin_dsn)
        try:
            await admin.execute("CREATE DATABASE bench_board")
        finally:
            await admin.close()
        dsn = database_dsn(servers.admin_dsn, "bench_board")
        await create_topics(servers.bootstrap, topics.all_with_dlq("board."), partitions=2)
        with tempfile.TemporaryDirectory() as folder:
            settings = IntakeSettings(
                kafka_bootstrap=servers.bootstrap,
                database_url=dsn,
                topic_namespace="board.",
                directory=DirectoryFactory(Path(folder)).write(),
                log_level="warning",
            )
            app = create_app(settings)
            async with app.router.lifespan_context(app):
                await load(dsn, datetime.now(UTC))
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport, base_url="http://intake") as web:
                    await sign_in(web)
                    timings = []
                    size = 0
                    for _ in range(ASKS):
                        started = time.perf_counter()
                        page = await web.get("/web/")
                        timings.append((time.perf_counter() - started) * 1000)
                        assert page.status_code == 200
                        size = len(page.content)
    finally:
        servers.stop()
    cuts = statistics.quantiles(timings, n=100)
    return {
        "children": CHILDREN,
        "open_windows": OPEN_WINDOWS,
        "alerts": ALERTS,
        "page_kb": round(size / 1024),
        "p50_ms": round(statistics.median(timings), 1),
        "p95_ms": round(cuts[94], 1),
        "p99_ms": round(cuts[98], 1),
        "target_p95_ms": TARGET_P95_MS,
    }


async def sign_in(web: httpx.AsyncClient) -> None:
    import re

    form = await web.get("/web/sign-in")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert token
    await web.post(
        "/web/sign-in",
        data={
            "csrf": token.group(1),
            "org": "cardiff",
            "person": "a-jones",
            "password": password_for("cardiff", "a-jones"),
        },
    )
    page = await web.get("/web/password")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token
    await web.post("/web/password", data={"csrf": token.group(1), "password": "bench-password-long"})


if __name__ == "__main__":
    print(asyncio.run(main()))
