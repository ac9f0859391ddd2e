"""CloudEvents for tests: structured JSON bodies for intake, binary-mode records for the topics."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaProducer

from shared.contracts.common import EventData
from shared.contracts.envelope import Envelope
from shared.contracts.tasks import InterviewRequested

CARDIFF, NEWPORT = "W06000015", "W06000022"


def cloud_event(type_: str, data: dict[str, Any], id_: str | None = None) -> dict[str, Any]:
    return {"specversion": "1.0", "id": id_ or f"ev-{uuid.uuid4().hex[:12]}", "type": type_, "data": data}


def report(
    child: str,
    *,
    since: datetime | None = None,
    responsible: str = CARDIFF,
    placement: str = CARDIFF,
    risk: str = "medium",
    indicators: list[str] | None = None,
    language: str = "en",
    kind: str = "missing",
    id_: str | None = None,
) -> dict[str, Any]:
    since = since or datetime.now(UTC) - timedelta(hours=5)
    return cloud_event(
        "missing.reported",
        {
            "child_ref": child,
            "responsible_authority": responsible,
            "placement_authority": placement,
            "kind": kind,
            "missing_since": since.isoformat(),
            "risk_level": risk,
            "exploitation_indicators": indicators or [],
            "preferred_language": language,
            "police_force": "south-wales-police",
            "police_reference": f"SWP-{child}",
        },
        id_,
    )


def returned(
    child: str, *, at: datetime | None = None, responsible: str = CARDIFF, id_: str | None = None
) -> dict[str, Any]:
    at = at or datetime.now(UTC) - timedelta(hours=1)
    return cloud_event(
        "missing.returned",
        {"child_ref": child, "responsible_authority": responsible, "returned_at": at.isoformat()},
        id_,
    )


async def publish(
    bootstrap: str,
    topic: str,
    key: str,
    data: EventData,
    *,
    source: str = "/orgs/test",
    id_: str | None = None,
) -> Envelope:
    """Publish one binary-mode CloudEvent as another service would."""
    envelope = Envelope(
        id=id_ or uuid.uuid4().hex, source=source, type=data.type_name, time=datetime.now(UTC), data=data
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(
            topic, envelope.kafka_value(), key=key.encode(), headers=envelope.kafka_headers()
        )
    finally:
        await producer.stop()
    return envelope


def interview_requested(
    child: str,
    *,
    placement: str = CARDIFF,
    language: str = "en",
    risk: str = "high",
    indicators: list[str] | None = None,
) -> InterviewRequested:
    """The scheduler's request for a return interview for a child who came back an hour ago."""
    now = datetime.now(UTC)
    return InterviewRequested(
        child_ref=child,
        responsible_authority=CARDIFF,
        placement_authority=placement,
        episode_id=f"ep-{child}",
        task_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"task/{child}")),
        returned_at=now - timedelta(hours=1),
        offer_due_at=now + timedelta(hours=71),
        risk_level=risk,  # type: ignore[arg-type]
        exploitation_indicators=indicators if indicators is not None else ["county_lines"],  # type: ignore[arg-type]
        preferred_language=language,  # type: ignore[arg-type]
    )
