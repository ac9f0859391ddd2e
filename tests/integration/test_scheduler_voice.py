"""The council's time to answer what a child said (docs/domain.md rule 31), kept by the scheduler:
reminded before it runs out, the council and its senior manager told once it has, nothing when the
answer came first, a late answer recorded as late; and none of it moves a window (rule 36)."""

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from fastapi import FastAPI

from services.scheduler.app import create_app
from services.scheduler.core.settings import SchedulerSettings
from shared import topics
from shared.contracts.episodes import MissingReported, Returned, RiskChanged
from shared.contracts.interviews import InterviewCompleted
from shared.contracts.voice import VOICE_NOTICES, ActionDone, Findings, FindingsResponded, NrmDecided
from tests.conftest import Place
from tests.directory_factory import DirectoryFactory
from tests.events import CARDIFF, NEWPORT, publish
from tests.kafka_reader import headers_of, poll, read_topic


@pytest.fixture
async def scheduler(place: Place, directory: DirectoryFactory) -> AsyncIterator[FastAPI]:
    settings = SchedulerSettings(
        **{**place.settings_kwargs(directory.write()), "voice_poll_seconds": 0.2}  # type: ignore[arg-type]
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


async def absence(place: Place, child: str, back: datetime, placement: str = NEWPORT) -> None:
    """The child went missing from a placement (in Newport unless said) and came back at `back`."""
    episodes = topics.named(place.namespace, topics.EPISODES)
    key = f"{CARDIFF}/{child}"
    report = MissingReported(
        child_ref=child,
        responsible_authority=CARDIFF,
        placement_authority=placement,
        kind="missing",
        missing_since=back - timedelta(hours=5),
        risk_level="medium",
        police_force="south-wales-police",
        police_reference=f"R-{child}",
    )
    await publish(place.bootstrap, episodes, key, report)
    await publish(
        place.bootstrap,
        episodes,
        key,
        Returned(child_ref=child, responsible_authority=CARDIFF, returned_at=back),
    )


async def interview(place: Place, child: str, held: datetime, assignment: str = "", **said: Any) -> None:
    done = InterviewCompleted(
        assignment_id=assignment or f"asg-{child}",
        completed_at=held,
        outcome="completed",
        findings=Findings(**{"reasons": ["boredom"], "child_words": "nothing to do there", **said}),
    )
    await publish(
        place.bootstrap, topics.named(place.namespace, topics.INTERVIEWS), f"{CARDIFF}/{child}", done
    )


async def answer(place: Place, child: str, at: datetime, assignment: str = "") -> None:
    said = FindingsResponded(
        child_ref=child,
        responsible_authority=CARDIFF,
        findings_id=f"findings-{assignment or f'asg-{child}'}",
        responded_at=at,
        actions=[ActionDone(code="support_offered")],
        child_told=True,
    )
    await publish(place.bootstrap, topics.named(place.namespace, topics.EPISODES), f"{CARDIFF}/{child}", said)


VOICE = {notice.type_name for notice in VOICE_NOTICES}


async def notices(place: Place, until: Any) -> list[tuple[str, dict[str, Any]]]:
    records = await read_topic(
        place.bootstrap,
        topics.named(place.namespace, topics.TASKS),
        until=lambda rs: until([headers_of(r)["ce_type"] for r in rs]),
    )
    return [
        (headers_of(r)["ce_type"], json.loads(r.value)) for r in records if headers_of(r)["ce_type"] in VOICE
    ]


async def findings_row(place: Place, child: str) -> asyncpg.Record | None:
    conn = await asyncpg.connect(place.database_url)
    try:
        return await conn.fetchrow(
            "SELECT * FROM scheduler.findings WHERE child_key = $1", f"{CARDIFF}/{child}"
        )
    finally:
        await conn.close()


async def test_reminded_before_the_time_runs_out_and_told_with_the_senior_manager_once_it_has(
    scheduler: FastAPI, place: Place
) -> None:
    now = datetime.now(UTC)
    # Held 8 days ago: the 7 days have run out (and the reminder's day with them: only the overdue).
    await absence(place, "V-300", now - timedelta(days=9))
    await interview(place, "V-300", now - timedelta(days=8))
    # Held six and a half days ago: half a day left, inside the reminder's day.
    await absence(place, "V-301", now - timedelta(days=7))
    await interview(place, "V-301", now - timedelta(days=6, hours=12))

    found = await notices(
        place, lambda types: {"findings.response_overdue", "findings.response_due"} <= set(types)
    )
    by_child = {(kind, data["child_ref"]) for kind, data in found}
    assert by_child == {("findings.response_overdue", "V-300"), ("findings.response_due", "V-301")}
    overdue = next(data for kind, data in found if kind == "findings.response_overdue")
    assert overdue["findings_id"] == "findings-asg-V-300"
    assert overdue["placement_authority"] == NEWPORT  # the episode the interview followed
    assert overdue["episode_id"]
    assert datetime.fromisoformat(overdue["respond_by"]) == now - timedelta(days=1)

    # Each is published once: the rows say what is left to publish.
    late, soon = await findings_row(place, "V-300"), await findings_row(place, "V-301")
    assert (late["overdue_at"] is not None, late["reminded_at"], late["next_at"]) == (True, None, None)
    assert (soon["reminded_at"] is not None, soon["next_at"]) == (True, soon["respond_by"])

    # A late answer is recorded, and recorded as late.
    await answer(place, "V-300", now)

    async def answered() -> asyncpg.Record | None:
        row = await findings_row(place, "V-300")
        return row if row is not None and row["responded_at"] is not None else None

    row = await poll(answered)
    assert row["responded_at"] > row["respond_by"]
    assert row["child_told"] is True


async def test_an_answer_that_came_first_leaves_nothing_to_remind(scheduler: FastAPI, place: Place) -> None:
    now = datetime.now(UTC)
    await absence(place, "V-302", now - timedelta(days=7))
    await answer(place, "V-302", now - timedelta(days=6))  # read before the findings it answers

    async def kept() -> bool:
        conn = await asyncpg.connect(place.database_url)
        try:
            return bool(await conn.fetchval("SELECT count(*) FROM scheduler.findings_responses"))
        finally:
            await conn.close()

    await poll(kept)
    await interview(place, "V-302", now - timedelta(days=6, hours=12))
    # A child whose reminder is due, after it: once its notice is out, V-302's would have been too.
    await absence(place, "V-303", now - timedelta(days=7))
    await interview(place, "V-303", now - timedelta(days=6, hours=12))
    found = await notices(place, lambda types: "findings.response_due" in types)
    assert [data["child_ref"] for _, data in found] == ["V-303"]
    row = await findings_row(place, "V-302")
    assert (row["responded_at"], row["next_at"]) == (now - timedelta(days=6), None)


async def test_a_third_interview_giving_the_same_reason_raises_one_alert_naming_the_earlier_two(
    scheduler: FastAPI, place: Place
) -> None:
    now = datetime.now(UTC)
    child = "V-310"
    await absence(place, child, now - timedelta(days=100), placement=CARDIFF)
    # Three interviews within 180 days giving "placement_relationships"; the first was answered.
    held = [now - timedelta(days=90), now - timedelta(days=40), now - timedelta(days=2)]
    for n, moment in enumerate(held[:2]):
        await interview(place, child, moment, f"asg-{child}-{n}", reasons=["placement_relationships"])
    await answer(place, child, held[0] + timedelta(days=3), f"asg-{child}-0")

    async def both_kept() -> bool:
        conn = await asyncpg.connect(place.database_url)
        try:
            return bool(await conn.fetchval("SELECT count(*) = 1 FROM scheduler.findings_responses"))
        finally:
            await conn.close()

    await poll(both_kept)
    await interview(place, child, held[2], f"asg-{child}-2", reasons=["placement_relationships", "boredom"])
    # An interview of an in-area child who wants to move asks for nothing (only out of area does).
    await interview(
        place, child, held[2] + timedelta(hours=1), f"asg-{child}-3", reasons=[], placement_view="move"
    )

    found = await notices(place, lambda types: "alert.said_again" in types)
    found = [
        (kind, data) for kind, data in found if kind in ("alert.said_again", "placement.review_requested")
    ]
    assert [kind for kind, _ in found] == ["alert.said_again"]
    alert = found[0][1]
    assert (alert["reason"], alert["count"], alert["within_days"]) == ("placement_relationships", 3, 180)
    assert alert["findings_id"] == f"findings-asg-{child}-2"
    earlier = alert["earlier"]
    assert [e["findings_id"] for e in earlier] == [f"findings-asg-{child}-0", f"findings-asg-{child}-1"]
    assert earlier[0]["actions"] == ["support_offered"]
    assert (earlier[1]["answered_at"], earlier[1]["actions"]) == (None, [])


async def test_an_out_of_area_child_who_wants_to_go_home_asks_for_a_placement_review(
    scheduler: FastAPI, place: Place
) -> None:
    now = datetime.now(UTC)
    await absence(place, "V-320", now - timedelta(days=2))  # placed in Newport, Cardiff's child
    await interview(place, "V-320", now - timedelta(days=1), placement_view="return_home_area")
    found = await notices(place, lambda types: "placement.review_requested" in types)
    review = next(data for kind, data in found if kind == "placement.review_requested")
    assert (review["child_ref"], review["placement_authority"], review["placement_view"]) == (
        "V-320",
        NEWPORT,
        "return_home_area",
    )
    assert review["findings_id"] == "findings-asg-V-320"


async def test_an_arrested_child_with_signs_of_exploitation_raises_the_victim_alert_once(
    scheduler: FastAPI, place: Place
) -> None:
    now = datetime.now(UTC)
    episodes = topics.named(place.namespace, topics.EPISODES)

    async def came_back_arrested(child: str, indicators: list[str]) -> None:
        report = MissingReported(
            child_ref=child,
            responsible_authority=CARDIFF,
            placement_authority=NEWPORT,
            kind="missing",
            missing_since=now - timedelta(hours=30),
            risk_level="high",
            exploitation_indicators=indicators,  # type: ignore[arg-type]
            police_force="south-wales-police",
            police_reference=f"R-{child}",
        )
        back = Returned(
            child_ref=child,
            responsible_authority=CARDIFF,
            returned_at=now - timedelta(hours=2),
            how_returned="arrested",
        )
        await publish(place.bootstrap, episodes, f"{CARDIFF}/{child}", report)
        await publish(place.bootstrap, episodes, f"{CARDIFF}/{child}", back)

    # County lines reported with the absence: the alert at once.
    await came_back_arrested("V-340", ["county_lines"])
    # No sign at first: nothing; the police add one later, and then it is raised.
    await came_back_arrested("V-341", [])

    async def arrests(count: int = 2) -> bool:
        conn = await asyncpg.connect(place.database_url)
        try:
            return bool(await conn.fetchval("SELECT count(*) = $1 FROM scheduler.arrests", count))
        finally:
            await conn.close()

    await poll(arrests)
    later = RiskChanged(
        child_ref="V-341", responsible_authority=CARDIFF, risk_level="high", exploitation_indicators=["cce"]
    )
    await publish(place.bootstrap, episodes, f"{CARDIFF}/V-341", later)
    # A child who came back by themselves with the same signs raises no victim alert.
    await absence(place, "V-342", now - timedelta(hours=2))
    # No sign reported by anyone but the child's interview: raised once it is held, and an NRM
    # decision is owed for the episode as for one the police reported signs in.
    await came_back_arrested("V-343", [])
    await poll(lambda: arrests(3))
    told = InterviewCompleted(
        assignment_id="asg-V-343",
        completed_at=now - timedelta(hours=1),
        outcome="completed",
        exploitation_indicators=["cse"],
    )
    await publish(place.bootstrap, topics.named(place.namespace, topics.INTERVIEWS), f"{CARDIFF}/V-343", told)

    found = await notices(place, lambda types: types.count("alert.victim_arrested") >= 3)
    alerts = [data for kind, data in found if kind == "alert.victim_arrested"]
    assert sorted((a["child_ref"], tuple(a["indicators"])) for a in alerts) == [
        ("V-340", ("county_lines",)),
        ("V-341", ("cce",)),
        ("V-343", ("cse",)),
    ]
    conn = await asyncpg.connect(place.database_url)
    try:
        owed = await conn.fetchval(
            "SELECT indicators FROM scheduler.nrm WHERE child_key = $1", f"{CARDIFF}/V-343"
        )
    finally:
        await conn.close()
    assert owed == ["cse"]
    assert all(a["placement_authority"] == NEWPORT and a["episode_id"] for a in alerts)


async def test_an_exploitation_episode_without_an_nrm_decision_is_reminded_once_and_a_decision_stops_it(
    scheduler: FastAPI, place: Place
) -> None:
    now = datetime.now(UTC)
    episodes = topics.named(place.namespace, topics.EPISODES)

    async def exploited(child: str, days_ago: int) -> None:
        report = MissingReported(
            child_ref=child,
            responsible_authority=CARDIFF,
            placement_authority=CARDIFF,
            kind="missing",
            missing_since=now - timedelta(days=days_ago),
            risk_level="high",
            exploitation_indicators=["trafficking"],
            police_force="south-wales-police",
            police_reference=f"R-{child}",
        )
        await publish(place.bootstrap, episodes, f"{CARDIFF}/{child}", report)

    async def nrm_row(child: str) -> asyncpg.Record | None:
        conn = await asyncpg.connect(place.database_url)
        try:
            return await conn.fetchrow(
                "SELECT * FROM scheduler.nrm WHERE child_key = $1", f"{CARDIFF}/{child}"
            )
        finally:
            await conn.close()

    # V-351's episode began 2 days ago: its council decides within the time, and nothing is left due.
    await exploited("V-351", 2)
    owed = await poll(lambda: nrm_row("V-351"))
    decided = NrmDecided(
        child_ref="V-351",
        responsible_authority=CARDIFF,
        episode_id=owed["episode_id"],
        decision="not_referred",
        reason="already_supported_by_youth_justice",
        decided_at=now,
    )
    await publish(place.bootstrap, episodes, f"{CARDIFF}/V-351", decided)
    # V-350's began 8 days ago, with no decision: reminded.
    await exploited("V-350", 8)
    found = await notices(place, lambda types: "nrm.decision_due" in types)
    due = [data for kind, data in found if kind == "nrm.decision_due"]
    assert [(d["child_ref"], d["indicators"]) for d in due] == [("V-350", ["trafficking"])]
    row = await nrm_row("V-350")
    assert (row["reminded_at"] is not None, row["next_at"]) == (True, None)  # once

    async def decided_351() -> asyncpg.Record | None:
        row = await nrm_row("V-351")
        return row if row is not None and row["decision"] is not None else None

    settled = await poll(decided_351)
    assert (settled["decision"], settled["next_at"], settled["reminded_at"]) == ("not_referred", None, None)
