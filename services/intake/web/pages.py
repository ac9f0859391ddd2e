"""The web pages people use: sign-in, the coordinator's board, the council's figures and the provider
worker's worklist, in English and Welsh, rendered by intake from its read model, with actions that go through the same path
as the API (`submit`: the same checks, idempotency and audit) under the person's name.

Every page is sent with a strict Content-Security-Policy (scripts and styles only from /web/static,
nothing inline), and every page view, sign-in, sign-out and action is in the audit trail with the
person's id (`person:<id>` in the API key's place).
"""

import math
import re
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from services.intake import metrics
from services.intake import store as intake_store
from services.intake.access import record_for
from services.intake.auth import Caller
from services.intake.deps import Deps
from services.intake.errors import Problem
from services.intake.handlers import read_limited
from services.intake.submit import submit
from services.intake.views import ChildRecord
from services.intake.web import accounts
from services.intake.web import figures as figures_page
from services.intake.web import store as web_store
from services.intake.web.i18n import (
    CHILD_REASONS,
    DECLINE_REASONS,
    INDICATORS,
    LANGS,
    LONDON,
    NOT_OFFERED_REASONS,
    OUTCOMES,
    STRINGS,
    Lang,
    left,
    text,
    when,
)
from shared.contracts.common import child_key
from shared.contracts.figures import FiguresPublished

log = structlog.get_logger()
router = APIRouter(prefix="/web", include_in_schema=False)
HERE = Path(__file__).parent
STATIC = {"app.js": "text/javascript", "app.css": "text/css"}
TEMPLATES = Environment(
    loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]), auto_reload=False
)
SECURITY_HEADERS = {
    "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}
FORM_COOKIE = "mtp_form"  # the sign-in form's own CSRF token (double submit): no session exists yet
MAX_FORM = 4096


def _deps(request: Request) -> Deps:
    deps: Deps = request.app.state.deps
    return deps


def _lang(request: Request) -> Lang:
    chosen = request.cookies.get(accounts.LANG_COOKIE)
    return "cy" if chosen == "cy" else "en"


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"


def _page(request: Request, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    lang = _lang(request)
    html = TEMPLATES.get_template(template).render(
        lang=lang,
        t=lambda key, **kw: text(lang, key, **kw),
        when=when,
        here=request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        who=values.pop("who", None),
        **values,
    )
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


async def _form(request: Request) -> dict[str, str]:
    """The form's fields (the first value of each)."""
    return {k: v[0] for k, v in (await _form_lists(request)).items()}


async def _form_lists(request: Request) -> dict[str, list[str]]:
    """The form's fields with every value (checkboxes send one per box ticked)."""
    body = await read_limited(request, MAX_FORM)  # 413 past the limit, nothing kept beyond it
    return parse_qs(body.decode(errors="replace"), keep_blank_values=True)


REFRESH_HEADER = "x-mtp-refresh"  # sent by a page fetching itself again to show what changed


def _refreshing(request: Request) -> bool:
    """The page is fetching itself to show what changed (app.js), not a person asking for it."""
    return request.method == "GET" and request.headers.get(REFRESH_HEADER) == "1"


async def _who(request: Request) -> accounts.SignedIn | None:
    """The person signed in, if any (including one who must still choose a password)."""
    session_id = request.cookies.get(accounts.COOKIE)
    if not session_id:
        return None
    deps = _deps(request)
    return await accounts.signed_in(
        deps.pool, deps.directory, session_id, deps.clock.now(), use=not _refreshing(request)
    )


async def _person(request: Request) -> accounts.SignedIn | RedirectResponse:
    """The person signed in and ready to work, or where they must go first (sign-in, or choosing
    their password after signing in with the one-time one)."""
    who = await _who(request)
    if who is None:
        return _to_sign_in(request)
    if who.must_choose_password:
        return RedirectResponse("/web/password", status_code=303, headers=SECURITY_HEADERS)
    return who


def _to_sign_in(request: Request) -> RedirectResponse:
    return RedirectResponse("/web/sign-in", status_code=303, headers=SECURITY_HEADERS)


def _message(request: Request, who: accounts.SignedIn, status: int, title: str, message: str) -> HTMLResponse:
    return _page(request, "message.html", status, who=who, title=title, message=message)


async def _send(deps: Deps, who: accounts.SignedIn, event: dict[str, Any]) -> Problem | None:
    """Send one event as the person's organisation, through the API's own path; the refusal, if any.
    A 409 is a button pressed before (the event's id is per assignment or episode and action, its time
    differs): what was recorded then stands."""
    try:
        await submit(deps, Caller(org=who.org, key_id=who.key_id), [event], batch=False)
    except Problem as exc:
        if exc.status != 409:
            log.info("web_action_refused", org=who.org.id, status=exc.status, problem=exc.slug)
            return exc
    return None


async def _audit(request: Request, who: accounts.SignedIn, action: str) -> None:
    deps = _deps(request)
    await intake_store.record_access(deps.pool, deps.clock.now(), who.org.id, who.key_id, action, None)


async def _audit_view(request: Request, who: accounts.SignedIn, action: str) -> None:
    """A person looking at a page that follows the system: in the audit trail once, not again each
    time the page fetches itself to show what changed."""
    path = request.url.path
    if _refreshing(request) and who.viewed == path:
        return
    await _audit(request, who, action)
    await web_store.viewed(_deps(request).pool, who.session_hash, path)


def _reader(who: accounts.SignedIn) -> str:
    """Whose changes this person's pages follow: their council's, or their provider's."""
    if who.org.kind == "local_authority" and who.org.authority_code:
        return intake_store.reader_of_authority(who.org.authority_code)
    return intake_store.reader_of_provider(who.org.id)


@router.get("/static/{name}")
async def static(name: str) -> Response:
    if name not in STATIC:
        return Response(status_code=404)
    return FileResponse(
        HERE / "static" / name,
        media_type=STATIC[name],
        headers={"cache-control": "no-cache", "x-content-type-options": "nosniff"},
    )


@router.get("/lang/{lang}")
async def choose_language(lang: str, next: str = "/web/") -> RedirectResponse:  # the query's name
    target = next if next.startswith("/web/") and "//" not in next else "/web/"
    response = RedirectResponse(target, status_code=303, headers=SECURITY_HEADERS)
    if lang in LANGS:
        response.set_cookie(accounts.LANG_COOKIE, lang, max_age=365 * 86400, samesite="strict", httponly=True)
    return response


@router.get("/sign-in")
async def sign_in_page(request: Request) -> HTMLResponse:
    return _sign_in(request)


def _sign_in(
    request: Request, message: str = "", status: int = 200, org: str = "", person: str = ""
) -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    organisations = [o for o in _deps(request).directory.organisations if o.people]
    response = _page(
        request,
        "sign_in.html",
        status,
        title=text(_lang(request), "sign_in"),
        form_token=token,
        organisations=organisations,
        chosen_org=org,
        chosen_person=person,
        message=message,
    )
    response.set_cookie(FORM_COOKIE, token, httponly=True, samesite="strict", secure=_secure(request))
    return response


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    deps, lang = _deps(request), _lang(request)
    form = await _form(request)
    org_id, person_id, password = form.get("org", ""), form.get("person", ""), form.get("password", "")
    if not accounts.csrf_ok(request.cookies.get(FORM_COOKIE, ""), form.get("csrf")):
        return _sign_in(request, text(lang, "refused"), 403, org_id, person_id)
    now = deps.clock.now()
    address = request.client.host if request.client else "unknown"
    known_org = org_id if deps.directory.get(org_id) else "unknown"  # logs never carry what was typed
    wait = await accounts.attempt_sign_in(deps.pool, org_id, person_id, address, now)
    if wait > timedelta():
        log.info("web_sign_in_throttled", org=known_org, wait_s=round(wait.total_seconds()))
        seconds = max(1, math.ceil(wait.total_seconds()))
        page = _sign_in(request, text(lang, "throttled", seconds=str(seconds)), 429, org_id, person_id)
        page.headers["retry-after"] = str(seconds)
        return page
    found = await accounts.check_password(deps.pool, deps.directory, org_id, person_id, password)
    if found is None:
        metrics.REJECTED.labels(status="401").inc()  # the trail is for people known: a log line and a count
        log.info("web_sign_in_refused", org=known_org)
        return _sign_in(request, text(lang, "wrong"), 401, org_id, person_id)
    org, person, must_change = found
    await accounts.signed_in_well(deps.pool, org.id, person.id, address, now)
    earlier = request.cookies.get(accounts.COOKIE)
    if earlier:  # a session id is never carried across a sign-in
        await web_store.end_session(deps.pool, accounts.digest(earlier))
    session_id = await accounts.start_session(deps.pool, org, person, now, with_one_time_password=must_change)
    await intake_store.record_access(deps.pool, now, org.id, f"person:{person.id}", "web:sign-in", None)
    log.info("web_signed_in", org=org.id)
    response = RedirectResponse(
        "/web/password" if must_change else "/web/", status_code=303, headers=SECURITY_HEADERS
    )
    response.set_cookie(
        accounts.COOKIE, session_id, httponly=True, samesite="strict", secure=_secure(request), path="/web"
    )
    response.delete_cookie(FORM_COOKIE)
    return response


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    who = await _who(request)
    form = await _form(request)
    if who is None:
        return _to_sign_in(request)
    if not accounts.csrf_ok(who.csrf, form.get("csrf")):  # a form from elsewhere signs nobody out
        return RedirectResponse("/web/", status_code=303, headers=SECURITY_HEADERS)
    await web_store.end_session(_deps(request).pool, who.session_hash)
    await _audit(request, who, "web:sign-out")
    response = _to_sign_in(request)
    response.delete_cookie(accounts.COOKIE, path="/web")
    return response


@router.get("/password")
async def password_page(request: Request) -> Response:
    who = await _who(request)
    if who is None:
        return _to_sign_in(request)
    return _page(request, "password.html", who=who, title=text(_lang(request), "change_password"))


@router.post("/password")
async def choose_password(request: Request) -> Response:
    who = await _who(request)
    if who is None:
        return _to_sign_in(request)
    form, lang = await _form(request), _lang(request)
    if not accounts.csrf_ok(who.csrf, form.get("csrf")):
        return _page(
            request,
            "password.html",
            403,
            who=who,
            title=text(lang, "change_password"),
            message=text(lang, "refused"),
        )
    if not who.must_choose_password:  # changed once, at the first sign-in; a reset is a new one-time password
        return RedirectResponse("/web/", status_code=303, headers=SECURITY_HEADERS)
    password = form.get("password", "")
    if len(password) < accounts.MIN_PASSWORD:
        return _page(
            request,
            "password.html",
            422,
            who=who,
            title=text(lang, "change_password"),
            message=text(lang, "too_short"),
        )
    deps = _deps(request)
    chosen = await accounts.hash_password(password)
    await web_store.choose_password(
        deps.pool, who.org.id, who.person.id, who.person.password_argon2, chosen, deps.clock.now()
    )
    await web_store.end_sessions_of(deps.pool, who.org.id, who.person.id, keep=who.session_hash)
    await _audit(request, who, "web:password-chosen")
    return RedirectResponse("/web/", status_code=303, headers=SECURITY_HEADERS)


@router.get("/")
async def home(request: Request) -> Response:
    who = await _person(request)
    if isinstance(who, RedirectResponse):
        return who
    deps, lang = _deps(request), _lang(request)
    version = await web_store.version(deps.pool, _reader(who))
    if who.org.kind == "local_authority" and who.person.role in ("coordinator", "manager"):
        await _audit_view(request, who, "web:view:board")
        return _page(
            request,
            "board.html",
            who=who,
            title=text(lang, "board"),
            live=version,
            **await _board(deps, who, lang),
        )
    if who.org.kind == "provider" and who.person.role == "worker":
        await _audit_view(request, who, "web:view:worklist")
        message = text(lang, "done") if request.query_params.get("done") else ""
        return _page(
            request,
            "worklist.html",
            who=who,
            title=text(lang, "worklist"),
            live=version,
            message=message,
            **await _worklist(deps, who),
        )
    return _message(request, who, 200, text(lang, "service"), text(lang, "no_page"))


@router.get("/live")
async def live(request: Request) -> Response:
    """What a page polls to know it should fetch itself again: the number of its reader's changes.
    Asking does not count as using the session: a screen left open still signs out after 30 minutes
    (the page then shows the sign-in page)."""
    deps = _deps(request)
    session_id = request.cookies.get(accounts.COOKIE, "")
    who = session_id and await accounts.signed_in(
        deps.pool, deps.directory, session_id, deps.clock.now(), use=False
    )
    if not who:
        return JSONResponse({"signed_in": False}, status_code=401, headers=SECURITY_HEADERS)
    version = await web_store.version(deps.pool, _reader(who))
    return JSONResponse({"version": version}, headers=SECURITY_HEADERS)


def _figures_reader(who: accounts.SignedIn) -> str | None:
    """The authority whose figures this person may read: a council's coordinators and managers read
    their own council's."""
    if who.org.kind == "local_authority" and who.person.role in ("coordinator", "manager"):
        return who.org.authority_code
    return None


async def _chosen_figures(
    request: Request, period: str | None
) -> tuple[accounts.SignedIn, list[FiguresPublished], FiguresPublished | None] | Response:
    """Who asks, the authority's published periods and the one asked for (the current financial year
    when none was); or where to go first, or the page that says why not."""
    who = await _person(request)
    if isinstance(who, RedirectResponse):
        return who
    lang, deps = _lang(request), _deps(request)
    authority = _figures_reader(who)
    if authority is None:
        return _message(request, who, 403, text(lang, "figures"), text(lang, "no_page"))
    periods = await figures_page.published(deps.pool, authority)
    if period is None:
        return who, periods, figures_page.default_period(periods, deps.clock.now().astimezone(LONDON).date())
    chosen = next((p for p in periods if p.period == period), None)
    if chosen is None:
        return _message(request, who, 404, text(lang, "figures"), text(lang, "no_such_period"))
    return who, periods, chosen


@router.get("/figures")
async def figures(request: Request, period: str | None = None) -> Response:
    """The senior manager's page: the council's figures for a month, quarter or financial year."""
    found = await _chosen_figures(request, period)
    if isinstance(found, Response):
        return found
    who, periods, chosen = found
    lang = _lang(request)
    await _audit(request, who, "web:view:figures")
    columns = figures_page.parts(periods, chosen) if chosen else []
    return _page(
        request,
        "figures.html",
        who=who,
        title=text(lang, "figures"),
        periods=periods,
        chosen=chosen,
        columns=columns,
        rows=figures_page.rows(lang, columns),
        headline=figures_page.headline(lang, chosen) if chosen else [],
        chart=figures_page.chart(lang, figures_page.months_of(columns)),
        label=lambda p: figures_page.label(lang, p),
        short=lambda p: figures_page.short_label(lang, p),
    )


@router.get("/figures.csv")
async def figures_csv(request: Request, period: str | None = None) -> Response:
    """The same figures as a CSV file, with the columns and rows of `mtp report --format csv`."""
    found = await _chosen_figures(request, period)
    if isinstance(found, Response):
        return found
    who, periods, chosen = found
    if chosen is None:
        return _message(
            request, who, 404, text(_lang(request), "figures"), text(_lang(request), "no_figures")
        )
    await _audit(request, who, "web:download:figures")
    name = f"figures-{chosen.authority}-{chosen.period.replace('/', '-')}.csv"
    return Response(
        figures_page.as_csv(chosen.authority, figures_page.parts(periods, chosen)),
        media_type="text/csv; charset=utf-8",
        headers={**SECURITY_HEADERS, "content-disposition": f'attachment; filename="{name}"'},
    )


def _reason(lang: Lang, code: str) -> str:
    return text(lang, f"why_{code}") if f"why_{code}" in STRINGS else code


def _alert_label(lang: Lang, alert_type: str) -> str:
    return text(lang, alert_type) if alert_type in STRINGS else alert_type


def _child_ref(child_key: str) -> str:
    return child_key.partition("/")[2]


def _authority_names(deps: Deps) -> dict[str, str]:
    """Each council's name by its code (made once per page: a page may name thousands)."""
    return {org.authority_code: org.name for org in deps.directory.organisations if org.authority_code}


async def _board(deps: Deps, who: accounts.SignedIn, lang: Lang) -> dict[str, Any]:
    code = who.org.authority_code or ""
    rows = await web_store.board(deps.pool, code)
    now = deps.clock.now()
    directory = deps.directory
    names = {org.id: org.name for org in directory.organisations}
    councils = _authority_names(deps)
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
            "child_ref": _child_ref(row["child_key"]),
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

    return {
        "windows": [window(r) for r in rows["windows"]],
        "hosted": [window(r) for r in rows["hosted"]],
        "missing": [
            {
                **r,
                "authority": code,
                "child_ref": _child_ref(r["child_key"]),
                "placement": councils.get(r["placement_authority"], r["placement_authority"]),
                "indicators": ", ".join(r["exploitation_indicators"]),
            }
            for r in rows["missing"]
        ],
        "exhausted": [
            {
                "authority": code,
                "child_ref": _child_ref(r["child_key"]),
                "offer_due_at": r["offer_due_at"],
                "raised_at": r["raised_at"],
                "excluded": [
                    (names.get(provider, provider), _reason(lang, reason))
                    for provider, reason in sorted((r["details"].get("excluded") or {}).items())
                ],
            }
            for r in rows["exhausted"]
        ],
        "alerts": [
            {
                **r,
                "authority": code,
                "child_ref": _child_ref(r["child_key"]),
                "label": _alert_label(lang, r["alert_type"]),
                "acknowledged_name": people.get(r["acknowledged_by"] or "", r["acknowledged_by"]),
            }
            for r in rows["alerts"]
        ],
    }


async def _worklist(deps: Deps, who: accounts.SignedIn) -> dict[str, Any]:
    councils = _authority_names(deps)
    rows = [
        {
            **r,
            "child_ref": _child_ref(r["child_key"]),
            "placement": councils.get(r["placement_authority"], r["placement_authority"]),
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
    }


ACTIONS = {
    "accept": "interview.accepted",
    "decline": "interview.declined",
    "offer": "interview.offered",
    "interview": "interview.completed",
}


@router.post("/assignments/{assignment_id}/{action}")
async def act(request: Request, assignment_id: str, action: str) -> Response:
    """A provider worker's answer to an offer, or their record of the offer to the child."""
    who = await _person(request)
    if isinstance(who, RedirectResponse):
        return who
    deps, lang, lists = _deps(request), _lang(request), await _form_lists(request)
    form = {k: v[0] for k, v in lists.items()}
    title = text(lang, "worklist")
    if not accounts.csrf_ok(who.csrf, form.get("csrf")):
        return _message(request, who, 403, title, text(lang, "refused"))
    if (
        action not in ACTIONS
        or who.org.kind != "provider"
        or who.person.role != "worker"
        or not await web_store.holds(deps.pool, who.org.id, assignment_id)
    ):
        return _message(request, who, 404, title, text(lang, "not_found"))
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
    event = {
        "specversion": "1.0",
        # One id per assignment and action: a second press is a repeat, not a second report.
        "id": f"web-{ACTIONS[action].split('.')[1]}-{assignment_id}",
        "type": ACTIONS[action],
        "time": now.isoformat(),
        "data": data,
    }
    refused = await _send(deps, who, event)
    if refused is not None:
        return _message(request, who, refused.status, title, refused.detail or refused.title)
    log.info("web_action", org=who.org.id, action=action)
    return RedirectResponse("/web/?done=1", status_code=303, headers=SECURITY_HEADERS)


AUTHORITY = re.compile(r"^[EWSN][0-9]{8}$")
CHILD_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@router.get("/children/{authority}/{child_ref}")
async def child_page(request: Request, authority: str, child_ref: str, done: str = "") -> Response:
    """A child's timeline, for the council responsible (which may act on it) and a council the child
    is placed in (read only): what the API's access rules let that council see, nothing more."""
    who = await _person(request)
    if isinstance(who, RedirectResponse):
        return who
    deps, lang = _deps(request), _lang(request)
    record = await _record(deps, who, authority, child_ref)
    if record is None:
        return _message(request, who, 404, text(lang, "not_found"), text(lang, "not_found"))
    await intake_store.record_access(
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
    return _page(
        request,
        "child.html",
        who=who,
        title=text(lang, "child_page", ref=child_ref),
        record=record,
        tasks=tasks,
        alerts=[{"label": _alert_label(lang, a.type), "raised_at": a.raised_at} for a in record.alerts],
        reports=[
            {
                "label": _alert_label(lang, r["event_type"]),
                "by": names.get(r["org_id"], r["org_id"]),
                "at": r["received_at"],
            }
            for r in await web_store.reports(deps.pool, child_key(authority, child_ref))
        ]
        if record.seen_as == "responsible_authority"
        else [],
        councils=_authority_names(deps),
        names=names,
        can_act=record.seen_as == "responsible_authority",
        not_offered_reasons=NOT_OFFERED_REASONS,
        message=text(lang, "done") if done else "",
    )


async def _record(deps: Deps, who: accounts.SignedIn, authority: str, child_ref: str) -> ChildRecord | None:
    """What this person's council may see of the child (councils' coordinators and managers only)."""
    if not (AUTHORITY.match(authority) and CHILD_REF.match(child_ref)):
        return None
    if who.org.kind != "local_authority" or who.person.role not in ("coordinator", "manager"):
        return None
    key = child_key(authority, child_ref)
    rows = await intake_store.child_rows(deps.pool, key, who.org.id)
    return record_for(
        who.org, deps.directory, authority=authority, child_ref=child_ref, rows=rows, known=rows.known
    )


@router.post("/children/{authority}/{child_ref}/not-offered")
async def not_offered(request: Request, authority: str, child_ref: str) -> Response:
    """The responsible council records that an episode's interview will not be offered, and why."""
    who = await _person(request)
    if isinstance(who, RedirectResponse):
        return who
    deps, lang, form = _deps(request), _lang(request), await _form(request)
    title = text(lang, "child_page", ref=child_ref)
    if not accounts.csrf_ok(who.csrf, form.get("csrf")):
        return _message(request, who, 403, title, text(lang, "refused"))
    record = await _record(deps, who, authority, child_ref)
    episode = form.get("episode", "")
    if (
        record is None
        or record.seen_as != "responsible_authority"
        or episode not in {e.episode_id for e in record.episodes}
    ):
        return _message(request, who, 404, title, text(lang, "not_found"))
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
    refused = await _send(deps, who, event)
    if refused is not None:
        return _message(request, who, refused.status, title, refused.detail or refused.title)
    log.info("web_action", org=who.org.id, action="not_offered")
    return RedirectResponse(
        f"/web/children/{authority}/{child_ref}?done=1", status_code=303, headers=SECURITY_HEADERS
    )


@router.post("/alerts/acknowledge")
async def acknowledge(request: Request) -> Response:
    """A coordinator acknowledges one of their council's alerts; colleagues see who and when."""
    who = await _person(request)
    if isinstance(who, RedirectResponse):
        return who
    deps, lang, form = _deps(request), _lang(request), await _form(request)
    title = text(lang, "board")
    if not accounts.csrf_ok(who.csrf, form.get("csrf")):
        return _message(request, who, 403, title, text(lang, "refused"))
    if (
        who.org.kind != "local_authority"
        or not who.org.authority_code
        or who.person.role not in ("coordinator", "manager")
    ):
        return _message(request, who, 404, title, text(lang, "not_found"))
    now = deps.clock.now()
    found = await web_store.acknowledge(
        deps.pool, form.get("alert", ""), who.org.authority_code, who.org.id, who.person.id, now
    )
    if found is None:
        return _message(request, who, 404, title, text(lang, "not_found"))
    await intake_store.record_access(deps.pool, now, who.org.id, who.key_id, "web:acknowledge-alert", found)
    return RedirectResponse("/web/", status_code=303, headers=SECURITY_HEADERS)
