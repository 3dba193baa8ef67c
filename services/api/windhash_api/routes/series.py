"""GET /api/v1/series/{timeframe}/{value}: chart points by settlement period, day or month."""

from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response
from windhash_common.settlement_calendar import settlement_periods_in_day

from windhash_api.database import Pool
from windhash_api.errors import InvalidParameter
from windhash_api.models.common import Filters, TimeframeInfo
from windhash_api.models.mining import Series, SeriesPoint
from windhash_api.queries.references import check_filters
from windhash_api.queries.series import series_by_day, series_by_period
from windhash_api.route_inputs import MiningAsked
from windhash_api.routes import API_PREFIX, ERROR_AND_CSV_RESPONSES
from windhash_api.series_buckets import by_month
from windhash_api.tabular import csv_table
from windhash_api.timeframes import Timeframe, TimeframeKind

router = APIRouter(prefix=API_PREFIX, tags=["mining"])
MAX_DAY_POINTS = 366
# A range up to about a quarter reads best day by day; longer ones month by month.
DAY_POINTS_BY_DEFAULT = 92


class Bucket(StrEnum):
    period = "period"
    day = "day"
    month = "month"


BucketParam = Annotated[
    Bucket | None,
    Query(description="period (daily only), day or month; default period/day/month for daily/monthly/yearly"),
]


def choose_bucket(span: Timeframe, asked: Bucket | None) -> Bucket:
    if asked is None:
        if span.kind is TimeframeKind.daily:
            return Bucket.period
        if span.kind is TimeframeKind.yearly or span.days > DAY_POINTS_BY_DEFAULT:
            return Bucket.month
        return Bucket.day
    if asked is Bucket.period and span.kind is not TimeframeKind.daily:
        raise InvalidParameter(
            "points by settlement period need a single day",
            "send by=day or by=month, or timeframe daily/DATE",
        )
    if asked is Bucket.day and span.days > MAX_DAY_POINTS:
        raise InvalidParameter(
            f"{span.days} day points are more than the {MAX_DAY_POINTS} one series may hold", "send by=month"
        )
    return asked


async def _points(pool: Pool, span: Timeframe, filters: Filters, bucket: Bucket) -> list[SeriesPoint]:
    async with pool.acquire() as connection:
        await check_filters(connection, filters)
        if bucket is Bucket.period:
            rows = await series_by_period(
                connection,
                span.first,
                settlement_periods_in_day(span.first),
                filters.miner_model,
                filters.lead_party,
                filters.bm_unit,
            )
            return [SeriesPoint(**dict(row)) for row in rows]
        rows = await series_by_day(
            connection, span.first, span.last, filters.miner_model, filters.lead_party, filters.bm_unit
        )
    days = [
        SeriesPoint(key=row["day"].isoformat(), **{k: v for k, v in row.items() if k != "day"})
        for row in rows
    ]
    return days if bucket is Bucket.day else by_month(days)


@router.get(
    "/series/{timeframe}/{value}",
    response_model=Series,
    responses=ERROR_AND_CSV_RESPONSES,
    summary="Energy, cashflow and (with a miner model) BTC and its value, point by point for charts",
)
async def get_series(pool: Pool, asked: MiningAsked, by: BucketParam = None) -> Series | Response:
    span, filters = asked.span, asked.filters
    bucket = choose_bucket(span, by)
    points = await _points(pool, span, filters, bucket)
    if asked.csv:
        return await csv_table(points, f"series-{span.kind}-{span.label}", {"by": bucket.value})
    return Series(timeframe=TimeframeInfo.of(span), filters=filters, by=bucket.value, points=points)
