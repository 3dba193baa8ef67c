"""GET /api/v1/standing/bm-units/… and /standing/lead-parties/…: one farm's or one lead party's rank."""

from collections.abc import Awaitable, Callable
from datetime import date
from typing import TypeVar

import asyncpg
from fastapi import APIRouter
from fastapi.responses import Response

from windhash_api.database import Pool
from windhash_api.figures import per_mwh
from windhash_api.models.common import Filters, TimeframeInfo
from windhash_api.models.standing import BmUnitStanding, LeadPartyStanding
from windhash_api.params import BmUnitRequired, LeadPartyRequired
from windhash_api.queries.references import check_filters
from windhash_api.queries.standing import bm_unit_standing, lead_party_standing
from windhash_api.route_inputs import Csv, Span
from windhash_api.routes import API_PREFIX, ERROR_AND_CSV_RESPONSES
from windhash_api.routes.rankings import OrderParam, RankOrder
from windhash_api.tabular import csv_table
from windhash_api.timeframes import Timeframe

router = APIRouter(prefix=API_PREFIX, tags=["rankings"])


StandingQuery = Callable[[asyncpg.Connection, date, date, str, str], Awaitable[asyncpg.Record]]
Standing = TypeVar("Standing", BmUnitStanding, LeadPartyStanding)


async def _standing(
    pool: Pool,
    span: Timeframe,
    order_by: RankOrder,
    filters: Filters,
    query: StandingQuery,
    subject: str,
    model: type[Standing],
) -> Standing:
    """The subject's (a known farm's or lead party's) rank and totals in `span`, as `model`."""
    async with pool.acquire() as connection:
        await check_filters(connection, filters)
        row = await query(connection, span.first, span.last, subject, order_by.value)
    return model(
        timeframe=TimeframeInfo.of(span),
        order_by=order_by.value,
        cashflow_gbp_per_mwh=per_mwh(row["cashflow_gbp"], row["energy_mwh"]),
        **dict(row),
    )


@router.get(
    "/standing/bm-units/{timeframe}/{value}",
    response_model=BmUnitStanding,
    responses=ERROR_AND_CSV_RESPONSES,
    summary="One BM unit's rank among all (and within its lead party) in a timeframe, with its totals",
)
async def get_bm_unit_standing(
    pool: Pool,
    span: Span,
    csv: Csv,
    bm_unit: BmUnitRequired,
    order_by: OrderParam = RankOrder.energy_mwh,
) -> BmUnitStanding | Response:
    filters = Filters(bm_unit=bm_unit)
    standing = await _standing(pool, span, order_by, filters, bm_unit_standing, bm_unit, BmUnitStanding)
    if csv:
        return await csv_table([standing], f"standing-{bm_unit}-{span.kind}-{span.label}")
    return standing


@router.get(
    "/standing/lead-parties/{timeframe}/{value}",
    response_model=LeadPartyStanding,
    responses=ERROR_AND_CSV_RESPONSES,
    summary="One lead party's rank among all in a timeframe, with its totals",
)
async def get_lead_party_standing(
    pool: Pool,
    span: Span,
    csv: Csv,
    lead_party: LeadPartyRequired,
    order_by: OrderParam = RankOrder.energy_mwh,
) -> LeadPartyStanding | Response:
    filters = Filters(lead_party=lead_party)
    standing = await _standing(
        pool, span, order_by, filters, lead_party_standing, lead_party, LeadPartyStanding
    )
    if csv:
        return await csv_table([standing], f"standing-lead-party-{span.kind}-{span.label}")
    return standing
