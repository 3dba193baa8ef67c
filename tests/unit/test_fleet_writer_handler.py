"""The telemetry writer's handler against fakes: what it keeps and refuses with which reason, the partitions
it makes for days that have none, the miner directory it learns once, and duplicates kept once."""

from datetime import UTC, datetime, timedelta

from windhash_common.consumer_runtime.consumer import Applied, apply_batch
from windhash_common.consumer_runtime.messages import Decoded
from windhash_common.dead_letters import Rejection
from windhash_common.events_fleet import MinerTelemetryEvent
from windhash_fleet.reading_rules import KeepWindow, judge, utc_day
from windhash_fleet.telemetry_writer import SERVICE, TelemetryWriter, WrittenBatch, decode_telemetry
from windhash_testing.fakes import FakeTelemetryStore, FakeWriterUnitOfWork
from windhash_testing.fleet_telemetry import messages, reading

NOW = datetime(2026, 6, 1, 0, 1, tzinfo=UTC)
DEAD = "unit.dead-letter.v1"


def writer() -> TelemetryWriter:
    return TelemetryWriter(DEAD, retention_days=90, clock_skew=timedelta(minutes=5), clock=lambda: NOW)


Events = list[MinerTelemetryEvent | bytes]


async def _apply(
    uow: FakeWriterUnitOfWork, handler: TelemetryWriter, events: Events, first: int = 0
) -> Applied[WrittenBatch]:
    decoded = [Decoded(message, decode_telemetry(message)) for message in messages(events, first)]
    return await apply_batch(uow, decoded, handler, SERVICE, "group", DEAD)


def _kind(refusal: Rejection | None) -> str | None:
    return refusal.kind if refusal else None


def test_the_window_keeps_the_oldest_retained_day_and_refuses_the_future() -> None:
    window = KeepWindow.at(NOW, 90, timedelta(minutes=5))
    assert window.first_day.isoformat() == "2026-03-03"
    oldest = reading("M-1", datetime(2026, 3, 3, 0, 0, tzinfo=UTC))
    assert judge(oldest, utc_day(oldest.recorded_at), True, window) is None
    too_old = reading("M-1", datetime(2026, 3, 2, 23, 59, tzinfo=UTC))
    assert _kind(judge(too_old, utc_day(too_old.recorded_at), True, window)) == "past_retention"
    ahead = reading("M-1", NOW + timedelta(minutes=6))
    assert _kind(judge(ahead, utc_day(ahead.recorded_at), True, window)) == "in_future"
    assert _kind(judge(reading("M-9", NOW), NOW.date(), False, window)) == "unknown_miner"


async def test_a_batch_keeps_good_readings_refuses_the_rest_and_learns_serials_once() -> None:
    store = FakeTelemetryStore({"M-1": 1, "M-2": 2}, days={NOW.date()})
    handler = writer()
    yesterday = NOW - timedelta(minutes=3)  # 23:58 on the previous UTC day: its partition is made
    events: Events = [
        reading("M-1", NOW),
        reading("M-2", yesterday),
        reading("M-3", NOW),
        b'{"not": "telemetry"}',
    ]
    applied = await _apply(FakeWriterUnitOfWork(store), handler, events)
    assert (applied.result.written, applied.result.refused) == (2, ("unknown_miner",))
    assert applied.dead_letters == ("schema",)
    assert applied.result.partitions_created == 1 and store.days == {NOW.date(), yesterday.date()}
    uow = FakeWriterUnitOfWork(store)
    again = await _apply(uow, handler, [reading("M-1", NOW), reading("M-2", NOW)], first=4)
    assert (again.result.written, again.result.duplicates) == (1, 1), "the reading stored before is kept once"
    assert store.lookups == 1, "known serials are not looked up again"
    assert [message.topic for message in uow.outbox.messages] == []


async def test_refusals_are_dead_letters_with_their_reason_and_source() -> None:
    store = FakeTelemetryStore({"M-1": 1}, days={NOW.date()})
    uow = FakeWriterUnitOfWork(store)
    await _apply(
        uow, writer(), [reading("M-1", NOW - timedelta(days=200)), reading("M-1", NOW + timedelta(days=1))]
    )
    letters = uow.outbox.on(DEAD)
    assert len(letters) == 2
    assert '"past_retention' in letters[0].payload and '"source_offset":0' in letters[0].payload
    assert "in_future" in letters[1].payload
    assert store.rows == {}
