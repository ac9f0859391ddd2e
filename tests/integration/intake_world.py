"""A small world for intake's read and authorisation tests: two children, their episodes, tasks and
assignments, published on the topics as the scheduler and the notifier would."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx

from shared import topics
from shared.contracts.assignments import AssignmentAssigned, AssignmentDeclined
from shared.contracts.common import EventData
from shared.contracts.tasks import EpisodeOpened, InterviewRequested
from tests.conftest import Place
from tests.directory_factory import CARDIFF, NEWPORT, SWANSEA
from tests.events import publish, report
from tests.integration.conftest import as_org
from tests.kafka_reader import poll


@dataclass(frozen=True)
class Child:
    """One child of the world and who is connected to it."""

    ref: str
    responsible: str
    placement: str
    reported_by: str
    provider: str

    @property
    def key(self) -> str:
        return f"{self.responsible}/{self.ref}"

    @property
    def path(self) -> str:
        return f"/v1/children/{self.responsible}/{self.ref}"

    @property
    def assignment(self) -> str:
        return f"asg-{self.ref}"

    @property
    def episode(self) -> str:
        return f"ep-{self.ref}"

    @property
    def task(self) -> str:
        return f"task-{self.ref}"


# A: Cardiff's child placed in Newport, reported by South Wales Police, assigned to NYAS Cymru.
A = Child("W-A1", CARDIFF, NEWPORT, "south-wales-police", "nyas-cymru")
# B: Swansea's child placed at home, reported by Gwent Police, assigned to Cardiff's in-house team.
B = Child("W-B1", SWANSEA, SWANSEA, "gwent-police", "cardiff-youth-support")


async def build(intake: httpx.AsyncClient, place: Place, *children: Child) -> None:
    """Report each child through intake, publish its episode, task and assignment, wait until read."""
    now = datetime.now(UTC)  # before the reports: each episode begins no later than its report says
    for child in children:
        event = report(child.ref, responsible=child.responsible, placement=child.placement)
        answer = await intake.post("/v1/events", json=event, headers=as_org(child.reported_by))
        assert answer.status_code == 202, answer.text
    await publish_world(place, *children, now=now)

    async def all_read() -> bool:
        for child in children:
            seen = await intake.get(child.path, headers=as_org(child.provider))
            if seen.status_code != 200 or seen.json()["referrals"][0]["referral"] is None:
                return False
        return True

    await poll(all_read, timeout=60, interval=0.2)


async def publish_world(place: Place, *children: Child, now: datetime | None = None) -> None:
    """Publish each child's episode (begun five hours before `now`), task and assignment, as the
    scheduler and the notifier would."""
    now = now or datetime.now(UTC)
    for child in children:
        facts: list[tuple[str, EventData]] = [
            (
                topics.TASKS,
                EpisodeOpened(
                    child_ref=child.ref,
                    responsible_authority=child.responsible,
                    placement_authority=child.placement,
                    episode_id=child.episode,
                    kind="missing",
                    started_at=now - timedelta(hours=5),
                    risk_level="medium",
                ),
            ),
            (
                topics.TASKS,
                InterviewRequested(
                    child_ref=child.ref,
                    responsible_authority=child.responsible,
                    placement_authority=child.placement,
                    episode_id=child.episode,
                    task_id=child.task,
                    returned_at=now - timedelta(hours=1),
                    offer_due_at=now + timedelta(hours=71),
                    risk_level="medium",
                    exploitation_indicators=["county_lines"],
                    preferred_language="cy",
                ),
            ),
            (
                topics.ASSIGNMENTS,
                AssignmentAssigned(
                    child_ref=child.ref,
                    responsible_authority=child.responsible,
                    task_id=child.task,
                    assignment_id=child.assignment,
                    provider_id=child.provider,
                    at=now,
                    accept_by=now + timedelta(hours=4),
                ),
            ),
        ]
        for topic, data in facts:
            await publish(place.bootstrap, topics.named(place.namespace, topic), child.key, data)


async def provider_declines(intake: httpx.AsyncClient, place: Place, child: Child) -> None:
    """Publish the child's provider declining, as the notifier would; wait until intake has learnt it."""
    declined = AssignmentDeclined(
        child_ref=child.ref,
        responsible_authority=child.responsible,
        task_id=child.task,
        assignment_id=child.assignment,
        provider_id=child.provider,
        at=datetime.now(UTC),
        reason="no_capacity",
    )
    await publish(place.bootstrap, topics.named(place.namespace, topics.ASSIGNMENTS), child.key, declined)

    async def released() -> bool:
        return (await intake.get(child.path, headers=as_org(child.provider))).status_code == 404

    await poll(released)
