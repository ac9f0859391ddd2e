"""The coordinator's board and the provider worker's worklist (one address, by role), what they poll
to follow their reader's changes, and acknowledging an alert."""

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from services.intake.core.deps import Deps
from services.intake.store import audit as audit_trail
from services.intake.web import accounts
from services.intake.web import store as web_store
from services.intake.web.i18n import (
    CHILD_REASONS,
    DECLINE_REASONS,
    INDICATORS,
    OUTCOMES,
    Lang,
    left,
    text,
)
from services.intake.web.pages.common import (
    SECURITY_HEADERS,
    alert_label,
    audit_view,
    authority_names,
    child_ref_of,
    deps_of,
    form_of,
    lang_of,
    message_page,
    reader_of,
    ready_person,
    reason_label,
    render,
)
from services.intake.web.voice_words import PREFIXES, code_keys

router = APIRouter()


@router.get("/")
async def home(request: Request) -> Response:
    who = await ready_person(request)
    if isinstance(who, RedirectResponse):
        return who
    deps, lang = deps_of(request), lang_of(request)
    version = await web_store.version(deps.pool, reader_of(who))
    if who.org.kind == "local_authority" and who.person.role in ("coordinator", "manager"):
        await audit_view(request, who, "web:view:board")
        return render(
            request,
            "board.html",
            who=who,
            title=text(lang, "board"),
            live=version,
            **await _board(deps, who, lang),
        )
    if who.org.kind == "provider" and who.person.role == "worker":
        await audit_view(request, who, "web:view:worklist")
        message = text(lang, "done") if request.query_params.get("done") else ""
        return render(
            request,
            "worklist.html",
            who=who,
            title=text(lang, "worklist"),
            live=version,
            message=message,
            **await _worklist(deps, who),
        )
    return message_page(request, who, 200, text(lang, "service"), text(lang, "no_page"))


@router.get("/live")
async def live(request: Request) -> Response:
    """What a page polls to know it should fetch itself again: the number of its reader's changes.
    Asking does not count as using the session: a screen left open still signs out after 30 minutes
    (the page then shows the sign-in page)."""
    deps = deps_of(request)
    session_id = request.cookies.get(accounts.COOKIE, "")
    who = session_id and await accounts.signed_in(
        deps.pool, deps.directory, session_id, deps.clock.now(), use=False
    )
    if not who:
        return JSONResponse({"signed_in": False}, status_code=401, headers=SECURITY_HEADERS)
    version = await web_store.version(deps.pool, reader_of(who))
    return JSONResponse({"version": version}, headers=SECURITY_HEADERS)


async def _board(deps: Deps, who: accounts.SignedIn, lang: Lang) -> dict[str, Any]:
    code = who.org.authority_code or ""
    rows = await web_store.board(deps.pool, code)
    now = deps.clock.now()
    directory = deps.directory
    names = {org.id: org.name for org in directory.organisations}
    councils = authority_names(deps)
    people = {p.id: p.name for p in who.org.people}
    warnings: dict[str, timedelta] = {}  # by responsible authority: its own thresholds

    def window(row: dict[str, Any]) -> dict[str, Any]:
        authority = row["child_key"].partition("/")[0]
        if authority not in warnings:
            warnings[authority] = timedelta(hours=directory.timing_for(authority).offer_warning_hours)
        warn_at = row["returned_at"] + warnings[authority]
        provider = names.get(row["provider_id"]) if row["provider_id"] else None
        holder = text(lang, "status_nobody")
        if provider is not None and row["assignment_status"] in ("offered", "accepted"):
            holder = text(lang, f"status_{row['assignment_status']}", who=provider)
        breached = row["breached_at"] is not None or row["offer_due_at"] <= now
        return {
            **row,
            "authority": authority,
            "child_ref": child_ref_of(row["child_key"]),
            "placement": councils.get(row["placement_authority"], row["placement_authority"]),
            "holder": holder,
            "warn_at": warn_at,
            "state": "breached" if breached else "warning" if now >= warn_at else "open",
            "left": text(lang, "breached")
            if breached
            else text(
                lang,
                "closing_soon" if now >= warn_at else "closes_in",
                left=left(lang, row["offer_due_at"] - now),
            ),
        }

    def heard(row: dict[str, Any]) -> dict[str, Any]:
        authority = row["child_key"].partition("/")[0]
        warn_at = row["respond_by"] - timedelta(hours=directory.timing_for(authority).findings_reminder_hours)
        late = row["respond_by"] <= now
        return {
            **row,
            "authority": authority,
            "child_ref": child_ref_of(row["child_key"]),
            "warn_at": warn_at,
            "reasons": [text(lang, PREFIXES["reasons"] + code) for code in row["reasons"] or []],
            "state": "breached" if late else "warning" if now >= warn_at else "open",
            "left": text(lang, "answer_late")
            if late
            else text(
                lang,
                "closing_soon" if now >= warn_at else "closes_in",
                left=left(lang, row["respond_by"] - now),
            ),
        }

    return {
        "heard": [heard(r) for r in rows["heard"]],
        "windows": [window(r) for r in rows["windows"]],
        "hosted": [window(r) for r in rows["hosted"]],
        "missing": [
            {
                **r,
                "authority": code,
                "child_ref": child_ref_of(r["child_key"]),
                "placement": councils.get(r["placement_authority"], r["placement_authority"]),
                "indicators": ", ".join(r["exploitation_indicators"]),
            }
            for r in rows["missing"]
        ],
        "exhausted": [
            {
                "authority": code,
                "child_ref": child_ref_of(r["child_key"]),
                "offer_due_at": r["offer_due_at"],
                "raised_at": r["raised_at"],
                "excluded": [
                    (names.get(provider, provider), reason_label(lang, reason))
                    for provider, reason in sorted((r["details"].get("excluded") or {}).items())
                ],
            }
            for r in rows["exhausted"]
        ],
        "alerts": [
            {
                **r,
                "authority": code,
                "child_ref": child_ref_of(r["child_key"]),
                "label": alert_label(lang, r["alert_type"]),
                "acknowledged_name": people.get(r["acknowledged_by"] or "", r["acknowledged_by"]),
            }
            for r in rows["alerts"]
        ],
    }


async def _worklist(deps: Deps, who: accounts.SignedIn) -> dict[str, Any]:
    councils = authority_names(deps)
    rows = [
        {
            **r,
            "child_ref": child_ref_of(r["child_key"]),
            "placement": councils.get(r["placement_authority"], r["placement_authority"]),
            "out_of_area": not r["child_key"].startswith(f"{r['placement_authority']}/"),
        }
        for r in await web_store.worklist(deps.pool, who.org.id)
    ]
    return {
        "waiting": [r for r in rows if r["status"] == "offered"],
        "held": [r for r in rows if r["status"] == "accepted"],
        "reasons": DECLINE_REASONS,
        "outcomes": OUTCOMES,
        "child_reasons": CHILD_REASONS,
        "indicators": INDICATORS,
        "findings_codes": {field: code_keys(field) for field in PREFIXES},
    }


@router.post("/alerts/acknowledge")
async def acknowledge(request: Request) -> Response:
    """A coordinator acknowledges one of their council's alerts; colleagues see who and when."""
    who = await ready_person(request)
    if isinstance(who, RedirectResponse):
        return who
    deps, lang, form = deps_of(request), lang_of(request), await form_of(request)
    title = text(lang, "board")
    if not accounts.csrf_ok(who.csrf, form.get("csrf")):
        return message_page(request, who, 403, title, text(lang, "refused"))
    if (
        who.org.kind != "local_authority"
        or not who.org.authority_code
        or who.person.role not in ("coordinator", "manager")
    ):
        return message_page(request, who, 404, title, text(lang, "not_found"))
    now = deps.clock.now()
    found = await web_store.acknowledge(
        deps.pool, form.get("alert", ""), who.org.authority_code, who.org.id, who.person.id, now
    )
    if found is None:
        return message_page(request, who, 404, title, text(lang, "not_found"))
    await audit_trail.record_access(deps.pool, now, who.org.id, who.key_id, "web:acknowledge-alert", found)
    return RedirectResponse("/web/", status_code=303, headers=SECURITY_HEADERS)
