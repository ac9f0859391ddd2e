"""The senior manager's page shows the figures `mtp report` gives: a generated history of children
driven through the real scheduler, Kafka and PostgreSQL, the figures it publishes read by the real
intake, and each period's CSV from the page compared with the report counted at the same moment."""

import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from services.scheduler.app import create_app
from services.scheduler.core.settings import SchedulerSettings
from services.scheduler.report.command import build
from services.scheduler.report.figures import LOCAL, Period
from services.scheduler.report.figures_loop import FiguresLoop
from services.scheduler.report.output import render
from shared import topics
from shared.clock import ManualClock
from shared.contracts.episodes import MissingReported, Returned
from shared.directory_file import open_directory
from shared.live_directory import LiveDirectory
from tests.conftest import Place
from tests.directory_factory import DirectoryFactory
from tests.events import CARDIFF, NEWPORT, publish
from tests.integration.conftest import intake_client
from tests.integration.test_report_agreement import drive_history
from tests.integration.test_web_pages import first_sign_in
from tests.kafka_reader import poll

CHILDREN = 60


@pytest.fixture
async def settings(place: Place, directory: DirectoryFactory) -> SchedulerSettings:
    return SchedulerSettings(
        **place.settings_kwargs(directory.write()),  # type: ignore[arg-type]
        figures_interval_seconds=0.3,
    )


@pytest.fixture
async def scheduler(settings: SchedulerSettings) -> AsyncIterator[FastAPI]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


async def disagreements(
    web: httpx.AsyncClient, settings: SchedulerSettings, authority: str, period: str
) -> list[str]:
    """Each row of the page's CSV for the period that is not what the report counts for that row's
    period at the moment the figures were counted (empty when every row agrees)."""
    answer = await web.get("/web/figures.csv", params={"period": period})
    if answer.status_code != 200:  # not published yet
        return [f"no figures for {period} ({answer.status_code})"]
    page = rows(answer.text)
    conn = await asyncpg.connect(settings.database_url)
    try:
        counted = {
            r["period"]: r
            for r in await conn.fetch(
                "SELECT period, first_day, last_day, as_of FROM intake.figures WHERE authority = $1",
                authority,
            )
        }
    finally:
        await conn.close()
    found = []
    for row in page:
        at = counted[row["period"]]
        report = await build(
            settings, authority, Period(at["first_day"], at["last_day"]), source="database", as_of=at["as_of"]
        )
        expected = rows(render(report, "csv"))[0]
        if row != expected:
            found.append(f"{row['period']}: page {row} report {expected}")
    return found


async def test_the_managers_page_shows_the_figures_the_report_gives(
    scheduler: FastAPI, settings: SchedulerSettings, place: Place, directory: DirectoryFactory
) -> None:
    now = datetime.now(UTC)
    await drive_history(settings, CHILDREN, now)

    this_year = Period.financial_year(now.astimezone(LOCAL).date())
    this_month = now.astimezone(LOCAL).strftime("%Y-%m")
    async with intake_client(place, directory) as web:
        await first_sign_in(web, "cardiff", "e-morgan")  # Cardiff's senior manager
        # The page follows the scheduler's counts within moments, and every row is the report's.
        for period in (this_year.label, this_month):
            try:
                await poll(lambda p=period: _agree(web, settings, CARDIFF, p), timeout=60, interval=0.5)
            except AssertionError:
                raise AssertionError("\n".join(await disagreements(web, settings, CARDIFF, period))) from None
        year = rows((await web.get("/web/figures.csv", params={"period": this_year.label})).text)
        assert year[0]["period"] == this_year.label
        assert int(year[0]["episodes"]) > 10  # the history's episodes are there, not zeros
        assert [r["period"] for r in year[1:5]] == [q.label for q in this_year.quarters()]
        assert [r["period"] for r in year[5:]] == [m.label for m in this_year.months()]
        assert {r["authority"] for r in year} == {CARDIFF}

        page = await web.get("/web/figures")  # this financial year by default
        assert page.status_code == 200
        assert f"Financial year {this_year.label}" in page.text
        assert 'role="img"' in page.text
        assert "offered within the window" in page.text
        assert "/web/figures.csv?period=" in page.text
        audited = await _audit_actions(settings, "cardiff")
        assert {"web:view:figures", "web:download:figures"} <= audited

        # Another council's coordinator reads its own figures, never Cardiff's; a provider reads none.
        web.cookies.clear()
        await first_sign_in(web, "newport", "b-evans")
        theirs = rows((await web.get("/web/figures.csv", params={"period": this_year.label})).text)
        assert {r["authority"] for r in theirs} == {NEWPORT}
        web.cookies.clear()
        await first_sign_in(web, "nyas-cymru", "c-price")
        assert (await web.get("/web/figures")).status_code == 403
        assert (await web.get("/web/figures.csv", params={"period": this_year.label})).status_code == 403
        unknown = await web.get("/web/figures", params={"period": "1999-01"})
        assert unknown.status_code == 403  # a provider is refused before any period is looked for


async def _agree(web: httpx.AsyncClient, settings: SchedulerSettings, authority: str, period: str) -> bool:
    found = await disagreements(web, settings, authority, period)
    return not found


async def _audit_actions(settings: SchedulerSettings, org: str) -> set[str]:
    conn = await asyncpg.connect(settings.database_url)
    try:
        return {
            r["action"]
            for r in await conn.fetch(
                "SELECT action FROM intake.audit WHERE org_id = $1 AND api_key_id = 'person:e-morgan'", org
            )
        }
    finally:
        await conn.close()


async def test_figures_are_published_again_when_they_change_and_only_then(
    place: Place, directory: DirectoryFactory
) -> None:
    start = datetime.now(UTC)
    clock = ManualClock(start)
    path = directory.write()
    settings = SchedulerSettings(
        **place.settings_kwargs(path),  # type: ignore[arg-type]
        figures_interval_seconds=3600,  # the service's own rounds stay out of the way: this test drives them
    )
    app = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app):
        pool = app.state.runtime.pool
        loop = FiguresLoop(
            pool,
            clock,
            LiveDirectory.fixed(open_directory(path)),
            namespace=place.namespace,
            interval_seconds=3600,
        )
        episodes = topics.named(place.namespace, topics.EPISODES)
        key = f"{CARDIFF}/FIG-1"
        await publish(place.bootstrap, episodes, key, _missing("FIG-1", start - timedelta(hours=5)))
        back = Returned(
            child_ref="FIG-1", responsible_authority=CARDIFF, returned_at=start - timedelta(hours=1)
        )
        await publish(place.bootstrap, episodes, key, back)
        await poll(lambda: _returned(pool), timeout=30, interval=0.2)
        month = (start - timedelta(hours=5)).astimezone(LOCAL).strftime("%Y-%m")

        # The return is news: the month, its quarter and its year are counted and published.
        assert await loop.publish_round(start - timedelta(minutes=5), clock.now()) >= 3
        newport = await _published(pool, place.namespace, NEWPORT)
        latest = await _latest(pool, place.namespace, CARDIFF, month)
        assert (latest["episodes"], latest["windows_open"], latest["breaches"]) == (1, 1, 0)
        # Counted again with nothing new: nothing is published.
        assert await loop.publish_round(clock.now(), clock.now()) == 0

        # The window closes with no offer: no event came, yet the figures changed, and are published.
        before = clock.now()
        clock.advance(timedelta(hours=72))
        assert await loop.publish_round(before, clock.now()) >= 3
        latest = await _latest(pool, place.namespace, CARDIFF, month)
        assert (latest["windows_open"], latest["windows_closed"], latest["breaches"]) == (0, 1, 1)
        assert latest["as_of"] == clock.now().isoformat().replace("+00:00", "Z")
        # Newport, with nothing new of its own, had nothing published again.
        assert await _published(pool, place.namespace, NEWPORT) == newport


def _missing(child: str, since: datetime) -> MissingReported:
    return MissingReported(
        child_ref=child,
        responsible_authority=CARDIFF,
        placement_authority=CARDIFF,
        kind="missing",
        missing_since=since,
        risk_level="medium",
        police_force="south-wales-police",
        police_reference="F1",
    )


async def _returned(pool: asyncpg.Pool) -> bool:
    return bool(await pool.fetchval("SELECT count(*) FROM scheduler.episodes WHERE end_reason = 'returned'"))


async def _published(pool: asyncpg.Pool, namespace: str, authority: str) -> list[dict[str, Any]]:
    """The figures put in the scheduler's outbox for the authority, oldest first."""
    rows = await pool.fetch(
        "SELECT value FROM scheduler.outbox WHERE topic = $1 AND key = $2 ORDER BY seq",
        topics.named(namespace, topics.FIGURES),
        authority,
    )
    return [json.loads(row["value"]) for row in rows]


async def _latest(pool: asyncpg.Pool, namespace: str, authority: str, period: str) -> dict[str, Any]:
    """The figures last put in the scheduler's outbox for the authority's period."""
    return [f for f in await _published(pool, namespace, authority) if f["period"] == period][-1]
