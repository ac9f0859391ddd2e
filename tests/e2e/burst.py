"""A burst of returned episodes through intake, and the checks that nothing was lost or doubled."""

import asyncio
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx

from tests.directory_factory import key_for
from tests.events import report, returned
from tests.receiver import Receiver

BATCH = {
    "authorization": f"Bearer {key_for('south-wales-police')}",
    "content-type": "application/cloudevents-batch+json",
}


@dataclass
class Burst:
    """Children reported and returned in batches, resent until intake accepts them (as a client would)."""

    prefix: str
    children: int
    per_batch: int = 25
    accepted: set[str] = field(default_factory=set)

    def names(self) -> list[str]:
        return [f"{self.prefix}-{i}" for i in range(self.children)]

    async def send(self, url: str | None = None, *, intake: "callable[[], str] | None" = None) -> None:  # type: ignore[valid-type]
        """Post every child's report and return; retry a batch until it is accepted (202 or 200)."""
        now = datetime.now(UTC)
        names = self.names()
        async with httpx.AsyncClient(timeout=10) as client:
            for start in range(0, len(names), self.per_batch):
                batch = []
                for child in names[start : start + self.per_batch]:
                    batch += [report(child, since=now - timedelta(hours=3), id_=f"r-{child}"),
                              returned(child, at=now - timedelta(minutes=10), id_=f"b-{child}")]  # fmt: skip
                deadline = asyncio.get_running_loop().time() + 120
                while True:
                    base = intake() if intake else url  # type: ignore[misc]
                    try:
                        answer = await client.post(f"{base}/v1/events", json=batch, headers=BATCH)
                        if answer.status_code in (200, 202):
                            self.accepted.update(names[start : start + self.per_batch])
                            break
                    except httpx.HTTPError:
                        pass
                    if asyncio.get_running_loop().time() > deadline:
                        raise AssertionError("intake did not accept a batch within 120 s")
                    await asyncio.sleep(0.2)  # poll: intake is restarting


def opened_for(receiver: Receiver, council: str = "cardiff") -> set[str]:
    """Children whose `episode.opened` reached the council."""
    return {json.loads(r.body)["data"]["child_ref"] for r in receiver.delivered(council, "episode.opened")}


async def all_delivered(receiver: Receiver, children: list[str], timeout: float = 180) -> None:
    """Poll until every child's offer and `episode.opened` notice have been delivered."""
    from tests.kafka_reader import poll

    await poll(lambda: len(offers_by_child(receiver)) >= len(children), timeout=timeout, interval=0.5)
    await poll(lambda: set(children) <= opened_for(receiver), timeout=timeout, interval=0.5)


def offers_by_child(receiver: Receiver) -> dict[str, set[str]]:
    """child_ref -> assignment ids offered (delivered)."""
    found: dict[str, set[str]] = defaultdict(set)
    for request in receiver.delivered(type_="assignment.offered"):
        event = json.loads(request.body)
        found[event["data"]["referral"]["child_ref"]].add(event["data"]["assignment_id"])
    return found


def assert_nothing_lost_or_doubled(receiver: Receiver, children: list[str]) -> None:
    """Every child: one assignment offered; every webhook (per org, type, subject) under one webhook-id."""
    offers = offers_by_child(receiver)
    missing = [child for child in children if child not in offers]
    assert not missing, f"{len(missing)} children got no offer, e.g. {missing[:3]}"
    doubled = {child: ids for child, ids in offers.items() if len(ids) != 1}
    assert not doubled, f"children offered more than one assignment: {list(doubled.items())[:3]}"
    ids: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for request in receiver.requests:
        event = json.loads(request.body)
        ids[(request.org, event["type"], event.get("subject", ""))].add(request.headers["webhook-id"])
    twice = {key: value for key, value in ids.items() if len(value) > 1}
    assert not twice, f"the same notice under different webhook ids: {list(twice.items())[:3]}"
    assert set(children) <= opened_for(receiver)


async def assert_one_task_and_one_current_assignment(database_url: str, children: list[str]) -> None:
    """From the services' own tables: one interview task per child, one current assignment per task."""
    conn = await asyncpg.connect(database_url)
    try:
        tasks = await conn.fetch(
            "SELECT child_key, count(*) AS n FROM scheduler.interview_tasks GROUP BY child_key"
        )
        per_child = {row["child_key"].split("/", 1)[1]: row["n"] for row in tasks}
        assert all(per_child.get(child) == 1 for child in children), "a child has no task, or two"
        current = await conn.fetch(
            "SELECT task_id, count(*) AS n FROM notifier.assignments"
            " WHERE status IN ('offered', 'accepted') GROUP BY task_id"
        )
        assert len(current) >= len(children)
        assert all(row["n"] == 1 for row in current)
    finally:
        await conn.close()
