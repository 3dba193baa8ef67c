"""The calculator's batches take equal shares of every partition that has records waiting
(windhash_calculator.consumer.fetch_balanced), so a batch covers a few nearly whole days."""

from typing import Any

from aiokafka import TopicPartition
from windhash_calculator.consumer import fetch_balanced


class BufferedConsumer:
    """What fetch_balanced uses of AIOKafkaConsumer, over records already fetched per partition, drained the
    way aiokafka's fetcher drains them (one partition's buffer before the next)."""

    def __init__(self, buffered: dict[int, int]) -> None:
        self.buffers = {TopicPartition("periods", p): list(range(n)) for p, n in buffered.items()}
        self.waits: list[int] = []

    def assignment(self) -> set[TopicPartition]:
        return set(self.buffers)

    async def getmany(
        self, *partitions: TopicPartition, timeout_ms: int = 0, max_records: int | None = None
    ) -> dict[TopicPartition, list[Any]]:
        self.waits.append(timeout_ms)
        drained: dict[TopicPartition, list[Any]] = {}
        budget = max_records if max_records is not None else 10**9
        for tp, records in self.buffers.items():
            if (partitions and tp not in partitions) or not records or budget == 0:
                continue
            drained[tp], self.buffers[tp] = records[:budget], records[budget:]
            budget -= len(drained[tp])
        return drained


async def test_a_batch_takes_an_equal_share_of_every_partition_with_records() -> None:
    consumer = BufferedConsumer({0: 500, 1: 500, 2: 10, 3: 0, 4: 500, 5: 500})
    fetched = await fetch_balanced(consumer, wait_ms=500, max_records=200)
    sizes = {tp.partition: len(records) for tp, records in fetched.items()}
    assert sizes == {0: 33, 1: 33, 2: 10, 4: 33, 5: 33}
    # Only the first call waits for records; the others take what is already buffered.
    assert consumer.waits[0] == 500 and set(consumer.waits[1:]) == {0}


async def test_nothing_buffered_returns_nothing_after_one_wait() -> None:
    consumer = BufferedConsumer({0: 0, 1: 0})
    assert await fetch_balanced(consumer, wait_ms=500, max_records=200) == {}
    assert consumer.waits == [500]
