"""What a child said, on the responsible council's child page (docs/domain.md rules 30-31, 34): each
interview's findings in words and in the child's own words, the council's answers, and the form to
answer (or correct the answer); each episode with signs of exploitation, and the form to record its
NRM decision."""

from dataclasses import dataclass
from typing import Any

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from services.intake.reads.views import ChildRecord, FindingsView
from services.intake.web import accounts
from services.intake.web.i18n import Lang, text, when
from services.intake.web.pages.common import (
    SECURITY_HEADERS,
    deps_of,
    form_lists,
    lang_of,
    message_page,
    ready_person,
    responsible_record,
    send,
)
from services.intake.web.voice_words import (
    ACTIONS,
    NO_ACTION_REASONS,
    NRM_DECISIONS,
    NRM_REASONS,
    PREFIXES,
    REFERRAL_KINDS,
)

log = structlog.get_logger()
router = APIRouter()


def heard_cards(lang: Lang, record: ChildRecord, names: dict[str, str]) -> list[dict[str, Any]]:
    """Each interview's findings as the page shows them, with the answers given so far."""
    return [_card(lang, seen, names) for seen in record.findings]


def _card(lang: Lang, seen: FindingsView, names: dict[str, str]) -> dict[str, Any]:
    findings = seen.findings
    answers = []
    for field in PREFIXES:
        value = getattr(findings, field)
        codes = value if isinstance(value, list) else [value] if value else []
        if codes:
            answers.append((text(lang, f"heard_{field}"), [text(lang, PREFIXES[field] + c) for c in codes]))
    provider = names.get(seen.provider_id, seen.provider_id)
    given = []
    for number, answer in enumerate(seen.answers):
        late = text(lang, "answer_was_late") if answer.responded_at > seen.respond_by else ""
        heading = (
            text(lang, "answer_correction", date=when(answer.responded_at))
            if number
            else text(lang, "answer_given", date=when(answer.responded_at), late=late)
        )
        given.append(
            {
                "heading": heading,
                "actions": [_action(lang, a.code, a.referral_kind, a.reason) for a in answer.actions],
                "told": text(lang, "answer_told_yes" if answer.child_told else "answer_told_no"),
            }
        )
    return {
        "findings_id": seen.findings_id,
        "heading": text(lang, "heard_interview", date=when(seen.completed_at), provider=provider),
        "answers": answers,
        "words": findings.child_words,
        "respond_by": seen.respond_by,
        "given": given,
    }


def nrm_cards(lang: Lang, record: ChildRecord) -> list[dict[str, Any]]:
    """Each episode with signs of exploitation (reported, or from an interview's alert), with the NRM
    decisions recorded for it (docs/domain.md rule 34)."""
    alerted: dict[str, set[str]] = {}
    for alert in record.alerts:
        if alert.type == "alert.exploitation":
            alerted.setdefault(alert.episode_id, set()).update(alert.details.get("indicators", []))
    cards = []
    for episode in record.episodes:
        signs = sorted(set(episode.exploitation_indicators) | alerted.get(episode.episode_id, set()))
        if not signs and episode.episode_id not in alerted:
            continue
        decided = [d for d in record.nrm_decisions if d.episode_id == episode.episode_id]
        cards.append(
            {
                "episode_id": episode.episode_id,
                "heading": text(
                    lang,
                    "nrm_episode",
                    date=when(episode.started_at),
                    signs=", ".join(text(lang, f"indicator_{sign}") for sign in signs) or "–",
                ),
                "decided": [
                    text(
                        lang,
                        "nrm_recorded",
                        decision=_decided(lang, d.decision, d.reason),
                        date=when(d.decided_at),
                    )
                    for d in decided
                ],
            }
        )
    return cards


def _decided(lang: Lang, decision: str, reason: str | None) -> str:
    said = text(lang, f"nrm_{decision}")
    if reason:
        said += f": {text(lang, f'nrm_why_{reason}') if reason in NRM_REASONS else reason}"
    return said


def _action(lang: Lang, code: str, kind: str | None, reason: str | None) -> str:
    said = text(lang, f"act_{code}")
    if kind:
        said += f": {text(lang, f'referral_{kind}')}"
    if reason:
        key = f"no_action_{reason}"
        said += f": {text(lang, key) if reason in NO_ACTION_REASONS else reason}"
    return said


@dataclass(frozen=True)
class _Acting:
    """A responsible council's person acting on a child's page: who, the form, and the child's record."""

    who: accounts.SignedIn
    deps: Any
    lang: Lang
    lists: dict[str, list[str]]
    title: str
    record: ChildRecord | None

    def field(self, name: str) -> str:
        return self.lists.get(name, [""])[0]


async def _acting(request: Request, authority: str, child_ref: str) -> _Acting | Response:
    """Who acts and on what, or where to go first, or the page that says the form was refused."""
    who = await ready_person(request)
    if isinstance(who, RedirectResponse):
        return who
    deps, lang, lists = deps_of(request), lang_of(request), await form_lists(request)
    title = text(lang, "child_page", ref=child_ref)
    if not accounts.csrf_ok(who.csrf, lists.get("csrf", [""])[0]):
        return message_page(request, who, 403, title, text(lang, "refused"))
    record = await responsible_record(deps, who, authority, child_ref)
    return _Acting(who, deps, lang, lists, title, record)


async def _send(
    request: Request, acting: _Acting, event: dict[str, Any], action: str, section: str
) -> Response:
    """Send the event through the API's checks and audit; back to the child's page at `section`, or say
    why not."""
    refused = await send(acting.deps, acting.who, event)
    if refused is not None:
        detail = refused.detail or refused.title
        return message_page(request, acting.who, refused.status, acting.title, detail)
    log.info("web_action", org=acting.who.org.id, action=action)
    data = event["data"]
    page = f"/web/children/{data['responsible_authority']}/{data['child_ref']}?done=1#{section}"
    return RedirectResponse(page, status_code=303, headers=SECURITY_HEADERS)


@router.post("/children/{authority}/{child_ref}/answer")
async def answer(request: Request, authority: str, child_ref: str) -> Response:
    """The responsible council answers what the child said (`findings.responded`), or corrects its
    answer: the same event, checks and audit as the API."""
    acting = await _acting(request, authority, child_ref)
    if isinstance(acting, Response):
        return acting
    record, lang = acting.record, acting.lang
    findings_id = acting.field("findings_id")
    seen = next((f for f in record.findings if f.findings_id == findings_id), None) if record else None
    if seen is None:
        return message_page(request, acting.who, 404, acting.title, text(lang, "not_found"))
    actions = []
    for code in dict.fromkeys(c for c in acting.lists.get("action", []) if c in ACTIONS):
        action: dict[str, str] = {"code": code}
        if code == "referral_made":
            kind = acting.field("referral_kind")
            action["referral_kind"] = kind if kind in REFERRAL_KINDS else "other"
        if code == "no_action":
            reason = acting.field("no_action_reason")
            action["reason"] = reason if reason in NO_ACTION_REASONS else "other"
        actions.append(action)
    now = acting.deps.clock.now()
    corrects = bool(seen.answers)
    event = {
        "specversion": "1.0",
        # The first answer once (a second press is a repeat); each correction its own.
        "id": f"web-correct-{findings_id}-{int(now.timestamp())}"
        if corrects
        else f"web-answer-{findings_id}",
        "type": "findings.responded",
        "time": now.isoformat(),
        "data": {
            "child_ref": child_ref,
            "responsible_authority": authority,
            "findings_id": findings_id,
            "responded_at": now.isoformat(),
            "actions": actions,
            "child_told": acting.field("child_told") == "yes",
            "corrects": corrects,
        },
    }
    return await _send(request, acting, event, "findings_answered", "heard")


@router.post("/children/{authority}/{child_ref}/nrm")
async def nrm(request: Request, authority: str, child_ref: str) -> Response:
    """The responsible council records its NRM decision for an episode with signs of exploitation
    (`nrm.decided`): the same event, checks and audit as the API."""
    acting = await _acting(request, authority, child_ref)
    if isinstance(acting, Response):
        return acting
    record, lang = acting.record, acting.lang
    episode = acting.field("episode")
    if record is None or episode not in {card["episode_id"] for card in nrm_cards(lang, record)}:
        return message_page(request, acting.who, 404, acting.title, text(lang, "not_found"))
    decision = acting.field("decision")
    if decision not in NRM_DECISIONS:
        return message_page(request, acting.who, 422, acting.title, text(lang, "nrm_decision"))
    reason = acting.field("reason")
    now = acting.deps.clock.now()
    event = {
        "specversion": "1.0",
        "id": f"web-nrm-{episode}",  # once per episode: a second press is a repeat
        "type": "nrm.decided",
        "time": now.isoformat(),
        "data": {
            "child_ref": child_ref,
            "responsible_authority": authority,
            "episode_id": episode,
            "decision": decision,
            "reason": (reason if reason in NRM_REASONS else "other") if decision == "not_referred" else None,
            "decided_at": now.isoformat(),
        },
    }
    return await _send(request, acting, event, "nrm_decided", "nrm")
