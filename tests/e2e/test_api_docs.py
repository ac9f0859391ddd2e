"""The API's documentation pages work on a closed network: in a Chromium that can resolve no host but
127.0.0.1, /docs (Swagger UI) and /redoc render intake's API, its webhooks included, from intake alone."""

import asyncio
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import yaml
from selenium import webdriver
from selenium.webdriver.common.by import By

from tests.browser import chromium
from tests.e2e.stack import Stack
from tests.kafka_reader import poll

# Every host name resolves to nothing, except the loopback address the services listen on.
CLOSED_NETWORK = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"


def text_of(driver: webdriver.Chrome, css: str) -> str:
    return " ".join(element.text for element in driver.find_elements(By.CSS_SELECTOR, css))


def sources(driver: webdriver.Chrome) -> set[str]:
    """Where the page's scripts and style sheets came from."""
    found = driver.execute_script(
        "return [...document.scripts].map(s => s.src).concat("
        "[...document.querySelectorAll('link[rel=stylesheet]')].map(l => l.href)).filter(u => u);"
    )
    return {urlsplit(url).netloc for url in found}


async def test_the_api_docs_render_without_reaching_any_other_host(stack: Stack, tmp_path: Path) -> None:
    base = stack.intake_url
    own = urlsplit(base).netloc
    driver = await asyncio.to_thread(chromium, tmp_path / "docs", CLOSED_NETWORK)
    try:
        await asyncio.to_thread(driver.get, f"{base}/docs")
        await poll(
            lambda: "Missing the Point" in text_of(driver, ".swagger-ui .info .title"),
            timeout=30,
            interval=0.3,
        )
        await poll(
            lambda: "/v1/events" in text_of(driver, ".swagger-ui .opblock-summary-path"),
            timeout=30,
            interval=0.3,
        )
        await poll(lambda: "assignment.offered" in text_of(driver, ".swagger-ui"), timeout=30, interval=0.3)
        assert sources(driver) == {own}

        await asyncio.to_thread(driver.get, f"{base}/redoc")
        await poll(lambda: "Missing the Point" in text_of(driver, "h1"), timeout=30, interval=0.3)
        assert sources(driver) == {own}

        # The topics, rendered by intake itself, with this deployment's brokers as the servers.
        await asyncio.to_thread(driver.get, f"{base}/docs/asyncapi")
        await poll(lambda: "Missing the Point — topics" in text_of(driver, "h1"), timeout=30, interval=0.3)
        assert "mtp.episodes.v1" in text_of(driver, "nav")
        assert "missing.reported" in text_of(driver, "h3")
        shown = text_of(driver, "#servers + table")
        assert all(broker in shown for broker in stack.env["MTP_ASYNCAPI_SERVERS"].split(","))
        assert sources(driver) <= {own}
    finally:
        await asyncio.to_thread(driver.quit)
    async with httpx.AsyncClient(base_url=base) as client:
        document = yaml.safe_load((await client.get("/docs/asyncapi.yaml")).text)
    assert document["asyncapi"] == "3.0.0"
    async with httpx.AsyncClient(base_url=base) as client:
        page = await client.get("/docs/asyncapi")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert [server["host"] for server in document["servers"].values()] == stack.env[
        "MTP_ASYNCAPI_SERVERS"
    ].split(",")
