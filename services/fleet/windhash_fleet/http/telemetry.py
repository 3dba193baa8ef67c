"""A miner's telemetry as a chart series (downsampled to at most `fleet_series_max_points` buckets), its
hourly rollups, and the fleet overview the dashboard's fleet page draws."""

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Query, Request
from windhash_common.access.enforcement import CurrentIdentity
from windhash_common.tabular import CSV_RESPONSES, FormatParam, csv_table, wants_csv

from windhash_fleet import fleet_queries as queries
from windhash_fleet import rollup_figures
from windhash_fleet.http.context import PREFIX, End, NotVisible, Start, as_caller, period, settings_of
from windhash_fleet.http.sites import visible_sites
from windhash_fleet.http_models import (
    FleetCounts,
    FleetHour,
    FleetOverview,
    MinerSeries,
    RankedMiner,
    RollupFigures,
    SeriesPoint,
)

router = APIRouter(tags=["telemetry"])
RAW_SERIES_MAX = timedelta(days=31)
RANKED = 5


async def _miner_id(connection: asyncpg.Connection, serial: str) -> int:
    miner_id = await connection.fetchval(queries.MINER_ID, serial)
    if miner_id is None:
        raise NotVisible(f"miner {serial}")
    return int(miner_id)


@router.get(f"{PREFIX}/miners/{{serial}}/telemetry", response_model=MinerSeries, responses=CSV_RESPONSES)
async def miner_series(
    serial: str,
    identity: CurrentIdentity,
    request: Request,
    start: Start = None,
    end: End = None,
    points: Annotated[
        int | None, Query(ge=1, description="Buckets wanted; default and most: the setting.")
    ] = None,
    output: FormatParam = None,
) -> Any:
    """The readings of `start`..`end` (at most 31 days of raw readings; the hourly rollups hold the rest) in
    equal buckets: mean hashrate and power, hottest temperature, readings per bucket."""
    first, last = period(start, end, timedelta(days=1))
    first, last = period(first, min(last, first + RAW_SERIES_MAX), timedelta(days=1))
    most = settings_of(request).fleet_series_max_points
    bucket = max(1, math.ceil((last - first).total_seconds() / min(points or most, most)))
    async with as_caller(request, identity) as connection:
        miner_id = await _miner_id(connection, serial)
        rows = await connection.fetch(queries.MINER_SERIES, miner_id, first, last, bucket)
    series = [SeriesPoint(**dict(row)) for row in rows]
    if wants_csv(request, output):
        return await csv_table(series, f"{serial}-telemetry", {"serial_number": serial})
    return MinerSeries(serial_number=serial, start=first, end=last, bucket_seconds=bucket, points=series)


@router.get(
    f"{PREFIX}/miners/{{serial}}/rollups", response_model=list[RollupFigures], responses=CSV_RESPONSES
)
async def miner_rollups(
    serial: str,
    identity: CurrentIdentity,
    request: Request,
    start: Start = None,
    end: End = None,
    output: FormatParam = None,
) -> Any:
    first, last = period(start, end, timedelta(days=1))
    interval = settings_of(request).fleet_poll_interval_s
    async with as_caller(request, identity) as connection:
        miner_id = await _miner_id(connection, serial)
        rows = await connection.fetch(rollup_figures.MINER_HOURS, interval, miner_id, first, last)
    figures = [RollupFigures(**dict(row)) for row in rows]
    return await csv_table(figures, f"{serial}-hours") if wants_csv(request, output) else figures


@router.get(f"{PREFIX}/overview", response_model=FleetOverview)
async def overview(identity: CurrentIdentity, request: Request) -> FleetOverview:
    """The fleet as the caller sees it (a client: its own miners): power now against the sites'
    capacity, miners by status, the hottest and least efficient miners now, the last 24 hours' hashrate."""
    interval = settings_of(request).fleet_poll_interval_s
    since = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=23)
    async with as_caller(request, identity) as connection:
        sites = await visible_sites(connection, interval, None)
        hottest = await connection.fetch(queries.HOTTEST, interval, RANKED)
        least = await connection.fetch(queries.LEAST_EFFICIENT, interval, RANKED)
        hours = await connection.fetch(rollup_figures.FLEET_HASHRATE_HOURS, interval, since)
    counts = FleetCounts(
        **{field: sum(getattr(site, field) for site in sites) for field in FleetCounts.model_fields}
    )
    return FleetOverview(
        poll_interval_s=interval,
        power_now_kw=sum((site.power_now_kw for site in sites), Decimal(0)),
        capacity_mw=sum((site.power_capacity_mw for site in sites), Decimal(0)),
        hashrate_now_ths=sum((site.hashrate_now_ths for site in sites), Decimal(0)),
        counts=counts,
        sites=sites,
        hottest=[RankedMiner(**dict(row)) for row in hottest],
        least_efficient=[RankedMiner(**dict(row)) for row in least],
        hashrate_by_hour=[FleetHour(**dict(row)) for row in hours],
    )
