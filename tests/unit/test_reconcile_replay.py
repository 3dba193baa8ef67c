"""Reconciliation's replay logic without servers: which event is the latest, what a period should hold,
which periods a scope covers, which days the self-check looks at."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

from windhash_common.bitcoin import MINED_HALVINGS
from windhash_common.curtailment_facts.rows import curtailment_rows
from windhash_common.events import CurtailmentRecord, SettlementPeriodEvent, period_key
from windhash_common.miner_models import MinerModel
from windhash_reconciler.period_audit import StoredDay, differences, expected_period
from windhash_reconciler.period_events import PeriodEvents
from windhash_reconciler.repair import RepairScope
from windhash_reconciler.self_check import previous_month, recheck_window

DAY = date(2024, 6, 12)
FETCHED = datetime(2024, 6, 13, 1, tzinfo=UTC)
S9 = MinerModel("S9", "Bitmain", Decimal("13.5"), Decimal(1323))
S21 = MinerModel("S21", "Bitmain", Decimal(200), Decimal(3500))
DIFFICULTY = Decimal("83148355189239.77")


def record(acceptance_id: int, volume: str) -> CurtailmentRecord:
    return CurtailmentRecord(
        bm_unit="T_A-1",
        acceptance_id=acceptance_id,
        bid_offer_pair_id=-1,
        sequence_number=1,
        created_at=None,
        volume_mwh=Decimal(volume),
        original_price_gbp_per_mwh=Decimal("-40"),
        final_price_gbp_per_mwh=None,
        cashflow_gbp=Decimal(volume) * Decimal("-40"),
        so_flag=True,
        cadl_flag=None,
    )


def event(period: int, fetched: datetime = FETCHED, *records: CurtailmentRecord) -> SettlementPeriodEvent:
    return SettlementPeriodEvent.build(DAY, period, records, fetched, synthetic=True)


def message(offset: int, item: SettlementPeriodEvent | None, key: bytes | None = None) -> SimpleNamespace:
    value = None if item is None else item.model_dump_json().encode()
    key = key if key is not None else period_key(DAY, item.settlement_period if item else 1)
    return SimpleNamespace(topic="t", partition=0, offset=offset, key=key, value=value)


def test_the_latest_event_is_the_newest_fetch_and_a_later_message_wins_a_tie() -> None:
    events = PeriodEvents("t")
    newer = event(5, FETCHED + timedelta(hours=1), record(1, "-2"))
    older = event(5, FETCHED, record(1, "-3"))
    tie = event(5, FETCHED + timedelta(hours=1), record(1, "-4"))
    for offset, item in enumerate((newer, older, tie)):
        events.take(message(offset, item), lambda key: True, 1_000_000)
    assert events.latest[(DAY, 5)].event == tie
    assert events.latest[(DAY, 5)].message.offset == 2


def test_unwanted_and_rejected_messages_are_not_replayed() -> None:
    events = PeriodEvents("t")
    wanted = {(DAY, 7)}
    events.take(message(0, event(6)), wanted.__contains__, 1_000_000)
    events.take(message(1, None, period_key(DAY, 7)), wanted.__contains__, 1_000_000)
    events.take(message(2, None, b"not a key"), wanted.__contains__, 1_000_000)
    assert events.latest == {}
    assert events.rejected[(DAY, 7)].kind == "empty"
    assert events.messages_read == 3


def stored_as_expected(item: SettlementPeriodEvent, difficulty: Decimal | None) -> StoredDay:
    expected = expected_period(item, difficulty, [S9, S21], {"T_A-1": "Party"}, MINED_HALVINGS)
    stored = StoredDay()
    stored.periods[item.settlement_period] = expected.period
    stored.records[item.settlement_period] = set(expected.records)
    stored.calculations[item.settlement_period] = set(expected.calculations)
    return stored


def test_a_period_as_replay_leaves_it_has_no_differences() -> None:
    item = event(9, FETCHED, record(1, "-2.5"), record(2, "-1"))
    expected = expected_period(item, DIFFICULTY, [S9, S21], {"T_A-1": "Party"}, MINED_HALVINGS)
    assert len(expected.records) == 2 and len(expected.calculations) == 4
    assert differences(expected, stored_as_expected(item, DIFFICULTY), 9) == []


def test_tampered_missing_and_new_model_rows_are_differences() -> None:
    item = event(9, FETCHED, record(1, "-2.5"), record(2, "-1"))
    models = [S9, S21]
    expected = expected_period(item, DIFFICULTY, models, {"T_A-1": "Party"}, MINED_HALVINGS)
    stored = stored_as_expected(item, DIFFICULTY)
    stored.records[9].pop()
    stored.calculations[9] = {row for row in stored.calculations[9] if row[5] != "S21"}  # a model just added
    assert differences(expected, stored, 9) == ["records", "calculations"]
    assert differences(expected, StoredDay(), 9) == ["period missing", "records", "calculations"]
    newer = stored_as_expected(item, DIFFICULTY)
    newer.periods[9] = (*expected.period[:2], FETCHED + timedelta(days=1), *expected.period[3:])
    assert differences(expected, newer, 9) == ["period"]


def test_without_difficulty_a_period_is_expected_pending_with_records_and_no_calculations() -> None:
    item = event(9, FETCHED, record(1, "-2.5"))
    expected = expected_period(item, None, [S9], {}, MINED_HALVINGS)
    assert expected.period[4] == "pending_difficulty" and expected.period[5] is None
    assert expected.calculations == frozenset()
    assert [row[:13] for row in expected.records] == curtailment_rows(item)


def test_a_scope_covers_its_dates_or_one_period_and_reads_the_topic_from_its_first_day() -> None:
    one_period = RepairScope(DAY, DAY, 7)
    assert one_period.wants((DAY, 7)) and not one_period.wants((DAY, 8))
    assert not RepairScope(DAY, DAY).wants((DAY + timedelta(days=1), 1))
    assert RepairScope().wants((date(2019, 1, 1), 1)) and RepairScope().published_after() is None
    after = RepairScope(DAY, DAY).published_after()
    assert after is not None and after < datetime(2024, 6, 11, 23, tzinfo=UTC)


def test_the_self_check_window_and_the_previous_month() -> None:
    assert recheck_window(date(2024, 6, 12), 7) == (date(2024, 6, 5), date(2024, 6, 11))
    assert previous_month(date(2024, 3, 1)) == (date(2024, 2, 1), date(2024, 2, 29))
    assert previous_month(date(2024, 1, 15)) == (date(2023, 12, 1), date(2023, 12, 31))
