"""GET /api/v1/series/{timeframe}/{value}/models and /difficulty-price/{timeframe}/{value}: chart data the
dashboard draws per miner model, and the difficulty and BTC price each day's BTC was computed with."""

from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from windhash_api.database import Pool
from windhash_api.errors import InvalidParameter
from windhash_api.models.common import TimeframeInfo
from windhash_api.models.model_series import (
    DifficultyPrice,
    DifficultyPriceDay,
    ModelSeries,
    ModelSeriesPoint,
)
from windhash_api.queries.model_series import btc_by_model, difficulty_and_price
from windhash_api.queries.references import check_filters
from windhash_api.route_inputs import MiningAsked, UnfilteredAsked
from windhash_api.routes import API_PREFIX, ERROR_AND_CSV_RESPONSES
from windhash_api.routes.series import DAY_POINTS_BY_DEFAULT, MAX_DAY_POINTS
from windhash_api.tabular import csv_table
from windhash_api.timeframes import Timeframe, TimeframeKind

router = APIRouter(prefix=API_PREFIX, tags=["mining"])


class ModelBucket(StrEnum):
    day = "day"
    month = "month"


ModelBucketParam = Annotated[
    ModelBucket | None, Query(description="day or month; default day up to a quarter, month beyond")
]


def choose_model_bucket(span: Timeframe, asked: ModelBucket | None) -> ModelBucket:
    if asked is None:
        long = span.kind is TimeframeKind.yearly or span.days > DAY_POINTS_BY_DEFAULT
        return ModelBucket.month if long else ModelBucket.day
    if asked is ModelBucket.day and span.days > MAX_DAY_POINTS:
        raise InvalidParameter(
            f"{span.days} day points are more than the {MAX_DAY_POINTS} one series may hold", "send by=month"
        )
    return asked


@router.get(
    "/series/{timeframe}/{value}/models",
    response_model=ModelSeries,
    responses=ERROR_AND_CSV_RESPONSES,
    summary="BTC and its value per miner model, day by day or month by month",
)
async def get_model_series(
    pool: Pool, asked: MiningAsked, by: ModelBucketParam = None
) -> ModelSeries | Response:
    span, filters = asked.span, asked.filters
    bucket = choose_model_bucket(span, by)
    async with pool.acquire() as connection:
        await check_filters(connection, filters)
        rows = await btc_by_model(
            connection,
            span.first,
            span.last,
            bucket.value,
            filters.miner_model,
            filters.lead_party,
            filters.bm_unit,
        )
    points = [ModelSeriesPoint.model_validate(dict(row)) for row in rows]
    if asked.csv:
        return await csv_table(points, f"series-models-{span.kind}-{span.label}", {"by": bucket.value})
    return ModelSeries(timeframe=TimeframeInfo.of(span), filters=filters, by=bucket.value, points=points)


@router.get(
    "/difficulty-price/{timeframe}/{value}",
    response_model=DifficultyPrice,
    responses=ERROR_AND_CSV_RESPONSES,
    summary="Each day's network difficulty (as its settlement periods used it) and BTC price",
)
async def get_difficulty_price(pool: Pool, asked: UnfilteredAsked) -> DifficultyPrice | Response:
    span = asked.span
    async with pool.acquire() as connection:
        rows = await difficulty_and_price(connection, span.first, span.last)
    days = [DifficultyPriceDay.model_validate(dict(row)) for row in rows]
    if asked.csv:
        return await csv_table(days, f"difficulty-price-{span.kind}-{span.label}")
    return DifficultyPrice(timeframe=TimeframeInfo.of(span), days=days)
