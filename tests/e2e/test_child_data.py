"""A data subject's rights: everything held about a child can be exported, and erased, across the
three services' tables; the audit trail keeps who did it without naming the child."""

import asyncio
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx

from shared.child_data import PSEUDONYM_KEY_ENV
from tests.conftest import Place
from tests.directory_factory import key_for
from tests.e2e.stack import Stack
from tests.events import report, returned
from tests.kafka_reader import poll
from tests.receiver import Receiver

POLICE = {
    "authorization": f"Bearer {key_for('south-wales-police')}",
    "content-type": "application/cloudevents+json",
}
SCHEMAS = ("intake", "scheduler", "notifier")


async def tables_mentioning(dsn: str, text: str) -> set[str]:
    """Every table of the three schemas with a row that contains the text anywhere: in any column,
    bytes (outbox values, webhook bodies) included. Found by looking, not from the stores' lists."""
    conn = await asyncpg.connect(dsn)
    try:
        columns = await conn.fetch(
            "SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = ANY($1::text[])",
            list(SCHEMAS),
        )
        found = set()
        for table in {(c["table_schema"], c["table_name"]) for c in columns}:
            name = f"{table[0]}.{table[1]}"
            binary = [
                c["column_name"]
                for c in columns
                if (c["table_schema"], c["table_name"]) == table and c["data_type"] == "bytea"
            ]
            condition = " OR ".join(
                ["row_to_json(t)::text LIKE '%' || $1 || '%'"]
                + [f"position(convert_to($1, 'UTF8') IN t.{column}) > 0" for column in binary]
            )
            if await conn.fetchval(f"SELECT EXISTS (SELECT 1 FROM {name} t WHERE {condition})", text):  # noqa: S608
                found.add(name)
        return found
    finally:
        await conn.close()


async def mtp(place: Place, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MTP_DATABASE_URL": place.database_url, PSEUDONYM_KEY_ENV: "p" * 48}
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "tools.cli", *args],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done


async def test_an_export_finds_every_row_about_a_child_and_an_erasure_leaves_none(
    stack: Stack, receiver: Receiver, place: Place
) -> None:
    now = datetime.now(UTC)
    async with httpx.AsyncClient(base_url=stack.intake_url) as client:
        for child in ("C-ERASE-1", "C-KEEP-1"):
            for event in (
                report(child, since=now - timedelta(hours=5)),
                returned(child, at=now - timedelta(minutes=20)),
            ):
                assert (await client.post("/v1/events", json=event, headers=POLICE)).status_code == 202
        # the child's record has been read once: an access the audit trail holds
        ops = {"authorization": f"Bearer {key_for('ops')}"}
        assert (await client.get("/v1/children/W06000015/C-ERASE-1", headers=ops)).status_code == 200
    await poll(lambda: len(receiver.delivered(type_="assignment.offered")) >= 2 or None, timeout=60)

    held = await tables_mentioning(place.database_url, "C-ERASE-1")
    assert {"intake.events", "scheduler.facts", "notifier.tasks", "notifier.deliveries"} <= held

    exported = json.loads(
        (await mtp(place, "child", "export", "W06000015", "C-ERASE-1", "--by", "dpo")).stdout
    )
    assert held <= {table for tables in exported.values() for table in tables}
    assert "C-KEEP-1" not in json.dumps(exported)

    erased = await mtp(
        place, "child", "erase", "W06000015", "C-ERASE-1", "--reason", "erasure_request", "--by", "dpo"
    )
    assert erased.stdout.strip().splitlines()[-1].startswith("erased: ")
    assert await tables_mentioning(place.database_url, "C-ERASE-1") == set()
    assert "notifier.deliveries" in await tables_mentioning(place.database_url, "C-KEEP-1")
    again = await mtp(
        place, "child", "erase", "W06000015", "C-ERASE-1", "--reason", "erasure_request", "--by", "dpo"
    )
    assert again.stdout.strip() == "erased: 0 rows in 0 tables"

    conn = await asyncpg.connect(place.database_url)
    try:
        actions = await conn.fetch(
            "SELECT api_key_id, action, child_key FROM intake.audit WHERE org_id = 'operator' ORDER BY seq"
        )
        read_by_ops = await conn.fetchval(
            "SELECT count(*) FROM intake.audit WHERE action = 'read:child' AND child_key LIKE 'erased:%'"
        )
    finally:
        await conn.close()
    assert [(a["api_key_id"], a["action"]) for a in actions] == [
        ("dpo", "export"),
        ("dpo", "erase:erasure_request"),
        ("dpo", "erase:erasure_request"),
    ]
    # every record about the child, its export included, now names a pseudonym, the same one
    assert len({a["child_key"] for a in actions}) == 1
    assert actions[0]["child_key"].startswith("erased:")
    assert read_by_ops == 1  # the read stays on record, under the pseudonym
