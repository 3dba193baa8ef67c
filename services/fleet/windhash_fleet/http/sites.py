"""Sites: their power now against their capacity and their miners by status; creating and changing them
(administrators); a site's rollups by hour or day (staff: they add up every client's miners)."""

from datetime import timedelta
from decimal import Decimal
from typing import Any, Literal

import asyncpg
from fastapi import APIRouter, Request, Response
from windhash_common.access.enforcement import CurrentIdentity
from windhash_common.tabular import CSV_RESPONSES, FormatParam, csv_table, wants_csv

from windhash_fleet import fleet_queries as queries
from windhash_fleet import rollup_figures
from windhash_fleet.http.context import (
    PREFIX,
    End,
    NotVisible,
    Start,
    actor_of,
    as_caller,
    period,
    settings_of,
)
from windhash_fleet.http_models import RollupFigures, SiteView
from windhash_fleet.miner_inputs import SiteCreate, SiteUpdate
from windhash_fleet.site_registry import NotFound, create_site, update_site

router = APIRouter(tags=["sites"])


def site_view(row: asyncpg.Record) -> SiteView:
    capacity_kw = row["power_capacity_mw"] * 1000
    utilisation = (row["power_now_kw"] / capacity_kw * 100).quantize(Decimal("0.01")) if capacity_kw else None
    return SiteView(**dict(row), utilisation_pct=utilisation)


async def visible_sites(
    connection: asyncpg.Connection, interval: float, site_id: int | None
) -> list[SiteView]:
    return [site_view(row) for row in await connection.fetch(queries.SITES, interval, site_id)]


@router.get(f"{PREFIX}/sites", response_model=list[SiteView], responses=CSV_RESPONSES)
async def list_sites(identity: CurrentIdentity, request: Request, output: FormatParam = None) -> Any:
    async with as_caller(request, identity) as connection:
        sites = await visible_sites(connection, settings_of(request).fleet_poll_interval_s, None)
    return await csv_table(sites, "sites") if wants_csv(request, output) else sites


@router.get(f"{PREFIX}/sites/{{site_id}}", response_model=SiteView)
async def get_site(site_id: int, identity: CurrentIdentity, request: Request) -> SiteView:
    async with as_caller(request, identity) as connection:
        sites = await visible_sites(connection, settings_of(request).fleet_poll_interval_s, site_id)
    if not sites:
        raise NotVisible(f"site {site_id}")
    return sites[0]


@router.post(f"{PREFIX}/sites", response_model=SiteView, status_code=201)
async def add_site(new: SiteCreate, identity: CurrentIdentity, request: Request) -> SiteView:
    settings = settings_of(request)
    async with as_caller(request, identity) as connection:
        made = await create_site(connection, settings.topics, actor_of(request, identity), new)
        sites = await visible_sites(connection, settings.fleet_poll_interval_s, made["site_id"])
    return sites[0]


@router.patch(f"{PREFIX}/sites/{{site_id}}", response_model=SiteView)
async def change_site(
    site_id: int, update: SiteUpdate, identity: CurrentIdentity, request: Request
) -> SiteView:
    settings = settings_of(request)
    async with as_caller(request, identity) as connection:
        try:
            await update_site(connection, settings.topics, actor_of(request, identity), site_id, update)
        except NotFound:
            raise NotVisible(f"site {site_id}") from None
        sites = await visible_sites(connection, settings.fleet_poll_interval_s, site_id)
    return sites[0]


@router.get(
    f"{PREFIX}/sites/{{site_id}}/rollups", response_model=list[RollupFigures], responses=CSV_RESPONSES
)
async def site_rollups(
    site_id: int,
    identity: CurrentIdentity,
    request: Request,
    resolution: Literal["hour", "day"] = "hour",
    start: Start = None,
    end: End = None,
    output: FormatParam = None,
) -> Response | list[RollupFigures]:
    first, last = period(start, end, timedelta(days=1 if resolution == "hour" else 30))
    query = rollup_figures.SITE_HOURS if resolution == "hour" else rollup_figures.SITE_DAYS
    interval = settings_of(request).fleet_poll_interval_s
    async with as_caller(request, identity) as connection:
        rows = await connection.fetch(query, interval, site_id, first, last)
    figures = [RollupFigures(**dict(row)) for row in rows]
    return await csv_table(figures, f"site-{site_id}-{resolution}") if wants_csv(request, output) else figures
