"""What a child said in a return interview (docs/domain.md rule 30): recorded by the provider with the
interview, read by the child's responsible authority and nobody else; anything wrong with it is
refused naming the field, and nothing of a refused report is kept."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.conftest import Place
from tests.events import cloud_event
from tests.integration.conftest import as_org
from tests.integration.intake_world import A, build

WORDS = "I want to live nearer my nan. Sentinel-7Q2 nobody asks me."
FINDINGS: dict[str, Any] = {
    "reasons": ["wants_family_contact", "placed_far_from_home"],
    "stayed_with": ["family", "another_area"],
    "harm": "none_disclosed",
    "would_help": ["more_family_contact"],
    "placement_view": "return_home_area",
    "child_words": WORDS,
}


def completed(findings: dict[str, Any] | None = FINDINGS, **data: Any) -> dict[str, Any]:
    done = datetime.now(UTC) - timedelta(minutes=5)
    body = {"assignment_id": A.assignment, "completed_at": done.isoformat(), "outcome": "completed", **data}
    if findings is not None:
        body["findings"] = findings
    return cloud_event("interview.completed", body)


async def test_what_the_child_said_is_read_by_the_responsible_authority_and_nobody_else(
    intake: httpx.AsyncClient, place: Place
) -> None:
    await build(intake, place, A)
    sent = await intake.post("/v1/events", json=completed(), headers=as_org(A.provider))
    assert sent.status_code == 202, sent.text

    council = (await intake.get(A.path, headers=as_org("cardiff"))).json()
    assert [(f["findings_id"], f["provider_id"]) for f in council["findings"]] == [
        (f"findings-{A.assignment}", A.provider)
    ]
    assert council["findings"][0]["findings"] == FINDINGS
    # The host authority, the police, operations: the child's record without what the child said.
    for reader in ("newport", A.reported_by, "ops"):
        answer = await intake.get(A.path, headers=as_org(reader))
        assert answer.status_code == 200, reader
        assert answer.json()["findings"] == [], reader
        assert "Sentinel-7Q2" not in answer.text, reader


async def test_findings_that_do_not_fit_are_refused_naming_the_field_and_nothing_is_kept(
    intake: httpx.AsyncClient, place: Place
) -> None:
    await build(intake, place, A)
    refused = {
        "/data/findings/reasons/0": completed({**FINDINGS, "reasons": ["ran_off"]}),
        "/data/findings/child_words": completed({**FINDINGS, "child_words": "x" * 2001}),
        "/data/findings/mood": completed({**FINDINGS, "mood": "fine"}),
        "/data/findings": completed(FINDINGS, outcome="unable_to_contact"),
    }
    for pointer, event in refused.items():
        answer = await intake.post("/v1/events", json=event, headers=as_org(A.provider))
        assert answer.status_code == 422, (pointer, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert pointer in [error["pointer"] for error in answer.json()["errors"]], answer.text
        assert "Sentinel-7Q2" not in answer.text
        assert "x" * 100 not in answer.text
    council = (await intake.get(A.path, headers=as_org("cardiff"))).json()
    assert council["findings"] == []
    # At most 2,000 characters, in any language, is the child's to say.
    welsh = completed({**FINDINGS, "child_words": "Dw i eisiau byw yn agosach at fy mam-gu. " * 48})
    assert len(welsh["data"]["findings"]["child_words"]) <= 2000
    assert (await intake.post("/v1/events", json=welsh, headers=as_org(A.provider))).status_code == 202


def answered(findings_id: str, *, corrects: bool = False, **data: Any) -> dict[str, Any]:
    body = {
        "child_ref": A.ref,
        "responsible_authority": A.responsible,
        "findings_id": findings_id,
        "responded_at": datetime.now(UTC).isoformat(),
        "actions": [{"code": "referral_made", "referral_kind": "camhs"}, {"code": "care_plan_reviewed"}],
        "child_told": True,
        "corrects": corrects,
        **data,
    }
    return cloud_event("findings.responded", body)


async def test_the_responsible_council_answers_once_and_may_correct_its_answer(
    intake: httpx.AsyncClient, place: Place
) -> None:
    await build(intake, place, A)
    assert (await intake.post("/v1/events", json=completed(), headers=as_org(A.provider))).status_code == 202
    findings_id = f"findings-{A.assignment}"

    # Only the responsible authority answers; findings the child does not have are not found.
    for other in ("newport", A.reported_by, A.provider):
        refused = await intake.post("/v1/events", json=answered(findings_id), headers=as_org(other))
        assert refused.status_code == 403, other
    unknown = await intake.post("/v1/events", json=answered("findings-nobody"), headers=as_org("cardiff"))
    assert unknown.status_code == 404
    # An action that needs more says which.
    vague = answered(findings_id, actions=[{"code": "referral_made"}])
    wrong = await intake.post("/v1/events", json=vague, headers=as_org("cardiff"))
    assert wrong.status_code == 422
    assert [e["pointer"] for e in wrong.json()["errors"]] == ["/data/actions/0/referral_kind"]

    first = await intake.post("/v1/events", json=answered(findings_id), headers=as_org("cardiff"))
    assert first.status_code == 202, first.text
    again = await intake.post("/v1/events", json=answered(findings_id), headers=as_org("cardiff"))
    assert again.status_code == 409
    assert again.json()["type"].endswith("already-answered")
    assert "corrects" in again.json()["detail"]
    correction = answered(findings_id, corrects=True, child_told=False)
    assert (await intake.post("/v1/events", json=correction, headers=as_org("cardiff"))).status_code == 202

    council = (await intake.get(A.path, headers=as_org("cardiff"))).json()
    answers = council["findings"][0]["answers"]
    assert [(a["corrects"], a["child_told"]) for a in answers] == [(False, True), (True, False)]
    assert answers[0]["actions"][0] == {"code": "referral_made", "referral_kind": "camhs", "reason": None}


async def test_the_nrm_decision_is_the_responsible_councils_for_an_episode_the_child_has(
    intake: httpx.AsyncClient, place: Place
) -> None:
    await build(intake, place, A)

    def decided(episode: str = A.episode, **data: Any) -> dict[str, Any]:
        body = {
            "child_ref": A.ref,
            "responsible_authority": A.responsible,
            "episode_id": episode,
            "decision": "referred",
            "decided_at": datetime.now(UTC).isoformat(),
            **data,
        }
        return cloud_event("nrm.decided", body)

    for other in ("newport", A.reported_by):
        assert (await intake.post("/v1/events", json=decided(), headers=as_org(other))).status_code == 403
    assert (
        await intake.post("/v1/events", json=decided("ep-none"), headers=as_org("cardiff"))
    ).status_code == 404
    unexplained = await intake.post(
        "/v1/events", json=decided(decision="not_referred"), headers=as_org("cardiff")
    )
    assert unexplained.status_code == 422
    assert [e["pointer"] for e in unexplained.json()["errors"]] == ["/data/reason"]
    assert (await intake.post("/v1/events", json=decided(), headers=as_org("cardiff"))).status_code == 202
    # Kept for the responsible council's child record, and for nobody else's.
    council = (await intake.get(A.path, headers=as_org("cardiff"))).json()
    assert [(d["episode_id"], d["decision"]) for d in council["nrm_decisions"]] == [(A.episode, "referred")]
    host = await intake.get(A.path, headers=as_org("newport"))
    assert host.status_code != 200 or host.json()["nrm_decisions"] == []
