"""The coordinator's board and the provider worker's worklist in headless Chromium, against the three
services as processes: a child reported and back appears by itself on the council's board, opened
before anything was reported, with its countdown; the provider's worker accepts the offer and records the offer to the child in their worklist; the board
shows who holds the interview by itself, without a reload; the host council sees the child read
only; the council's senior manager sees the child counted in the month's figures, with the chart;
the Welsh switch turns every page Welsh; axe-core finds nothing serious on any page, in either
language."""

import asyncio
import os
import shutil
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from selenium import webdriver
from selenium.common.exceptions import (
    NoSuchElementException,
    StaleElementReferenceException,
    WebDriverException,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait

from services.intake.web.i18n import LONDON
from tests.browser import chromium, serious_violations
from tests.directory_factory import PEOPLE, key_for, password_for
from tests.e2e.stack import Stack
from tests.events import CARDIFF, NEWPORT, report, returned
from tests.kafka_reader import poll
from tests.receiver import Receiver

CHILD = "WEB-7"


async def post(stack: Stack, org: str, event: dict[str, Any]) -> None:
    headers = {"authorization": f"Bearer {key_for(org)}", "content-type": "application/cloudevents+json"}
    async with httpx.AsyncClient(base_url=stack.intake_url) as client:
        answer = await client.post("/v1/events", json=event, headers=headers)
    assert answer.status_code == 202, answer.text


async def in_browser(step: Callable[[], Any]) -> Any:
    """Selenium blocks: run its steps off the event loop, which the webhook receiver needs."""
    return await asyncio.to_thread(step)


async def until(
    driver: webdriver.Chrome, found: Callable[[webdriver.Chrome], bool], timeout: float = 60
) -> None:
    await poll(lambda: asyncio.to_thread(found, driver), timeout=timeout, interval=0.2)


def arrived(driver: webdriver.Chrome, path: str) -> None:
    """Wait (up to 15 s) for the browser to be on `path` after a form was sent."""
    WebDriverWait(driver, 15).until(
        lambda d: d.current_url.endswith(path), f"the browser never reached {path}"
    )


def sign_in_first_time(driver: webdriver.Chrome, base: str, org: str, person: str) -> None:
    driver.get(f"{base}/web/sign-in")
    driver.find_element(By.CSS_SELECTOR, f"#org option[value='{org}']").click()
    driver.find_element(By.ID, "person").send_keys(person)
    driver.find_element(By.ID, "password").send_keys(password_for(org, person))
    driver.find_element(By.CSS_SELECTOR, "main button[type=submit]").click()
    arrived(driver, "/web/password")
    driver.find_element(By.ID, "new").send_keys(f"{person}-chose-this-one")
    driver.find_element(By.CSS_SELECTOR, "main button[type=submit]").click()
    arrived(driver, "/web/")


def main_text(driver: webdriver.Chrome) -> str:
    """The main content's text as shown; empty while a page is still on its way (or was replaced while
    being read): the callers poll until what they expect is there."""
    for _ in range(5):
        try:
            return str(driver.find_element(By.ID, "main").text)
        except (StaleElementReferenceException, NoSuchElementException):
            continue
        except WebDriverException as exc:  # ChromeDriver's word for a node replaced while it was read
            if "does not belong to the document" not in str(exc):
                raise
    return ""


def press(driver: webdriver.Chrome, action: str) -> None:
    """Press a form's button (found again if the page refreshed itself between finding and pressing)."""
    for _ in range(5):
        try:
            driver.find_element(By.CSS_SELECTOR, f"form[action$='/{action}'] button").click()
            return
        except StaleElementReferenceException:
            continue
    raise AssertionError(f"could not press the {action} button")


def send_a_forged_acknowledgement(driver: webdriver.Chrome) -> None:
    """Submit the board's first acknowledgement form with another token, as a forged form would."""
    driver.get(driver.current_url)
    driver.execute_script(
        "const form = document.querySelector(\"form[action='/web/alerts/acknowledge']\");"
        "form.querySelector('input[name=csrf]').value = 'forged'; form.submit();"
    )
    WebDriverWait(driver, 15).until(lambda d: "Nothing was changed" in main_text(d))


def wrong_sign_in(driver: webdriver.Chrome, base: str) -> None:
    driver.get(f"{base}/web/sign-in")
    driver.find_element(By.CSS_SELECTOR, "#org option[value='newport']").click()
    driver.find_element(By.ID, "person").send_keys("b-evans")
    driver.find_element(By.ID, "password").send_keys("not-the-password")
    driver.find_element(By.CSS_SELECTOR, "main button[type=submit]").click()
    WebDriverWait(driver, 15).until(
        lambda d: "/web/sign-in" in d.current_url and d.find_elements(By.CSS_SELECTOR, ".message")
    )


WORDS = "Dw i eisiau mynd adref at Mam-gu. I want to go home."


def record_interview(driver: webdriver.Chrome) -> None:
    """Held, county lines, a safeguarding concern, and what the child said (docs/domain.md rule 30)."""
    form = driver.find_element(By.CSS_SELECTOR, "form[action$='/interview']")
    form.find_element(By.CSS_SELECTOR, "select[name=outcome] option[value=completed]").click()
    form.find_element(By.CSS_SELECTOR, "input[name=indicator][value=county_lines]").click()
    form.find_element(By.CSS_SELECTOR, "input[name=safeguarding_concern]").click()
    form.find_element(By.CSS_SELECTOR, "details.findings summary").click()
    for name, value in (
        ("reasons", "wants_family_contact"),
        ("reasons", "placed_far_from_home"),
        ("stayed_with", "family"),
        ("harm", "none_disclosed"),
        ("would_help", "more_family_contact"),
        ("placement_view", "return_home_area"),  # the child is placed out of area
    ):
        form.find_element(By.CSS_SELECTOR, f"input[name={name}][value={value}]").click()
    form.find_element(By.CSS_SELECTOR, "textarea[name=child_words]").send_keys(WORDS)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()


def heard_waiting(driver: webdriver.Chrome) -> str:
    """The board's section of what children said that waits for the council's answer."""
    return str(driver.find_element(By.CSS_SELECTOR, "section[aria-labelledby=heard]").text)


def heard_section_shot(driver: webdriver.Chrome, path: Path) -> None:
    section = driver.find_element(By.CSS_SELECTOR, "section[aria-labelledby=heard]")
    driver.execute_script("arguments[0].scrollIntoView();", section)
    section.screenshot(str(path))


def answer_what_the_child_said(driver: webdriver.Chrome) -> None:
    form = driver.find_element(By.CSS_SELECTOR, "form.answer")
    form.find_element(By.CSS_SELECTOR, "input[name=action][value=referral_made]").click()
    form.find_element(By.CSS_SELECTOR, "select[name=referral_kind] option[value=camhs]").click()
    form.find_element(By.CSS_SELECTOR, "input[name=action][value=care_plan_reviewed]").click()
    form.find_element(By.CSS_SELECTOR, "input[name=child_told]").click()
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()


def decide_on_the_nrm(driver: webdriver.Chrome) -> None:
    """Not referred, as the child is already supported by another service."""
    form = driver.find_element(By.CSS_SELECTOR, "form[action$='/nrm']")
    form.find_element(By.CSS_SELECTOR, "input[name=decision][value=not_referred]").click()
    form.find_element(By.CSS_SELECTOR, "select[name=reason] option[value=already_supported]").click()
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()


def nrm_section_shot(driver: webdriver.Chrome, path: Path) -> None:
    section = driver.find_element(By.CSS_SELECTOR, "section[aria-labelledby=nrm]")
    driver.execute_script("arguments[0].scrollIntoView();", section)
    section.screenshot(str(path))


def voice_rows_shot(driver: webdriver.Chrome, path: Path) -> None:
    """The figures table's rows on the child's voice."""
    driver.set_window_size(1280, 2200)
    rows = driver.find_element(By.CSS_SELECTOR, "table.figures tbody:nth-of-type(2)")
    driver.execute_script("arguments[0].scrollIntoView();", rows)
    rows.screenshot(str(path))
    driver.set_window_size(1280, 1200)


def voice_said(driver: webdriver.Chrome, base: str) -> str:
    """The figures page's sentence on the child's voice (the page is read again each time)."""
    driver.get(f"{base}/web/figures")
    return str(driver.find_element(By.CSS_SELECTOR, "section[aria-labelledby=voice]").text)


def findings_form_shot(driver: webdriver.Chrome, base: str, lang: str, path: Path) -> None:
    """The worklist's findings form, opened, in one language."""
    driver.get(f"{base}/web/lang/{lang}?next=/web/")
    driver.set_window_size(1280, 2200)
    driver.execute_script("document.querySelectorAll('details').forEach((d) => { d.open = true; });")
    form = driver.find_element(By.CSS_SELECTOR, "form[action$='/interview']")
    driver.execute_script("arguments[0].scrollIntoView();", form)
    form.screenshot(str(path))
    driver.set_window_size(1280, 900)
    driver.get(f"{base}/web/lang/en?next=/web/")


def counted_in(driver: webdriver.Chrome, base: str, month: str) -> bool:
    """Whether the month's figures count the child's episode (the page is read again each time)."""
    driver.get(f"{base}/web/figures?period={month}")
    cells = driver.find_elements(By.XPATH, "//table[@class='figures']//tr[th='Episodes that began']/td")
    return bool(cells) and int(cells[0].text) >= 1


def accessibility(driver: webdriver.Chrome, base: str, page: str) -> dict[str, list[dict[str, Any]]]:
    """axe-core's serious findings on a page, in English and in Welsh."""
    found = {}
    for lang in ("en", "cy"):
        driver.get(f"{base}/web/lang/{lang}?next={page}")
        assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == lang
        # What is folded away is checked too (the worklist's findings form).
        driver.execute_script("document.querySelectorAll('details').forEach((d) => { d.open = true; });")
        found[f"{page} ({lang})"] = serious_violations(driver)
    driver.get(f"{base}/web/lang/en?next={page}")
    return found


async def test_a_coordinator_and_a_provider_worker_act_on_one_child_in_their_browsers(
    stack: Stack, receiver: Receiver, tmp_path: Path
) -> None:
    base = stack.intake_url
    now = datetime.now(UTC)
    coordinator = await in_browser(lambda: chromium(tmp_path / "coordinator"))
    provider_worker = await in_browser(lambda: chromium(tmp_path / "worker"))
    host = await in_browser(lambda: chromium(tmp_path / "host"))
    manager = await in_browser(lambda: chromium(tmp_path / "manager"))
    try:
        # The coordinator opens the board on a system that knows nothing yet; the child reported
        # and back appears on it by itself, its window closing.
        await in_browser(lambda: sign_in_first_time(coordinator, base, "cardiff", "a-jones"))
        await in_browser(lambda: coordinator.execute_script("window.stillTheSamePage = true;"))
        await post(
            stack, "south-wales-police", report(CHILD, since=now - timedelta(hours=6), placement=NEWPORT)
        )
        await post(stack, "south-wales-police", returned(CHILD, at=now - timedelta(minutes=20)))
        offer = (await poll(lambda: receiver.delivered(None, "assignment.offered"), timeout=60))[0]
        provider = offer.org
        worker = PEOPLE[provider][0][0]
        await until(coordinator, lambda d: CHILD in main_text(d) and "closes in 2 d" in main_text(d))

        # The provider's worker accepts the offer, then records the offer made to the child.
        await in_browser(lambda: sign_in_first_time(provider_worker, base, provider, worker))
        await until(provider_worker, lambda d: CHILD in main_text(d) and "Offers waiting" in main_text(d))
        await in_browser(lambda: press(provider_worker, "accept"))
        await until(
            provider_worker, lambda d: bool(d.find_elements(By.CSS_SELECTOR, "form[action$='/offer']"))
        )
        shot = tmp_path / "worklist.png"
        await in_browser(lambda: provider_worker.save_screenshot(str(shot)))
        found: dict[str, list[dict[str, Any]]] = {}  # axe-core's serious findings, by page and language
        found |= await in_browser(lambda: accessibility(provider_worker, base, "/web/"))
        found = {f"worklist {page}": v for page, v in found.items()}
        await in_browser(lambda: press(provider_worker, "offer"))
        await until(provider_worker, lambda d: "Offered to the child" in main_text(d))
        form_shots = {lang: tmp_path / f"findings-form-{lang}.png" for lang in ("en", "cy")}
        for lang, path in form_shots.items():
            await in_browser(
                lambda lang=lang, path=path: findings_form_shot(provider_worker, base, lang, path)
            )

        # The board follows by itself: who holds the interview, without a reload.
        provider_name = {"nyas-cymru": "NYAS Cymru", "cardiff-youth-support": "Cardiff in-house"}[provider]
        await until(coordinator, lambda d: f"accepted by {provider_name}" in main_text(d))
        assert await in_browser(
            lambda: coordinator.execute_script("return window.stillTheSamePage === true;")
        )
        board_shot = tmp_path / "board.png"
        await in_browser(lambda: coordinator.save_screenshot(str(board_shot)))

        # The host council sees the child placed in its area, and nothing it could act on.
        await in_browser(lambda: sign_in_first_time(host, base, "newport", "b-evans"))
        await until(host, lambda d: CHILD in main_text(d))
        assert "read only" in await in_browser(lambda: main_text(host))
        assert await in_browser(lambda: host.find_elements(By.CSS_SELECTOR, "main form")) == []

        # The worker records the interview: county lines, and a safeguarding concern. The referral
        # leaves their worklist and the window the board, and the council's alerts show the new
        # indicator, all by themselves.
        await in_browser(lambda: record_interview(provider_worker))
        await until(provider_worker, lambda d: CHILD not in main_text(d))
        await until(
            coordinator, lambda d: "Exploitation" in main_text(d) and "accepted by" not in main_text(d)
        )
        # What the child said is on the child's page for the responsible council, in the child's words,
        # and nowhere on the host council's.
        child_page = f"{base}/web/children/{CARDIFF}/{CHILD}"
        await in_browser(lambda: coordinator.get(child_page))
        heard = await in_browser(lambda: main_text(coordinator))
        assert "What the child said" in heard
        assert WORDS in heard
        assert "Wants to go back to their home area" in heard
        heard_shot = tmp_path / "heard.png"
        await in_browser(lambda: coordinator.set_window_size(1280, 1400))
        await in_browser(lambda: coordinator.save_screenshot(str(heard_shot)))
        await in_browser(lambda: coordinator.set_window_size(1280, 900))
        await in_browser(lambda: host.get(child_page))
        assert WORDS not in await in_browser(lambda: main_text(host))
        # The board lists it as heard and waiting for the council's answer, with its countdown.
        await in_browser(lambda: coordinator.get(f"{base}/web/"))
        waiting = await in_browser(lambda: heard_waiting(coordinator))
        assert CHILD in waiting
        assert "closes in 6 d" in waiting
        board_heard_shot = tmp_path / "board-heard.png"
        await in_browser(lambda: heard_section_shot(coordinator, board_heard_shot))
        found |= await in_browser(lambda: accessibility(coordinator, base, child_page))
        # The coordinator answers: a CAMHS referral, and the child was told. The board no longer waits.
        await in_browser(lambda: coordinator.get(child_page))
        await in_browser(lambda: answer_what_the_child_said(coordinator))
        await until(
            coordinator, lambda d: "Answered" in main_text(d) and "Child and adolescent" in main_text(d)
        )
        await in_browser(lambda: coordinator.get(f"{base}/web/"))
        assert CHILD not in await in_browser(lambda: heard_waiting(coordinator))
        # The interview showed county lines: the coordinator records the NRM decision for the episode.
        await in_browser(lambda: coordinator.get(child_page))
        nrm_shot, nrm_cy_shot = tmp_path / "nrm.png", tmp_path / "nrm-cy.png"
        await in_browser(lambda: nrm_section_shot(coordinator, nrm_shot))
        page_path = f"/web/children/{CARDIFF}/{CHILD}"
        await in_browser(lambda: coordinator.get(f"{base}/web/lang/cy?next={page_path}"))
        assert "Arwyddion o gamfanteisio" in await in_browser(lambda: main_text(coordinator))
        await in_browser(lambda: nrm_section_shot(coordinator, nrm_cy_shot))
        await in_browser(lambda: coordinator.get(f"{base}/web/lang/en?next={page_path}"))
        await in_browser(lambda: decide_on_the_nrm(coordinator))
        await until(
            coordinator,
            lambda d: "Not referred: Already supported by another service, recorded" in main_text(d),
        )
        await in_browser(lambda: coordinator.get(f"{base}/web/"))

        # The senior manager sees the child counted in its month's figures, then the year's chart.
        month = (now - timedelta(hours=6)).astimezone(LONDON).strftime("%Y-%m")
        await in_browser(lambda: sign_in_first_time(manager, base, "cardiff", "e-morgan"))
        await in_browser(lambda: manager.find_element(By.LINK_TEXT, "Figures").click())
        await until(manager, lambda d: "Return interview figures" in main_text(d))
        await until(manager, lambda d: counted_in(d, base, month))
        # ... and what the child said, answered in time, with the child told.
        said = "Of 1 return interview in which a child said what happened, the council answered 1 in time"
        await until(manager, lambda d: said in voice_said(d, base) and "after 1." in voice_said(d, base))
        voice_shot = tmp_path / "figures-voice.png"
        await in_browser(lambda: voice_rows_shot(manager, voice_shot))
        await in_browser(lambda: manager.get(f"{base}/web/figures"))
        assert await in_browser(lambda: manager.find_elements(By.CSS_SELECTOR, "main svg[role=img] rect.bar"))
        figures_shot = tmp_path / "figures.png"
        await in_browser(lambda: manager.set_window_size(1280, 1200))  # down to the chart's month names
        await in_browser(lambda: manager.save_screenshot(str(figures_shot)))
        await in_browser(lambda: manager.find_element(By.CSS_SELECTOR, "a[hreflang='cy']").click())
        assert "Ffigurau cyfweliadau dychwelyd" in await in_browser(lambda: main_text(manager))

        # Welsh on every page, chosen once and remembered.
        await in_browser(lambda: coordinator.find_element(By.CSS_SELECTOR, "a[hreflang='cy']").click())
        assert await in_browser(lambda: coordinator.find_element(By.TAG_NAME, "h1").text) == (
            "Bwrdd y cydlynydd – Cardiff"
        )
        await in_browser(lambda: coordinator.get(f"{base}/web/"))
        welsh = await in_browser(lambda: main_text(coordinator))
        assert "Cyfweliadau dychwelyd i'w cynnig" in welsh
        assert "Camfanteisio" in welsh  # the exploitation alert, in Welsh
        await in_browser(lambda: coordinator.get(f"{base}/web/lang/en?next=/web/"))

        # A form whose token was tampered with changes nothing; five wrong passwords make a person wait.
        await in_browser(lambda: send_a_forged_acknowledgement(coordinator))
        assert "Nothing was changed" in await in_browser(lambda: main_text(coordinator))
        for _ in range(5):
            await in_browser(lambda: wrong_sign_in(host, base))
        assert "The organisation, user name or password is not right." in await in_browser(
            lambda: main_text(host)
        )
        await in_browser(lambda: wrong_sign_in(host, base))
        assert "Too many attempts" in await in_browser(lambda: main_text(host))
        await in_browser(lambda: coordinator.get(f"{base}/web/"))

        # Nothing serious for axe-core on any page, in either language.
        found |= await in_browser(lambda: accessibility(coordinator, base, "/web/"))
        found |= await in_browser(
            lambda: accessibility(coordinator, base, f"/web/children/{CARDIFF}/{CHILD}")
        )
        found |= await in_browser(lambda: accessibility(host, base, "/web/sign-in"))
        found |= await in_browser(lambda: accessibility(manager, base, "/web/figures"))
        assert {page: v for page, v in found.items() if v} == {}
    finally:
        for driver in (coordinator, provider_worker, host, manager):
            await in_browser(driver.quit)
    keep = os.environ.get("MTP_SCREENSHOT_DIR")
    if keep:  # the README's pictures come from here
        shutil.copy(board_shot, Path(keep) / "board.png")
        shutil.copy(shot, Path(keep) / "worklist.png")
        shutil.copy(figures_shot, Path(keep) / "figures.png")
        shutil.copy(heard_shot, Path(keep) / "heard.png")
        shutil.copy(board_heard_shot, Path(keep) / "board-heard.png")
        shutil.copy(nrm_shot, Path(keep) / "nrm.png")
        shutil.copy(nrm_cy_shot, Path(keep) / "nrm-cy.png")
        shutil.copy(voice_shot, Path(keep) / "figures-voice.png")
        for lang, path in form_shots.items():
            shutil.copy(path, Path(keep) / f"findings-form-{lang}.png")
