"""The notifier moving tasks between providers, applying their reports, and surviving bad endpoints:
real Kafka, PostgreSQL and webhook receivers on 127.0.0.1."""

import asyncio
import json
import os
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import yaml
from standardwebhooks.webhooks import Webhook
from structlog.testing import capture_logs

from services.notifier.app import create_app
from services.notifier.core.settings import NotifierSettings
from shared import topics
from shared.contracts.common import EventData
from shared.contracts.interviews import (
    InterviewAccepted,
    InterviewCompleted,
    InterviewDeclined,
    InterviewOffered,
)
from shared.contracts.tasks import (
    TASK_EVENTS,
    EpisodeChanged,
    EpisodeOpened,
    ExploitationAlert,
    HighRiskAlert,
    InterviewClosed,
    InterviewRequested,
    InterviewUpdated,
    LongMissingAlert,
    RepeatMissingAlert,
    WindowBreached,
    WindowWarning,
)
from shared.contracts.voice import Findings
from shared.operator_guard import AUDITED_ENV
from tests.conftest import Place
from tests.directory_factory import DirectoryFactory, secret_for
from tests.events import CARDIFF, NEWPORT, interview_requested, publish
from tests.kafka_reader import headers_of, poll, read_topic
from tests.receiver import Received, Receiver

# A second independent provider covering Cardiff, with less room than NYAS Cymru, so it comes second.
TROS_GYNNAL: dict[str, Any] = {
    "id": "tros-gynnal",
    "kind": "provider",
    "name": "Tros Gynnal Plant",
    "covers": [CARDIFF, NEWPORT],
    "languages": ["en", "cy"],
    "capacity": 10,
    "webhook_secret": secret_for("tros-gynnal"),
}


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with Receiver() as running:
        yield running


def write_directory(directory: DirectoryFactory, receiver: Receiver, *, ops_url: bool = False) -> Path:
    path = directory.write(
        receiver.url, extra=[{**TROS_GYNNAL, "webhook_url": f"{receiver.url}/tros-gynnal"}]
    )
    if ops_url:
        raw = yaml.safe_load(path.read_text())
        for org in raw["organisations"]:
            if org["id"] == "ops":
                org.update(notify_url=f"{receiver.url}/ops", webhook_secret=secret_for("ops"))
        path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


@asynccontextmanager
async def notifier(place: Place, path: Path, **overrides: Any) -> AsyncIterator[None]:
    settings = NotifierSettings(
        **{  # type: ignore[arg-type]
            **place.settings_kwargs(path),
            "webhook_allow_http_loopback": True,
            "retry_base_seconds": 0.2,
            "webhook_timeout_seconds": 2,
            "acceptance_poll_seconds": 0.5,
            **overrides,
        }
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield


def data_of(request: Received) -> dict[str, Any]:
    event: dict[str, Any] = Webhook(secret_for(request.org)).verify(request.body, request.headers)
    return event["data"]  # type: ignore[no-any-return]


async def task(place: Place, child: str, data: EventData) -> None:
    await publish(place.bootstrap, topics.named(place.namespace, topics.TASKS), f"{CARDIFF}/{child}", data)


async def report(place: Place, child: str, provider: str, data: EventData) -> None:
    topic = topics.named(place.namespace, topics.INTERVIEWS)
    await publish(place.bootstrap, topic, f"{CARDIFF}/{child}", data, source=f"/orgs/{provider}")


async def fact_types(place: Place, until: str, count: int = 1) -> list[tuple[str, dict[str, Any]]]:
    records = await read_topic(
        place.bootstrap,
        topics.named(place.namespace, topics.ASSIGNMENTS),
        until=lambda found: [headers_of(r)["ce_type"] for r in found].count(until) >= count,
    )
    return [(headers_of(r)["ce_type"], json.loads(r.value)) for r in records]


async def test_silence_past_accept_by_moves_the_task_on_and_withdraws_it(
    place: Place, directory: DirectoryFactory, receiver: Receiver
) -> None:
    directory.settings = {"acceptance_timeout_hours": 0.0008}  # about 3 s
    async with notifier(place, write_directory(directory, receiver)):
        await task(place, "C-400", interview_requested("C-400", risk="medium", indicators=[]))
        first = data_of((await poll(lambda: receiver.delivered("nyas-cymru", "assignment.offered")))[0])
        accept_by = datetime.fromisoformat(first["accept_by"])
        assert accept_by - datetime.now(UTC) < timedelta(seconds=4)

        withdrawn = await poll(lambda: receiver.delivered("nyas-cymru", "assignment.withdrawn"))
        assert data_of(withdrawn[0]) == {
            "assignment_id": first["assignment_id"],
            "reason": "acceptance_timeout",
        }
        second = data_of((await poll(lambda: receiver.delivered("tros-gynnal", "assignment.offered")))[0])
        assert second["referral"] == first["referral"]
        assert second["assignment_id"] != first["assignment_id"]

        # Nobody answers the second either, and nobody independent is left: the council is told.
        await poll(lambda: receiver.delivered("tros-gynnal", "assignment.withdrawn"))
        await poll(lambda: receiver.delivered("cardiff", "assignment.exhausted"))
        facts = await fact_types(place, until="assignment.exhausted")
    assert [kind for kind, _ in facts] == [
        "assignment.assigned",
        "assignment.expired",
        "assignment.assigned",
        "assignment.expired",
        "assignment.exhausted",
    ]
    assert [data.get("provider_id") for _, data in facts[:4]] == ["nyas-cymru"] * 2 + ["tros-gynnal"] * 2
    # The same provider is never asked twice for one task.
    assert len(receiver.delivered("nyas-cymru", "assignment.offered")) == 1


async def test_decline_moves_on_and_reports_update_the_assignment(
    place: Place, directory: DirectoryFactory, receiver: Receiver
) -> None:
    async with notifier(place, write_directory(directory, receiver)):
        await task(place, "C-401", interview_requested("C-401", risk="medium", indicators=[]))
        first = data_of((await poll(lambda: receiver.delivered("nyas-cymru", "assignment.offered")))[0])
        declined = InterviewDeclined(assignment_id=first["assignment_id"], reason="no_capacity_this_week")
        await report(place, "C-401", "nyas-cymru", declined)

        withdrawn = await poll(lambda: receiver.delivered("nyas-cymru", "assignment.withdrawn"))
        assert data_of(withdrawn[0])["reason"] == "declined_by_provider"
        second = data_of((await poll(lambda: receiver.delivered("tros-gynnal", "assignment.offered")))[0])
        held = second["assignment_id"]

        now = datetime.now(UTC)
        # A late accept of the offer that moved on is recorded and ignored; what follows still applies.
        await report(place, "C-401", "nyas-cymru", InterviewAccepted(assignment_id=first["assignment_id"]))
        # Someone else cannot report on tros-gynnal's assignment.
        await report(
            place,
            "C-401",
            "nyas-cymru",
            InterviewCompleted(assignment_id=held, completed_at=now, outcome="unable_to_contact"),
        )
        await report(place, "C-401", "tros-gynnal", InterviewAccepted(assignment_id=held))
        await report(place, "C-401", "tros-gynnal", InterviewOffered(assignment_id=held, offered_at=now))
        completed = InterviewCompleted(
            assignment_id=held,
            completed_at=now,
            outcome="completed",
            exploitation_indicators=["cce"],
            safeguarding_concern=True,
        )
        await report(place, "C-401", "tros-gynnal", completed)

        summary = data_of((await poll(lambda: receiver.delivered("cardiff", "interview.completed")))[0])
        facts = await fact_types(place, until="assignment.closed")
    assert summary["assignment_id"] == held
    assert summary["provider_id"] == "tros-gynnal"
    assert summary["outcome"] == "completed"
    assert summary["exploitation_indicators"] == ["cce"]
    assert summary["safeguarding_concern"] is True
    assert summary["episode_id"] == "ep-C-401"
    assert [kind for kind, _ in facts] == [
        "assignment.assigned",
        "assignment.declined",
        "assignment.assigned",
        "assignment.accepted",
        "assignment.closed",  # the interview is done: the provider holds it no longer
    ]
    assert facts[1][1]["reason"] == "no_capacity_this_week"
    assert facts[3][1]["provider_id"] == "tros-gynnal"
    assert (facts[4][1]["assignment_id"], facts[4][1]["reason"]) == (held, "interview_completed")

    conn = await asyncpg.connect(place.database_url)
    try:
        rows = await conn.fetch(
            "SELECT provider_id, status, outcome, child_offered_at IS NOT NULL AS offered"
            " FROM notifier.assignments ORDER BY offered_at, provider_id"
        )
        decisions = await conn.fetch(
            "SELECT event_type, decision FROM notifier.interview_reports ORDER BY received_at, event_type"
        )
    finally:
        await conn.close()
    assert {(r["provider_id"], r["status"]) for r in rows} == {
        ("nyas-cymru", "declined"),
        ("tros-gynnal", "completed"),
    }
    assert sorted((r["event_type"], r["decision"]) for r in decisions) == [
        ("interview.accepted", "applied"),
        ("interview.accepted", "not_current"),
        ("interview.completed", "applied"),
        ("interview.completed", "not_holder"),
        ("interview.declined", "applied"),
        ("interview.offered", "applied"),
    ]


def every_council_task(child: str) -> list[EventData]:
    now = datetime.now(UTC)
    base: dict[str, Any] = {
        "child_ref": child,
        "responsible_authority": CARDIFF,
        "placement_authority": NEWPORT,
        "episode_id": f"ep-{child}",
    }
    window = {**base, "task_id": "t-1", "returned_at": now - timedelta(hours=50), "offer_due_at": now}
    return [
        EpisodeOpened(**base, kind="missing", started_at=now, risk_level="low"),
        WindowWarning(**window, stage="no_offer_made"),
        WindowBreached(**window, breached_at=now),
        HighRiskAlert(**base, raised_at=now),
        ExploitationAlert(**base, indicators=["county_lines"], source="police", raised_at=now),
        RepeatMissingAlert(**base, episodes_in_period=3, period_days=90, raised_at=now),
        LongMissingAlert(**base, hours_missing=25.0, raised_at=now),
        EpisodeChanged(
            **base,
            by="south-wales-police",
            changes=["returned"],
            at=now,
            kind="missing",
            started_at=now - timedelta(hours=60),
            ended_at=now - timedelta(hours=50),
            end_reason="returned",
            returned_at=now - timedelta(hours=50),
            risk_level="low",
        ),
    ]


# What the scheduler tells the notifier alone: the task to route, and later word on it.
NOTIFIER_ONLY = {InterviewRequested.type_name, InterviewUpdated.type_name, InterviewClosed.type_name}


async def test_every_council_task_type_reaches_both_councils_when_out_of_area(
    place: Place, directory: DirectoryFactory, receiver: Receiver
) -> None:
    events = every_council_task("C-402")
    expected = {model.type_name for model in TASK_EVENTS} - NOTIFIER_ONLY
    assert {event.type_name for event in events} == expected  # a new task type must be added here
    async with notifier(place, write_directory(directory, receiver)):
        for event in events:
            await task(place, "C-402", event)
        await poll(
            lambda: (
                len(receiver.delivered("cardiff")) + len(receiver.delivered("newport")) >= 2 * len(expected)
            )
        )
    for council in ("cardiff", "newport"):
        got = receiver.delivered(council)
        assert sorted(json.loads(r.body)["type"] for r in got) == sorted(expected)
        for request in got:
            assert data_of(request)["child_ref"] == "C-402"


async def test_a_receiver_that_never_answers_does_not_delay_another(
    place: Place, directory: DirectoryFactory, receiver: Receiver
) -> None:
    timeout = 4.0
    receiver.hang.add("newport")
    async with notifier(place, write_directory(directory, receiver), webhook_timeout_seconds=timeout):
        out_of_area = HighRiskAlert(
            child_ref="C-403",
            responsible_authority=CARDIFF,
            placement_authority=NEWPORT,
            episode_id="ep-C-403",
            raised_at=datetime.now(UTC),
        )
        await task(place, "C-403", out_of_area)
        await poll(lambda: receiver.delivered("cardiff"))
        conn = await asyncpg.connect(place.database_url)
        try:
            newport_in_flight = (
                "SELECT d.attempts = 1 AND d.state = 'pending' AND d.lease_until IS NOT NULL"
                " AND NOT EXISTS (SELECT 1 FROM notifier.delivery_attempts a WHERE a.delivery_id = d.id)"
                " FROM notifier.deliveries d WHERE d.org_id = 'newport'"
            )
            await poll(lambda: conn.fetchval(newport_in_flight))
            # Newport's receiver now holds a request open; Cardiff's next webhook must not wait for it.
            started = time.monotonic()
            in_area = out_of_area.model_copy(update={"child_ref": "C-404", "placement_authority": CARDIFF})
            await task(place, "C-404", in_area)
            await poll(lambda: len(receiver.delivered("cardiff")) == 2, timeout=timeout)
            elapsed = time.monotonic() - started
            still_hanging = await conn.fetchval(newport_in_flight)
        finally:
            await conn.close()
    assert elapsed < timeout / 2
    assert still_hanging


async def run_ops(place: Place, *args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.notifier.operations.ops",
        *args,
        # as `mtp deliveries` starts it, once the audit trail has the command
        env={**os.environ, "MTP_DATABASE_URL": place.database_url, AUDITED_ENV: f"cli:deliveries:{args[0]}"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 0, err.decode()
    return out.decode()


async def test_410_disables_the_endpoint_alerts_operations_and_ops_replays(
    place: Place, directory: DirectoryFactory, receiver: Receiver
) -> None:
    receiver.status_for["cardiff"] = 410
    now = datetime.now(UTC)

    def alert(child: str) -> HighRiskAlert:
        return HighRiskAlert(
            child_ref=child,
            responsible_authority=CARDIFF,
            placement_authority=CARDIFF,
            episode_id=f"ep-{child}",
            raised_at=now,
        )

    async with notifier(place, write_directory(directory, receiver, ops_url=True)):
        with capture_logs() as logs:
            await task(place, "C-405", alert("C-405"))
            notice = data_of((await poll(lambda: receiver.delivered("ops", "webhook.endpoint_disabled")))[0])
        disabled = [line for line in logs if line["event"] == "webhook_endpoint_disabled"]
        assert [(line["log_level"], line["org"]) for line in disabled] == [("error", "cardiff")]
        assert notice["org_id"] == "cardiff"
        assert notice["url"] == f"{receiver.url}/cardiff"

        await task(place, "C-406", alert("C-406"))
        conn = await asyncpg.connect(place.database_url)
        try:
            states = "SELECT array_agg(state ORDER BY id) FROM notifier.deliveries WHERE org_id = 'cardiff'"
            await poll(lambda: _equals(conn.fetchval(states), ["gone", "disabled"]))
            assert len([r for r in receiver.requests if r.org == "cardiff"]) == 1  # parked without calling

            listing = await run_ops(place, "list")
            assert "gone" in listing
            assert "disabled" in listing
            assert f"{receiver.url}/cardiff" in listing
            assert "C-405" not in listing
            assert "C-406" not in listing  # bodies (they name children) are never printed

            del receiver.status_for["cardiff"]
            enabled = await run_ops(place, "enable-endpoint", f"{receiver.url}/cardiff")
            assert "replayed 2 deliveries" in enabled
            await poll(lambda: len(receiver.delivered("cardiff")) == 2)
            rounds = await conn.fetch(
                "SELECT a.round, a.attempt, a.status FROM notifier.delivery_attempts a"
                " JOIN notifier.deliveries d ON d.id = a.delivery_id"
                " WHERE d.org_id = 'cardiff' AND d.state = 'delivered' ORDER BY d.id, a.round, a.attempt"
            )
        finally:
            await conn.close()
    # Every attempt stays on record: the 410, the parking, then each replayed delivery.
    assert [(r["round"], r["status"]) for r in rounds] == [(0, 410), (1, 204), (0, None), (1, 204)]
    assert {data_of(r)["child_ref"] for r in receiver.delivered("cardiff")} == {"C-405", "C-406"}
    assert len({r.headers["webhook-id"] for r in receiver.requests if r.org == "cardiff"}) == 2


async def _equals(value: Any, expected: Any) -> bool:
    return bool(await value == expected)


async def test_a_failed_delivery_is_listed_and_replayed_by_id(
    place: Place, directory: DirectoryFactory, receiver: Receiver
) -> None:
    receiver.status_for["cardiff"] = 503
    alert = HighRiskAlert(
        child_ref="C-407",
        responsible_authority=CARDIFF,
        placement_authority=CARDIFF,
        episode_id="ep-C-407",
        raised_at=datetime.now(UTC),
    )
    async with notifier(place, write_directory(directory, receiver), max_delivery_attempts=2):
        await task(place, "C-407", alert)
        conn = await asyncpg.connect(place.database_url)
        try:
            failed = "SELECT id FROM notifier.deliveries WHERE org_id = 'cardiff' AND state = 'failed'"
            delivery_id = await poll(lambda: conn.fetchval(failed))
            listing = await run_ops(place, "list", "--state", "failed")
            line = next(text for text in listing.splitlines() if text.split()[:1] == [str(delivery_id)])
            assert line.split()[1:5] == ["failed", "2", "503", "cardiff"]
            assert "C-407" not in listing

            del receiver.status_for["cardiff"]
            assert f"replayed 1 deliveries: {delivery_id}" in await run_ops(place, "replay", str(delivery_id))
            await poll(lambda: receiver.delivered("cardiff"))
            attempts = await conn.fetch(
                "SELECT round, attempt, status FROM notifier.delivery_attempts ORDER BY round, attempt"
            )
        finally:
            await conn.close()
    assert [(r["round"], r["attempt"], r["status"]) for r in attempts] == [
        (0, 1, 503),
        (0, 2, 503),
        (1, 1, 204),
    ]
    assert len({r.headers["webhook-id"] for r in receiver.requests if r.org == "cardiff"}) == 1


async def test_a_task_nobody_could_take_is_offered_once_a_place_frees(
    place: Place, directory: DirectoryFactory, receiver: Receiver
) -> None:
    """NYAS Cymru, the only independent provider for Cardiff here, has one place. The second child's
    task finds it full (the council is told); when NYAS declines the first, the second is offered."""
    directory.provider_capacity = 1
    async with notifier(place, directory.write(receiver.url), exhausted_retry_seconds=0.3):
        await task(place, "C-501", interview_requested("C-501", risk="medium", indicators=[]))
        first = data_of((await poll(lambda: receiver.delivered("nyas-cymru", "assignment.offered")))[0])
        second = interview_requested("C-502", risk="medium", indicators=[])
        await task(place, "C-502", second)
        told = await poll(lambda: receiver.delivered("cardiff", "assignment.exhausted"))
        assert data_of(told[0])["task_id"] == second.task_id

        declined = InterviewDeclined(assignment_id=first["assignment_id"], reason="no_capacity_this_week")
        await report(place, "C-501", "nyas-cymru", declined)

        def offered_the_second() -> list[Received]:
            return [
                r
                for r in receiver.delivered("nyas-cymru", "assignment.offered")
                if data_of(r)["referral"]["child_ref"] == "C-502"
            ]

        await poll(offered_the_second)
        exhausted = [data_of(r)["task_id"] for r in receiver.delivered("cardiff", "assignment.exhausted")]
        assert exhausted.count(second.task_id) == 1  # told once, not at every look


async def test_what_the_child_said_goes_to_the_responsible_authority_alone(
    place: Place, directory: DirectoryFactory, receiver: Receiver
) -> None:
    words = "Dw i eisiau mynd adref. Sentinel-W9 please tell nobody at the home."
    async with notifier(place, write_directory(directory, receiver)):
        await task(place, "C-430", interview_requested("C-430", placement=NEWPORT))
        offer = data_of((await poll(lambda: receiver.delivered("nyas-cymru", "assignment.offered")))[0])
        held = offer["assignment_id"]
        done = datetime.now(UTC) - timedelta(minutes=10)
        findings = Findings(
            reasons=["wants_family_contact"],
            harm="would_not_say",
            placement_view="return_home_area",
            child_words=words,
        )
        await report(place, "C-430", "nyas-cymru", InterviewAccepted(assignment_id=held))
        await report(
            place,
            "C-430",
            "nyas-cymru",
            InterviewCompleted(assignment_id=held, completed_at=done, outcome="completed", findings=findings),
        )
        heard = data_of((await poll(lambda: receiver.delivered("cardiff", "interview.findings")))[0])
        # The host authority hears that the interview was held, as the responsible authority does.
        await poll(lambda: receiver.delivered("newport", "interview.completed"))
        await poll(lambda: receiver.delivered("cardiff", "interview.completed"))
    assert heard["findings_id"] == f"findings-{held}"
    assert heard["findings"]["child_words"] == words
    assert heard["findings"]["placement_view"] == "return_home_area"
    assert datetime.fromisoformat(heard["respond_by"]) == done + timedelta(days=7)
    assert (heard["placement_authority"], heard["provider_id"]) == (NEWPORT, "nyas-cymru")
    # Nobody else receives a word of it: not the host authority, not the provider, not operations.
    assert receiver.delivered("newport", "interview.findings") == []
    for request in receiver.requests:
        if request.org != "cardiff":
            assert b"Sentinel-W9" not in request.body, request.org
