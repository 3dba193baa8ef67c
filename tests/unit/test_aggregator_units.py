"""The aggregator's pure parts: date ranges, positions, message decoding and the shape of its SQL.
(Its rules over a unit of work are in test_aggregator_handler.py.)"""

from datetime import UTC, date, datetime

import pytest
from windhash_aggregator.handler import affected_days, decode_period_calculated
from windhash_common.consumer_runtime.messages import ConsumedMessage, Positioned
from windhash_common.consumer_runtime.positions import next_offsets_after
from windhash_common.dead_letters import Rejection, Source, dead_letter
from windhash_common.events import PeriodCalculatedEvent
from windhash_common.summaries.recompute import lock_key
from windhash_common.summaries.summary_grains import (
    DateRange,
    aligned_range,
    contiguous_runs,
    month_range,
    months_of,
    year_range,
    years_of,
)
from windhash_common.summaries.summary_tables import ALL_TABLES, TABLES_BY_GRAIN
from windhash_common.summaries.verify import comparison_sql

CALCULATED_AT = datetime(2024, 3, 31, 12, 0, tzinfo=UTC)


def event(day: date, period: int = 1) -> PeriodCalculatedEvent:
    return PeriodCalculatedEvent(
        settlement_date=day,
        settlement_period=period,
        content_hash="h",
        record_count=0,
        status="calculated",
        calculated_at=CALCULATED_AT,
    )


def test_month_and_year_ranges_are_half_open_and_whole() -> None:
    assert month_range(date(2024, 12, 31)) == DateRange(date(2024, 12, 1), date(2025, 1, 1))
    assert month_range(date(2024, 2, 10)) == DateRange(date(2024, 2, 1), date(2024, 3, 1))
    assert year_range(2024) == DateRange(date(2024, 1, 1), date(2025, 1, 1))


def test_aligned_range_covers_whole_grains() -> None:
    first, last = date(2024, 3, 30), date(2024, 4, 1)
    assert aligned_range("day", first, last) == DateRange(date(2024, 3, 30), date(2024, 4, 2))
    assert aligned_range("month", date(2024, 3, 30), date(2024, 4, 1)) == DateRange(
        date(2024, 3, 1), date(2024, 5, 1)
    )
    assert aligned_range("year", date(2024, 12, 31), date(2025, 1, 1)) == DateRange(
        date(2024, 1, 1), date(2026, 1, 1)
    )


def test_contiguous_runs_fold_consecutive_days_and_drop_repeats() -> None:
    days = [date(2024, 4, 1), date(2024, 3, 31), date(2024, 3, 30), date(2024, 3, 31), date(2024, 4, 5)]
    assert contiguous_runs(days) == [
        DateRange(date(2024, 3, 30), date(2024, 4, 2)),
        DateRange(date(2024, 4, 5), date(2024, 4, 6)),
    ]
    assert contiguous_runs([]) == []
    assert months_of(days) == [date(2024, 3, 1), date(2024, 4, 1)]
    assert years_of([date(2025, 1, 1), date(2024, 12, 31)]) == [2024, 2025]
    assert DateRange(date(2024, 3, 30), date(2024, 4, 1)).days() == [date(2024, 3, 30), date(2024, 3, 31)]


def test_next_offsets_resume_after_the_last_message_of_each_partition() -> None:
    read = [("t", 0, 5), ("t", 1, 9), ("t", 0, 7), ("t", 0, 6)]
    assert next_offsets_after(read) == {("t", 0): 8, ("t", 1): 10}


def test_affected_days_are_distinct_and_sorted() -> None:
    events = [Positioned(ConsumedMessage("t", 0, n, None, None), event(day)) for n, day in
              enumerate([date(2024, 4, 1), date(2024, 3, 31), date(2024, 4, 1)])]  # fmt: skip
    assert affected_days(events) == [date(2024, 3, 31), date(2024, 4, 1)]


def test_a_valid_message_decodes_to_the_event() -> None:
    original = event(date(2024, 10, 27), 50)
    consumed = ConsumedMessage("t", 0, 0, None, original.model_dump_json().encode())
    assert decode_period_calculated(consumed) == original


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (None, "tombstone"),
        (b"not json", "not a valid PeriodCalculatedEvent"),
        (b'{"schema_version": 1}', "settlement_date"),
        (
            b'{"schema_version":1,"settlement_date":"2024-03-31","settlement_period":51,"content_hash":"h",'
            b'"record_count":0,"status":"calculated","calculated_at":"2024-03-31T12:00:00Z"}',
            "settlement_period",
        ),
    ],
)
def test_a_malformed_message_becomes_a_dead_letter_with_reason(value: bytes | None, fragment: str) -> None:
    rejection = decode_period_calculated(ConsumedMessage("p.period-calculated.v1", 2, 41, None, value))
    assert isinstance(rejection, Rejection)
    assert fragment in rejection.reason
    failed_at = datetime(2024, 4, 1, tzinfo=UTC)
    letter = dead_letter("aggregator", rejection, value, failed_at, Source("p.period-calculated.v1", 2, 41))
    assert letter.service == "aggregator"
    source = (letter.source_topic, letter.source_partition, letter.source_offset)
    assert source == ("p.period-calculated.v1", 2, 41)
    assert letter.payload == (value or b"").decode()


def test_lock_keys_name_distinct_days_months_and_years() -> None:
    keys = {
        lock_key("day", date(2024, 3, 31)),
        lock_key("day", date(2024, 4, 1)),
        lock_key("month", date(2024, 3, 31)),
        lock_key("month", date(2024, 4, 1)),
        lock_key("year", date(2024, 3, 31)),
        lock_key("year", date(2025, 1, 1)),
    }
    assert len(keys) == 6
    assert lock_key("month", date(2024, 3, 1)) == lock_key("month", date(2024, 3, 31))


def test_every_summary_table_is_defined_once_with_its_key_first() -> None:
    assert len({table.name for table in ALL_TABLES}) == len(ALL_TABLES) == 9
    assert sum(len(tables) for tables in TABLES_BY_GRAIN.values()) == len(ALL_TABLES)
    for table in ALL_TABLES:
        assert table.insert_sql().startswith(f"INSERT INTO {table.name} ({', '.join(table.columns)})")
        # Months and years roll up from daily rows in the consumer; days always come from the facts.
        assert (table.rollup_sql is None) == (table.grain == "day")
        assert table.insert_sql(from_facts=False).endswith(table.rollup_sql or table.expected_sql)
        assert table.name in comparison_sql(table)
        assert "$1" in table.expected_sql and "$2" in table.expected_sql
