"""Days, months and years as half-open date ranges `[start, end)`, the unit every summary is recomputed in."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

Grain = Literal["day", "month", "year"]

# SQL for the day / month / year key of a row's `settlement_date`, and the name of that key column.
GRAIN_KEY_SQL: dict[Grain, str] = {
    "day": "settlement_date",
    "month": "date_trunc('month', settlement_date::timestamp)::date",
    "year": "extract(year FROM settlement_date)::integer",
}
GRAIN_KEY_COLUMN: dict[Grain, str] = {"day": "settlement_date", "month": "month", "year": "year"}


@dataclass(frozen=True, order=True)
class DateRange:
    """Settlement dates `start <= d < end`."""

    start: date
    end: date

    def days(self) -> list[date]:
        return [self.start + timedelta(days=offset) for offset in range((self.end - self.start).days)]


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month_start(day: date) -> date:
    first = month_start(day)
    return date(first.year + 1, 1, 1) if first.month == 12 else date(first.year, first.month + 1, 1)


def day_range(day: date) -> DateRange:
    return DateRange(day, day + timedelta(days=1))


def month_range(day: date) -> DateRange:
    """The whole month that contains `day`."""
    return DateRange(month_start(day), next_month_start(day))


def year_range(year: int) -> DateRange:
    return DateRange(date(year, 1, 1), date(year + 1, 1, 1))


def aligned_range(grain: Grain, first: date, last: date) -> DateRange:
    """The smallest range of whole `grain`s that covers `first..last` (both included)."""
    if grain == "day":
        return DateRange(first, last + timedelta(days=1))
    if grain == "month":
        return DateRange(month_start(first), next_month_start(last))
    return DateRange(date(first.year, 1, 1), date(last.year + 1, 1, 1))


def contiguous_runs(days: Iterable[date]) -> list[DateRange]:
    """Distinct days folded into runs of consecutive days, so a batch is replaced in a few statements."""
    runs: list[DateRange] = []
    for day in sorted(set(days)):
        if runs and runs[-1].end == day:
            runs[-1] = DateRange(runs[-1].start, day + timedelta(days=1))
        else:
            runs.append(day_range(day))
    return runs


def months_of(days: Iterable[date]) -> list[date]:
    """First days of the distinct months the days fall in, in order."""
    return sorted({month_start(day) for day in days})


def years_of(days: Iterable[date]) -> list[int]:
    return sorted({day.year for day in days})
