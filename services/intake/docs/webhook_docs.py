"""The webhooks councils, providers and operations receive, described in intake's OpenAPI document
(`webhooks`, OpenAPI 3.1), from the catalogue the notifier keeps to (shared/contracts/webhooks.py), with
an example of each built from the contract's own models (so every example is valid by construction).

Intake does not send webhooks; it publishes their description because it is where integrators read the
API: one document for what they send and what they receive.
"""

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body
from pydantic import BaseModel, ConfigDict, Field, create_model

from shared.contracts.assignments import (
    AssignmentExhausted,
    AssignmentOffered,
    AssignmentUpdated,
    AssignmentWithdrawn,
    InterviewSummary,
    ReferralPacket,
)
from shared.contracts.common import EventData
from shared.contracts.operations import EndpointDisabled, WebhookTest
from shared.contracts.tasks import (
    EpisodeChanged,
    EpisodeOpened,
    ExploitationAlert,
    HighRiskAlert,
    LongMissingAlert,
    RepeatMissingAlert,
    WindowBreached,
    WindowWarning,
)
from shared.contracts.voice import (
    EarlierInterview,
    FindingsHeard,
    FindingsResponseDue,
    FindingsResponseOverdue,
    InterviewFindings,
    NrmDecisionDue,
    PlacementReviewRequested,
    SaidAgainAlert,
    VictimArrestedAlert,
    findings_id_of,
    respond_by,
)
from shared.contracts.webhooks import RECIPIENTS, TO_COUNCILS, WEBHOOKS

MEDIA = "application/cloudevents+json"
RETURNED = datetime(2026, 11, 27, 8, 40, tzinfo=UTC)
DUE = RETURNED + timedelta(hours=72)
CHILD = {"child_ref": "C-7f3a9e", "responsible_authority": "W06000015"}
PLACED = {**CHILD, "placement_authority": "W06000022", "episode_id": "0b8e2f9c-5d1a-5c6e-9f6b-2d2c1b7e4a10"}
TASK = "8f14e45f-ceea-567a-a3b2-6c1d2f0e9a31"
ASSIGNMENT = "4b1c7c0e-7a55-5f0e-9d55-0f1d1d2c9e10"
REFERRAL = ReferralPacket(
    **CHILD,
    placement_authority="W06000022",
    returned_at=RETURNED,
    offer_due_at=DUE,
    risk_level="high",
    exploitation_indicators=["cce", "county_lines"],
    preferred_language="cy",
    coordinator_contact="missing-coordinator@cardiff.example",
)
EXAMPLES: dict[type[EventData], EventData] = {
    AssignmentOffered: AssignmentOffered(
        assignment_id=ASSIGNMENT, referral=REFERRAL, offer_due_at=DUE, accept_by=RETURNED + timedelta(hours=4)
    ),
    AssignmentUpdated: AssignmentUpdated(
        assignment_id=ASSIGNMENT,
        referral=REFERRAL,
        offer_due_at=DUE,
        changes=["episode_added", "deadline_moved", "risk_raised"],
    ),
    AssignmentWithdrawn: AssignmentWithdrawn(assignment_id=ASSIGNMENT, reason="acceptance_timeout"),
    EpisodeOpened: EpisodeOpened(
        **PLACED, kind="missing", started_at=RETURNED - timedelta(hours=20), risk_level="medium"
    ),
    EpisodeChanged: EpisodeChanged(
        **PLACED,
        by="south-wales-police",
        changes=["returned", "risk_raised"],
        at=RETURNED,
        kind="missing",
        started_at=RETURNED - timedelta(hours=20),
        ended_at=RETURNED,
        end_reason="returned",
        returned_at=RETURNED,
        risk_level="high",
    ),
    WindowWarning: WindowWarning(
        **PLACED, task_id=TASK, returned_at=RETURNED, offer_due_at=DUE, stage="no_provider_accepted"
    ),
    WindowBreached: WindowBreached(
        **PLACED, task_id=TASK, returned_at=RETURNED, offer_due_at=DUE, breached_at=DUE
    ),
    HighRiskAlert: HighRiskAlert(**PLACED, raised_at=RETURNED - timedelta(hours=18)),
    ExploitationAlert: ExploitationAlert(
        **PLACED, indicators=["county_lines"], source="police", raised_at=RETURNED - timedelta(hours=18)
    ),
    RepeatMissingAlert: RepeatMissingAlert(
        **PLACED, episodes_in_period=3, period_days=90, raised_at=RETURNED - timedelta(hours=20)
    ),
    LongMissingAlert: LongMissingAlert(**PLACED, hours_missing=24, raised_at=RETURNED - timedelta(hours=1)),
    AssignmentExhausted: AssignmentExhausted(
        **PLACED,
        task_id=TASK,
        at=RETURNED + timedelta(minutes=1),
        excluded={"cardiff-youth-support": "employed_by_responsible_authority", "nyas-cymru": "at_capacity"},
    ),
    InterviewSummary: InterviewSummary(
        **PLACED,
        task_id=TASK,
        assignment_id=ASSIGNMENT,
        provider_id="nyas-cymru",
        completed_at=RETURNED + timedelta(hours=30),
        outcome="completed",
        exploitation_indicators=["county_lines"],
        safeguarding_concern=True,
    ),
    InterviewFindings: InterviewFindings(
        **PLACED,
        task_id=TASK,
        assignment_id=ASSIGNMENT,
        provider_id="nyas-cymru",
        findings_id=findings_id_of(ASSIGNMENT),
        completed_at=RETURNED + timedelta(hours=30),
        respond_by=respond_by(RETURNED + timedelta(hours=30), 7),
        findings=FindingsHeard(
            reasons=["wants_family_contact", "placed_far_from_home"],
            stayed_with=["family", "another_area"],
            harm="none_disclosed",
            would_help=["more_family_contact"],
            placement_view="return_home_area",
            child_words="I want to live nearer my nan. Nobody asks me.",
        ),
    ),
    FindingsResponseDue: FindingsResponseDue(
        **PLACED,
        findings_id=findings_id_of(ASSIGNMENT),
        completed_at=RETURNED + timedelta(hours=30),
        respond_by=respond_by(RETURNED + timedelta(hours=30), 7),
    ),
    FindingsResponseOverdue: FindingsResponseOverdue(
        **PLACED,
        findings_id=findings_id_of(ASSIGNMENT),
        completed_at=RETURNED + timedelta(hours=30),
        respond_by=respond_by(RETURNED + timedelta(hours=30), 7),
    ),
    SaidAgainAlert: SaidAgainAlert(
        **PLACED,
        findings_id=findings_id_of(ASSIGNMENT),
        reason="wants_family_contact",
        count=3,
        within_days=180,
        earlier=[
            EarlierInterview(
                findings_id="findings-1a2b3c4d-0000-5000-8000-000000000001",
                completed_at=RETURNED - timedelta(days=70),
                answered_at=RETURNED - timedelta(days=66),
                actions=["family_contact_changed"],
            ),
            EarlierInterview(
                findings_id="findings-1a2b3c4d-0000-5000-8000-000000000002",
                completed_at=RETURNED - timedelta(days=21),
                answered_at=None,
            ),
        ],
        raised_at=RETURNED + timedelta(hours=30),
    ),
    PlacementReviewRequested: PlacementReviewRequested(
        **PLACED,
        findings_id=findings_id_of(ASSIGNMENT),
        placement_view="return_home_area",
        completed_at=RETURNED + timedelta(hours=30),
        raised_at=RETURNED + timedelta(hours=30),
    ),
    VictimArrestedAlert: VictimArrestedAlert(
        **PLACED,
        indicators=["county_lines"],
        returned_at=RETURNED,
        raised_at=RETURNED + timedelta(minutes=1),
    ),
    NrmDecisionDue: NrmDecisionDue(
        **PLACED,
        indicators=["county_lines"],
        due_at=RETURNED + timedelta(days=7),
    ),
    EndpointDisabled: EndpointDisabled(
        org_id="nyas-cymru",
        url="https://nyas.example/hooks/mtp",
        webhook_id="msg_2f0c41d6",
        event_type="assignment.offered",
        disabled_at=RETURNED,
    ),
    WebhookTest: WebhookTest(org_id="nyas-cymru", sent_at=RETURNED),
}
SIGNATURE_HEADERS = [
    {
        "name": "webhook-id",
        "in": "header",
        "required": True,
        "description": "The message's id, the same on every retry: keep the ids you have handled and "
        "ignore a repeat (delivery is at least once).",
        "schema": {"type": "string"},
    },
    {
        "name": "webhook-timestamp",
        "in": "header",
        "required": True,
        "description": "Unix seconds when this attempt was signed: refuse one far from your clock (a replay).",
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    },
    {
        "name": "webhook-signature",
        "in": "header",
        "required": True,
        "description": "`v1,<base64 HMAC-SHA256 of id.timestamp.body>`, space-separated; two while a secret "
        "is being rotated. Standard Webhooks: its libraries verify it in one call.",
        "schema": {"type": "string"},
    },
]
RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "Received (any 2xx within the timeout): not sent again."},
    410: {"description": "Gone: nothing more is sent to this URL until an operator enables it again."},
    "default": {"description": "Anything else, or no answer in time: sent again later, with backoff."},
}


def cloud_event(model: type[EventData]) -> type[BaseModel]:
    """The whole webhook body for one payload: a CloudEvent whose `type` is the payload's."""
    fields: dict[str, Any] = {
        "specversion": (Literal["1.0"], ...),
        "id": (str, Field(description="The same as the `webhook-id` header.")),
        "source": (Literal["/mtp/notifier"], ...),
        "type": (Literal[model.type_name], ...),  # a literal made per payload
        "time": (datetime, Field(description="When the notifier queued it.")),
        "datacontenttype": (Literal["application/json"], ...),
        "subject": (str | None, Field(None, description="The episode or assignment concerned.")),
        "data": (model, ...),
    }
    envelope: type[BaseModel] = create_model(
        f"{model.__name__}Webhook", __config__=ConfigDict(title=f"{model.type_name} webhook"), **fields
    )
    return envelope


def example(model: type[EventData]) -> dict[str, Any]:
    """A whole webhook body for the payload's example."""
    data = EXAMPLES[model]
    return {
        "specversion": "1.0",
        "id": "msg_6f1c2a9e4b7d",
        "source": "/mtp/notifier",
        "type": model.type_name,
        "time": (RETURNED + timedelta(minutes=2)).isoformat(),
        "datacontenttype": "application/json",
        # councils' notices name the episode, providers' the assignment, operations' nothing
        "subject": getattr(data, "episode_id", None)
        if model in TO_COUNCILS
        else getattr(data, "assignment_id", None),
        "data": data.model_dump(mode="json"),
    }


def _receivers(model: type[EventData]) -> str:
    names = {"provider": "providers", "local_authority": "councils", "ops": "the operations team"}
    return ", ".join(names[kind] for kind, models in RECIPIENTS.items() if model in models)


def webhooks_router() -> APIRouter:
    """One `webhooks` entry per payload the notifier sends (FastAPI's `app.webhooks`)."""
    router = APIRouter()
    for model in WEBHOOKS:
        body_model = cloud_event(model)

        async def receive(body: Annotated[body_model, Body(media_type=MEDIA)]) -> None:  # type: ignore[valid-type]  # a model made per payload
            """Described, never served: the receiving end is the organisation's."""

        router.add_api_route(
            model.type_name,
            receive,
            methods=["POST"],
            name=model.type_name,
            operation_id=model.type_name.replace(".", "_"),
            summary=f"{model.type_name}: to {_receivers(model)}",
            description=(model.__doc__ or "").strip(),
            responses=RESPONSES,
            openapi_extra={
                "parameters": SIGNATURE_HEADERS,
                "requestBody": {"content": {MEDIA: {"example": example(model)}}},
            },
        )
    return router
