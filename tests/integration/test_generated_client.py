"""A police force's, a council's and a provider's developer generate a Python client from intake's
OpenAPI document with openapi-python-client (the most used generator on PyPI), with no warning, and
send every event type with it, typed, then read the child back."""

import asyncio
import importlib
import itertools
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx

from tests.conftest import Place
from tests.directory_factory import CARDIFF, NEWPORT, key_for
from tests.integration.intake_world import Child, publish_world
from tests.kafka_reader import poll

ROOT = Path(__file__).resolve().parents[2]
GENERATOR = Path(sys.prefix) / "generator" / "bin" / "openapi-python-client"
CHILD = Child("G-C1", CARDIFF, NEWPORT, "south-wales-police", "nyas-cymru")


def generate(document: bytes, folder: Path) -> ModuleType:
    """Run the generator as its users do; fail on any warning; import what it made."""
    assert GENERATOR.exists(), "openapi-python-client is missing: `make test` installs it"
    (folder / "openapi.json").write_bytes(document)
    made = subprocess.run(
        [
            str(GENERATOR),
            "generate",
            "--path",
            "openapi.json",
            "--output-path",
            "mtp_intake_client",
            "--meta",
            "none",
        ],
        cwd=folder,
        env={"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin"},  # its formatting step runs ruff
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    said = made.stdout + made.stderr
    assert made.returncode == 0, said
    assert "Warning" not in said, said
    assert "may be missing" not in said, said
    for name in [name for name in sys.modules if name.partition(".")[0] == "mtp_intake_client"]:
        del sys.modules[name]  # a client generated earlier in this process
    sys.path.insert(0, str(folder))
    try:
        return importlib.import_module("mtp_intake_client")
    finally:
        sys.path.remove(str(folder))


def module(package: ModuleType, name: str) -> Any:
    return importlib.import_module(f"{package.__name__}.{name}")


async def test_a_generated_client_sends_every_event_type_and_reads_the_child_back(
    served_intake: str, place: Place, tmp_path: Path
) -> None:
    async with httpx.AsyncClient(base_url=served_intake) as plain:
        document = (await plain.get("/openapi.json")).content
    client = generate(document, tmp_path)
    models = module(client, "models")
    post_events = module(client, "api.events.post_events")
    get_child = module(client, "api.children.get_child")
    now = datetime.now(UTC)
    authority = models.MissingReportedResponsibleAuthority(CARDIFF)
    sent: list[str] = []

    def as_org(org: str) -> Any:
        return client.AuthenticatedClient(base_url=served_intake, token=key_for(org))

    async def send(org: str, body: Any) -> Any:
        answer = await post_events.asyncio_detailed(client=as_org(org), body=body)
        assert answer.status_code == 202, (org, answer.content)
        sent.extend(event.type_ for event in (body if isinstance(body, list) else [body]))
        return answer.parsed

    ids = itertools.count()

    def envelope(kind: str, type_: str, data: Any) -> Any:
        return getattr(models, kind)(
            specversion="1.0", id=f"gc-{next(ids)}", type_=type_, data=data, time=now
        )

    # The police: a report, a risk change and the return.
    accepted = await send(
        "south-wales-police",
        envelope(
            "MissingReportedEvent",
            "missing.reported",
            models.MissingReported(
                child_ref=CHILD.ref,
                responsible_authority=authority,
                placement_authority=models.MissingReportedPlacementAuthority(NEWPORT),
                kind=models.MissingReportedKind.MISSING,
                missing_since=now - timedelta(hours=6),
                risk_level=models.MissingReportedRiskLevel.MEDIUM,
                police_force="south-wales-police",
                police_reference="SWP-GC-1",
            ),
        ),
    )
    assert isinstance(accepted, models.EventAccepted)
    assert accepted.id == "gc-0"
    await send(
        "south-wales-police",
        envelope(
            "MissingRiskChangedEvent",
            "missing.risk_changed",
            models.MissingRiskChanged(
                child_ref=CHILD.ref,
                responsible_authority=models.MissingRiskChangedResponsibleAuthority(CARDIFF),
                risk_level=models.MissingRiskChangedRiskLevel.HIGH,
            ),
        ),
    )
    await send(
        "south-wales-police",
        envelope(
            "MissingReturnedEvent",
            "missing.returned",
            models.MissingReturned(
                child_ref=CHILD.ref,
                responsible_authority=models.MissingReturnedResponsibleAuthority(CARDIFF),
                returned_at=now - timedelta(hours=1),
            ),
        ),
    )

    # The scheduler opens the episode and the notifier offers the interview to NYAS Cymru.
    await publish_world(place, CHILD)

    async def offered() -> Any:
        answer = await get_child.asyncio_detailed(CARDIFF, CHILD.ref, client=as_org(CHILD.provider))
        return answer.parsed if answer.status_code == 200 and answer.parsed.referrals else None

    record = await poll(offered, timeout=60, interval=0.2)
    assert record.seen_as == models.ChildRecordSeenAs.PROVIDER

    # The provider: accepts, offers the interview and records it held, with what the child said, in a
    # batch; then a decline of the assignment.
    await send(
        "nyas-cymru",
        envelope(
            "InterviewAcceptedEvent",
            "interview.accepted",
            models.InterviewAccepted(assignment_id=CHILD.assignment),
        ),
    )
    await send(
        "nyas-cymru",
        [
            envelope(
                "InterviewOfferedEvent",
                "interview.offered",
                models.InterviewOffered(
                    assignment_id=CHILD.assignment, offered_at=now - timedelta(minutes=30)
                ),
            ),
            envelope(
                "InterviewCompletedEvent",
                "interview.completed",
                models.InterviewCompleted(
                    assignment_id=CHILD.assignment,
                    completed_at=now - timedelta(minutes=20),
                    outcome="completed",
                    findings=models.Findings(child_words="I would like to see my brother."),
                ),
            ),
        ],
    )
    await send(
        "nyas-cymru",
        envelope(
            "InterviewDeclinedEvent",
            "interview.declined",
            models.InterviewDeclined(assignment_id=CHILD.assignment, reason="no_capacity"),
        ),
    )

    # The council: answers what the child said, records that no interview will be offered for the
    # episode and its NRM decision, then that the child left its care.
    await send(
        "cardiff",
        envelope(
            "FindingsRespondedEvent",
            "findings.responded",
            models.FindingsResponded(
                child_ref=CHILD.ref,
                responsible_authority=models.FindingsRespondedResponsibleAuthority(CARDIFF),
                findings_id=f"findings-{CHILD.assignment}",
                responded_at=now - timedelta(minutes=5),
                actions=[
                    models.ReferralMade(
                        code="referral_made", referral_kind=models.ReferralMadeReferralKind.CAMHS
                    )
                ],
                child_told=True,
            ),
        ),
    )
    await send(
        "cardiff",
        envelope(
            "InterviewNotOfferedEvent",
            "interview.not_offered",
            models.InterviewNotOffered(
                child_ref=CHILD.ref,
                responsible_authority=models.InterviewNotOfferedResponsibleAuthority(CARDIFF),
                episode_id=CHILD.episode,
                reason="child_in_custody",
            ),
        ),
    )
    await send(
        "cardiff",
        envelope(
            "NrmDecidedEvent",
            "nrm.decided",
            models.NrmDecided(
                child_ref=CHILD.ref,
                responsible_authority=models.NrmDecidedResponsibleAuthority(CARDIFF),
                episode_id=CHILD.episode,
                decision=models.NrmDecidedDecision.REFERRED,
                decided_at=now - timedelta(minutes=4),
            ),
        ),
    )
    await send(
        "cardiff",
        envelope(
            "MissingCancelledEvent",
            "missing.cancelled",
            models.MissingCancelled(
                child_ref=CHILD.ref,
                responsible_authority=models.MissingCancelledResponsibleAuthority(CARDIFF),
                reason="left_care",
            ),
        ),
    )
    assert set(sent) == set(document_types(document))

    # Read back as the council and as the reporting force; a wrong event is a typed problem.
    council = await get_child.asyncio_detailed(CARDIFF, CHILD.ref, client=as_org("cardiff"))
    assert council.status_code == 200
    assert council.parsed.seen_as == models.ChildRecordSeenAs.RESPONSIBLE_AUTHORITY
    assert [episode.episode_id for episode in council.parsed.episodes] == [CHILD.episode]
    police = await get_child.asyncio_detailed(CARDIFF, CHILD.ref, client=as_org("south-wales-police"))
    assert police.status_code == 200
    assert police.parsed.seen_as == models.ChildRecordSeenAs.POLICE
    refused = await post_events.asyncio_detailed(
        client=as_org("nyas-cymru"),
        body=envelope(
            "InterviewAcceptedEvent", "interview.accepted", models.InterviewAccepted(assignment_id="not-ours")
        ),
    )
    assert refused.status_code == 403
    assert isinstance(refused.parsed, models.Problem)
    assert refused.parsed.type_ == "urn:mtp:problem:forbidden"


def document_types(document: bytes) -> list[str]:
    import json

    mapping = json.loads(document)["components"]["schemas"]["CloudEvent"]["discriminator"]["mapping"]
    return list(mapping)


async def test_the_guides_generated_client_example_runs_as_printed(
    served_intake: str, tmp_path: Path
) -> None:
    """docs/integration.md's example, with this intake's address and a police force's key."""
    async with httpx.AsyncClient(base_url=served_intake) as plain:
        generate((await plain.get("/openapi.json")).content, tmp_path)
    guide = (ROOT / "docs" / "integration.md").read_text()
    section = guide.split("### A client generated from the document", 1)[1]
    example = section.split("```python\n", 1)[1].split("```", 1)[0]
    example = example.replace("https://intake.example", served_intake).replace(
        "<your API key>", key_for("south-wales-police")
    )
    scope: dict[str, Any] = {}
    sys.path.insert(0, str(tmp_path))
    try:
        await asyncio.to_thread(exec, example, scope)  # the guide's own code, run as printed
    finally:
        sys.path.remove(str(tmp_path))
    assert scope["answer"].status_code == 202
    assert scope["answer"].parsed.id == "swp-118842-return"
