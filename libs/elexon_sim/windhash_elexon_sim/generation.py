"""Synthetic generation outturn, in the shapes of Elexon's Insights API (issue #21, item 11):

- `GET /datasets/FUELHH?settlementDateFrom=&settlementDateTo=[&fuelType=]` → `{"data": [...]}`, one row per
  settlement period and fuel type (`dataset`, `publishTime`, `startTime`, `settlementDate`,
  `settlementPeriod`, `fuelType`, `generation`: average MW over the period, an integer);
- `GET /generation/actual/per-type/wind-and-solar?from=&to=[&settlementPeriodFrom=&settlementPeriodTo=]` →
  `{"data": [...]}`, AGWS rows (`publishTime`, `businessType`, `psrType` Wind Offshore / Wind Onshore /
  Solar, `quantity` MW, `startTime`, `settlementDate`, `settlementPeriod`).

Figures are deterministic per seed, date and period: wind follows a seasonal swing and a slow daily wave
(higher in winter, at night), every other fuel a plausible level. Simulation-only: none of it is a model the
ingestor relies on. At most `MAX_RANGE_DAYS` days per request, as a bounded API would answer.
"""

import hashlib
import math
from datetime import UTC, date, datetime, timedelta
from typing import Any

from windhash_common.settlement_calendar import dates_between, period_start_utc, settlement_periods

MAX_RANGE_DAYS = 7
OTHER_FUELS = {"CCGT": 9000, "NUCLEAR": 4500, "BIOMASS": 1800, "NPSHYD": 300, "INTFR": 1500}


def _noise(seed: int, *parts: object) -> float:
    """A number in [0, 1), the same for the same seed and parts."""
    digest = hashlib.blake2b(repr((seed, *parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def wind_mw(seed: int, day: date, period: int) -> tuple[float, float]:
    """Offshore and onshore wind output, MW, averaged over the period."""
    season = 1 + 0.45 * math.cos(2 * math.pi * (day.timetuple().tm_yday - 15) / 365)
    wave = 1 + 0.25 * math.cos(2 * math.pi * period / 48)
    weather = 0.35 + 1.3 * _noise(seed, "wind", day.isoformat())
    total = 7000 * season * wave * weather * (0.9 + 0.2 * _noise(seed, "wind", day.isoformat(), period))
    return round(total * 0.58, 1), round(total * 0.42, 1)


def _published(day: date, period: int) -> tuple[str, str]:
    start = period_start_utc(day, period)
    return (start + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ"), start.strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )


def fuelhh_rows(seed: int, first: date, last: date, fuel_type: str | None) -> list[dict[str, Any]]:
    rows = []
    for day in dates_between(first, last):
        for period in settlement_periods(day):
            published, start = _published(day, period)
            offshore, onshore = wind_mw(seed, day, period)
            levels = {"WIND": offshore + onshore, **OTHER_FUELS}
            for fuel, level in levels.items():
                if fuel_type is not None and fuel != fuel_type:
                    continue
                value = level if fuel == "WIND" else level * (0.8 + 0.4 * _noise(seed, fuel, day, period))
                rows.append(
                    {
                        "dataset": "FUELHH",
                        "publishTime": published,
                        "startTime": start,
                        "settlementDate": day.isoformat(),
                        "settlementPeriod": period,
                        "fuelType": fuel,
                        "generation": round(value),
                    }
                )
    return rows


def wind_and_solar_rows(
    seed: int, first: date, last: date, period_from: int, period_to: int
) -> list[dict[str, Any]]:
    rows = []
    for day in dates_between(first, last):
        for period in settlement_periods(day):
            if not period_from <= period <= period_to:
                continue
            published, start = _published(day, period)
            offshore, onshore = wind_mw(seed, day, period)
            hour = period_start_utc(day, period).astimezone(UTC).hour
            solar = round(max(0.0, 6000 * math.sin(math.pi * (hour - 6) / 12)), 1) if 6 <= hour < 18 else 0.0
            for business, psr, quantity in (
                ("Wind generation", "Wind Offshore", offshore),
                ("Wind generation", "Wind Onshore", onshore),
                ("Solar generation", "Solar", solar),
            ):
                rows.append(
                    {
                        "publishTime": published,
                        "businessType": business,
                        "psrType": psr,
                        "quantity": quantity,
                        "startTime": start,
                        "settlementDate": day.isoformat(),
                        "settlementPeriod": period,
                    }
                )
    return rows


def checked_range(first_text: str | None, last_text: str | None) -> tuple[date, date] | str:
    """The asked range, or why it is refused."""
    try:
        first, last = date.fromisoformat(first_text or ""), date.fromisoformat(last_text or "")
    except ValueError:
        return "send both dates as YYYY-MM-DD"
    if last < first:
        return "the range ends before it starts"
    if (last - first).days + 1 > MAX_RANGE_DAYS:
        return f"at most {MAX_RANGE_DAYS} days per request"
    if first > datetime.now(UTC).date():
        return "no outturn for future dates"
    return first, last
