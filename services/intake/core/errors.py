"""Intake's errors, each one an RFC 9457 problem.

Problem                      any refusal, rendered as application/problem+json
├── Unauthorised (401)       no or unknown API key
├── Forbidden (403)          the organisation may not send this
├── Conflict (409)           same event id, different content
├── StillPending (409)       a redelivery asked for while the webhook is still being sent
├── NoLongerHeld (409)       a referral asked for again by a provider that no longer holds its assignment
├── TooLarge (413)           body over the limit
├── UnsupportedMedia (415)   not a JSON CloudEvent
├── Invalid (422)            each wrong field named in `errors`
└── Unavailable (503)        the database cannot be reached for a moment: send again after Retry-After
                             (retryable; the store translates the driver's connection errors into it)
"""

from typing import Any


class Problem(Exception):  # RFC 9457's own word
    """A refusal with an HTTP status, a stable type and a human title."""

    status = 400
    slug = "bad-request"
    title = "Bad request"
    headers: dict[str, str] = {}  # noqa: RUF012  # read-only, per class

    def __init__(self, detail: str | None = None, *, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.errors = errors

    def body(self) -> dict[str, Any]:
        """The problem document."""
        doc: dict[str, Any] = {
            "type": f"urn:mtp:problem:{self.slug}",
            "title": self.title,
            "status": self.status,
        }
        if self.detail:
            doc["detail"] = self.detail
        if self.errors is not None:
            doc["errors"] = self.errors
        return doc


class Unauthorised(Problem):
    status = 401
    slug = "unauthorised"
    title = "Missing or unknown API key"
    headers = {"www-authenticate": 'Bearer realm="missing-the-point"'}  # noqa: RUF012  # read-only, per class


class Forbidden(Problem):
    status = 403
    slug = "forbidden"
    title = "This organisation may not do that"


class NotFound(Problem):
    status = 404
    slug = "not-found"
    title = "Not found"


class Conflict(Problem):
    status = 409
    slug = "id-reused"
    title = "This event id was already used with different content"


class Answered(Problem):
    status = 409
    slug = "already-answered"
    title = "These findings have been answered already"


class StillPending(Problem):
    status = 409
    slug = "still-being-delivered"
    title = "This webhook is still being delivered; its next attempt is already due"


class NoLongerHeld(Problem):
    status = 409
    slug = "assignment-not-held"
    title = "The referral is no longer yours to receive"


class TooLarge(Problem):
    status = 413
    slug = "too-large"
    title = "Request body too large"


class UnsupportedMedia(Problem):
    status = 415
    slug = "unsupported-media-type"
    title = "Send application/cloudevents+json, application/json or application/cloudevents-batch+json"


class Invalid(Problem):
    status = 422
    slug = "invalid-event"
    title = "The event is not valid"


class Unavailable(Problem):
    status = 503
    slug = "unavailable"
    title = "Service Unavailable"
    headers = {"retry-after": "1"}  # noqa: RUF012  # read-only, per class

    def __init__(self) -> None:
        super().__init__(
            "The request could not be completed. It is safe to send it again, with the same ids."
        )
