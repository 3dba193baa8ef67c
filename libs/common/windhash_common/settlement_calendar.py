"""GB settlement periods: half hours of the Europe/London settlement day, 46, 48 or 50 of them.

A settlement day runs from local midnight to local midnight, so the spring clock change gives a 23-hour day
(46 periods) and the autumn one a 25-hour day (50 periods). Period 1 starts at local midnight; every period
lasts exactly 30 minutes of real (UTC) time, which is why period P starts at midnight + (P-1) × 30 min UTC.
"""

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
PERIOD = timedelta(minutes=30)


# Kept per date: every event is checked against its day's start and length several times (the ingestor's
# rule and event, the calculator's decode), each a Europe/London conversion. A datetime is immutable, so
# sharing one is safe; a few thousand days cover any backfill.
@lru_cache(maxsize=4096)
def day_start_utc(settlement_date: date) -> datetime:
    return datetime.combine(settlement_date, time(0), tzinfo=LONDON).astimezone(UTC)


@lru_cache(maxsize=4096)
def settlement_periods_in_day(settlement_date: date) -> int:
    length = day_start_utc(settlement_date + timedelta(days=1)) - day_start_utc(settlement_date)
    return int(length / PERIOD)


def period_start_utc(settlement_date: date, settlement_period: int) -> datetime:
    check_period(settlement_date, settlement_period)
    return day_start_utc(settlement_date) + (settlement_period - 1) * PERIOD


def check_period(settlement_date: date, settlement_period: int) -> None:
    periods = settlement_periods_in_day(settlement_date)
    if not 1 <= settlement_period <= periods:
        raise ValueError(
            f"settlement period {settlement_period} does not exist on {settlement_date.isoformat()}: "
            f"that day has periods 1 to {periods}"
        )


def settlement_periods(settlement_date: date) -> range:
    return range(1, settlement_periods_in_day(settlement_date) + 1)


def dates_between(first: date, last: date) -> Iterator[date]:
    """Every date from `first` to `last`, both included."""
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def settlement_date_of(instant: datetime) -> date:
    """The settlement date an instant belongs to (its Europe/London calendar date)."""
    return instant.astimezone(LONDON).date()


def period_has_ended(settlement_date: date, settlement_period: int, now: datetime) -> bool:
    """Whether the period is over at `now`: Elexon has nothing for a period before it ends."""
    return period_start_utc(settlement_date, settlement_period) + PERIOD <= now
