"""Intake's read model and audit trail: built from the topics, shown as each organisation may see it."""

from datetime import UTC, datetime, timedelta

import httpx

from shared import topics
from shared.contracts.assignments import (
    AssignmentAccepted,
    AssignmentAssigned,
    AssignmentClosed,
    AssignmentExhausted,
)
from shared.contracts.tasks import EpisodeOpened, ExploitationAlert, WindowWarning
from tests.conftest import Place
from tests.directory_factory import CARDIFF
from tests.events import cloud_event, publish, report
from tests.integration.conftest import as_org
from tests.integration.intake_world import A, build, provider_declines
from tests.kafka_reader import headers_of, poll, read_topic


async def test_each_organisation_sees_what_concerns_it(intake: httpx.AsyncClient, place: Place) -> None:
    await build(intake, place, A)
    alert = ExploitationAlert(
        child_ref=A.ref,
        responsible_authority=A.responsible,
        placement_authority=A.placement,
        episode_id=A.episode,
        indicators=["county_lines"],
        source="police",
        raised_at=datetime.now(UTC),
    )
    tasks_topic = topics.named(place.namespace, topics.TASKS)
    first = await publish(place.bootstrap, tasks_topic, A.key, alert, id_="alert-1")
    await publish(place.bootstrap, tasks_topic, A.key, alert, id_="alert-1", source=first.source)  # again

    async def alerted() -> dict[str, object] | None:
        body = (await intake.get(A.path, headers=as_org("cardiff"))).json()
        return body if body["alerts"] else None

    council = await poll(alerted)
    assert council["seen_as"] == "responsible_authority"
    assert [e["episode_id"] for e in council["episodes"]] == [A.episode]
    assert [t["task_id"] for t in council["tasks"]] == [A.task]
    assert [(a["provider_id"], a["status"]) for a in council["assignments"]] == [("nyas-cymru", "offered")]
    assert [a["type"] for a in council["alerts"]] == ["alert.exploitation"]  # once, though sent twice

    host = (await intake.get(A.path, headers=as_org("newport"))).json()
    assert host["seen_as"] == "host_authority"
    assert [t["task_id"] for t in host["tasks"]] == [A.task]

    police = (await intake.get(A.path, headers=as_org("south-wales-police"))).json()
    assert police["seen_as"] == "police"
    assert (bool(police["episodes"]), police["tasks"], police["assignments"]) == (True, [], [])

    provider = (await intake.get(A.path, headers=as_org("nyas-cymru"))).json()
    assert provider["seen_as"] == "provider"
    assert (provider["episodes"], provider["alerts"], provider["assignments"]) == ([], [], [])
    referral = provider["referrals"][0]
    assert referral["assignment_id"] == A.assignment
    assert referral["referral"]["placement_authority"] == A.placement
    assert referral["referral"]["preferred_language"] == "cy"
    assert referral["referral"]["coordinator_contact"] == "coordinator@cardiff.example"


async def test_interview_reports_travel_under_the_child_and_stop_when_the_assignment_ends(
    intake: httpx.AsyncClient, place: Place
) -> None:
    await build(intake, place, A)
    accepted = cloud_event("interview.accepted", {"assignment_id": A.assignment})
    assert (await intake.post("/v1/events", json=accepted, headers=as_org("nyas-cymru"))).status_code == 202
    records = await read_topic(place.bootstrap, topics.named(place.namespace, topics.INTERVIEWS))
    assert [(r.key, headers_of(r)["ce_id"]) for r in records] == [(A.key.encode(), accepted["id"])]

    # A warning arriving for the task adds to it; the provider declines through the notifier's fact.
    now = datetime.now(UTC)
    warning = WindowWarning(
        child_ref=A.ref,
        responsible_authority=A.responsible,
        placement_authority=A.placement,
        episode_id=A.episode,
        task_id=A.task,
        returned_at=now,
        offer_due_at=now,
        stage="no_provider_accepted",
    )
    await publish(place.bootstrap, topics.named(place.namespace, topics.TASKS), A.key, warning)
    await provider_declines(intake, place, A)
    offered = cloud_event("interview.offered", {"assignment_id": A.assignment, "offered_at": now.isoformat()})
    assert (await intake.post("/v1/events", json=offered, headers=as_org("nyas-cymru"))).status_code == 403
    council = (await intake.get(A.path, headers=as_org("cardiff"))).json()
    assert council["assignments"][0]["status"] == "declined"
    assert council["assignments"][0]["reason"] == "no_capacity"
    assert council["tasks"][0]["warnings"] == ["no_provider_accepted"]


async def test_a_provider_no_longer_sees_the_referral_once_it_has_reported_the_interview(
    intake: httpx.AsyncClient, place: Place
) -> None:
    await build(intake, place, A)
    done = AssignmentClosed(
        child_ref=A.ref,
        responsible_authority=A.responsible,
        task_id=A.task,
        assignment_id=A.assignment,
        provider_id=A.provider,
        at=datetime.now(UTC),
        reason="interview_completed",
    )  # as the notifier publishes it once the provider reports the interview
    await publish(place.bootstrap, topics.named(place.namespace, topics.ASSIGNMENTS), A.key, done)

    async def released() -> bool:
        return (await intake.get(A.path, headers=as_org(A.provider))).status_code == 404

    await poll(released)
    council = (await intake.get(A.path, headers=as_org("cardiff"))).json()
    assert council["assignments"][0]["status"] == "completed"


async def test_reads_and_writes_are_audited_and_only_operations_list_them(
    intake: httpx.AsyncClient, place: Place
) -> None:
    await build(intake, place, A)
    read = await intake.get(A.path, headers=as_org("cardiff"))
    assert read.status_code == 200
    assert read.headers["cache-control"] == "no-store"  # the child's data is kept by no cache
    assert (await intake.get(A.path, headers=as_org("swansea"))).status_code == 404

    assert (await intake.get(A.path, headers={"authorization": "Bearer guessed"})).status_code == 401
    assert (await intake.get("/v1/audit", headers=as_org("cardiff"))).status_code == 403
    assert (await intake.get("/v1/audit", params={"child": A.key}, headers=as_org("ops"))).status_code == 200
    page = (await intake.get("/v1/audit", params={"child": A.key}, headers=as_org("ops"))).json()
    entries = {(e["org_id"], e["action"]) for e in page["items"]}
    assert ("south-wales-police", "write:missing.reported") in entries
    assert ("cardiff", "read:child") in entries
    # refused attempts are on record too (a refused read saw nothing), and so is reading the trail
    assert ("swansea", "refused:404:not-found") in entries
    assert ("swansea", "read:child") not in entries
    # a caller nobody knows leaves no record naming the child (a log line and a count instead)
    assert not any(e["org_id"] == "unknown" for e in page["items"])
    assert ("ops", "read:audit") in entries
    assert all(e["child_key"] == A.key for e in page["items"])
    everything = (await intake.get("/v1/audit", headers=as_org("ops"))).json()["items"]
    assert ("cardiff", "refused:403:forbidden") in {(e["org_id"], e["action"]) for e in everything}

    first = (await intake.get("/v1/audit", params={"limit": 1}, headers=as_org("ops"))).json()
    assert len(first["items"]) == 1
    after = (
        await intake.get(
            "/v1/audit", params={"limit": 1, "before": first["next_before"]}, headers=as_org("ops")
        )
    ).json()
    assert after["items"][0]["seq"] < first["items"][0]["seq"]
    by_org = (await intake.get("/v1/audit", params={"org": "cardiff"}, headers=as_org("ops"))).json()
    assert {e["org_id"] for e in by_org["items"]} == {"cardiff"}


async def test_an_assignment_never_goes_back_to_an_earlier_status(
    intake: httpx.AsyncClient, place: Place
) -> None:
    await build(intake, place, A)
    now = datetime.now(UTC)
    common = {
        "child_ref": A.ref,
        "responsible_authority": A.responsible,
        "task_id": A.task,
        "assignment_id": A.assignment,
        "provider_id": "nyas-cymru",
    }
    assignments = topics.named(place.namespace, topics.ASSIGNMENTS)
    await publish(place.bootstrap, assignments, A.key, AssignmentAccepted(**common, at=now))
    # The offer again, under another id (a producer's retry after a crash), after the acceptance.
    again = AssignmentAssigned(**common, at=now - timedelta(minutes=5), accept_by=now + timedelta(hours=4))
    await publish(place.bootstrap, assignments, A.key, again)
    # A later fact on the same topic and key: once it is read, so are the two before it.
    marker = AssignmentExhausted(
        child_ref=A.ref,
        responsible_authority=A.responsible,
        task_id=A.task,
        placement_authority=A.placement,
        episode_id=A.episode,
        at=now,
    )
    await publish(place.bootstrap, assignments, A.key, marker)

    async def settled() -> dict[str, object] | None:
        body = (await intake.get(A.path, headers=as_org("cardiff"))).json()
        return body if any(a["type"] == "assignment.exhausted" for a in body["alerts"]) else None

    council = await poll(settled)
    assert council["assignments"][0]["status"] == "accepted"


async def test_a_police_force_reads_the_episodes_it_reported_not_the_councils_own(
    intake: httpx.AsyncClient, place: Place
) -> None:
    """docs/domain.md rule 20: the council's earlier 'away' episode, never reported to police, stays hidden
    from the force that reported the child missing later."""
    now = datetime.now(UTC)
    child, key = "W-P1", f"{CARDIFF}/W-P1"
    away = report(child, since=now - timedelta(hours=30), kind="away")
    away["data"] |= {"reported_to_police": False, "not_reported_reason": "known_whereabouts"}
    del away["data"]["police_force"], away["data"]["police_reference"]
    assert (await intake.post("/v1/events", json=away, headers=as_org("cardiff"))).status_code == 202
    missing = report(child, since=now - timedelta(hours=5))
    assert (
        await intake.post("/v1/events", json=missing, headers=as_org("south-wales-police"))
    ).status_code == 202
    tasks_topic = topics.named(place.namespace, topics.TASKS)
    for episode_id, kind, since in (("ep-away", "away", 30), ("ep-missing", "missing", 5)):
        opened = EpisodeOpened(
            child_ref=child,
            responsible_authority=CARDIFF,
            placement_authority=CARDIFF,
            episode_id=episode_id,
            kind=kind,  # type: ignore[arg-type]
            started_at=now - timedelta(hours=since),
            risk_level="medium",
        )
        await publish(place.bootstrap, tasks_topic, key, opened)
    path = f"/v1/children/{CARDIFF}/{child}"

    async def both_known() -> bool:
        council = (await intake.get(path, headers=as_org("cardiff"))).json()
        return len(council["episodes"]) == 2

    await poll(both_known)
    police = (await intake.get(path, headers=as_org("south-wales-police"))).json()
    assert [e["episode_id"] for e in police["episodes"]] == ["ep-missing"]
    assert (await intake.get(path, headers=as_org("gwent-police"))).status_code == 404
