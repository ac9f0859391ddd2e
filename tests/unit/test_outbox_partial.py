"""A batch the broker took only in part is published again only in part, each key's order kept."""

import asyncio
from typing import Any

import pytest
from aiokafka.errors import KafkaError

from shared.outbox import OutboxRelay


class HalfBroker:
    """Acknowledges records of every key but the one it is told to refuse."""

    def __init__(self, refused_key: bytes) -> None:
        self.refused_key = refused_key

    async def send(self, topic: str, *, value: bytes, key: bytes, headers: Any) -> asyncio.Future[None]:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if key == self.refused_key:
            future.set_exception(KafkaError("partition unavailable"))
        else:
            future.set_result(None)
        return future


class Marks:
    """Stands for the database connection: records which rows were marked sent."""

    def __init__(self) -> None:
        self.marked: list[int] = []

    async def execute(self, statement: str, seqs: list[int]) -> None:
        assert statement.startswith("UPDATE")
        self.marked.extend(seqs)


def rows(*keys: str) -> list[dict[str, Any]]:
    return [
        {"seq": seq, "topic": "episodes", "key": key, "value": b"{}", "headers": {}}
        for seq, key in enumerate(keys, start=1)
    ]


async def test_only_what_the_broker_acknowledged_is_marked_sent_before_the_retry() -> None:
    relay = OutboxRelay(dsn="", schema="intake", producer_factory=None, batch_size=10)
    marks = Marks()
    batch = rows("child-a", "child-b", "child-a", "child-b", "child-c")

    with pytest.raises(KafkaError):
        await relay._publish(marks, HalfBroker(refused_key=b"child-b"), batch)  # type: ignore[arg-type]

    # child-a's and child-c's records were taken: the retry publishes child-b's alone.
    assert marks.marked == [1, 3, 5]
    assert relay.published == 0
