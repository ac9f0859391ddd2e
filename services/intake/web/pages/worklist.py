"""A provider worker's actions on an offer: accept, decline, the offer made to the child, the interview."""

from typing import Any

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from services.intake.web import accounts
from services.intake.web import store as web_store
from services.intake.web.i18n import (
    CHILD_REASONS,
    DECLINE_REASONS,
    INDICATORS,
    OUTCOMES,
    text,
)
from services.intake.web.pages.common import (
    SECURITY_HEADERS,
    deps_of,
    form_lists,
    lang_of,
    message_page,
    ready_person,
    send,
)

log = structlog.get_logger()
router = APIRouter()


ACTIONS = {
    "accept": "interview.accepted",
    "decline": "interview.declined",
    "offer": "interview.offered",
    "interview": "interview.completed",
}


FINDINGS_FORM = 24 * 1024


def _findings(lists: dict[str, list[str]]) -> dict[str, Any]:
    """What the child said, from the interview form: the codes ticked (intake checks each against the
    contract, naming a wrong one) and the child's words as typed (docs/domain.md rule 30)."""
    found: dict[str, Any] = {}
    for field in ("reasons", "stayed_with", "would_help"):
        if lists.get(field):
            found[field] = list(dict.fromkeys(lists[field]))
    for field in ("harm", "placement_view"):
        if lists.get(field):
            found[field] = lists[field][0]
    words = (lists.get("child_words") or [""])[0].strip()
    if words:
        found["child_words"] = words.replace("\r\n", "\n")
    return found


@router.post("/assignments/{assignment_id}/{action}")
async def act(request: Request, assignment_id: str, action: str) -> Response:
    """A provider worker's answer to an offer, or their record of the offer to the child."""
    who = await ready_person(request)
    if isinstance(who, RedirectResponse):
        return who
    # What the child said may be 2,000 characters of any script, percent-encoded: that form is larger.
    limit = FINDINGS_FORM if action == "interview" else None
    deps, lang, lists = deps_of(request), lang_of(request), await form_lists(request, limit)
    form = {k: v[0] for k, v in lists.items()}
    title = text(lang, "worklist")
    if not accounts.csrf_ok(who.csrf, form.get("csrf")):
        return message_page(request, who, 403, title, text(lang, "refused"))
    if (
        action not in ACTIONS
        or who.org.kind != "provider"
        or who.person.role != "worker"
        or not await web_store.holds(deps.pool, who.org.id, assignment_id)
    ):
        return message_page(request, who, 404, title, text(lang, "not_found"))
    now = deps.clock.now()
    data: dict[str, Any] = {"assignment_id": assignment_id}
    if action == "decline":
        data["reason"] = form.get("reason") if form.get("reason") in DECLINE_REASONS else DECLINE_REASONS[0]
    if action == "offer":
        data["offered_at"] = now.isoformat()
    if action == "interview":
        outcome = form.get("outcome", "")
        data |= {
            "completed_at": now.isoformat(),
            "outcome": outcome if outcome in OUTCOMES else "completed",
            "exploitation_indicators": sorted({i for i in lists.get("indicator", []) if i in INDICATORS}),
            "safeguarding_concern": form.get("safeguarding_concern") == "yes",
        }
        if data["outcome"] == "child_declined":
            reason = form.get("decline_reason", "")
            data["decline_reason"] = reason if reason in CHILD_REASONS else "other"
        findings = _findings(lists)
        if data["outcome"] == "completed" and findings:
            data["findings"] = findings
    event = {
        "specversion": "1.0",
        # One id per assignment and action: a second press is a repeat, not a second report.
        "id": f"web-{ACTIONS[action].split('.')[1]}-{assignment_id}",
        "type": ACTIONS[action],
        "time": now.isoformat(),
        "data": data,
    }
    refused = await send(deps, who, event)
    if refused is not None:
        return message_page(request, who, refused.status, title, refused.detail or refused.title)
    log.info("web_action", org=who.org.id, action=action)
    return RedirectResponse("/web/?done=1", status_code=303, headers=SECURITY_HEADERS)
