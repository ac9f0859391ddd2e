"""What the compose file and the image build give an operator who runs them as they are: nothing
reachable beyond this machine, each service signed in to PostgreSQL as its own role after the owner's
migrations, and no local state or secrets in the image's build context."""

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = ("intake", "scheduler", "notifier")


def test_every_published_port_is_on_the_loopback_interface_only() -> None:
    published = [
        (name, port) for name, service in COMPOSE["services"].items() for port in service.get("ports", [])
    ]
    assert published  # intake, at least
    assert all(str(port).startswith("127.0.0.1:") for _, port in published), published


def test_each_service_signs_in_as_its_own_role_after_the_owners_migrations() -> None:
    users = {}
    for name in SERVICES:
        service = COMPOSE["services"][name]
        users[name] = urlsplit(service["environment"]["MTP_DATABASE_URL"]).username
        assert service["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert users == {name: f"mtp_{name}" for name in SERVICES}
    migrate = COMPOSE["services"]["migrate"]
    assert urlsplit(migrate["environment"]["MTP_DATABASE_URL"]).username == "mtp_owner"
    assert [
        migrate["command"][i + 1] for i, arg in enumerate(migrate["command"]) if arg.endswith("-role")
    ] == [f"mtp_{name}" for name in SERVICES]
    roles = (ROOT / "deploy" / "postgres" / "roles.sh").read_text()
    for role in ("mtp_owner", *users.values()):
        assert f"CREATE ROLE {role} LOGIN NOSUPERUSER" in roles


def test_the_build_context_leaves_out_local_state_and_environments() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".git", ".venv", ".mtp", "tests", "bench"} <= ignored
