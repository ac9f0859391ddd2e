"""An example of every answer in the OpenAPI document, made from the answers' own models (so each is
valid as shown) and, for refusals, from intake's own problems."""

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

from services.intake.core import errors
from services.intake.reads.views import (
    AlertView,
    AssignmentView,
    AuditEntry,
    AuditPage,
    ChildRecord,
    DeliveryAttemptView,
    DeliveryPage,
    DeliveryView,
    EpisodeView,
    TaskView,
)

_RETURNED = datetime(2026, 11, 25, 8, 10, tzinfo=UTC)
_EPISODE = "0d6c7b8e-3f0a-5c51-9e1e-2b7d8a4f6c10"
_TASK = "7a0e2d4c-1b9f-5e3a-8c6d-4f2b1a0e9d87"
_ASSIGNMENT = "4b1c7c0e-7a55-5f0e-9d55-0f1d1d2c9e10"
_WEBHOOK = "msg_5f1c9a0d2e4b47c8a1f3b6d9e0c2a4f7"

CHILD = ChildRecord(
    child_ref="C-7f3a9e",
    responsible_authority="W06000015",
    seen_as="responsible_authority",
    episodes=[
        EpisodeView(
            episode_id=_EPISODE,
            placement_authority="W06000022",
            kind="missing",
            started_at=_RETURNED - timedelta(hours=10, minutes=40),
            risk_level="medium",
            ended_at=_RETURNED,
            end_reason="returned",
            exploitation_indicators=["county_lines"],
            preferred_language="cy",
        )
    ],
    alerts=[
        AlertView(
            episode_id=_EPISODE,
            type="alert.exploitation",
            raised_at=_RETURNED - timedelta(hours=9),
            details={"indicators": ["county_lines"], "source": "police"},
        )
    ],
    tasks=[
        TaskView(
            task_id=_TASK,
            episode_id=_EPISODE,
            episode_ids=[_EPISODE],
            placement_authority="W06000022",
            returned_at=_RETURNED,
            offer_due_at=_RETURNED + timedelta(hours=72),
            risk_level="medium",
            exploitation_indicators=["county_lines"],
            preferred_language="cy",
            warnings=[],
            breached_at=None,
        )
    ],
    assignments=[
        AssignmentView(
            assignment_id=_ASSIGNMENT,
            provider_id="nyas-cymru",
            task_id=_TASK,
            status="accepted",
            accept_by=_RETURNED + timedelta(hours=4),
            assigned_at=_RETURNED + timedelta(seconds=5),
            updated_at=_RETURNED + timedelta(minutes=52),
            reason=None,
        )
    ],
)
AUDIT = AuditPage(
    items=[
        AuditEntry(
            seq=1042,
            at=_RETURNED + timedelta(hours=1),
            org_id="cardiff",
            api_key_id="cardiff-2026",
            action="read:child",
            child_key="W06000015/C-7f3a9e",
            event_id=None,
        )
    ],
    next_before=None,
)
DELIVERY = DeliveryView(
    webhook_id=_WEBHOOK,
    event_type="assignment.offered",
    queued_at=_RETURNED + timedelta(seconds=5),
    state="delivered",
    next_attempt_at=None,
    redelivery_requested_at=None,
    attempts=[
        DeliveryAttemptView(
            round=0,
            attempt=1,
            attempted_at=_RETURNED + timedelta(seconds=5),
            status=503,
            latency_ms=41.7,
            error=None,
            state="pending",
        ),
        DeliveryAttemptView(
            round=0,
            attempt=2,
            attempted_at=_RETURNED + timedelta(seconds=17),
            status=204,
            latency_ms=12.3,
            error=None,
            state="delivered",
        ),
    ],
)
ASKED_AGAIN = DELIVERY.model_copy(update={"redelivery_requested_at": _RETURNED + timedelta(hours=2)})

# (path, method, status) -> the answer's example body
SUCCESSES: dict[tuple[str, str, str], Any] = {
    ("/v1/events", "post", "202"): {"id": "swp-118842-1", "status": "accepted"},
    ("/v1/events", "post", "200"): {"id": "swp-118842-1", "status": "accepted"},
    ("/v1/children/{authority}/{child_ref}", "get", "200"): CHILD.model_dump(mode="json"),
    ("/v1/audit", "get", "200"): AUDIT.model_dump(mode="json"),
    ("/v1/deliveries", "get", "200"): DeliveryPage(items=[DELIVERY], next_after=None).model_dump(mode="json"),
    ("/v1/deliveries/{webhook_id}", "get", "200"): DELIVERY.model_dump(mode="json"),
    ("/v1/deliveries/{webhook_id}/redeliver", "post", "202"): ASKED_AGAIN.model_dump(mode="json"),
}
# A refusal of each status, as intake words it.
_INVALID = errors.Invalid(
    errors=[{"pointer": "/data/returned_at", "detail": "time is in the future", "code": "future_time"}]
)
REFUSALS: dict[str, errors.Problem] = {
    "401": errors.Unauthorised(),
    "403": errors.Forbidden("This organisation may not send this event."),
    "404": errors.NotFound(),
    "409": errors.Conflict("Event ids reused with different content: swp-118842-1"),
    "413": errors.TooLarge("The body is larger than 1048576 bytes."),
    "415": errors.UnsupportedMedia(),
    "422": _INVALID,
    "503": errors.Unavailable(),
}
# Where an operation refuses in words of its own: (path, method, status) -> the problem.
_QUERY_INVALID = errors.Invalid(
    errors=[
        {
            "pointer": "/query/limit",
            "detail": "Input should be less than or equal to 200",
            "code": "less_than_equal",
        }
    ]
)
OWN_REFUSALS: dict[tuple[str, str, str], errors.Problem] = {
    ("/v1/audit", "get", "403"): errors.Forbidden("Only operations may read the audit trail."),
    ("/v1/audit", "get", "422"): _QUERY_INVALID,
    ("/v1/deliveries", "get", "422"): _QUERY_INVALID,
    ("/v1/deliveries", "get", "404"): errors.NotFound(
        "No delivery of yours has the id given as `after` (kept no longer?): start again without it."
    ),
    ("/v1/deliveries/{webhook_id}/redeliver", "post", "409"): errors.StillPending(
        "Its next attempt is due at 2026-11-25T08:10:17+00:00 (as last reported)."
    ),
    ("/v1/events", "post", "404"): errors.NotFound(
        "No episode of this child has the episode_id given (use the id from episode.opened)."
    ),
}


def _bad_path(parameter: str) -> errors.Invalid:
    return errors.Invalid(
        errors=[
            {
                "pointer": f"/path/{parameter}",
                "detail": "String should match pattern",
                "code": "string_pattern_mismatch",
            }
        ]
    )


OWN_REFUSALS |= {
    ("/v1/children/{authority}/{child_ref}", "get", "422"): _bad_path("child_ref"),
    ("/v1/deliveries/{webhook_id}", "get", "422"): _bad_path("webhook_id"),
    ("/v1/deliveries/{webhook_id}/redeliver", "post", "422"): _bad_path("webhook_id"),
}

# What intake answers for a fault of its own (app.create_app's last exception handler).
FAULT = {
    "type": "about:blank",
    "title": "Internal Server Error",
    "status": 500,
    "detail": "The request could not be completed. It is safe to send it again, with the same ids.",
}


def add_answer_examples(document: dict[str, Any]) -> None:
    """Put an example on every answer of every API operation that has a body."""
    for path, operations in document["paths"].items():
        if not path.startswith("/v1/"):
            continue
        for method, operation in operations.items():
            for status, answer in operation["responses"].items():
                answer["content"] = copy.deepcopy(answer.get("content", {}))  # the answers share dicts
                for media, content in answer["content"].items():
                    if (path, method, status) in SUCCESSES:
                        content["example"] = SUCCESSES[(path, method, status)]
                    elif (path, method, status) in OWN_REFUSALS:
                        content["example"] = OWN_REFUSALS[(path, method, status)].body()
                    elif media == "application/problem+json" and status in REFUSALS:
                        content["example"] = REFUSALS[status].body()
                    elif media == "application/problem+json" and status == "500":
                        content["example"] = FAULT
