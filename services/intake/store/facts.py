"""What intake knows that the checks of an event need, gathered in one call: the assignment a provider
holds, the missing reports an organisation sent about the child, whether an episode exists, whether
findings exist and have been answered. Which
facts an event needs follows from its kind; the decision is the policy's (events/policy.py)."""

import time

import asyncpg
import structlog
from tenacity import AsyncRetrying, retry_if_result, stop_after_delay, wait_exponential

from services.intake.events.policy import Facts
from services.intake.store.base import Pool, translated
from shared.contracts.common import EventData
from shared.contracts.episodes import Cancelled, InterviewNotOffered
from shared.contracts.interviews import InterviewEvent
from shared.contracts.voice import FindingsResponded, NrmDecided
from shared.directory import Organisation

log = structlog.get_logger()

SELECT_HOLDER = "SELECT provider_id, status, child_key FROM intake.assignments WHERE assignment_id = $1"
HOLDING = frozenset({"offered", "accepted"})
SELECT_STORED_KEY = "SELECT child_key FROM intake.events WHERE org_id = $1 AND event_id = $2"
SELECT_OWN_REPORTS = """
SELECT event_id FROM intake.events WHERE child_key = $1 AND org_id = $2 AND event_type = 'missing.reported'
"""
SELECT_EPISODE = "SELECT 1 FROM intake.episodes WHERE child_key = $1 AND episode_id = $2"
SELECT_FINDINGS = """
SELECT EXISTS (SELECT 1 FROM intake.findings WHERE child_key = $1 AND findings_id = $2) AS known,
       EXISTS (SELECT 1 FROM intake.responses WHERE findings_id = $2 AND NOT corrects) AS answered
"""


@translated
async def gather(
    pool: Pool, org: Organisation, event_id: str, data: EventData, *, wait_seconds: float = 0.0
) -> Facts:
    """The facts this event's checks need, read in one visit. Something just announced (an offer's
    webhook, an `episode.opened`) can be ahead of the read model: it is looked for again for up to
    `wait_seconds`."""
    if isinstance(data, InterviewEvent) and org.kind == "provider":
        holding = await _held_assignment(pool, org.id, data.assignment_id, wait_seconds)
        if holding is None:
            holding = await pool.fetchval(SELECT_STORED_KEY, org.id, event_id)
        return Facts(holding=holding)
    if isinstance(data, Cancelled):
        rows = await pool.fetch(SELECT_OWN_REPORTS, data.child_key, org.id)
        return Facts(own_reports=frozenset(row["event_id"] for row in rows))
    if isinstance(data, FindingsResponded):
        row = await pool.fetchrow(SELECT_FINDINGS, data.child_key, data.findings_id)
        return Facts(findings_known=bool(row and row["known"]), answered=bool(row and row["answered"]))
    if isinstance(data, InterviewNotOffered | NrmDecided):
        found: object = await _again_until(wait_seconds)(
            pool.fetchval, SELECT_EPISODE, data.child_key, data.episode_id
        )
        return Facts(episode_known=found is not None)
    return Facts()


def _again_until(wait_seconds: float) -> AsyncRetrying:
    """Look again, sooner then later, while nothing is found and `wait_seconds` have not passed."""
    return AsyncRetrying(
        retry=retry_if_result(lambda found: found is None),
        wait=wait_exponential(multiplier=0.02, max=0.25),
        stop=stop_after_delay(wait_seconds),
        retry_error_callback=lambda state: None,
    )


async def _held_assignment(pool: Pool, org_id: str, assignment_id: str, wait_seconds: float) -> str | None:
    """The child key of an assignment this organisation holds now (offered or accepted), or None.

    The offer webhook and the fact intake learns an assignment from leave the notifier at the same
    moment, and the webhook is usually first: a provider answering at once can be ahead of intake.
    So an assignment intake has not heard of yet is looked for again; one it knows is answered at once."""
    retrying = _again_until(wait_seconds)
    started = time.monotonic()
    row: asyncpg.Record | None = await retrying(pool.fetchrow, SELECT_HOLDER, assignment_id)
    waited_ms = round((time.monotonic() - started) * 1000)
    if row is None:
        if wait_seconds > 0:
            # Not the id: it is whatever the caller sent, and it names nothing intake knows.
            log.warning("assignment_unknown", org=org_id, waited_ms=waited_ms)
        return None
    if retrying.statistics.get("attempt_number", 1) > 1:
        log.info("assignment_awaited", assignment_id=assignment_id, org=org_id, waited_ms=waited_ms)
    if row["provider_id"] != org_id or row["status"] not in HOLDING:
        return None
    child: str = row["child_key"]
    return child
