"""The calculator's rules, against in-memory fakes: the handler inside the consumer runtime's transaction,
exactly as the service runs it, with the period facts, positions, outbox and difficulties faked."""

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from windhash_calculator.handler import SERVICE, CalculateBatch
from windhash_common.bitcoin import MINED_HALVINGS
from windhash_common.consumer_runtime.consumer import Applied, apply_batch
from windhash_common.consumer_runtime.messages import ConsumedMessage, Decoded
from windhash_common.curtailment_facts.event_checks import decode_settlement_period
from windhash_common.curtailment_facts.write_path import WriteOutcome
from windhash_common.events import CurtailmentRecord, DeadLetter, PeriodCalculatedEvent, SettlementPeriodEvent
from windhash_common.miner_models import MinerModel
from windhash_common.topics import Topics
from windhash_testing.fakes import FakeCalculatorUnitOfWork, FakeDifficulties, FakePeriodFacts, FakePositions

DAY = date(2024, 5, 1)
FETCHED = datetime(2024, 5, 2, tzinfo=UTC)
DIFFICULTY = Decimal(86_388_558_925_171)
TOPICS = Topics("t")
GROUP = "windhash-calculator"
MODELS = [
    MinerModel("S19J_PRO", "Bitmain", Decimal(100), Decimal(3050)),
    MinerModel("S21", "Bitmain", Decimal(200), Decimal(3500)),
]


def record(acceptance_id: int, volume: str = "-10") -> CurtailmentRecord:
    return CurtailmentRecord(
        bm_unit="T_A-1",
        acceptance_id=acceptance_id,
        bid_offer_pair_id=-1,
        sequence_number=1,
        created_at=None,
        volume_mwh=Decimal(volume),
        original_price_gbp_per_mwh=Decimal(-40),
        final_price_gbp_per_mwh=None,
        cashflow_gbp=Decimal(volume) * -40,
        so_flag=True,
        cadl_flag=None,
    )


def snapshot(period: int, fetched: datetime, *records: CurtailmentRecord) -> SettlementPeriodEvent:
    return SettlementPeriodEvent.build(DAY, period, records, fetched, synthetic=True)


def past_the_columns(event: SettlementPeriodEvent, **first_record: str) -> bytes:
    """The event's JSON with its first record changed as a producer that skipped the schema would send it."""
    raw = event.model_dump(mode="json")
    raw["records"][0].update(first_record)
    return json.dumps(raw).encode()


def message(offset: int, value: bytes | None, partition: int = 0) -> ConsumedMessage:
    return ConsumedMessage(TOPICS.settlement_periods, partition, offset, b"2024-05-01/05", value)


def unit_of_work(
    difficulties: dict[date, Decimal] | None = None, positions: FakePositions | None = None
) -> FakeCalculatorUnitOfWork:
    known = {DAY: DIFFICULTY} if difficulties is None else difficulties
    return FakeCalculatorUnitOfWork(FakePeriodFacts(MODELS), FakeDifficulties(known), positions)


async def consume(uow: FakeCalculatorUnitOfWork, *messages: ConsumedMessage) -> Applied[WriteOutcome]:
    decoded: list[Decoded[object]] = [
        Decoded(message, decode_settlement_period(message.value)) for message in messages
    ]
    async with uow:
        return await apply_batch(
            uow, decoded, CalculateBatch(TOPICS, MINED_HALVINGS), SERVICE, GROUP, TOPICS.dead_letter
        )


def calculated_events(uow: FakeCalculatorUnitOfWork) -> list[PeriodCalculatedEvent]:
    return [
        PeriodCalculatedEvent.model_validate_json(m.payload) for m in uow.outbox.on(TOPICS.period_calculated)
    ]


async def test_a_snapshot_becomes_records_calculations_per_model_and_an_event() -> None:
    uow = unit_of_work()
    applied = await consume(
        uow, message(0, snapshot(5, FETCHED, record(1), record(2)).model_dump_json().encode())
    )
    key = (DAY, 5)
    assert applied.result.applied == {key: "calculated"}
    assert len(uow.periods.records[key]) == 2
    assert len(uow.periods.calculations_of(key)) == 2 * len(MODELS)
    assert [(e.status, e.record_count) for e in calculated_events(uow)] == [("calculated", 2)]
    assert uow.positions.stored == {(GROUP, TOPICS.settlement_periods, 0): 1}
    assert uow.commits == 1


async def test_an_older_snapshot_than_the_stored_one_is_ignored() -> None:
    uow = unit_of_work()
    await consume(uow, message(0, snapshot(5, FETCHED, record(1), record(2)).model_dump_json().encode()))
    older = snapshot(5, FETCHED - timedelta(hours=1), record(3))
    applied = await consume(uow, message(1, older.model_dump_json().encode()))
    assert applied.result.applied == {} and applied.result.ignored_older == 1
    assert [row[3] for row in uow.periods.records[(DAY, 5)]] == [1, 2]  # the newer records stay
    assert len(calculated_events(uow)) == 1  # nothing announced for the ignored one
    assert uow.positions.stored[(GROUP, TOPICS.settlement_periods, 0)] == 2  # but its position is stored


async def test_the_newest_snapshot_in_a_batch_wins_and_a_tie_goes_to_the_later_message() -> None:
    uow = unit_of_work()
    newer, older = snapshot(5, FETCHED, record(1)), snapshot(5, FETCHED - timedelta(minutes=5), record(2))
    same_time = snapshot(5, FETCHED, record(3))
    values = [event.model_dump_json().encode() for event in (newer, older, same_time)]
    applied = await consume(uow, *(message(offset, value) for offset, value in enumerate(values)))
    assert applied.result.ignored_older == 2
    assert [row[3] for row in uow.periods.records[(DAY, 5)]] == [3]


async def test_a_message_below_the_stored_position_is_skipped() -> None:
    stored = FakePositions({(GROUP, TOPICS.settlement_periods, 0): 5})
    uow = unit_of_work(positions=stored)
    applied = await consume(
        uow,
        message(4, snapshot(4, FETCHED, record(1)).model_dump_json().encode()),  # applied by an earlier batch
        message(5, snapshot(5, FETCHED, record(2)).model_dump_json().encode()),
    )
    assert (applied.skipped, applied.applied) == (1, 1)
    assert list(uow.periods.periods) == [(DAY, 5)]
    assert stored.stored[(GROUP, TOPICS.settlement_periods, 0)] == 6


async def test_a_day_without_difficulty_is_held_pending_with_its_records_and_no_calculations() -> None:
    uow = unit_of_work(difficulties={})
    applied = await consume(uow, message(0, snapshot(5, FETCHED, record(1)).model_dump_json().encode()))
    key = (DAY, 5)
    assert applied.result.applied == {key: "pending_difficulty"}
    assert uow.periods.periods[key][1:] == ("pending_difficulty", None)  # never a default difficulty
    assert len(uow.periods.records[key]) == 1
    assert uow.periods.calculations_of(key) == []
    assert applied.result.pending_periods == 1
    assert [e.status for e in calculated_events(uow)] == ["pending_difficulty"]


async def test_a_revision_replaces_the_period_records_and_calculations() -> None:
    uow = unit_of_work()
    await consume(uow, message(0, snapshot(5, FETCHED, record(1), record(2)).model_dump_json().encode()))
    revised = snapshot(5, FETCHED + timedelta(hours=1), record(7, "-3"))
    await consume(uow, message(1, revised.model_dump_json().encode()))
    key = (DAY, 5)
    assert [row[3] for row in uow.periods.records[key]] == [7]
    calculations = uow.periods.calculations_of(key)
    assert len(calculations) == len(MODELS) and {line[3] for line in calculations} == {"7"}


async def test_what_cannot_be_stored_is_dead_lettered_and_the_rest_goes_on() -> None:
    uow = unit_of_work()
    applied = await consume(
        uow,
        message(0, b"{not json"),
        message(1, past_the_columns(snapshot(5, FETCHED, record(1)), volume_mwh="-100000000")),
        message(2, snapshot(6, FETCHED, record(2)).model_dump_json().encode()),
    )
    # The event schema bounds every field by its column (windhash_common.events): a schema rejection.
    assert applied.dead_letters == ("invalid_json", "schema")
    letters = [DeadLetter.model_validate_json(m.payload) for m in uow.outbox.on(TOPICS.dead_letter)]
    assert [(letter.service, letter.source_offset) for letter in letters] == [
        ("calculator", 0),
        ("calculator", 1),
    ]
    assert list(uow.periods.periods) == [(DAY, 6)]
    assert uow.positions.stored[(GROUP, TOPICS.settlement_periods, 0)] == 3


async def test_a_period_whose_bitcoin_cannot_be_stored_is_dead_lettered_and_the_next_is_calculated() -> None:
    # Difficulty 0.5: a 10 MWh period would mine ~1e14 BTC, far past what bitcoin_calculations.btc and the
    # day's summaries hold. The other day's periods are calculated as usual.
    other_day = DAY + timedelta(days=1)
    uow = unit_of_work({DAY: Decimal("0.5"), other_day: DIFFICULTY})
    absurd = snapshot(5, FETCHED, record(1))
    fine = SettlementPeriodEvent.build(other_day, 6, (record(2),), FETCHED, synthetic=True)
    applied = await consume(
        uow, message(0, absurd.model_dump_json().encode()), message(1, fine.model_dump_json().encode())
    )
    assert applied.dead_letters == ("unstorable",) and applied.applied == 1
    [letter] = [DeadLetter.model_validate_json(m.payload) for m in uow.outbox.on(TOPICS.dead_letter)]
    assert (letter.settlement_date, letter.settlement_period, letter.source_offset) == (DAY, 5, 0)
    assert letter.reason.startswith("unstorable: S19J_PRO would mine") and "difficulty 5E-1" in letter.reason
    assert list(uow.periods.periods) == [(other_day, 6)]
    assert list(uow.periods.unstorable) == [(DAY, 5)]
    assert applied.result.unstorable_periods == 1
    assert [event.settlement_date for event in calculated_events(uow)] == [other_day]
    assert uow.positions.stored[(GROUP, TOPICS.settlement_periods, 0)] == 2


async def test_a_refused_period_written_later_is_no_longer_unstorable() -> None:
    uow = unit_of_work({DAY: Decimal("0.5")})
    await consume(uow, message(0, snapshot(5, FETCHED, record(1)).model_dump_json().encode()))
    assert list(uow.periods.unstorable) == [(DAY, 5)]
    uow.difficulties.known[DAY] = DIFFICULTY
    later = snapshot(5, FETCHED + timedelta(hours=1), record(1)).model_dump_json().encode()
    applied = await consume(uow, message(1, later))
    assert applied.dead_letters == () and uow.periods.unstorable == {}
    assert uow.periods.periods[(DAY, 5)][1] == "calculated"
