"""Wind output per settlement period, from two Elexon datasets (issue #21, item 11): the generation outturn
by fuel type (`/datasets/FUELHH`, fuel WIND: transmission-metered wind) and the actual wind and solar
generation (`/generation/actual/per-type/wind-and-solar`, AGWS: offshore and onshore wind), a day per
request, into `wind_generation` (one row per period, replaced on every fetch).

A row windhash cannot store (a figure that is not a finite MW from 0 to 100,000, a period the day does not
have) is skipped with its reason and the rest of the day is stored; a fetch error fails that day, never
reads as "no wind". Either is recorded in `wind_output_problems` (migration 1850; the API's status lists
them) and counted in the ingestor's metrics; a day fetched again replaces its problems. `windhash ingest
wind-output` fetches any range; the ingestor's follow mode keeps today and yesterday current. What the
curtailed share is, and why both datasets, is in docs/CONTEXT_FIGURES.md.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import asyncpg
from windhash_common.input_values import InputRefused, bounded_decimal
from windhash_common.settlement_calendar import dates_between, settlement_periods_in_day

from windhash_ingestor import metrics
from windhash_ingestor.elexon_client import ElexonClient, ElexonFetchError, ElexonResponse

MW_MAX = Decimal(100_000)
WIND_PSR_TYPES = {"Wind Offshore": "offshore", "Wind Onshore": "onshore"}


@dataclass
class PeriodWind:
    metered_mw: Decimal | None = None
    offshore_mw: Decimal | None = None
    onshore_mw: Decimal | None = None


@dataclass
class DayWind:
    settlement_date: date
    periods: dict[int, PeriodWind] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    synthetic: bool = False


@dataclass(frozen=True)
class WindOutputReport:
    days: int
    periods: int
    skipped: list[str]
    failed: list[str]


def _rows(response: ElexonResponse) -> list[Any]:
    body = json.loads(response.body)
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list):
        raise ValueError(f"GET {response.url}: no `data` array")
    return data


def _period(row: dict[str, Any], day: date) -> int:
    if row.get("settlementDate") != day.isoformat():
        raise InputRefused(f"settlementDate {row.get('settlementDate')!r} is not {day}")
    period = row.get("settlementPeriod")
    if (
        not isinstance(period, int)
        or isinstance(period, bool)
        or not 1 <= period <= settlement_periods_in_day(day)
    ):
        raise InputRefused(f"{day} has no settlement period {period!r}")
    return period


def _mw(value: object, what: str) -> Decimal:
    # Metering noise around zero (a fraction of a MW below it) reads as no output; below -1 MW is refused.
    return bounded_decimal(value, what, above=Decimal(-1), at_most=MW_MAX, unit="MW").max(Decimal(0))


def _read(day_wind: DayWind, rows: list[Any], read_row: Callable[[dict[str, Any], PeriodWind], bool]) -> None:
    """Each row through `read_row`, which says whether it held wind; a period is kept only for a wind row
    read whole (a refused row leaves what the period held)."""
    for row in rows:
        try:
            if not isinstance(row, dict):
                raise InputRefused("a row is not an object")
            period = _period(row, day_wind.settlement_date)
            current = day_wind.periods.get(period, PeriodWind())
            if read_row(row, current):
                day_wind.periods[period] = current
        except InputRefused as refusal:
            day_wind.skipped.append(f"{day_wind.settlement_date}: {refusal}"[:300])


def read_fuel_outturn(day_wind: DayWind, rows: list[Any]) -> None:
    """FUELHH rows: the WIND row of each period."""

    def read_row(row: dict[str, Any], period: PeriodWind) -> bool:
        if row.get("fuelType") != "WIND":
            return False
        period.metered_mw = _mw(row.get("generation"), "FUELHH WIND generation")
        return True

    _read(day_wind, rows, read_row)


def read_wind_and_solar(day_wind: DayWind, rows: list[Any]) -> None:
    """AGWS rows: offshore and onshore wind of each period (solar is not wind)."""

    def read_row(row: dict[str, Any], period: PeriodWind) -> bool:
        kind = WIND_PSR_TYPES.get(str(row.get("psrType")))
        if kind is None:
            return False
        setattr(period, f"{kind}_mw", _mw(row.get("quantity"), f"AGWS {row.get('psrType')} quantity"))
        return True

    _read(day_wind, rows, read_row)


async def fetch_day(client: ElexonClient, day: date) -> DayWind:
    """Both datasets for one settlement date (ElexonFetchError or ValueError when either cannot be read)."""
    text = day.isoformat()
    fuel = await client.get(
        f"/datasets/FUELHH?settlementDateFrom={text}&settlementDateTo={text}&fuelType=WIND", "fuelhh"
    )
    wind_and_solar = await client.get(
        f"/generation/actual/per-type/wind-and-solar?from={text}&to={text}"
        "&settlementPeriodFrom=1&settlementPeriodTo=50",
        "wind_and_solar",
    )
    day_wind = DayWind(day, synthetic=fuel.synthetic or wind_and_solar.synthetic)
    read_fuel_outturn(day_wind, _rows(fuel))
    read_wind_and_solar(day_wind, _rows(wind_and_solar))
    return day_wind


_UPSERT = """
INSERT INTO wind_generation AS w (settlement_date, settlement_period, metered_wind_mw, offshore_wind_mw,
                                  onshore_wind_mw, synthetic)
SELECT $1, p, m, o, n, $6
FROM unnest($2::smallint[], $3::numeric[], $4::numeric[], $5::numeric[]) AS u(p, m, o, n)
ON CONFLICT (settlement_date, settlement_period) DO UPDATE SET
    metered_wind_mw = EXCLUDED.metered_wind_mw, offshore_wind_mw = EXCLUDED.offshore_wind_mw,
    onshore_wind_mw = EXCLUDED.onshore_wind_mw, synthetic = EXCLUDED.synthetic, fetched_at = now()
"""


_REPLACE_PROBLEMS = (
    "DELETE FROM wind_output_problems WHERE settlement_date = $1",
    "INSERT INTO wind_output_problems (settlement_date, problem_no, kind, detail)"
    " SELECT $1, n - 1, $2, d FROM unnest($3::text[]) WITH ORDINALITY AS u(d, n)",
)
PROBLEM_MAX = 300  # characters of a problem's detail (the column's bound)


async def _replace_problems(connection: asyncpg.Connection, day: date, kind: str, details: list[str]) -> None:
    delete, insert = _REPLACE_PROBLEMS
    await connection.execute(delete, day)
    if details:
        await connection.execute(insert, day, kind, [detail[:PROBLEM_MAX] for detail in details])


async def store_day(pool: asyncpg.Pool, day_wind: DayWind) -> int:
    """Replace the day's periods (a period neither dataset had keeps its stored row) and its problems (the
    rows skipped now), in one transaction; the periods written."""
    periods = sorted(day_wind.periods)
    rows = [day_wind.periods[period] for period in periods]
    async with pool.acquire() as connection, connection.transaction():
        await connection.execute(
            _UPSERT,
            day_wind.settlement_date,
            periods,
            [row.metered_mw for row in rows],
            [row.offshore_mw for row in rows],
            [row.onshore_mw for row in rows],
            day_wind.synthetic,
        )
        await _replace_problems(connection, day_wind.settlement_date, "row_skipped", day_wind.skipped)
    return len(periods)


async def note_failed_day(pool: asyncpg.Pool, day: date, reason: str) -> None:
    """The day's fetch failed: its stored periods stay, its problems become this failure."""
    async with pool.acquire() as connection, connection.transaction():
        await _replace_problems(connection, day, "day_failed", [reason])


async def ingest_wind_output(
    client: ElexonClient,
    pool: asyncpg.Pool,
    first: date,
    last: date,
    on_day: Callable[[], None] | None = None,
) -> WindOutputReport:
    """Fetch and store every day of `first..last`, one day at a time; a day that fails is reported."""
    periods, skipped, failed = 0, [], []
    for day in dates_between(first, last):
        try:
            day_wind = await fetch_day(client, day)
        except (ElexonFetchError, ValueError, RecursionError) as error:
            failed.append(f"{day}: {error}"[:PROBLEM_MAX])
            await note_failed_day(pool, day, failed[-1])
            metrics.WIND_OUTPUT_DAYS.labels("failed").inc()
        else:
            periods += await store_day(pool, day_wind)
            skipped.extend(day_wind.skipped)
            metrics.WIND_OUTPUT_DAYS.labels("stored").inc()
            metrics.WIND_OUTPUT_ROWS_SKIPPED.inc(len(day_wind.skipped))
        if on_day is not None:
            on_day()
    return WindOutputReport((last - first).days + 1, periods, skipped, failed)
