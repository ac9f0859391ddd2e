"""The authorisation matrix (DOMAIN rule 20, CONTRACT §2), table-driven: each kind of organisation ×
each event type and the read × its own child and someone else's child."""

from typing import Any

import httpx

from tests.conftest import Place
from tests.events import cloud_event, report, returned
from tests.integration.conftest import as_org
from tests.integration.intake_world import A, B, Child, build

MISSING_TYPES = ("missing.reported", "missing.risk_changed", "missing.returned", "missing.cancelled")
INTERVIEW_TYPES = ("interview.accepted", "interview.declined", "interview.offered", "interview.completed")

# (organisation, what it is, child, missing.* answer, interview.* answer, read answer)
MATRIX: list[tuple[str, str, Child, int, int, int]] = [
    ("south-wales-police", "police, child it reported", A, 202, 403, 200),
    ("south-wales-police", "police, child another force reported", B, 202, 403, 404),
    ("cardiff", "council, its own child", A, 202, 403, 200),
    ("cardiff", "council, another council's child", B, 403, 403, 404),
    ("newport", "council, a child placed in its area", A, 403, 403, 200),
    ("swansea", "council, its own child", B, 202, 403, 200),
    ("swansea", "council, another council's child", A, 403, 403, 404),
    ("nyas-cymru", "provider holding the assignment", A, 403, 202, 200),
    ("nyas-cymru", "provider not holding the assignment", B, 403, 403, 404),
    ("cardiff-youth-support", "provider holding the assignment", B, 403, 202, 200),
    ("cardiff-youth-support", "provider not holding the assignment", A, 403, 403, 404),
    ("ops", "operations", A, 403, 403, 200),
    ("ops", "operations", B, 403, 403, 200),
]


def event_of(event_type: str, child: Child) -> dict[str, Any]:
    """A valid event of a type about a child (interview events name the child's assignment)."""
    about = {"child_ref": child.ref, "responsible_authority": child.responsible}
    at = returned(child.ref)["data"]["returned_at"]
    data: dict[str, Any] = {
        "missing.reported": report(child.ref, responsible=child.responsible, placement=child.placement)[
            "data"
        ],
        "missing.risk_changed": {**about, "risk_level": "high", "exploitation_indicators": ["cce"]},
        "missing.returned": {**about, "returned_at": at},
        "missing.cancelled": {**about, "reason": "reported_in_error"},
        "interview.accepted": {"assignment_id": child.assignment},
        "interview.declined": {"assignment_id": child.assignment, "reason": "no_capacity"},
        "interview.offered": {"assignment_id": child.assignment, "offered_at": at},
        "interview.completed": {
            "assignment_id": child.assignment,
            "completed_at": at,
            "outcome": "completed",
            "exploitation_indicators": [],
            "safeguarding_concern": False,
        },
    }[event_type]
    return cloud_event(event_type, data)


async def test_the_authorisation_matrix(intake: httpx.AsyncClient, place: Place) -> None:
    await build(intake, place, A, B)
    expected: dict[tuple[str, str, str], int] = {}
    actual: dict[tuple[str, str, str], int] = {}
    for org, what, child, missing, interview, read in MATRIX:
        # Read first: once a police force has reported a child, it may read that child's record.
        seen = await intake.get(child.path, headers=as_org(org))
        expected[(org, what, "read")] = read
        actual[(org, what, "read")] = seen.status_code
        cases = [(t, missing) for t in MISSING_TYPES] + [(t, interview) for t in INTERVIEW_TYPES]
        for event_type, status in cases:
            answer = await intake.post("/v1/events", json=event_of(event_type, child), headers=as_org(org))
            expected[(org, what, event_type)] = status
            actual[(org, what, event_type)] = answer.status_code
            if answer.status_code >= 400:
                assert answer.headers["content-type"] == "application/problem+json"
    assert actual == expected


async def test_a_refused_read_looks_like_a_child_that_does_not_exist(
    intake: httpx.AsyncClient, place: Place
) -> None:
    await build(intake, place, A)
    hidden = await intake.get(A.path, headers=as_org("swansea"))
    missing = await intake.get("/v1/children/W06000011/nobody", headers=as_org("swansea"))
    assert (hidden.status_code, hidden.json()) == (missing.status_code, missing.json())


async def test_no_organisation_can_set_the_source(intake: httpx.AsyncClient, place: Place) -> None:
    from shared import topics
    from tests.kafka_reader import headers_of, read_topic

    event = {**report("W-S1"), "source": "/orgs/cardiff"}
    assert (await intake.post("/v1/events", json=event, headers=as_org("gwent-police"))).status_code == 202
    records = await read_topic(place.bootstrap, topics.named(place.namespace, topics.EPISODES))
    assert headers_of(records[0])["ce_source"] == "/orgs/gwent-police"
