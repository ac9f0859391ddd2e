"""A council's answer to what a child said is no part of the child's timeline (docs/domain.md rule 36):
after it, and after an NRM decision, the child's next absence is taken in and offered like any other."""

import json
from datetime import UTC, datetime, timedelta

import httpx

from tests.directory_factory import key_for
from tests.e2e.stack import Stack
from tests.events import cloud_event, report, returned
from tests.kafka_reader import poll
from tests.receiver import Receiver


def sent_by(org: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key_for(org)}", "content-type": "application/cloudevents+json"}


async def test_after_the_councils_answer_and_nrm_decision_the_next_absence_is_offered(
    stack: Stack, receiver: Receiver
) -> None:
    now = datetime.now(UTC)
    police, council = sent_by("south-wales-police"), sent_by("cardiff")
    async with httpx.AsyncClient(base_url=stack.intake_url) as client:
        for event in (
            report("V-7", since=now - timedelta(days=2), indicators=["county_lines"], risk="high"),
            returned("V-7", at=now - timedelta(days=1, hours=20)),
        ):
            assert (await client.post("/v1/events", json=event, headers=police)).status_code == 202
        offer = (await poll(lambda: receiver.delivered(type_="assignment.offered"), timeout=60))[0]
        assignment = json.loads(offer.body)["data"]["assignment_id"]
        held = {
            "assignment_id": assignment,
            "completed_at": (now - timedelta(days=1)).isoformat(),
            "outcome": "completed",
            "findings": {"reasons": ["wants_friends"]},
        }
        answer = await client.post(
            "/v1/events", json=cloud_event("interview.completed", held), headers=sent_by(offer.org)
        )
        assert answer.status_code == 202, answer.text
        heard = await poll(lambda: receiver.delivered("cardiff", "interview.findings"), timeout=60)
        findings_id = json.loads(heard[0].body)["data"]["findings_id"]
        episode = json.loads(heard[0].body)["data"]["episode_id"]

        # The council answers and decides on the NRM, then the child goes missing again and comes back.
        child = {"child_ref": "V-7", "responsible_authority": "W06000015"}
        answered = cloud_event(
            "findings.responded",
            {
                **child,
                "findings_id": findings_id,
                "responded_at": now.isoformat(),
                "actions": [{"code": "support_offered"}],
                "child_told": True,
            },
        )
        decided = cloud_event(
            "nrm.decided",
            {**child, "episode_id": episode, "decision": "referred", "decided_at": now.isoformat()},
        )
        for event in (answered, decided):
            assert (await client.post("/v1/events", json=event, headers=council)).status_code == 202
        for event in (
            report("V-7", since=now - timedelta(hours=5)),
            returned("V-7", at=now - timedelta(hours=1)),
        ):
            assert (await client.post("/v1/events", json=event, headers=police)).status_code == 202

    def offered() -> set[str] | None:
        ids = {
            json.loads(o.body)["data"]["assignment_id"]
            for o in receiver.delivered(type_="assignment.offered")
        }
        return ids if len(ids) == 2 else None

    # The second absence has its own interview, offered as the first was.
    assert assignment in await poll(offered, timeout=60)
