"""CloudEvents 1.0 envelopes: binary mode on Kafka (`ce_*` headers), structured JSON over HTTP."""

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from pydantic import ValidationError

from shared.contracts.common import EventData
from shared.contracts.registry import BY_TYPE

SPECVERSION = "1.0"
JSON = "application/json"


class UnreadableEvent(ValueError):
    """A message that is not a CloudEvent this system understands; the reason says why."""


@dataclass(frozen=True, slots=True)
class Envelope:
    """One CloudEvent with its typed payload."""

    id: str
    source: str
    type: str
    time: datetime
    data: EventData
    subject: str | None = None
    key: str | None = None  # the Kafka key it arrived with, if it came from Kafka
    # Intake's number for the event among everything accepted about the same child's timeline (1, 2, 3,
    # ...): the order in which the system learnt of them. A CloudEvents extension attribute
    # (`ce_childseq`). A council's answers and NRM decisions are not numbered (docs/domain.md rule 36).
    childseq: int | None = None

    @property
    def event_key(self) -> str:
        """What identifies the event (CloudEvents ids are unique per source), as the one text every
        service's inbox keeps: `<source>|<id>`."""
        return f"{self.source}|{self.id}"

    def kafka_headers(self) -> list[tuple[str, bytes]]:
        """The CloudEvents attributes as Kafka headers (binary content mode)."""
        headers = [
            ("ce_specversion", SPECVERSION),
            ("ce_id", self.id),
            ("ce_source", self.source),
            ("ce_type", self.type),
            ("ce_time", self.time.isoformat()),
            ("content-type", JSON),
        ]
        if self.subject:
            headers.append(("ce_subject", self.subject))
        if self.childseq is not None:
            headers.append(("ce_childseq", str(self.childseq)))
        return [(name, value.encode()) for name, value in headers]

    def kafka_value(self) -> bytes:
        """The payload as JSON bytes."""
        return self.data.model_dump_json().encode()

    def structured(self) -> dict[str, object]:
        """The event in structured JSON mode (webhooks)."""
        body: dict[str, object] = {
            "specversion": SPECVERSION,
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "time": self.time.isoformat(),
            "datacontenttype": JSON,
            "data": self.data.model_dump(mode="json"),
        }
        if self.subject:
            body["subject"] = self.subject
        return body


def from_kafka(
    headers: Sequence[tuple[str, bytes]], value: bytes | None, key: bytes | None = None
) -> Envelope:
    """Read a binary-mode CloudEvent from a Kafka record, or raise UnreadableEvent with the reason."""
    attrs: Mapping[str, str]
    try:
        attrs = {name: raw.decode() for name, raw in headers}
    except UnicodeDecodeError as exc:
        raise UnreadableEvent("header_not_utf8") from exc
    missing = [name for name in ("ce_id", "ce_source", "ce_type", "ce_time") if not attrs.get(name)]
    if missing:
        raise UnreadableEvent(f"missing_headers:{','.join(missing)}")
    if attrs.get("ce_specversion") != SPECVERSION:
        raise UnreadableEvent("unsupported_specversion")
    model = BY_TYPE.get(attrs["ce_type"])
    if model is None:
        raise UnreadableEvent(f"unknown_type:{attrs['ce_type'][:64]}")
    try:
        time = datetime.fromisoformat(attrs["ce_time"])
    except ValueError as exc:
        raise UnreadableEvent("bad_time") from exc
    if time.tzinfo is None:
        raise UnreadableEvent("naive_time")
    childseq = attrs.get("ce_childseq")
    if childseq is not None and not (
        childseq.isascii() and childseq.isdigit() and not childseq.startswith("0") and len(childseq) < 19
    ):
        raise UnreadableEvent("bad_childseq")
    try:
        payload = json.loads(value or b"")
        data = model.model_validate(payload)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UnreadableEvent("value_not_json") from exc
    except ValidationError as exc:
        fields = sorted({".".join(str(part) for part in err["loc"]) or "<root>" for err in exc.errors()})
        raise UnreadableEvent(f"invalid_data:{','.join(fields)[:200]}") from exc
    return Envelope(
        id=attrs["ce_id"],
        source=attrs["ce_source"],
        type=attrs["ce_type"],
        time=time,
        data=data,
        subject=attrs.get("ce_subject"),
        key=key.decode(errors="replace") if key else None,
        childseq=int(childseq) if childseq is not None else None,
    )
