"""Settlement periods grouped into hours of the Europe/London wall clock.

On the spring clock-change day the hour 01:00 does not exist (23 hours, 46 periods); on the autumn one 01:00
happens twice, first at UTC+01:00 then at UTC+00:00 (25 hours, 50 periods). Keying an hour by its UTC start
keeps both.
"""

from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

from windhash_common.settlement_calendar import LONDON, period_start_utc, settlement_periods


@dataclass(frozen=True)
class ClockHour:
    start_utc: datetime
    start_local: datetime
    periods: tuple[int, ...]

    @property
    def utc_offset(self) -> str:
        offset = self.start_local.isoformat()[19:]
        return offset or "+00:00"

    @property
    def label(self) -> str:
        return f"{self.start_local:%H:%M} (UTC{self.utc_offset})"


# A day's hours never change; a cached answer spares ~150 time-zone conversions per request for them.
@lru_cache(maxsize=4096)
def clock_hours(settlement_date: date) -> tuple[ClockHour, ...]:
    by_hour: dict[datetime, list[int]] = {}
    for period in settlement_periods(settlement_date):
        start = period_start_utc(settlement_date, period)
        # UK offsets are whole hours, so the UTC hour and the local hour start together.
        by_hour.setdefault(start.replace(minute=0), []).append(period)
    return tuple(
        ClockHour(start_utc=start, start_local=start.astimezone(LONDON), periods=tuple(periods))
        for start, periods in sorted(by_hour.items())
    )
