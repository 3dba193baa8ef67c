"""Batches drawn across partitions in key order (the calculator's settlement periods), or in fetch order.

Events are keyed `YYYY-MM-DD/PP`, so a day's periods are spread over every partition, and the partitions'
fetched positions drift apart by days (each is refetched when its buffer drains). A plain `getmany` drains
one partition's buffer before the next: 200 records of one partition span ~25 days, and each batch touched
every day a little. The aggregator recomputes a whole day for every batch that touches it, so that meant
about six recomputes per day in a year's backfill. Merging the partitions' heads by key makes a batch the
next few whole days instead.

Only partition prefixes are ever taken (the head with the smallest key, repeatedly), so a batch's positions
stay contiguous per partition and the offsets stored with it cover exactly what it applied; records left in
the buffer are fetched again after a crash or when their partition moves to another consumer.
"""

import heapq
from collections import deque
from collections.abc import Iterable, Mapping

from aiokafka import ConsumerRecord, TopicPartition


class KeyOrderedBuffer:
    """Records fetched but not yet applied, per partition, in offset order."""

    def __init__(self) -> None:
        self._pending: dict[TopicPartition, deque[ConsumerRecord]] = {}

    def __len__(self) -> int:
        return sum(len(records) for records in self._pending.values())

    def pending(self, tp: TopicPartition) -> int:
        return len(self._pending.get(tp, ()))

    def add(self, fetched: Mapping[TopicPartition, Iterable[ConsumerRecord]]) -> None:
        for tp, records in fetched.items():
            self._pending.setdefault(tp, deque()).extend(records)

    def drop(self, partitions: Iterable[TopicPartition]) -> None:
        """Forget these partitions' records: revoked, their next owner reads them from the stored position."""
        for tp in partitions:
            self._pending.pop(tp, None)

    def take(self, max_records: int, key_ordered: bool = True) -> dict[TopicPartition, list[ConsumerRecord]]:
        """Up to `max_records`: always the smallest key among the partitions' next records, or (not
        `key_ordered`) each partition's records in turn, as fetched."""
        if not key_ordered:
            return self._take_in_fetch_order(max_records)
        heads = [
            (_key(records[0]), index, tp)
            for index, (tp, records) in enumerate(self._pending.items())
            if records
        ]
        heapq.heapify(heads)
        taken: dict[TopicPartition, list[ConsumerRecord]] = {}
        while heads and max_records > 0:
            _, index, tp = heapq.heappop(heads)
            records = self._pending[tp]
            taken.setdefault(tp, []).append(records.popleft())
            max_records -= 1
            if records:
                heapq.heappush(heads, (_key(records[0]), index, tp))
        return taken

    def _take_in_fetch_order(self, max_records: int) -> dict[TopicPartition, list[ConsumerRecord]]:
        taken: dict[TopicPartition, list[ConsumerRecord]] = {}
        for tp, records in self._pending.items():
            while records and max_records > 0:
                taken.setdefault(tp, []).append(records.popleft())
                max_records -= 1
        return taken


def _key(record: ConsumerRecord) -> bytes:
    # A message without a key is malformed; taking it first sends it to the dead letters without delay.
    return record.key or b""
