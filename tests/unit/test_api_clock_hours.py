"""Settlement periods grouped by Europe/London clock hour on 46-, 48- and 50-period days."""

from datetime import date

import pytest
from windhash_api.clock_hours import clock_hours


@pytest.mark.parametrize(
    ("day", "hours", "periods"),
    [(date(2024, 3, 31), 23, 46), (date(2024, 6, 1), 24, 48), (date(2024, 10, 27), 25, 50)],
)
def test_every_period_falls_in_exactly_one_hour(day: date, hours: int, periods: int) -> None:
    buckets = clock_hours(day)
    assert len(buckets) == hours
    assert [p for bucket in buckets for p in bucket.periods] == list(range(1, periods + 1))
    assert all(len(bucket.periods) == 2 for bucket in buckets)


def test_autumn_day_shows_both_01_00_hours_by_their_offset() -> None:
    labels = [bucket.label for bucket in clock_hours(date(2024, 10, 27))[:4]]
    assert labels == ["00:00 (UTC+01:00)", "01:00 (UTC+01:00)", "01:00 (UTC+00:00)", "02:00 (UTC+00:00)"]


def test_spring_day_has_no_01_00() -> None:
    starts = [f"{bucket.start_local:%H:%M}" for bucket in clock_hours(date(2024, 3, 31))]
    assert "01:00" not in starts
    assert starts[:2] == ["00:00", "02:00"]
    assert clock_hours(date(2024, 3, 31))[0].utc_offset == "+00:00"
