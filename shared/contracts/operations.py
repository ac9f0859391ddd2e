"""Webhooks to the operations team (an `ops` organisation with a `notify_url`)."""

from typing import ClassVar

from pydantic import Field

from shared.contracts.common import EventData, Timestamp


class EndpointDisabled(EventData):
    """A receiver answered 410 Gone: nothing more is sent to its URL until someone re-enables it."""

    type_name: ClassVar[str] = "webhook.endpoint_disabled"

    org_id: str = Field(description="Directory id of the organisation whose endpoint went away.")
    url: str = Field(description="The endpoint now disabled (`mtp deliveries enable-endpoint`).")
    webhook_id: str = Field(description="The delivery that was answered 410.")
    event_type: str
    disabled_at: Timestamp


class WebhookTest(EventData):
    """A test message (`mtp webhooks test ORG`): it carries nothing about any child. Check that its
    signature verifies and answer 2xx; nothing else needs doing."""

    type_name: ClassVar[str] = "webhook.test"

    org_id: str = Field(description="Directory id of the organisation the test was sent to.")
    sent_at: Timestamp
