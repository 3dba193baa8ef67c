import itertools
from datetime import UTC, date, datetime

import pytest
from windhash_common.settlement_calendar import (
    check_period,
    period_start_utc,
    settlement_date_of,
    settlement_periods,
    settlement_periods_in_day,
)


@pytest.mark.parametrize(
    ("day", "periods"),
    [
        (date(2024, 3, 31), 46),  # spring clock change: 23 hours
        (date(2024, 10, 27), 50),  # autumn clock change: 25 hours
        (date(2025, 3, 30), 46),
        (date(2025, 10, 26), 50),
        (date(2024, 3, 30), 48),
        (date(2024, 4, 1), 48),
        (date(2024, 10, 26), 48),
        (date(2024, 10, 28), 48),
        (date(2024, 7, 1), 48),
        (date(2024, 1, 1), 48),
    ],
)
def test_periods_in_day(day: date, periods: int) -> None:
    assert settlement_periods_in_day(day) == periods
    assert list(settlement_periods(day)) == list(range(1, periods + 1))


@pytest.mark.parametrize(
    ("day", "period", "start"),
    [
        (date(2024, 1, 15), 1, datetime(2024, 1, 15, 0, 0, tzinfo=UTC)),  # GMT: local = UTC
        (date(2024, 1, 15), 48, datetime(2024, 1, 15, 23, 30, tzinfo=UTC)),
        (date(2024, 7, 1), 1, datetime(2024, 6, 30, 23, 0, tzinfo=UTC)),  # BST: local midnight is 23:00 UTC
        (date(2024, 7, 1), 48, datetime(2024, 7, 1, 22, 30, tzinfo=UTC)),
        # Spring: 00:00 GMT, and 01:00 local does not exist, so period 3 starts at 01:00 UTC = 02:00 BST.
        (date(2024, 3, 31), 1, datetime(2024, 3, 31, 0, 0, tzinfo=UTC)),
        (date(2024, 3, 31), 3, datetime(2024, 3, 31, 1, 0, tzinfo=UTC)),
        (date(2024, 3, 31), 46, datetime(2024, 3, 31, 22, 30, tzinfo=UTC)),
        # Autumn: midnight is BST (23:00 UTC the day before) and 01:00-02:00 local happens twice.
        (date(2024, 10, 27), 1, datetime(2024, 10, 26, 23, 0, tzinfo=UTC)),
        (date(2024, 10, 27), 3, datetime(2024, 10, 27, 0, 0, tzinfo=UTC)),
        (date(2024, 10, 27), 5, datetime(2024, 10, 27, 1, 0, tzinfo=UTC)),
        (date(2024, 10, 27), 50, datetime(2024, 10, 27, 23, 30, tzinfo=UTC)),
        (date(2025, 3, 30), 46, datetime(2025, 3, 30, 22, 30, tzinfo=UTC)),
        (date(2025, 10, 26), 50, datetime(2025, 10, 26, 23, 30, tzinfo=UTC)),
    ],
)
def test_period_start_utc(day: date, period: int, start: datetime) -> None:
    assert period_start_utc(day, period) == start


@pytest.mark.parametrize("day", [date(2024, 3, 31), date(2024, 10, 27), date(2024, 6, 1)])
def test_periods_are_contiguous_half_hours(day: date) -> None:
    periods = list(settlement_periods(day))
    starts = [period_start_utc(day, period) for period in periods]
    assert all((b - a).total_seconds() == 1800 for a, b in itertools.pairwise(starts))
    next_day = date.fromordinal(day.toordinal() + 1)
    assert (period_start_utc(next_day, 1) - starts[-1]).total_seconds() == 1800
    assert all(settlement_date_of(start) == day for start in starts)


@pytest.mark.parametrize(
    ("day", "period"), [(date(2024, 3, 31), 47), (date(2024, 6, 1), 49), (date(2024, 10, 27), 51)]
)
def test_periods_beyond_the_day_are_rejected(day: date, period: int) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        check_period(day, period)
    with pytest.raises(ValueError):
        period_start_utc(day, 0)
