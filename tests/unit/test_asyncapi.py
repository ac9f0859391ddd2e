"""The published AsyncAPI document is the one the code generates."""

from pathlib import Path

from shared.asyncapi import build, render
from shared.contracts.registry import BY_TYPE


def test_checked_in_asyncapi_matches_the_code() -> None:
    assert Path("docs/asyncapi.yaml").read_text() == render(), (
        "run `mtp asyncapi` and commit docs/asyncapi.yaml"
    )


def test_every_event_type_and_dead_letter_topic_is_described() -> None:
    document = build()
    described = {message["name"] for message in document["components"]["messages"].values()}
    assert set(BY_TYPE) <= described
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert {
        "mtp.episodes.v1.dlq",
        "mtp.interviews.v1.dlq",
        "mtp.tasks.v1.dlq",
        "mtp.assignments.v1.dlq",
    } <= addresses


def test_the_drain_check_waits_on_every_topic_each_service_reads() -> None:
    """`make run` stops cleanly only once each consumer group has caught up on the topics the published
    document says its service reads: a topic left out would be lost by a memory-only broker."""
    from shared.asyncapi import FLOWS
    from tools.drain import CONSUMERS, READ_MODEL

    groups = {**CONSUMERS, READ_MODEL[0]: READ_MODEL[1]}
    for service, group in (
        ("scheduler", "mtp-scheduler"),
        ("notifier", "mtp-notifier"),
        ("intake", "mtp-intake-read-model"),
    ):
        assert set(groups[group]) == {topic for topic, (_, readers) in FLOWS.items() if service in readers}
