"""Reading binary-mode CloudEvents from Kafka records: every malformed record has a named reason."""

import pytest

from shared.contracts.envelope import UnreadableEvent, from_kafka

HEADERS = [
    ("ce_specversion", b"1.0"),
    ("ce_id", b"1"),
    ("ce_source", b"/orgs/x"),
    ("ce_time", b"2026-01-01T00:00:00+00:00"),
]
RETURNED = (
    b'{"child_ref": "C-1", "responsible_authority": "W06000015", "returned_at": "2026-01-01T00:00:00+00:00"}'
)


@pytest.mark.parametrize(
    ("headers", "value", "reason"),
    [
        ([], b"{}", "missing_headers:ce_id,ce_source,ce_type,ce_time"),
        ([*HEADERS, ("ce_type", b"missing.teleported")], b"{}", "unknown_type:missing.teleported"),
        ([*HEADERS, ("ce_type", b"missing.returned")], b"\x00\xff not json", "value_not_json"),
        ([*HEADERS, ("ce_type", b"missing.returned")], b"not json", "value_not_json"),
        (
            [*HEADERS, ("ce_type", b"missing.returned")],
            b'{"child_ref": "C-1"}',
            "invalid_data:responsible_authority,returned_at",
        ),
        ([*HEADERS[:3], ("ce_time", b"yesterday"), ("ce_type", b"missing.returned")], RETURNED, "bad_time"),
        (
            [*HEADERS[:3], ("ce_time", b"2026-01-01T00:00:00"), ("ce_type", b"missing.returned")],
            RETURNED,
            "naive_time",
        ),
        ([("ce_id", b"\xff"), *HEADERS[2:]], b"{}", "header_not_utf8"),
        ([*HEADERS, ("ce_type", b"missing.returned"), ("ce_childseq", b"0")], RETURNED, "bad_childseq"),
    ],
)
def test_unreadable_records_name_their_reason(
    headers: list[tuple[str, bytes]], value: bytes, reason: str
) -> None:
    with pytest.raises(UnreadableEvent) as caught:
        from_kafka(headers, value)
    assert str(caught.value) == reason


def test_a_good_record_reads_with_its_key() -> None:
    envelope = from_kafka([*HEADERS, ("ce_type", b"missing.returned")], RETURNED, b"W06000015/C-1")
    assert envelope.type == "missing.returned"
    assert envelope.key == "W06000015/C-1"
    assert envelope.event_key == "/orgs/x|1"


def test_an_event_carrying_a_newer_optional_field_is_still_read_and_its_number_kept() -> None:
    """Adding an optional field is the contract's compatible change: a consumer not yet upgraded reads
    past a field it does not know rather than set the event aside."""
    newer = RETURNED[:-1] + b', "returned_to": "placement"}'
    envelope = from_kafka([*HEADERS, ("ce_type", b"missing.returned"), ("ce_childseq", b"7")], newer)
    assert envelope.data.model_dump()["child_ref"] == "C-1"
    assert envelope.childseq == 7
