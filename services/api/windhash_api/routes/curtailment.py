"""GET /api/v1/curtailment/{date}/periods and /hours: a day's curtailment by settlement period or hour."""

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import TypedDict

from fastapi import APIRouter
from fastapi.responses import Response
from windhash_common.settlement_calendar import LONDON, period_start_utc, settlement_periods_in_day

from windhash_api.clock_hours import clock_hours
from windhash_api.database import Pool
from windhash_api.models.common import Filters
from windhash_api.models.curtailment import (
    HourCurtailment,
    HourCurtailmentDay,
    PeriodCurtailment,
    PeriodCurtailmentDay,
)
from windhash_api.queries.curtailment import curtailment_by_period
from windhash_api.queries.references import check_filters
from windhash_api.route_inputs import DayCurtailmentAsked
from windhash_api.routes import API_PREFIX, ERROR_AND_CSV_RESPONSES
from windhash_api.tabular import csv_table

router = APIRouter(prefix=API_PREFIX, tags=["curtailment"])


@lru_cache(maxsize=4096)
def _period_starts(day: date) -> tuple[tuple[datetime, datetime], ...]:
    """(UTC, London) start of each of the day's periods, index 0 for period 1: a day's never change."""
    starts = (period_start_utc(day, period) for period in range(1, settlement_periods_in_day(day) + 1))
    return tuple((start, start.astimezone(LONDON)) for start in starts)


class _Totals(TypedDict):
    energy_mwh: Decimal
    cashflow_gbp: Decimal


def _totals(parts: Sequence[PeriodCurtailment] | Sequence[HourCurtailment]) -> _Totals:
    """The energy and cashflow of a day's periods, or of an hour's or a day's hours, added up."""
    return {
        "energy_mwh": sum((part.energy_mwh for part in parts), Decimal(0)),
        "cashflow_gbp": sum((part.cashflow_gbp for part in parts), Decimal(0)),
    }


async def _periods(pool: Pool, day: date, filters: Filters) -> list[PeriodCurtailment]:
    starts = _period_starts(day)
    async with pool.acquire() as connection:
        await check_filters(connection, filters)
        rows = await curtailment_by_period(connection, day, len(starts), filters.lead_party, filters.bm_unit)
    periods = []
    for row in rows:
        start_utc, start_local = starts[row["settlement_period"] - 1]
        periods.append(
            PeriodCurtailment(period_start_utc=start_utc, period_start_local=start_local, **dict(row))
        )
    return periods


@router.get(
    "/curtailment/{settlement_date}/periods",
    response_model=PeriodCurtailmentDay,
    responses=ERROR_AND_CSV_RESPONSES,
    summary="One day's curtailment for each of its 46, 48 or 50 settlement periods",
)
async def get_periods(pool: Pool, asked: DayCurtailmentAsked) -> PeriodCurtailmentDay | Response:
    day, filters = asked.day, asked.filters
    periods = await _periods(pool, day, filters)
    if asked.csv:
        return await csv_table(periods, f"curtailment-periods-{day}", {"settlement_date": day})
    return PeriodCurtailmentDay(
        settlement_date=day,
        periods_in_day=len(periods),
        filters=filters,
        periods=periods,
        **_totals(periods),
    )


def _hours(day: date, periods: list[PeriodCurtailment]) -> list[HourCurtailment]:
    by_number = {period.settlement_period: period for period in periods}
    hours = []
    for hour in clock_hours(day):
        members = [by_number[number] for number in hour.periods]
        hours.append(
            HourCurtailment(
                hour_start_local=hour.start_local,
                hour_start_utc=hour.start_utc,
                utc_offset=hour.utc_offset,
                label=hour.label,
                settlement_periods=list(hour.periods),
                record_count=sum(member.record_count for member in members),
                **_totals(members),
            )
        )
    return hours


@router.get(
    "/curtailment/{settlement_date}/hours",
    response_model=HourCurtailmentDay,
    responses=ERROR_AND_CSV_RESPONSES,
    summary="One day's curtailment by Europe/London clock hour (23, 24 or 25 of them)",
)
async def get_hours(pool: Pool, asked: DayCurtailmentAsked) -> HourCurtailmentDay | Response:
    day, filters = asked.day, asked.filters
    hours = _hours(day, await _periods(pool, day, filters))
    if asked.csv:
        return await csv_table(hours, f"curtailment-hours-{day}", {"settlement_date": day})
    return HourCurtailmentDay(
        settlement_date=day,
        hours_in_day=len(hours),
        filters=filters,
        hours=hours,
        **_totals(hours),
    )
