"""Reading a topic from given offsets, or from a time, or from the beginning, up to its end offsets at the
time of the call.

No consumer group: partitions are assigned directly and nothing is committed, so reading never disturbs the
services' positions. The end offsets are taken once, up front, so a read always finishes, and they are
returned so a later read can pick up exactly what was published since.
"""

from collections.abc import Callable, Mapping
from datetime import datetime

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

RecordHandler = Callable[[ConsumerRecord], None]
_POLL_MS = 500
_MAX_RECORDS = 2000


async def read_topic(
    bootstrap: str,
    topic: str,
    on_record: RecordHandler,
    start: Mapping[int, int] | None = None,
    since_time: datetime | None = None,
) -> dict[int, int]:
    """Hand every record from `start` (per partition), else from the first record timestamped at or after
    `since_time`, else from the beginning, up to the end offsets, to `on_record`, in offset order within each
    partition; returns the end offsets read up to."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    await consumer.start()
    try:
        await consumer.topics()  # loads the cluster metadata, so the topic's partitions are known
        numbers = sorted(consumer.partitions_for_topic(topic) or ())
        if not numbers:
            raise RuntimeError(f"topic {topic} does not exist or has no partitions")
        partitions = [TopicPartition(topic, number) for number in numbers]
        consumer.assign(partitions)
        ends: dict[TopicPartition, int] = await consumer.end_offsets(partitions)
        await _seek(consumer, partitions, ends, start, since_time)
        remaining = {tp for tp in partitions if await consumer.position(tp) < ends[tp]}
        while remaining:
            batches = await consumer.getmany(*remaining, timeout_ms=_POLL_MS, max_records=_MAX_RECORDS)
            for tp, records in batches.items():
                for record in records:
                    if record.offset < ends[tp]:
                        on_record(record)
            remaining = {tp for tp in remaining if await consumer.position(tp) < ends[tp]}
        return {tp.partition: ends[tp] for tp in partitions}
    finally:
        await consumer.stop()


async def _seek(
    consumer: AIOKafkaConsumer,
    partitions: list[TopicPartition],
    ends: Mapping[TopicPartition, int],
    start: Mapping[int, int] | None,
    since_time: datetime | None,
) -> None:
    by_time = {}
    if since_time is not None:
        by_time = await consumer.offsets_for_times(
            {tp: int(since_time.timestamp() * 1000) for tp in partitions}
        )
    for tp in partitions:
        if start is not None and tp.partition in start:
            consumer.seek(tp, start[tp.partition])
        elif since_time is not None:
            found = by_time.get(tp)
            # None: nothing was published at or after that time on this partition.
            consumer.seek(tp, ends[tp] if found is None else found.offset)
        else:
            await consumer.seek_to_beginning(tp)
