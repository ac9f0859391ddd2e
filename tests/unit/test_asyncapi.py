"""The published AsyncAPI document is the one the code generates."""

from pathlib import Path

from shared.contracts.registry import BY_TYPE
from tools.asyncapi import build, render


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
