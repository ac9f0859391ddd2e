"""Every webhook the notifier sends, by who receives it: the catalogue the OpenAPI document's `webhooks`
describes and the notifier keeps to (it refuses to queue a payload that is not here).

Each webhook is a CloudEvent in structured JSON mode (`application/cloudevents+json`), signed as
Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`); `type` names the payload.
"""

from shared.contracts.assignments import (
    AssignmentExhausted,
    AssignmentOffered,
    AssignmentUpdated,
    AssignmentWithdrawn,
    InterviewSummary,
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
from shared.contracts.voice import VOICE_NOTICES, InterviewFindings

# What an independent provider receives about the return interviews it is offered or holds.
TO_PROVIDERS: tuple[type[EventData], ...] = (
    AssignmentOffered,
    AssignmentUpdated,
    AssignmentWithdrawn,
    WebhookTest,
)
# What a council receives about its children (and, read only, children placed in its area); a breach
# goes to its senior manager's URL as well. What a child said (`interview.findings`) goes to the
# responsible authority only (docs/domain.md rule 30).
TO_COUNCILS: tuple[type[EventData], ...] = (
    EpisodeOpened,
    EpisodeChanged,
    WindowWarning,
    WindowBreached,
    HighRiskAlert,
    ExploitationAlert,
    RepeatMissingAlert,
    LongMissingAlert,
    AssignmentExhausted,
    InterviewSummary,
    InterviewFindings,
    *VOICE_NOTICES,
    WebhookTest,
)
# What the operations team receives.
TO_OPERATIONS: tuple[type[EventData], ...] = (EndpointDisabled, WebhookTest)

RECIPIENTS: dict[str, tuple[type[EventData], ...]] = {
    "provider": TO_PROVIDERS,
    "local_authority": TO_COUNCILS,
    "ops": TO_OPERATIONS,
}
WEBHOOKS: tuple[type[EventData], ...] = tuple(dict.fromkeys(TO_PROVIDERS + TO_COUNCILS + TO_OPERATIONS))


def sent_to(org_kind: str, data: EventData) -> bool:
    """Whether an organisation of this kind may be sent this payload."""
    return type(data) in RECIPIENTS.get(org_kind, ())
