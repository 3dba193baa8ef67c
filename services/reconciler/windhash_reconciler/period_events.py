"""The settlement-period topic as the replayable record: the latest snapshot of each wanted period.

"Latest" is decided exactly as the calculator decides it (`curtailment_facts.write_path.newest_snapshots`):
the greatest `fetched_at`, a later message winning a tie. A message the calculator would reject
(`curtailment_facts.event_checks`) is kept aside as a rejection (it was dead-lettered), never replayed.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from aiokafka import ConsumerRecord
from windhash_common.consumer_runtime.messages import ConsumedMessage
from windhash_common.curtailment_facts.event_checks import decode_settlement_period
from windhash_common.curtailment_facts.write_path import supersedes
from windhash_common.dead_letters import Rejection, settlement_of_key
from windhash_common.events import SettlementPeriodEvent
from windhash_common.kafka_connection import KafkaTarget

from windhash_reconciler.topic_reader import read_topic

PeriodKey = tuple[date, int]
PeriodFilter = Callable[[PeriodKey], bool]


@dataclass(frozen=True)
class TopicEvent:
    message: ConsumedMessage
    event: SettlementPeriodEvent

    @property
    def key(self) -> PeriodKey:
        return (self.event.settlement_date, self.event.settlement_period)


@dataclass
class PeriodEvents:
    """What the topic holds for the wanted periods, and the end offsets it was read up to."""

    topic: str
    latest: dict[PeriodKey, TopicEvent] = field(default_factory=dict)
    rejected: dict[PeriodKey, Rejection] = field(default_factory=dict)
    end_offsets: dict[int, int] = field(default_factory=dict)
    messages_read: int = 0

    def take(self, record: ConsumerRecord, wanted: PeriodFilter, max_bytes: int) -> None:
        self.messages_read += 1
        named = settlement_of_key(record.key)
        if named[0] is None or named[1] is None or not wanted((named[0], named[1])):
            return
        message = ConsumedMessage(record.topic, record.partition, record.offset, record.key, record.value)
        outcome = decode_settlement_period(record.value, max_bytes)
        if isinstance(outcome, Rejection):
            self.rejected[(named[0], named[1])] = outcome
            return
        found = TopicEvent(message, outcome)
        if not wanted(found.key):
            return
        held = self.latest.get(found.key)
        if supersedes(outcome, None if held is None else held.event):
            self.latest[found.key] = found


async def read_period_events(
    kafka: KafkaTarget,
    topic: str,
    wanted: PeriodFilter,
    max_bytes: int,
    since: PeriodEvents | None = None,
    published_after: datetime | None = None,
) -> PeriodEvents:
    """The latest event of every wanted period; with `since`, only what was published after that read,
    merged into it. `published_after` skips what was published before that time: safe for periods that had
    not ended by then, since a period is only fetched (and its event published) after it ends."""
    events = since or PeriodEvents(topic)
    start = since.end_offsets if since is not None else None
    events.end_offsets = await read_topic(
        kafka, topic, lambda record: events.take(record, wanted, max_bytes), start, published_after
    )
    return events
