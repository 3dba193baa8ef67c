"""Reading a topic from given offsets, or from a time, or from the beginning, up to its end offsets at the
time of the call.

No consumer group: partitions are assigned directly and nothing is committed, so reading never disturbs the
services' positions. The end offsets are taken once, up front, so a read always finishes, and they are
returned so a later read can pick up exactly what was published since.
"""

from collections.abc import Callable, Mapping
from datetime import datetime

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from windhash_common.kafka_connection import KafkaTarget, as_connection

RecordHandler = Callable[[ConsumerRecord], None]
_POLL_MS = 500
_MAX_RECORDS = 2000


async def read_topic(
    kafka: KafkaTarget,
    topic: str,
    on_record: RecordHandler,
    start: Mapping[int, int] | None = None,
    since_time: datetime | None = None,
) -> dict[int, int]:
    """Hand every record from `start` (per partition), else from the first record timestamped at or after
    `since_time`, else from the beginning, up to the end offsets, to `on_record`, in offset order within each
    partition; returns the end offsets read up to."""
    partitions = [TopicPartition(topic, number) for number in await partition_numbers(kafka, topic)]
    consumer = AIOKafkaConsumer(
        **as_connection(kafka).client_options(),
        enable_auto_commit=False,
        group_id=None,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        consumer.assign(partitions)
        ends: dict[TopicPartition, int] = await consumer.end_offsets(partitions)
        # Our own next offset per partition, seeked explicitly: never the consumer's lazily reset position.
        positions = await _start_offsets(consumer, partitions, ends, start, since_time)
        for tp, offset in positions.items():
            consumer.seek(tp, offset)
        remaining = {tp for tp in partitions if positions[tp] < ends[tp]}
        while remaining:
            batches = await consumer.getmany(*remaining, timeout_ms=_POLL_MS, max_records=_MAX_RECORDS)
            for tp, records in batches.items():
                for record in records:
                    if record.offset < ends[tp]:
                        on_record(record)
                    positions[tp] = record.offset + 1
            # A compacted or transactional partition can end in offsets that hold no record.
            for tp in list(remaining):
                if positions[tp] >= ends[tp] or await consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
        return {tp.partition: ends[tp] for tp in partitions}
    finally:
        await consumer.stop()


async def partition_numbers(kafka: KafkaTarget, topic: str) -> list[int]:
    admin = AIOKafkaAdminClient(**as_connection(kafka).client_options())
    await admin.start()
    try:
        described = await admin.describe_topics([topic])
    finally:
        await admin.close()
    numbers = sorted(
        partition["partition"]
        for entry in described
        if entry["topic"] == topic and entry["error_code"] == 0
        for partition in entry["partitions"]
    )
    if not numbers:
        raise RuntimeError(f"topic {topic} does not exist or has no partitions")
    return numbers


async def _start_offsets(
    consumer: AIOKafkaConsumer,
    partitions: list[TopicPartition],
    ends: Mapping[TopicPartition, int],
    start: Mapping[int, int] | None,
    since_time: datetime | None,
) -> dict[TopicPartition, int]:
    offsets: dict[TopicPartition, int] = await consumer.beginning_offsets(partitions)
    if since_time is not None:
        stamp = int(since_time.timestamp() * 1000)
        by_time = await consumer.offsets_for_times({tp: stamp for tp in partitions})
        for tp in partitions:
            found = by_time.get(tp)
            # None: nothing was published at or after that time on this partition.
            offsets[tp] = ends[tp] if found is None else found.offset
    if start is not None:
        for tp in partitions:
            if tp.partition in start:
                offsets[tp] = start[tp.partition]
    return offsets
