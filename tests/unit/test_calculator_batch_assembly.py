"""The calculator draws its batches across partitions in key order
(windhash_common.consumer_runtime.key_ordered_buffer), taking only partition prefixes, so a batch is the
next few whole days and its offsets stay contiguous."""

from aiokafka import ConsumerRecord, TopicPartition
from windhash_common.consumer_runtime.key_ordered_buffer import KeyOrderedBuffer


def record(partition: int, offset: int, key: bytes | None) -> ConsumerRecord:
    return ConsumerRecord(
        topic="periods",
        partition=partition,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=key,
        value=b"{}",
        checksum=None,
        serialized_key_size=0,
        serialized_value_size=2,
        headers=(),
    )


def partition_of(keys: list[str], partition: int, first_offset: int = 0) -> list[ConsumerRecord]:
    return [record(partition, first_offset + n, key.encode()) for n, key in enumerate(keys)]


P0, P1, P2 = (TopicPartition("periods", p) for p in range(3))


def taken_keys(batch: dict[TopicPartition, list[ConsumerRecord]]) -> list[bytes]:
    return sorted(r.key or b"" for records in batch.values() for r in records)


def test_batches_follow_the_keys_across_partitions_that_drifted_apart() -> None:
    buffer = KeyOrderedBuffer()
    # Partition 0 was fetched days ahead of partition 1: a drain of partition 0 alone would span days.
    buffer.add(
        {
            P0: partition_of(["2024-01-01/01", "2024-01-01/04", "2024-01-03/01", "2024-01-04/02"], 0),
            P1: partition_of(["2024-01-01/02", "2024-01-01/03", "2024-01-02/05"], 1),
        }
    )
    first = buffer.take(4)
    assert taken_keys(first) == [b"2024-01-01/01", b"2024-01-01/02", b"2024-01-01/03", b"2024-01-01/04"]
    assert [r.offset for r in first[P0]] == [0, 1] and [r.offset for r in first[P1]] == [0, 1]
    assert len(buffer) == 3 and (buffer.pending(P0), buffer.pending(P1)) == (2, 1)
    assert taken_keys(buffer.take(2)) == [b"2024-01-02/05", b"2024-01-03/01"]
    assert taken_keys(buffer.take(10)) == [b"2024-01-04/02"]
    assert buffer.take(10) == {} and len(buffer) == 0


def test_only_prefixes_are_taken_even_when_a_partition_holds_keys_out_of_order() -> None:
    buffer = KeyOrderedBuffer()
    # A revised period re-published later sits behind newer keys in its partition.
    buffer.add(
        {P0: partition_of(["2024-01-05/01", "2024-01-01/07"], 0), P1: partition_of(["2024-01-02/01"], 1)}
    )
    batch = buffer.take(2)
    assert [r.offset for r in batch[P1]] == [0]
    assert [r.offset for r in batch[P0]] == [0]  # the older key waits for the record ahead of it


def test_a_message_without_a_key_goes_first_and_revoked_partitions_are_forgotten() -> None:
    buffer = KeyOrderedBuffer()
    buffer.add({P0: partition_of(["2024-01-01/01"], 0), P1: [record(1, 7, None)]})
    buffer.add(
        {P2: partition_of(["2024-01-01/02"], 2), P0: partition_of(["2024-01-01/03"], 0, first_offset=1)}
    )
    assert buffer.take(1) == {P1: [record(1, 7, None)]}
    buffer.drop([P0])
    assert taken_keys(buffer.take(10)) == [b"2024-01-01/02"]
