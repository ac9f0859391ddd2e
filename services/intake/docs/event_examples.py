"""An example of every event type `POST /v1/events` takes, and of two batches: the examples of its
request body, in the authority codes of the deployment that shows them."""

import json
from typing import Any

# The examples' councils: Cardiff's child, placed in Newport.
EXAMPLE_AUTHORITIES = ("W06000015", "W06000022")
_CHILD = {"child_ref": "C-7f3a9e", "responsible_authority": "W06000015"}

EXAMPLE_DATA: dict[str, dict[str, Any]] = {
    "missing.reported": {
        **_CHILD,
        "placement_authority": "W06000022",
        "kind": "missing",
        "missing_since": "2026-11-24T21:30:00+00:00",
        "risk_level": "medium",
        "exploitation_indicators": ["county_lines"],
        "preferred_language": "cy",
        "police_force": "south-wales-police",
        "police_reference": "SWP-2026-118842",
    },
    "missing.risk_changed": {**_CHILD, "risk_level": "high", "exploitation_indicators": ["cce"]},
    "missing.returned": {
        **_CHILD,
        "returned_at": "2026-11-25T08:10:00+00:00",
        "how_returned": "found_by_police",
    },
    "missing.cancelled": {**_CHILD, "reason": "reported_in_error", "report_id": "swp-118842-1"},
    "interview.not_offered": {
        **_CHILD,
        "episode_id": "0d6c7b8e-3f0a-5c51-9e1e-2b7d8a4f6c10",
        "reason": "child_moved_abroad",
    },
    "interview.accepted": {"assignment_id": "4b1c7c0e-7a55-5f0e-9d55-0f1d1d2c9e10"},
    "interview.declined": {"assignment_id": "4b1c7c0e-7a55-5f0e-9d55-0f1d1d2c9e10", "reason": "no_capacity"},
    "interview.offered": {
        "assignment_id": "4b1c7c0e-7a55-5f0e-9d55-0f1d1d2c9e10",
        "offered_at": "2026-11-25T15:00:00+00:00",
    },
    "interview.completed": {
        "assignment_id": "4b1c7c0e-7a55-5f0e-9d55-0f1d1d2c9e10",
        "completed_at": "2026-11-26T11:00:00+00:00",
        "outcome": "completed",
        "exploitation_indicators": ["cce"],
        "safeguarding_concern": True,
        "findings": {
            "reasons": ["wants_family_contact", "placed_far_from_home"],
            "stayed_with": ["family", "another_area"],
            "harm": "none_disclosed",
            "would_help": ["more_family_contact"],
            "placement_view": "return_home_area",
            "child_words": "I want to live nearer my nan.",
        },
    },
    "nrm.decided": {
        **_CHILD,
        "episode_id": "0d6c7b8e-3f0a-5c51-9e1e-2b7d8a4f6c10",
        "decision": "referred",
        "decided_at": "2026-11-27T14:00:00+00:00",
    },
    "findings.responded": {
        **_CHILD,
        "findings_id": "findings-4b1c7c0e-7a55-5f0e-9d55-0f1d1d2c9e10",
        "responded_at": "2026-11-30T10:00:00+00:00",
        "actions": [{"code": "referral_made", "referral_kind": "camhs"}, {"code": "care_plan_reviewed"}],
        "child_told": True,
    },
}


def _example(event_type: str) -> dict[str, Any]:
    return {
        "summary": event_type,
        "value": {
            "specversion": "1.0",
            "id": f"example-{event_type.replace('.', '-')}-0001",
            "type": event_type,
            "time": "2026-11-25T09:00:00+00:00",
            "data": EXAMPLE_DATA[event_type],
        },
    }


def request_examples(authorities: list[str]) -> dict[str, Any]:
    """The request body's examples by name: an event of each type, and two batches (in the authorities
    of this deployment)."""
    batches = {
        "batch: child declined": {
            "summary": "the child declined the interview offered (a reason code, no free text)",
            "value": [
                {**_example("interview.offered")["value"], "id": "example-interview-offered-0002"},
                {
                    **_example("interview.completed")["value"],
                    "id": "example-interview-completed-0002",
                    "data": {
                        "assignment_id": "4b1c7c0e-7a55-5f0e-9d55-0f1d1d2c9e10",
                        "completed_at": "2026-11-26T11:00:00+00:00",
                        "outcome": "child_declined",
                        "decline_reason": "does_not_want_to_talk",
                        "exploitation_indicators": [],
                        "safeguarding_concern": False,
                    },
                },
            ],
        },
        "batch: report and return": {
            "summary": "a report and a return in one request",
            "value": [_example("missing.reported")["value"], _example("missing.returned")["value"]],
        },
    }
    examples = {name: _example(name) for name in EXAMPLE_DATA} | batches
    return {name: _localised(example, authorities) for name, example in examples.items()}


def _localised(example: Any, authorities: list[str]) -> Any:
    """An example with the example councils' codes replaced by this deployment's, where it has not got
    them (so every example is one intake accepts)."""
    if not authorities or set(EXAMPLE_AUTHORITIES) <= set(authorities):
        return example
    text = json.dumps(example)
    for index, code in enumerate(EXAMPLE_AUTHORITIES):
        text = text.replace(code, authorities[min(index, len(authorities) - 1)])
    return json.loads(text)
