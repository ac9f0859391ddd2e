"""Directories for tests: the demo organisations with known keys and webhook URLs of the test's choosing."""

import base64
import functools
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from argon2 import PasswordHasher

CARDIFF = "W06000015"
NEWPORT = "W06000022"
SWANSEA = "W06000011"


def key_for(org_id: str) -> str:
    return f"test-key-{org_id}"


def secret_for(org_id: str) -> str:
    return "whsec_" + base64.b64encode(hashlib.sha256(org_id.encode()).digest()).decode()


def password_for(org_id: str, person_id: str) -> str:
    """A person's one-time password in the tests' directories."""
    return f"one-time-{org_id}-{person_id}"


# Who signs in to the web pages, by organisation: (id, name, role).
PEOPLE = {
    "cardiff": [("a-jones", "Alys Jones", "coordinator"), ("e-morgan", "Elin Morgan", "manager")],
    "newport": [("b-evans", "Bryn Evans", "coordinator")],
    "nyas-cymru": [("c-price", "Cerys Price", "worker")],
    "cardiff-youth-support": [("d-owen", "Dafydd Owen", "worker")],
}


@functools.cache
def _argon2(password: str) -> str:
    # the lightest parameters argon2id allows: the tests sign in often, and what is tested is the flow
    return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(password)


@dataclass
class DirectoryFactory:
    """Writes a directory file; `receiver` is the base URL webhooks go to (one path per organisation)."""

    folder: Path
    settings: dict[str, Any] = field(default_factory=dict)
    provider_capacity: int = 25

    def write(self, receiver: str = "http://127.0.0.1:9", extra: list[dict[str, Any]] | None = None) -> Path:
        organisations = [
            {"id": "south-wales-police", "kind": "police", "name": "South Wales Police"},
            {"id": "gwent-police", "kind": "police", "name": "Gwent Police"},
            {
                "id": "cardiff",
                "kind": "local_authority",
                "name": "Cardiff",
                "authority_code": CARDIFF,
                "notify_url": f"{receiver}/cardiff",
                "escalation_url": f"{receiver}/cardiff-senior-manager",
                "webhook_secret": secret_for("cardiff"),
                "coordinator_contact": "coordinator@cardiff.example",
            },
            {
                "id": "newport",
                "kind": "local_authority",
                "name": "Newport",
                "authority_code": NEWPORT,
                "notify_url": f"{receiver}/newport",
                "webhook_secret": secret_for("newport"),
            },
            {
                "id": "swansea",
                "kind": "local_authority",
                "name": "Swansea",
                "authority_code": SWANSEA,
                "notify_url": f"{receiver}/swansea",
                "webhook_secret": secret_for("swansea"),
            },
            {
                "id": "nyas-cymru",
                "kind": "provider",
                "name": "NYAS Cymru",
                "employer": None,
                "covers": [CARDIFF, NEWPORT],
                "languages": ["en", "cy"],
                "capacity": self.provider_capacity,
                "webhook_url": f"{receiver}/nyas-cymru",
                "webhook_secret": secret_for("nyas-cymru"),
            },
            {
                "id": "cardiff-youth-support",
                "kind": "provider",
                "name": "Cardiff in-house",
                "employer": CARDIFF,
                "covers": [CARDIFF, NEWPORT],
                "languages": ["en", "cy"],
                "capacity": 40,
                "webhook_url": f"{receiver}/cardiff-youth-support",
                "webhook_secret": secret_for("cardiff-youth-support"),
            },
            {"id": "ops", "kind": "ops", "name": "Operations"},
            *(extra or []),
        ]
        for org in organisations:
            org.setdefault(
                "people",
                [
                    {
                        "id": pid,
                        "name": name,
                        "role": role,
                        "password_argon2": _argon2(password_for(org["id"], pid)),
                    }
                    for pid, name, role in PEOPLE.get(org["id"], [])
                ],
            )
            org.setdefault(
                "api_keys",
                [{"id": f"{org['id']}-1", "sha256": hashlib.sha256(key_for(org["id"]).encode()).hexdigest()}],
            )
        path = self.folder / "directory.yaml"
        path.write_text(
            yaml.safe_dump({"settings": self.settings, "organisations": organisations}, sort_keys=False)
        )
        return path
