"""How many settlement periods a span of dates has (46, 48 or 50 a day)."""

from datetime import date
from functools import lru_cache

from windhash_common.settlement_calendar import dates_between, settlement_periods_in_day


@lru_cache(maxsize=4096)
def periods_between(first: date, last: date) -> int:
    return sum(settlement_periods_in_day(day) for day in dates_between(first, last))
