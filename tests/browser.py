"""Headless Chromium for the browser tests (Debian's chromium and chromium-driver, driven by Selenium),
and axe-core (from the npm registry; `make test` installs both) run inside the page."""

import os
import shutil
from pathlib import Path
from typing import Any

from selenium import webdriver

ROOT = Path(__file__).resolve().parents[1]
AXE = ROOT / ".venv" / "node" / "node_modules" / "axe-core" / "axe.min.js"
# Without the background-networking switches Chromium keeps trying to reach Google's hosts, which a
# closed network refuses; the tests need nothing but 127.0.0.1.
SWITCHES = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,900",
)


def chromium(profile: Path, *extra: str) -> webdriver.Chrome:
    """A fresh headless Chromium with its own profile folder (and any further switches)."""
    browser = os.environ.get("MTP_CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
    driver = os.environ.get("MTP_CHROMEDRIVER", shutil.which("chromedriver") or "/usr/bin/chromedriver")
    if not (Path(browser).exists() and Path(driver).exists()):
        raise RuntimeError("the browser tests need chromium and chromedriver: `make test` installs them")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for switch in (*SWITCHES, *extra, f"--user-data-dir={profile}"):
        options.add_argument(switch)
    chrome = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=driver))
    # A page reached by a click may still be loading when the next step looks for an element: each
    # look waits up to 5 s for it to appear (the steps' own conditions are polled with deadlines).
    chrome.implicitly_wait(5)
    return chrome


def serious_violations(driver: webdriver.Chrome) -> list[dict[str, Any]]:
    """What axe-core finds on the page as it stands, of serious or critical impact."""
    if not AXE.exists():
        raise RuntimeError(f"axe-core is missing ({AXE}): `make test` installs it")
    driver.execute_script(AXE.read_text())
    found: dict[str, Any] = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']})"
        ".then(done, (e) => done({violations: [{id: 'axe-error', impact: 'critical', help: String(e)}]}));"
    )
    return [
        {"id": v["id"], "impact": v["impact"], "help": v.get("help"), "nodes": len(v.get("nodes", []))}
        for v in found["violations"]
        if v["impact"] in ("serious", "critical")
    ]
