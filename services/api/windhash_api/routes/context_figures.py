"""GET /api/v1/wind-share/{timeframe}/{value} and /api/v1/co2-avoided/{timeframe}/{value}: the curtailed share
of wind output, and the CO₂ curtailed wind could have avoided (an estimate), per period, day or month."""

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import asyncpg
from fastapi import APIRouter
from fastapi.responses import Response

from windhash_api.context_figures import co2_avoided_t, curtailed_share
from windhash_api.database import Pool, Settings
from windhash_api.models.common import TimeframeInfo
from windhash_api.models.context_figures import Co2Avoided, Co2Point, WindShare, WindSharePoint
from windhash_api.queries.context_figures import wind_share_rows
from windhash_api.route_inputs import UnfilteredAsked
from windhash_api.routes import API_PREFIX, ERROR_AND_CSV_RESPONSES
from windhash_api.routes.series import Bucket, BucketParam, choose_bucket
from windhash_api.tabular import csv_table

router = APIRouter(prefix=API_PREFIX, tags=["context"])
CO2_BASIS = "electricity from gas (CCGT), every curtailed MWh assumed to have displaced one"
METHOD = "docs/CONTEXT_FIGURES.md"


NOTHING: Mapping[str, Any] = {
    "key": "total",
    "curtailed_mwh": Decimal(0),
    "curtailed_with_metered_mwh": Decimal(0),
    "metered_wind_mwh": None,
    "curtailed_with_outturn_mwh": Decimal(0),
    "outturn_wind_mwh": None,
    "periods_with_metered": 0,
}
"""The total of a span with neither curtailment nor output (the grouped query has no row then)."""


def _share_point(row: Mapping[str, Any]) -> WindSharePoint:
    return WindSharePoint(
        key=row["key"],
        curtailed_mwh=row["curtailed_mwh"],
        metered_wind_mwh=row["metered_wind_mwh"],
        curtailed_share_of_metered=curtailed_share(
            row["curtailed_with_metered_mwh"], row["metered_wind_mwh"]
        ),
        outturn_wind_mwh=row["outturn_wind_mwh"],
        curtailed_share_of_outturn=curtailed_share(
            row["curtailed_with_outturn_mwh"], row["outturn_wind_mwh"]
        ),
        periods_with_output=row["periods_with_metered"],
    )


async def _rows(
    pool: Pool, asked: UnfilteredAsked, bucket: Bucket
) -> tuple[asyncpg.Record, list[asyncpg.Record]]:
    span = asked.span
    async with pool.acquire() as connection:
        total = await wind_share_rows(connection, span.first, span.last, None)
        points = await wind_share_rows(connection, span.first, span.last, bucket.value)
    return (total[0] if total else NOTHING), points


@router.get(
    "/wind-share/{timeframe}/{value}",
    response_model=WindShare,
    responses=ERROR_AND_CSV_RESPONSES,
    summary="Curtailed share of wind output (Elexon FUELHH and AGWS wind) by settlement period, day or month",
)
async def get_wind_share(pool: Pool, asked: UnfilteredAsked, by: BucketParam = None) -> WindShare | Response:
    bucket = choose_bucket(asked.span, by)
    total, rows = await _rows(pool, asked, bucket)
    points = [_share_point(row) for row in rows]
    info = TimeframeInfo.of(asked.span)
    if asked.csv:
        return await csv_table(points, f"wind-share-{asked.span.kind}-{asked.span.label}", info)
    return WindShare(timeframe=info, by=bucket.value, total=_share_point(total), points=points)


@router.get(
    "/co2-avoided/{timeframe}/{value}",
    response_model=Co2Avoided,
    responses=ERROR_AND_CSV_RESPONSES,
    summary="Estimated CO₂ curtailed wind could have avoided had it displaced gas, by period, day or month",
)
async def get_co2_avoided(
    pool: Pool, settings: Settings, asked: UnfilteredAsked, by: BucketParam = None
) -> Co2Avoided | Response:
    bucket = choose_bucket(asked.span, by)
    factor = Decimal(str(settings.gas_emissions_t_per_mwh))
    total, rows = await _rows(pool, asked, bucket)

    def point(row: Mapping[str, Any]) -> Co2Point:
        return Co2Point(
            key=row["key"],
            curtailed_mwh=row["curtailed_mwh"],
            co2_avoided_t=co2_avoided_t(row["curtailed_mwh"], factor),
        )

    points = [point(row) for row in rows]
    info = TimeframeInfo.of(asked.span)
    if asked.csv:
        context = {"estimate": True, "emissions_factor_t_per_mwh": factor}
        return await csv_table(points, f"co2-avoided-{asked.span.kind}-{asked.span.label}", info, context)
    return Co2Avoided(
        timeframe=info,
        basis=CO2_BASIS,
        emissions_factor_t_per_mwh=factor,
        method=METHOD,
        by=bucket.value,
        total=point(total),
        points=points,
    )
