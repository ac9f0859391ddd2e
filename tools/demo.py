"""The demo directory written by `mtp run` when no MTP_DIRECTORY is given.

A police force, two councils (Cardiff places a child in Newport: out of area), two independent
providers, a council in-house team (never independent for Cardiff's children) and an operations team.
Webhooks go to the demo receiver on 127.0.0.1. Keys are kept beside it so a restart reuses them.
"""

import json
from pathlib import Path
from typing import Any

import yaml

from tools.keys import new_api_key, new_one_time_password, new_webhook_secret

ORGANISATIONS: list[dict[str, Any]] = [
    {"id": "south-wales-police", "kind": "police", "name": "South Wales Police"},
    {
        "id": "cardiff",
        "kind": "local_authority",
        "name": "Cardiff Council",
        "authority_code": "W06000015",
        "coordinator_contact": "missing-coordinator@cardiff.example",
        "notify": True,
    },
    {
        "id": "newport",
        "kind": "local_authority",
        "name": "Newport City Council",
        "authority_code": "W06000022",
        "coordinator_contact": "missing-coordinator@newport.example",
        "notify": True,
    },
    {
        "id": "nyas-cymru",
        "kind": "provider",
        "name": "NYAS Cymru",
        "employer": None,
        "covers": ["W06000015", "W06000022"],
        "languages": ["en", "cy"],
        "capacity": 25,
    },
    {
        "id": "safe-return-gwent",
        "kind": "provider",
        "name": "Safe Return Gwent",
        "employer": None,
        "covers": ["W06000022"],
        "languages": ["en"],
        "capacity": 10,
    },
    {
        "id": "cardiff-youth-support",
        "kind": "provider",
        "name": "Cardiff Youth Support (in-house)",
        "employer": "W06000015",
        "covers": ["W06000015", "W06000022"],
        "languages": ["en", "cy"],
        "capacity": 40,
    },
    {"id": "ops", "kind": "ops", "name": "Operations"},
]


# Who signs in to the web pages in the demo: a coordinator at each council, a worker at each provider.
DEMO_PEOPLE = {"local_authority": ("coordinator", "Demo Coordinator"), "provider": ("worker", "Demo Worker")}


def write_demo_directory(folder: Path, receiver_url: str) -> tuple[Path, dict[str, str]]:
    """Write (or reuse) the demo directory; return its path and each organisation's API key. The
    people's one-time passwords are in people.json beside it (`demo_people`)."""
    folder.mkdir(parents=True, exist_ok=True)
    directory_path = folder / "directory.yaml"
    keys_path, people_path = folder / "keys.json", folder / "people.json"
    if directory_path.exists() and keys_path.exists() and people_path.exists():
        keys: dict[str, str] = json.loads(keys_path.read_text())
        return directory_path, keys
    keys = {}
    people: dict[str, dict[str, str]] = {}
    organisations = []
    for template in ORGANISATIONS:
        org = {k: v for k, v in template.items() if k != "notify"}
        key, digest = new_api_key(org["id"].split("-")[0])
        keys[org["id"]] = key
        org["api_keys"] = [{"id": f"{org['id']}-demo", "sha256": digest}]
        if org["kind"] in DEMO_PEOPLE:
            role, name = DEMO_PEOPLE[org["kind"]]
            password, argon2 = new_one_time_password()
            people[org["id"]] = {"person": role, "one_time_password": password}
            org["people"] = [{"id": role, "name": name, "role": role, "password_argon2": argon2}]
        if org["kind"] == "provider":
            org["webhook_url"] = f"{receiver_url}/{org['id']}"
            org["webhook_secret"] = new_webhook_secret()
        if template.get("notify"):
            org["notify_url"] = f"{receiver_url}/{org['id']}"
            org["escalation_url"] = f"{receiver_url}/{org['id']}/senior-manager"
            org["webhook_secret"] = new_webhook_secret()
        organisations.append(org)
    document = {
        "settings": {
            "interview_window_hours": 72,
            "acceptance_timeout_hours": 4,
            "repeat_missing": {"count": 3, "within_days": 90},
            "long_missing_hours": [24, 72, 168],
        },
        "organisations": organisations,
    }
    header = "# Demo directory written by `mtp run`. Keys are in keys.json beside it. Not for real use.\n"
    directory_path.write_text(header + yaml.safe_dump(document, sort_keys=False))
    directory_path.chmod(0o600)  # it holds the webhook secrets
    keys_path.write_text(json.dumps(keys, indent=2))
    keys_path.chmod(0o600)
    people_path.write_text(json.dumps(people, indent=2))
    people_path.chmod(0o600)
    return directory_path, keys


def demo_people(folder: Path) -> dict[str, dict[str, str]]:
    """Each demo organisation's person and one-time password (to be changed at the first sign-in)."""
    people: dict[str, dict[str, str]] = json.loads((folder / "people.json").read_text())
    return people
