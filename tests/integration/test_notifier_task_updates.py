"""The scheduler's later word on a task, through the real notifier, broker and database: the provider
holding it is told of a new window, one only offered it that no longer fits makes way, and a task
closed without an interview withdraws its assignment."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
import yaml

from shared.contracts.interviews import InterviewAccepted
from shared.contracts.tasks import EpisodeChanged, InterviewClosed, InterviewUpdated
from tests.conftest import Place
from tests.directory_factory import DirectoryFactory, secret_for
from tests.events import CARDIFF, NEWPORT, interview_requested
from tests.integration.test_notifier_routing import (
    data_of,
    fact_types,
    notifier,
    report,
    task,
    write_directory,
)
from tests.kafka_reader import poll
from tests.receiver import Receiver


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with Receiver() as running:
        yield running


ENGLISH_ONLY: dict[str, Any] = {
    "id": "english-only",
    "kind": "provider",
    "name": "English-only Advocacy",
    "covers": [CARDIFF, NEWPORT],
    "languages": ["en"],
    "capacity": 60,
    "webhook_secret": secret_for("english-only"),
}


def updated(child: str, *, language: str | None, hours_later: float, changes: list[str]) -> InterviewUpdated:
    requested = interview_requested(child, language="en", indicators=[])
    returned = requested.returned_at + timedelta(hours=hours_later)
    return InterviewUpdated(
        child_ref=child,
        responsible_authority=CARDIFF,
        placement_authority=CARDIFF,
        episode_id=f"ep2-{child}",
        task_id=requested.task_id,
        episode_ids=[requested.episode_id, f"ep2-{child}"],
        returned_at=returned,
        offer_due_at=returned + timedelta(hours=72),
        risk_level="high",
        exploitation_indicators=[],
        preferred_language=language,  # type: ignore[arg-type]
        changes=changes,  # type: ignore[arg-type]
    )


async def test_the_holder_is_told_of_a_new_window_and_a_closed_task_withdraws_its_assignment(
    place: Place, directory: DirectoryFactory, receiver: Receiver
) -> None:
    async with notifier(place, write_directory(directory, receiver)):
        requested = interview_requested("C-410", language="en", indicators=[])
        await task(place, "C-410", requested)
        offer = data_of((await poll(lambda: receiver.delivered("nyas-cymru", "assignment.offered")))[0])
        await report(place, "C-410", "nyas-cymru", InterviewAccepted(assignment_id=offer["assignment_id"]))
        await fact_types(place, until="assignment.accepted")

        change = updated("C-410", language="en", hours_later=30, changes=["episode_added", "deadline_moved"])
        await task(place, "C-410", change)
        told = data_of((await poll(lambda: receiver.delivered("nyas-cymru", "assignment.updated")))[0])
        assert told["assignment_id"] == offer["assignment_id"]
        assert datetime.fromisoformat(told["offer_due_at"]) == change.offer_due_at
        assert datetime.fromisoformat(told["referral"]["returned_at"]) == change.returned_at
        assert told["changes"] == ["episode_added", "deadline_moved"]

        closed = InterviewClosed(
            child_ref="C-410",
            responsible_authority=CARDIFF,
            placement_authority=CARDIFF,
            episode_id=change.episode_id,
            task_id=requested.task_id,
            reason="not_offered",
            closed_at=datetime.now(UTC),
        )
        await task(place, "C-410", closed)
        withdrawn = data_of((await poll(lambda: receiver.delivered("nyas-cymru", "assignment.withdrawn")))[0])
        facts = await fact_types(place, until="assignment.closed")
    assert withdrawn == {"assignment_id": offer["assignment_id"], "reason": "not_offered"}
    assert [kind for kind, _ in facts][-1] == "assignment.closed"
    # The councils hear nothing of the notifier's own business.
    assert receiver.delivered("cardiff", "interview.updated") == []


async def test_an_offer_that_no_longer_fits_the_child_goes_to_a_provider_that_interviews_in_welsh(
    place: Place, directory: DirectoryFactory, receiver: Receiver
) -> None:
    path = write_directory(directory, receiver)
    raw = yaml.safe_load(path.read_text())
    raw["organisations"].append({**ENGLISH_ONLY, "webhook_url": f"{receiver.url}/english-only"})
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    async with notifier(place, path):
        await task(place, "C-411", interview_requested("C-411", language="en", indicators=[]))
        first = data_of((await poll(lambda: receiver.delivered("english-only", "assignment.offered")))[0])
        # The council then says the child prefers Welsh (the police had said English).
        await task(
            place, "C-411", updated("C-411", language="cy", hours_later=0, changes=["language_stated"])
        )
        withdrawn = data_of(
            (await poll(lambda: receiver.delivered("english-only", "assignment.withdrawn")))[0]
        )
        second = data_of((await poll(lambda: receiver.delivered("nyas-cymru", "assignment.offered")))[0])
    assert withdrawn == {"assignment_id": first["assignment_id"], "reason": "referral_changed"}
    assert second["referral"]["preferred_language"] == "cy"


async def test_a_change_made_by_another_organisation_reaches_the_council_and_its_own_does_not(
    place: Place, directory: DirectoryFactory, receiver: Receiver
) -> None:
    now = datetime.now(UTC)

    def changed(child: str, by: str, placement: str) -> EpisodeChanged:
        return EpisodeChanged(
            child_ref=child,
            responsible_authority=CARDIFF,
            placement_authority=placement,
            episode_id=f"ep-{child}",
            by=by,
            changes=["placement_changed"] if placement != CARDIFF else ["returned"],
            at=now,
            previous_placement_authority=CARDIFF if placement != CARDIFF else None,
            kind="missing",
            started_at=now - timedelta(hours=5),
            risk_level="medium",
        )

    async with notifier(place, write_directory(directory, receiver)):
        await task(place, "C-412", changed("C-412", "cardiff", CARDIFF))  # the council's own return
        await task(place, "C-413", changed("C-413", "south-wales-police", CARDIFF))  # the police's
        await task(place, "C-414", changed("C-414", "cardiff", NEWPORT))  # moved to Newport by Cardiff
        conn = await asyncpg.connect(place.database_url)
        try:
            await poll(lambda: conn.fetchval("SELECT count(*) = 3 FROM notifier.inbox"))
            queued = "SELECT count(*) FROM notifier.deliveries WHERE event_type = 'episode.changed'"
            assert await conn.fetchval(queued) == 2
        finally:
            await conn.close()
        await poll(lambda: len(receiver.delivered(None, "episode.changed")) == 2)
    told = sorted(data_of(r)["child_ref"] for r in receiver.delivered("cardiff", "episode.changed"))
    assert told == ["C-413"]
    assert [data_of(r)["child_ref"] for r in receiver.delivered("newport", "episode.changed")] == ["C-414"]
