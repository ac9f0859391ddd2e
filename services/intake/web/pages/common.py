"""What every web page uses: the templates, the security headers, reading forms with a limit, who is
signed in (and whether the page is fetching itself), the audit trail, and labels in the reader's language."""

import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import structlog
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from services.intake.core.auth import Caller
from services.intake.core.deps import Deps
from services.intake.core.errors import Problem
from services.intake.events.handlers import read_limited
from services.intake.events.submit import submit
from services.intake.read_model import store as read_model
from services.intake.reads import store as reads_store
from services.intake.reads.access import record_for
from services.intake.reads.views import ChildRecord
from services.intake.store import audit as audit_trail
from services.intake.web import accounts
from services.intake.web import store as web_store
from services.intake.web.i18n import (
    STRINGS,
    Lang,
    text,
    when,
)
from shared.contracts.common import child_key as key_of_child

log = structlog.get_logger()


HERE = Path(__file__).parent.parent  # the web folder: templates and static files
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


def deps_of(request: Request) -> Deps:
    deps: Deps = request.app.state.deps
    return deps


def lang_of(request: Request) -> Lang:
    chosen = request.cookies.get(accounts.LANG_COOKIE)
    return "cy" if chosen == "cy" else "en"


def secure(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"


def render(request: Request, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    lang = lang_of(request)
    html = TEMPLATES.get_template(template).render(
        lang=lang,
        t=lambda key, **kw: text(lang, key, **kw),
        when=when,
        here=request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        who=values.pop("who", None),
        **values,
    )
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


async def form_of(request: Request) -> dict[str, str]:
    """The form's fields (the first value of each)."""
    return {k: v[0] for k, v in (await form_lists(request)).items()}


async def form_lists(request: Request, limit: int | None = None) -> dict[str, list[str]]:
    """The form's fields with every value (checkboxes send one per box ticked); at most MAX_FORM bytes
    unless the form says otherwise."""
    body = await read_limited(request, limit or MAX_FORM)  # 413 past the limit, nothing kept beyond it
    return parse_qs(body.decode(errors="replace"), keep_blank_values=True)


REFRESH_HEADER = "x-mtp-refresh"  # sent by a page fetching itself again to show what changed


def refreshing(request: Request) -> bool:
    """The page is fetching itself to show what changed (app.js), not a person asking for it."""
    return request.method == "GET" and request.headers.get(REFRESH_HEADER) == "1"


async def session_person(request: Request) -> accounts.SignedIn | None:
    """The person signed in, if any (including one who must still choose a password)."""
    session_id = request.cookies.get(accounts.COOKIE)
    if not session_id:
        return None
    deps = deps_of(request)
    return await accounts.signed_in(
        deps.pool, deps.directory, session_id, deps.clock.now(), use=not refreshing(request)
    )


async def ready_person(request: Request) -> accounts.SignedIn | RedirectResponse:
    """The person signed in and ready to work, or where they must go first (sign-in, or choosing
    their password after signing in with the one-time one)."""
    who = await session_person(request)
    if who is None:
        return to_sign_in(request)
    if who.must_choose_password:
        return RedirectResponse("/web/password", status_code=303, headers=SECURITY_HEADERS)
    return who


def to_sign_in(request: Request) -> RedirectResponse:
    return RedirectResponse("/web/sign-in", status_code=303, headers=SECURITY_HEADERS)


def message_page(
    request: Request, who: accounts.SignedIn, status: int, title: str, message: str
) -> HTMLResponse:
    return render(request, "message.html", status, who=who, title=title, message=message)


async def send(deps: Deps, who: accounts.SignedIn, event: dict[str, Any]) -> Problem | None:
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


async def audit(request: Request, who: accounts.SignedIn, action: str) -> None:
    deps = deps_of(request)
    await audit_trail.record_access(deps.pool, deps.clock.now(), who.org.id, who.key_id, action, None)


async def audit_view(request: Request, who: accounts.SignedIn, action: str) -> None:
    """A person looking at a page that follows the system: in the audit trail once, not again each
    time the page fetches itself to show what changed."""
    path = request.url.path
    if refreshing(request) and who.viewed == path:
        return
    await audit(request, who, action)
    await web_store.viewed(deps_of(request).pool, who.session_hash, path)


def reader_of(who: accounts.SignedIn) -> str:
    """Whose changes this person's pages follow: their council's, or their provider's."""
    if who.org.kind == "local_authority" and who.org.authority_code:
        return read_model.reader_of_authority(who.org.authority_code)
    return read_model.reader_of_provider(who.org.id)


def reason_label(lang: Lang, code: str) -> str:
    return text(lang, f"why_{code}") if f"why_{code}" in STRINGS else code


def alert_label(lang: Lang, alert_type: str) -> str:
    return text(lang, alert_type) if alert_type in STRINGS else alert_type


def child_ref_of(child_key: str) -> str:
    return child_key.partition("/")[2]


def authority_names(deps: Deps) -> dict[str, str]:
    """Each council's name by its code (made once per page: a page may name thousands)."""
    return {org.authority_code: org.name for org in deps.directory.organisations if org.authority_code}


AUTHORITY = re.compile(r"^[EWSN][0-9]{8}$")
CHILD_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


async def responsible_record(
    deps: Deps, who: accounts.SignedIn, authority: str, child_ref: str
) -> ChildRecord | None:
    """The child's record if this person's council is responsible for the child, else None."""
    record = await child_record(deps, who, authority, child_ref)
    return record if record is not None and record.seen_as == "responsible_authority" else None


async def child_record(
    deps: Deps, who: accounts.SignedIn, authority: str, child_ref: str
) -> ChildRecord | None:
    """What this person's council may see of the child (councils' coordinators and managers only)."""
    if not (AUTHORITY.match(authority) and CHILD_REF.match(child_ref)):
        return None
    if who.org.kind != "local_authority" or who.person.role not in ("coordinator", "manager"):
        return None
    key = key_of_child(authority, child_ref)
    rows = await reads_store.child_rows(deps.pool, key, who.org.id)
    return record_for(
        who.org, deps.directory, authority=authority, child_ref=child_ref, rows=rows, known=rows.known
    )
