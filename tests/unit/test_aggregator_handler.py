"""The aggregator's rules, against in-memory fakes: the handler inside the consumer runtime's transaction."""

from datetime import UTC, date, datetime

from windhash_aggregator.handler import SERVICE, AppliedBatch, aggregate_batch, decode_period_calculated
from windhash_common.consumer_runtime.consumer import Applied, apply_batch
from windhash_common.consumer_runtime.messages import ConsumedMessage, Decoded
from windhash_common.events import DeadLetter, PeriodCalculatedEvent
from windhash_common.topics import Topics
from windhash_testing.fakes import FakeAggregatorUnitOfWork, FakePositions, FakeSummaries

TOPICS = Topics("t")
GROUP = "windhash-aggregator"


def event_value(day: date, period: int = 1) -> bytes:
    return (
        PeriodCalculatedEvent(
            settlement_date=day,
            settlement_period=period,
            content_hash="h",
            record_count=1,
            status="calculated",
            calculated_at=datetime(2024, 4, 2, tzinfo=UTC),
        )
        .model_dump_json()
        .encode()
    )


def message(offset: int, value: bytes | None, partition: int = 0) -> ConsumedMessage:
    return ConsumedMessage(TOPICS.period_calculated, partition, offset, b"2024-03-31", value)


async def consume(uow: FakeAggregatorUnitOfWork, *messages: ConsumedMessage) -> Applied[AppliedBatch]:
    decoded: list[Decoded[object]] = [Decoded(m, decode_period_calculated(m)) for m in messages]
    async with uow:
        return await apply_batch(uow, decoded, aggregate_batch, SERVICE, GROUP, TOPICS.dead_letter)


async def test_each_day_a_batch_touches_is_recomputed_once_with_its_month_and_year() -> None:
    summaries = FakeSummaries()
    days = [date(2024, 4, 1), date(2024, 3, 31), date(2024, 4, 1), date(2024, 3, 31)]
    applied = await consume(
        FakeAggregatorUnitOfWork(summaries),
        *(message(offset, event_value(day, offset + 1)) for offset, day in enumerate(days)),
    )
    assert summaries.recomputed == [[date(2024, 3, 31), date(2024, 4, 1)]]
    assert applied.result.scope.months == (date(2024, 3, 1), date(2024, 4, 1))
    assert applied.result.scope.years == (2024,)
    assert [positioned.offset for positioned in applied.result.applied] == [0, 1, 2, 3]


async def test_events_below_the_stored_position_recompute_nothing() -> None:
    summaries = FakeSummaries()
    positions = FakePositions({(GROUP, TOPICS.period_calculated, 0): 2})
    applied = await consume(
        FakeAggregatorUnitOfWork(summaries, positions),
        message(0, event_value(date(2024, 3, 1))),
        message(1, event_value(date(2024, 3, 2))),
        message(2, event_value(date(2024, 3, 3))),
    )
    assert applied.skipped == 2
    assert summaries.recomputed == [[date(2024, 3, 3)]]
    assert positions.stored[(GROUP, TOPICS.period_calculated, 0)] == 3


async def test_a_malformed_message_is_dead_lettered_and_its_position_advanced() -> None:
    summaries = FakeSummaries()
    uow = FakeAggregatorUnitOfWork(summaries)
    applied = await consume(uow, message(0, b'{"schema_version": 1}'), message(1, None))
    assert applied.dead_letters == ("schema", "empty")
    letters = [DeadLetter.model_validate_json(m.payload) for m in uow.outbox.on(TOPICS.dead_letter)]
    assert letters[0].service == "aggregator"
    assert "not a valid PeriodCalculatedEvent" in letters[0].reason and "settlement_date" in letters[0].reason
    assert letters[0].settlement_date == date(2024, 3, 31)  # named by the message key
    assert summaries.recomputed == [[]]
    assert uow.positions.stored[(GROUP, TOPICS.period_calculated, 0)] == 2
