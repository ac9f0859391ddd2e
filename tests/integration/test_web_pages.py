"""The web pages over HTTP, as a browser sends them: signing in (first password changed, wrong ones
slowed down), forms refused without their CSRF token, each person seeing their own organisation's
page only, and every sign-in and page view in the audit trail with the person's id."""

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from services.intake.web import accounts
from shared import topics
from shared.contracts.assignments import AssignmentExhausted
from shared.contracts.tasks import HighRiskAlert
from tests import directory_factory
from tests.conftest import Place
from tests.directory_factory import DirectoryFactory, password_for
from tests.events import publish
from tests.integration.conftest import as_org, intake_client
from tests.integration.intake_world import A, B, build, provider_declines
from tests.kafka_reader import poll


def token(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text[:500]
    return found.group(1)


async def sign_in(
    web: httpx.AsyncClient, org: str, person: str, password: str | None = None
) -> httpx.Response:
    form = await web.get("/web/sign-in")
    return await web.post(
        "/web/sign-in",
        data={
            "csrf": token(form),
            "org": org,
            "person": person,
            "password": password or password_for(org, person),
        },
    )


async def first_sign_in(web: httpx.AsyncClient, org: str, person: str) -> None:
    answer = await sign_in(web, org, person)
    assert (answer.status_code, answer.headers["location"]) == (303, "/web/password")
    page = await web.get("/web/password")
    chosen = await web.post(
        "/web/password", data={"csrf": token(page), "password": f"chosen-by-{person}-123"}
    )
    assert (chosen.status_code, chosen.headers["location"]) == (303, "/web/")


async def test_a_first_sign_in_must_choose_a_password_and_the_one_time_one_stops_working(
    place: Place, directory: DirectoryFactory
) -> None:
    async with intake_client(place, directory) as web:
        answer = await sign_in(web, "cardiff", "a-jones")
        cookie = answer.headers["set-cookie"]
        assert "HttpOnly" in cookie
        assert "SameSite=strict" in cookie
        assert "Path=/web" in cookie
        # nothing else until then: no page, no action
        assert (await web.get("/web/")).headers["location"] == "/web/password"
        assert (await web.get(f"/web/children/{A.responsible}/{A.ref}")).headers[
            "location"
        ] == "/web/password"
        assert (await web.post("/web/alerts/acknowledge", data={})).headers["location"] == "/web/password"
        page = await web.get("/web/password")
        short = await web.post("/web/password", data={"csrf": token(page), "password": "short"})
        assert short.status_code == 422
        await web.post("/web/password", data={"csrf": token(page), "password": "a-long-new-password"})
        board = await web.get("/web/")
        assert board.status_code == 200
        assert "script-src 'self'" in board.headers["content-security-policy"]
        assert '<html lang="en">' in board.text
        web.cookies.clear()
        assert (await sign_in(web, "cardiff", "a-jones")).status_code == 401  # the one-time password
        assert (await sign_in(web, "cardiff", "a-jones", "a-long-new-password")).headers[
            "location"
        ] == "/web/"


async def test_a_form_without_its_token_changes_nothing(place: Place, directory: DirectoryFactory) -> None:
    async with intake_client(place, directory) as web:
        await first_sign_in(web, "nyas-cymru", "c-price")
        refused = await web.post("/web/assignments/asg-x/accept", data={"csrf": "not-the-token"})
        assert refused.status_code == 403
        assert "Nothing was changed" in refused.text
        odd = await web.post("/web/assignments/asg-x/accept", data={"csrf": "é-not-ascii"})
        assert odd.status_code == 403
        out = await web.post("/web/sign-out", data={})  # no token: still signed in
        assert (await web.get("/web/")).status_code == 200
        assert out.status_code == 303
        web.cookies.pop("mtp_form", None)
        no_form_cookie = await web.post(
            "/web/sign-in", data={"csrf": "x", "org": "cardiff", "person": "a-jones", "password": "y"}
        )
        assert no_form_cookie.status_code == 403


async def test_repeated_wrong_passwords_slow_the_guesser_down_without_locking_the_person_out(
    place: Place, directory: DirectoryFactory
) -> None:
    async with intake_client(place, directory) as web:
        # Ten guesses sent at once: only the five free attempts are even checked.
        answers = await asyncio.gather(
            *(sign_in(web, "newport", "b-evans", "guess-again") for _ in range(10))
        )
        assert sorted(answer.status_code for answer in answers) == [401] * 5 + [429] * 5
        waited = await sign_in(web, "newport", "b-evans")  # even the right password, from there, now
        assert waited.status_code == 429
        assert 25 <= int(waited.headers["retry-after"]) <= 30  # the first wait: half a minute
        assert f"Too many attempts. Wait {waited.headers['retry-after']} s, then try again." in waited.text
        assert (await sign_in(web, "cardiff", "a-jones")).status_code == 303  # others are not held up
        pool = await asyncpg.create_pool(place.database_url)
        try:
            # The person, from the office's address: not held up by a guesser elsewhere.
            await pool.execute(
                "UPDATE intake.web_sign_in_failures SET subject = replace(subject, '@127.0.0.1', '@192.0.2.9')"
                " WHERE subject LIKE 'pair:%'"
            )
            await pool.execute("DELETE FROM intake.web_sign_in_failures WHERE subject LIKE 'address:%'")
            assert (await sign_in(web, "newport", "b-evans")).status_code == 303
        finally:
            await pool.close()


async def test_each_person_sees_their_own_organisations_page_and_it_is_audited(
    intake: httpx.AsyncClient, place: Place, directory: DirectoryFactory
) -> None:
    await build(intake, place, A)  # Cardiff's child placed in Newport, offered to NYAS Cymru
    async with intake_client(place, directory) as web:
        await first_sign_in(web, "cardiff", "a-jones")
        board = await web.get("/web/")
        assert A.ref in board.text
        assert "<h1>Coordinator&#39;s board – Cardiff</h1>" in board.text
        assert "offered to NYAS Cymru" in board.text
        web.cookies.clear()
        await first_sign_in(web, "newport", "b-evans")
        host = await web.get("/web/")
        assert A.ref in host.text
        assert "read only" in host.text
        assert '<form method="post" action="/web/assignments' not in host.text
        web.cookies.clear()
        await first_sign_in(web, "cardiff-youth-support", "d-owen")
        other = await web.get("/web/")
        assert A.ref not in other.text  # not its assignment
        refused = await web.post(f"/web/assignments/{A.assignment}/accept", data={"csrf": token(other)})
        assert refused.status_code == 404  # by URL either
        web.cookies.clear()
        await sign_in(web, "cardiff", "a-jones", "chosen-by-a-jones-123")
        welsh = await web.get("/web/lang/cy?next=/web/", follow_redirects=True)
        assert '<html lang="cy">' in welsh.text
        assert "Bwrdd y cydlynydd" in welsh.text
    audit = (await intake.get("/v1/audit?org=cardiff", headers=as_org("ops"))).json()["items"]
    actions = {(entry["api_key_id"], entry["action"]) for entry in audit}
    assert {("person:a-jones", "web:sign-in"), ("person:a-jones", "web:view:board")} <= actions


async def test_a_coordinator_reads_the_childs_timeline_acknowledges_an_alert_and_records_no_interview(
    intake: httpx.AsyncClient, place: Place, directory: DirectoryFactory
) -> None:
    await build(intake, place, A)
    alert = HighRiskAlert(
        child_ref=A.ref,
        responsible_authority=A.responsible,
        placement_authority=A.placement,
        episode_id=A.episode,
        raised_at=datetime.now(UTC),
    )
    await publish(place.bootstrap, topics.named(place.namespace, topics.TASKS), A.key, alert)

    async def alert_read() -> bool:
        record = await intake.get(A.path, headers=as_org("cardiff"))
        return bool(record.json()["alerts"])

    await poll(alert_read, timeout=60)
    async with intake_client(place, directory) as web:
        await first_sign_in(web, "cardiff", "a-jones")
        board = await web.get("/web/")
        assert f'href="/web/children/{A.responsible}/{A.ref}"' in board.text
        assert "High risk" in board.text
        acked = await web.post(
            "/web/alerts/acknowledge",
            data={"csrf": token(board), "alert": re.findall(r'name="alert" value="([^"]+)"', board.text)[0]},
        )
        assert acked.status_code == 303
        assert "Acknowledged by Alys Jones" in (await web.get("/web/")).text
        someone_elses = await web.post(
            "/web/alerts/acknowledge", data={"csrf": token(board), "alert": "nope"}
        )
        assert someone_elses.status_code == 404

        child = await web.get(A.path.replace("/v1/", "/web/"))
        assert child.status_code == 200
        assert "Child W-A1" in child.text
        assert "offered" in child.text  # NYAS Cymru was offered it
        assert '<th scope="row">missing</th><td>South Wales Police</td>' in child.text  # who reported it
        recorded = await web.post(
            f"/web/children/{A.responsible}/{A.ref}/not-offered",
            data={"csrf": token(child), "episode": A.episode, "reason": "child_in_custody"},
        )
        assert (recorded.status_code, recorded.headers["location"]) == (
            303,
            f"/web/children/{A.responsible}/{A.ref}?done=1",
        )
        web.cookies.clear()
        await first_sign_in(web, "newport", "b-evans")  # the host council: the timeline, read only
        hosted = await web.get(A.path.replace("/v1/", "/web/"))
        assert hosted.status_code == 200
        assert "not-offered" not in hosted.text
        assert "South Wales Police" not in hosted.text  # who reported is the responsible council's to see
        refused = await web.post(
            f"/web/children/{A.responsible}/{A.ref}/not-offered",
            data={"csrf": token(hosted), "episode": A.episode, "reason": "other"},
        )
        assert refused.status_code == 404
        web.cookies.clear()
        await first_sign_in(web, "nyas-cymru", "c-price")  # a provider has its worklist, not timelines
        assert (await web.get(A.path.replace("/v1/", "/web/"))).status_code == 404
    audit = (await intake.get(f"/v1/audit?child={A.key}", headers=as_org("ops"))).json()["items"]
    actions = {(entry["org_id"], entry["api_key_id"], entry["action"]) for entry in audit}
    assert ("cardiff", "person:a-jones", "web:view:child") in actions
    assert ("cardiff", "person:a-jones", "write:interview.not_offered") in actions


async def test_the_board_says_which_task_nobody_could_take_and_why_each_provider_could_not(
    intake: httpx.AsyncClient, place: Place, directory: DirectoryFactory
) -> None:
    await build(intake, place, A)
    await provider_declines(intake, place, A)
    exhausted = AssignmentExhausted(
        child_ref=A.ref,
        responsible_authority=A.responsible,
        task_id=A.task,
        placement_authority=A.placement,
        episode_id=A.episode,
        at=datetime.now(UTC),
        excluded={
            "nyas-cymru": "already_asked_for_this_task",
            "cardiff-youth-support": "employed_by_responsible_authority",
        },
    )
    await publish(place.bootstrap, topics.named(place.namespace, topics.ASSIGNMENTS), A.key, exhausted)

    async def exhausted_read() -> bool:
        record = await intake.get(A.path, headers=as_org("cardiff"))
        return any(a["type"] == "assignment.exhausted" for a in record.json()["alerts"])

    await poll(exhausted_read, timeout=60)
    async with intake_client(place, directory) as web:
        await first_sign_in(web, "cardiff", "a-jones")
        board = (await web.get("/web/")).text
        assert "Nobody independent could take these" in board
        assert "NYAS Cymru: already asked, and said no or did not answer" in board
        assert "Cardiff in-house: employed by the council itself" in board
        welsh = (await web.get("/web/lang/cy?next=/web/", follow_redirects=True)).text
        assert "Cardiff in-house: wedi&#39;i gyflogi gan y cyngor ei hun" in welsh


async def test_a_session_ends_after_30_minutes_unused_or_12_hours_in_all_and_at_the_next_sign_in(
    place: Place, directory: DirectoryFactory
) -> None:
    async with intake_client(place, directory) as web:
        await first_sign_in(web, "cardiff", "a-jones")
        first = web.cookies["mtp_session"]
        pool = await asyncpg.create_pool(place.database_url)
        try:
            key = accounts.digest(first)
            now = datetime.now(UTC)
            # used 29 minutes ago: still live, and its last use moves to now
            await pool.execute(
                "UPDATE intake.web_sessions SET seen_at = $2 WHERE id_sha256 = $1",
                key,
                now - timedelta(minutes=29),
            )
            assert (await web.get("/web/")).status_code == 200
            await pool.execute(
                "UPDATE intake.web_sessions SET seen_at = $2 WHERE id_sha256 = $1",
                key,
                now - timedelta(minutes=31),
            )
            assert (await web.get("/web/")).headers["location"] == "/web/sign-in"
            await pool.execute(
                "UPDATE intake.web_sessions SET seen_at = $2, created_at = $3 WHERE id_sha256 = $1",
                key, now, now - timedelta(hours=12, minutes=1),
            )  # fmt: skip
            assert (await web.get("/web/")).headers["location"] == "/web/sign-in"
            await pool.execute(
                "UPDATE intake.web_sessions SET created_at = $2 WHERE id_sha256 = $1", key, now
            )
            assert (await web.get("/web/")).status_code == 200
            # a page's poll does not count as use: a screen left open still signs out
            await pool.execute("UPDATE intake.web_sessions SET seen_at = $2 WHERE id_sha256 = $1", key, now - timedelta(minutes=20))  # fmt: skip
            assert (await web.get("/web/live")).status_code == 200
            seen = await pool.fetchval("SELECT seen_at FROM intake.web_sessions WHERE id_sha256 = $1", key)
            assert seen < now - timedelta(minutes=19)
            await pool.execute("UPDATE intake.web_sessions SET seen_at = $2 WHERE id_sha256 = $1", key, now - timedelta(minutes=31))  # fmt: skip
            assert (await web.get("/web/live")).status_code == 401
            await pool.execute("UPDATE intake.web_sessions SET seen_at = $2 WHERE id_sha256 = $1", key, now)
            # signing in again gives a new id; the old one no longer works
            await sign_in(web, "cardiff", "a-jones", "chosen-by-a-jones-123")
            assert web.cookies["mtp_session"] != first
            assert (
                await pool.fetchval("SELECT count(*) FROM intake.web_sessions WHERE id_sha256 = $1", key) == 0
            )
        finally:
            await pool.close()


async def test_a_new_one_time_password_resets_the_account_and_a_chosen_password_is_not_changed_from_a_session(
    place: Place, directory: DirectoryFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with intake_client(place, directory) as web:
        await first_sign_in(web, "cardiff", "a-jones")
        board = await web.get("/web/")
        again = await web.post(
            "/web/password", data={"csrf": token(board), "password": "taken-over-by-someone"}
        )
        assert again.headers["location"] == "/web/"  # no second change from an open session
        web.cookies.clear()
        assert (await sign_in(web, "cardiff", "a-jones", "taken-over-by-someone")).status_code == 401
    # `mtp people add cardiff a-jones` again: the directory holds a new one-time password's hash
    monkeypatch.setattr(
        directory_factory,
        "password_for",
        lambda org, person: "a-new-one-time-password" if person == "a-jones" else f"one-time-{org}-{person}",
    )
    async with intake_client(place, directory) as web:
        answer = await sign_in(web, "cardiff", "a-jones", "a-new-one-time-password")
        assert answer.headers["location"] == "/web/password"  # she must choose again
        web.cookies.clear()
        assert (await sign_in(web, "cardiff", "a-jones", "chosen-by-a-jones-123")).status_code == 401


async def test_a_reset_ends_every_earlier_session_and_only_the_new_one_time_password_chooses(
    place: Place, directory: DirectoryFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with intake_client(place, directory) as web:
        await first_sign_in(web, "cardiff", "a-jones")
        stolen = web.cookies[accounts.COOKIE]  # a session someone else holds (a lost laptop)
    # `mtp people add cardiff a-jones` again, because of that: a new one-time password
    monkeypatch.setattr(
        directory_factory,
        "password_for",
        lambda org, person: "a-new-one-time-password" if person == "a-jones" else f"one-time-{org}-{person}",
    )
    async with intake_client(place, directory) as web:
        held = {"cookie": f"{accounts.COOKIE}={stolen}"}
        # The old session is ended: it can neither choose the new password nor see the board.
        for answer in (
            await web.get("/web/password", headers=held),
            await web.post(
                "/web/password", data={"csrf": "x", "password": "the-taker-s-choice"}, headers=held
            ),
            await web.get("/web/", headers=held),
        ):
            assert (answer.status_code, answer.headers["location"]) == (303, "/web/sign-in")
        # The person herself signs in with the new one-time password and chooses.
        answer = await sign_in(web, "cardiff", "a-jones", "a-new-one-time-password")
        assert answer.headers["location"] == "/web/password"
        page = await web.get("/web/password")
        chosen = await web.post("/web/password", data={"csrf": token(page), "password": "hers-again-12345"})
        assert chosen.headers["location"] == "/web/"
        web.cookies.clear()
        assert (await sign_in(web, "cardiff", "a-jones", "hers-again-12345")).headers["location"] == "/web/"


async def test_a_form_past_its_limit_is_refused_as_it_streams_in(
    place: Place, directory: DirectoryFactory
) -> None:
    sent = 0

    async def huge_body() -> AsyncIterator[bytes]:  # 64 MiB, no length declared, sent a chunk at a time
        nonlocal sent
        for _ in range(1024):
            sent += 1
            yield b"password=" + b"x" * 65536

    async with intake_client(place, directory) as web:
        answer = await web.post(
            "/web/sign-in",
            content=huge_body(),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert answer.status_code == 413
        assert answer.headers["content-type"] == "application/problem+json"
        assert sent < 4  # refused at the first chunk past the limit: the rest was never read
        declared = await web.post(
            "/web/sign-in",
            content=b"x" * 10,
            headers={"content-type": "application/x-www-form-urlencoded", "content-length": str(2**28)},
        )
        assert declared.status_code == 413  # a declared length past the limit: refused unread


async def test_a_board_follows_its_own_councils_changes_from_an_empty_system(
    place: Place, directory: DirectoryFactory
) -> None:
    async with intake_client(place, directory) as web:
        await first_sign_in(web, "cardiff", "a-jones")
        board = await web.get("/web/")
        assert 'data-live="v0"' in board.text  # followed from the start, though nothing is known yet

        async def version() -> str:
            return str((await web.get("/web/live")).json()["version"])

        assert await version() == "v0"
        await build(web, place, B)  # Swansea's child, with a provider: nothing of Cardiff's
        assert await version() == "v0"
        await build(web, place, A)  # Cardiff's own child
        changed = await poll(lambda: _changed(version), timeout=30)
        assert changed != "v0"
        assert A.ref in (await web.get("/web/")).text


async def _changed(version: Any) -> str | None:
    now = await version()
    return None if now == "v0" else now


async def test_a_page_fetching_itself_is_not_a_view_nor_a_persons_use(
    place: Place, directory: DirectoryFactory
) -> None:
    async with intake_client(place, directory) as web:
        await first_sign_in(web, "cardiff", "a-jones")
        assert (await web.get("/web/")).status_code == 200
        key = accounts.digest(web.cookies[accounts.COOKIE])
        refresh = {"x-mtp-refresh": "1"}
        pool = await asyncpg.create_pool(place.database_url)
        try:

            async def views() -> int:
                return int(
                    await pool.fetchval("SELECT count(*) FROM intake.audit WHERE action = 'web:view:board'")
                )

            async def idle_since(minutes: int) -> None:
                await pool.execute(
                    "UPDATE intake.web_sessions SET seen_at = $2 WHERE id_sha256 = $1",
                    key, datetime.now(UTC) - timedelta(minutes=minutes),
                )  # fmt: skip

            assert await views() == 1
            await idle_since(20)
            assert (await web.get("/web/", headers=refresh)).status_code == 200
            assert await views() == 1  # showing what changed is not another view
            seen = await pool.fetchval("SELECT seen_at FROM intake.web_sessions WHERE id_sha256 = $1", key)
            assert seen < datetime.now(UTC) - timedelta(minutes=19)  # nor the person's use
            await idle_since(31)
            # half an hour without the person: the page's own fetches find the session ended
            assert (await web.get("/web/", headers=refresh)).headers["location"] == "/web/sign-in"
            assert (await web.get("/web/live")).status_code == 401
        finally:
            await pool.close()
