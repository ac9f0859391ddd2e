"""Signing in, out and choosing a password; the language switch and the static files."""

import math
import secrets
from datetime import timedelta

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from services.intake.core import metrics
from services.intake.store import audit as audit_trail
from services.intake.web import accounts
from services.intake.web import store as web_store
from services.intake.web.i18n import (
    LANGS,
    text,
)
from services.intake.web.pages.common import (
    FORM_COOKIE,
    HERE,
    SECURITY_HEADERS,
    STATIC,
    audit,
    deps_of,
    form_of,
    lang_of,
    render,
    secure,
    session_person,
    to_sign_in,
)

log = structlog.get_logger()
router = APIRouter()


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
    organisations = [o for o in deps_of(request).directory.organisations if o.people]
    response = render(
        request,
        "sign_in.html",
        status,
        title=text(lang_of(request), "sign_in"),
        form_token=token,
        organisations=organisations,
        chosen_org=org,
        chosen_person=person,
        message=message,
    )
    response.set_cookie(FORM_COOKIE, token, httponly=True, samesite="strict", secure=secure(request))
    return response


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    deps, lang = deps_of(request), lang_of(request)
    form = await form_of(request)
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
    await audit_trail.record_access(deps.pool, now, org.id, f"person:{person.id}", "web:sign-in", None)
    log.info("web_signed_in", org=org.id)
    response = RedirectResponse(
        "/web/password" if must_change else "/web/", status_code=303, headers=SECURITY_HEADERS
    )
    response.set_cookie(
        accounts.COOKIE, session_id, httponly=True, samesite="strict", secure=secure(request), path="/web"
    )
    response.delete_cookie(FORM_COOKIE)
    return response


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    who = await session_person(request)
    form = await form_of(request)
    if who is None:
        return to_sign_in(request)
    if not accounts.csrf_ok(who.csrf, form.get("csrf")):  # a form from elsewhere signs nobody out
        return RedirectResponse("/web/", status_code=303, headers=SECURITY_HEADERS)
    await web_store.end_session(deps_of(request).pool, who.session_hash)
    await audit(request, who, "web:sign-out")
    response = to_sign_in(request)
    response.delete_cookie(accounts.COOKIE, path="/web")
    return response


@router.get("/password")
async def password_page(request: Request) -> Response:
    who = await session_person(request)
    if who is None:
        return to_sign_in(request)
    return render(request, "password.html", who=who, title=text(lang_of(request), "change_password"))


@router.post("/password")
async def choose_password(request: Request) -> Response:
    who = await session_person(request)
    if who is None:
        return to_sign_in(request)
    form, lang = await form_of(request), lang_of(request)
    if not accounts.csrf_ok(who.csrf, form.get("csrf")):
        return render(
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
        return render(
            request,
            "password.html",
            422,
            who=who,
            title=text(lang, "change_password"),
            message=text(lang, "too_short"),
        )
    deps = deps_of(request)
    chosen = await accounts.hash_password(password)
    await web_store.choose_password(
        deps.pool, who.org.id, who.person.id, who.person.password_argon2, chosen, deps.clock.now()
    )
    await web_store.end_sessions_of(deps.pool, who.org.id, who.person.id, keep=who.session_hash)
    await audit(request, who, "web:password-chosen")
    return RedirectResponse("/web/", status_code=303, headers=SECURITY_HEADERS)
