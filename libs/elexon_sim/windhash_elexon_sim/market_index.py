"""Elexon's Market Index Data (MID), SYNTHETIC: the half-hourly wholesale price of Great Britain's short-term
markets, as `GET /balancing/pricing/market-index` serves it.

The real endpoint (Insights API) answers `{"data": [...]}` with one row per settlement period and data
provider (`APXMIDP`, `N2EXMIDP`): `startTime`, `dataProvider`, `settlementDate`, `settlementPeriod`, `price`
(£/MWh), `volume` (MWh). It filters by start time, `from` and `to` inclusive, or by settlement date and
period when `settlementPeriodFrom` / `settlementPeriodTo` are given (then `from` / `to` are read as dates),
and by `dataProviders` (both when omitted). Here, as there, N2EX mostly reports no trading (price and volume
0): a client must weight by volume and ignore providers without volume.

SYNTHETIC: prices are drawn per (seed, date, period): a daily shape with a morning and a larger evening peak,
lower on windy days (the same `day_intensity` that drives the synthetic curtailment, so cheap power and
curtailment come together, as in Great Britain), noise, and now and then a negative price on a windy night.
Every response says `"synthetic": true` in its metadata and carries `X-Windhash-Synthetic: true`.
"""

import math
from datetime import UTC, date, datetime, timedelta
from typing import Any

from windhash_common.settlement_calendar import PERIOD, day_start_utc, settlement_periods_in_day

from windhash_elexon_sim.generator import DEFAULT_SEED, day_intensity
from windhash_elexon_sim.units import stable_random

MARKET_INDEX_PATH = "/balancing/pricing/market-index"
PROVIDERS = ("APXMIDP", "N2EXMIDP")
MAX_RANGE_DAYS = 31


class QueryProblem(ValueError):
    """The question was wrong: the field and what to send instead (a 400 in Elexon's problem shape)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def market_price(settlement_date: date, settlement_period: int, seed: int = DEFAULT_SEED) -> float:
    """The APX price of a period, £/MWh (2 decimals)."""
    rng = stable_random(seed, "mid", settlement_date.isoformat(), settlement_period)
    hour = (settlement_period - 1) / 2
    evening = math.exp(-(((hour - 18.0) / 2.5) ** 2))
    morning = math.exp(-(((hour - 8.0) / 2.0) ** 2))
    wind = day_intensity(settlement_date, seed)
    price = 58.0 + 45.0 * evening + 14.0 * morning - 16.0 * wind + rng.gauss(0.0, 7.0)
    if wind > 2.0 and 1.0 <= hour <= 5.0 and rng.random() < 0.3:
        price = -rng.uniform(1.0, 25.0)
    return round(max(-500.0, min(2000.0, price)), 2)


def market_index_rows(
    settlement_date: date, settlement_period: int, seed: int = DEFAULT_SEED
) -> list[dict[str, Any]]:
    rng = stable_random(seed, "mid-volume", settlement_date.isoformat(), settlement_period)
    start = day_start_utc(settlement_date) + (settlement_period - 1) * PERIOD
    common = {
        "startTime": start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "settlementDate": settlement_date.isoformat(),
        "settlementPeriod": settlement_period,
    }
    apx = market_price(settlement_date, settlement_period, seed)
    n2ex_trades = rng.random() < 0.1
    apx_volume = round(rng.uniform(800.0, 3200.0), 3)
    n2ex_price = round(apx + rng.gauss(0, 2), 2) if n2ex_trades else 0.0
    n2ex_volume = round(rng.uniform(5.0, 60.0), 3) if n2ex_trades else 0.0
    return [
        {**common, "dataProvider": "APXMIDP", "price": apx, "volume": apx_volume},
        {**common, "dataProvider": "N2EXMIDP", "price": n2ex_price, "volume": n2ex_volume},
    ]


def _instant(text: str, field: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise QueryProblem(field, f"The value '{text[:40]}' is not a valid date or date-time.") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _period(text: str | None, field: str) -> int | None:
    if text is None:
        return None
    if not text.isdigit() or not 1 <= int(text) <= 50:
        raise QueryProblem(field, "The settlement period should be an integer from 1-50 inclusive.")
    return int(text)


def market_index(
    params: dict[str, str], providers: list[str], seed: int = DEFAULT_SEED
) -> list[dict[str, Any]]:
    """The rows the query asks for, in start time and provider order; QueryProblem for a wrong question."""
    if "from" not in params or "to" not in params:
        raise QueryProblem(
            "from" if "from" not in params else "to", "The from and to parameters are required."
        )
    first, last = _instant(params["from"], "from"), _instant(params["to"], "to")
    period_from = _period(params.get("settlementPeriodFrom"), "settlementPeriodFrom")
    period_to = _period(params.get("settlementPeriodTo"), "settlementPeriodTo")
    unknown = [name for name in providers if name not in PROVIDERS]
    if unknown:
        raise QueryProblem(
            "dataProviders", f"Unknown data provider {unknown[0][:20]!r}: use APXMIDP or N2EXMIDP."
        )
    if last < first:
        raise QueryProblem("to", "The to parameter must not be before from.")
    if last - first > timedelta(days=MAX_RANGE_DAYS):
        raise QueryProblem("to", f"The range may span at most {MAX_RANGE_DAYS} days.")
    wanted = set(providers or PROVIDERS)
    rows: list[dict[str, Any]] = []
    day = first.date() - timedelta(days=1)  # a settlement date starts before its UTC date in summer
    while day <= last.date():
        for period in range(1, settlement_periods_in_day(day) + 1):
            start = day_start_utc(day) + (period - 1) * PERIOD
            after_first = (day, period) >= (first.date(), period_from) if period_from else start >= first
            before_last = (day, period) <= (last.date(), period_to) if period_to else start <= last
            if after_first and before_last:
                rows.extend(
                    row for row in market_index_rows(day, period, seed) if row["dataProvider"] in wanted
                )
        day += timedelta(days=1)
    return rows
