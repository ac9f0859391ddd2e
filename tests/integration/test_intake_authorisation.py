"""The authorisation matrix (docs/domain.md rule 20), table-driven: each kind of organisation ×
each event type and the read × its own child and someone else's child."""

import asyncio
import contextvars
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from shared import db, topics
from shared.contracts.assignments import AssignmentAssigned
from tests.conftest import Place
from tests.directory_factory import DirectoryFactory
from tests.events import cloud_event, publish, report, returned
from tests.integration.conftest import as_org, intake_client
from tests.integration.intake_world import A, B, Child, build, provider_declines
from tests.kafka_reader import headers_of, read_topic

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


REQUEST: contextvars.ContextVar[str] = contextvars.ContextVar("request")


async def test_a_child_nobody_may_see_costs_the_same_statements_as_one_that_does_not_exist(
    place: Place, directory: DirectoryFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Answer time must not tell whether a child exists: both reads run the same statements, in order."""
    ran: dict[str, list[str]] = {}

    def logged(query: asyncpg.connection.LoggedQuery) -> None:
        # asyncpg calls this in a copy of the querying task's context: the request's tag is in it
        label = REQUEST.get(None)
        if label is not None:
            ran.setdefault(label, []).append(query.query)

    async def init(conn: asyncpg.Connection) -> None:
        await original(conn)
        conn.add_query_logger(logged)

    original = db._init_connection
    monkeypatch.setattr(db, "_init_connection", init)
    async with intake_client(place, directory) as intake:
        await build(intake, place, A)
        for org in ("swansea", "gwent-police", "cardiff-youth-support"):
            for label, path in (("hidden", A.path), ("missing", "/v1/children/W06000015/nobody")):
                REQUEST.set(f"{org}:{label}")
                assert (await intake.get(path, headers=as_org(org))).status_code == 404
            assert ran[f"{org}:hidden"] == ran[f"{org}:missing"], org
            assert len(ran[f"{org}:hidden"]) >= 6


async def test_no_organisation_can_set_the_source(intake: httpx.AsyncClient, place: Place) -> None:
    event = {**report("W-S1"), "source": "/orgs/cardiff"}
    assert (await intake.post("/v1/events", json=event, headers=as_org("gwent-police"))).status_code == 202
    records = await read_topic(place.bootstrap, topics.named(place.namespace, topics.EPISODES))
    assert headers_of(records[0])["ce_source"] == "/orgs/gwent-police"


async def test_an_offer_answered_at_once_is_accepted_once_intake_learns_the_assignment(
    intake: httpx.AsyncClient, place: Place
) -> None:
    """The offer webhook can reach a provider before the assignment fact reaches intake: a report
    sent at once waits for the fact instead of being refused."""
    await build(intake, place, A)
    late = "asg-answered-at-once"
    answer = asyncio.create_task(
        intake.post(
            "/v1/events",
            json=cloud_event("interview.accepted", {"assignment_id": late}),
            headers=as_org("nyas-cymru"),
        )
    )
    now = datetime.now(UTC)
    assigned = AssignmentAssigned(
        child_ref=A.ref,
        responsible_authority=A.responsible,
        task_id=A.task,
        assignment_id=late,
        provider_id="nyas-cymru",
        at=now,
        accept_by=now + timedelta(hours=4),
    )
    await publish(place.bootstrap, topics.named(place.namespace, topics.ASSIGNMENTS), A.key, assigned)
    assert (await answer).status_code == 202
    records = await read_topic(place.bootstrap, topics.named(place.namespace, topics.INTERVIEWS))
    assert [(headers_of(r)["ce_type"], r.key.decode()) for r in records] == [("interview.accepted", A.key)]


async def test_a_report_on_an_assignment_intake_never_learns_of_is_refused(
    place: Place, directory: DirectoryFactory
) -> None:
    async with intake_client(place, directory, assignment_wait_seconds=0.3) as intake:
        answer = await intake.post(
            "/v1/events",
            json=cloud_event("interview.accepted", {"assignment_id": "asg-never-offered"}),
            headers=as_org("nyas-cymru"),
        )
    assert answer.status_code == 403
    assert answer.headers["content-type"] == "application/problem+json"


async def test_a_retried_report_is_answered_as_before_after_the_assignment_has_ended(
    intake: httpx.AsyncClient, place: Place
) -> None:
    """A decline whose answer was lost is sent again after intake has learnt of the decline: the same
    id and content is the same answer (200), not a refusal; other content under that id conflicts."""
    await build(intake, place, A)
    decline = cloud_event("interview.declined", {"assignment_id": A.assignment, "reason": "no_capacity"})
    first = await intake.post("/v1/events", json=decline, headers=as_org("nyas-cymru"))
    assert first.status_code == 202
    await provider_declines(intake, place, A)
    again = await intake.post("/v1/events", json=decline, headers=as_org("nyas-cymru"))
    assert (again.status_code, again.json()) == (200, first.json())
    other = {**decline, "data": {"assignment_id": A.assignment, "reason": "conflict_of_interest"}}
    assert (await intake.post("/v1/events", json=other, headers=as_org("nyas-cymru"))).status_code == 409
    fresh = cloud_event("interview.declined", {"assignment_id": A.assignment, "reason": "no_capacity"})
    assert (await intake.post("/v1/events", json=fresh, headers=as_org("nyas-cymru"))).status_code == 403
