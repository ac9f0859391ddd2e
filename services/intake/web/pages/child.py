"""A child's page: the timeline as the council may see it, and the form recording that no interview
will be offered."""

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from services.intake.store import audit as audit_trail
from services.intake.web import accounts
from services.intake.web import store as web_store
from services.intake.web.i18n import NOT_OFFERED_REASONS, text
from services.intake.web.pages.common import (
    SECURITY_HEADERS,
    alert_label,
    authority_names,
    child_record,
    deps_of,
    form_of,
    lang_of,
    message_page,
    ready_person,
    render,
    send,
)
from services.intake.web.pages.heard import heard_cards, nrm_cards
from services.intake.web.voice_words import (
    ACTIONS,
    NO_ACTION_REASONS,
    NRM_DECISIONS,
    NRM_REASONS,
    REFERRAL_KINDS,
)
from shared.contracts.common import child_key

log = structlog.get_logger()
router = APIRouter()


@router.get("/children/{authority}/{child_ref}")
async def child_page(request: Request, authority: str, child_ref: str, done: str = "") -> Response:
    """A child's timeline, for the council responsible (which may act on it) and a council the child
    is placed in (read only): what the API's access rules let that council see, nothing more."""
    who = await ready_person(request)
    if isinstance(who, RedirectResponse):
        return who
    deps, lang = deps_of(request), lang_of(request)
    record = await child_record(deps, who, authority, child_ref)
    if record is None:
        return message_page(request, who, 404, text(lang, "not_found"), text(lang, "not_found"))
    await audit_trail.record_access(
        deps.pool, deps.clock.now(), who.org.id, who.key_id, "web:view:child", child_key(authority, child_ref)
    )
    now = deps.clock.now()
    names = {org.id: org.name for org in deps.directory.organisations}
    tasks = [
        {
            "returned_at": task.returned_at,
            "offer_due_at": task.offer_due_at,
            "episode_id": task.episode_id,
            "open": task.closed_reason is None and task.breached_at is None and task.offer_due_at > now,
            "state": text(lang, "state_closed", reason=task.closed_reason)
            if task.closed_reason
            else text(lang, "state_breached")
            if task.breached_at or task.offer_due_at <= now
            else text(lang, "state_open"),
        }
        for task in record.tasks
    ]
    return render(
        request,
        "child.html",
        who=who,
        title=text(lang, "child_page", ref=child_ref),
        record=record,
        tasks=tasks,
        alerts=[{"label": alert_label(lang, a.type), "raised_at": a.raised_at} for a in record.alerts],
        reports=[
            {
                "label": alert_label(lang, r["event_type"]),
                "by": names.get(r["org_id"], r["org_id"]),
                "at": r["received_at"],
            }
            for r in await web_store.reports(deps.pool, child_key(authority, child_ref))
        ]
        if record.seen_as == "responsible_authority"
        else [],
        councils=authority_names(deps),
        names=names,
        heard=heard_cards(lang, record, names),
        nrm=nrm_cards(lang, record),
        nrm_decisions=NRM_DECISIONS,
        nrm_reasons=NRM_REASONS,
        actions=ACTIONS,
        referral_kinds=REFERRAL_KINDS,
        no_action_reasons=NO_ACTION_REASONS,
        can_act=record.seen_as == "responsible_authority",
        not_offered_reasons=NOT_OFFERED_REASONS,
        message=text(lang, "done") if done else "",
    )


@router.post("/children/{authority}/{child_ref}/not-offered")
async def not_offered(request: Request, authority: str, child_ref: str) -> Response:
    """The responsible council records that an episode's interview will not be offered, and why."""
    who = await ready_person(request)
    if isinstance(who, RedirectResponse):
        return who
    deps, lang, form = deps_of(request), lang_of(request), await form_of(request)
    title = text(lang, "child_page", ref=child_ref)
    if not accounts.csrf_ok(who.csrf, form.get("csrf")):
        return message_page(request, who, 403, title, text(lang, "refused"))
    record = await child_record(deps, who, authority, child_ref)
    episode = form.get("episode", "")
    if (
        record is None
        or record.seen_as != "responsible_authority"
        or episode not in {e.episode_id for e in record.episodes}
    ):
        return message_page(request, who, 404, title, text(lang, "not_found"))
    reason = form.get("reason", "")
    now = deps.clock.now()
    event = {
        "specversion": "1.0",
        "id": f"web-not-offered-{episode}",  # once per episode: the first record stands
        "type": "interview.not_offered",
        "time": now.isoformat(),
        "data": {
            "child_ref": child_ref,
            "responsible_authority": authority,
            "episode_id": episode,
            "reason": reason if reason in NOT_OFFERED_REASONS else "other",
        },
    }
    refused = await send(deps, who, event)
    if refused is not None:
        return message_page(request, who, refused.status, title, refused.detail or refused.title)
    log.info("web_action", org=who.org.id, action="not_offered")
    return RedirectResponse(
        f"/web/children/{authority}/{child_ref}?done=1", status_code=303, headers=SECURITY_HEADERS
    )
