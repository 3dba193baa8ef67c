"""GET /api/v1/top/bm-units/… and /top/lead-parties/…: who was curtailed most in a timeframe."""

from enum import StrEnum
from typing import Annotated

import asyncpg
from fastapi import APIRouter, Query
from fastapi.responses import Response

from windhash_api.database import Pool
from windhash_api.figures import per_mwh
from windhash_api.models.common import PageInfo, TimeframeInfo
from windhash_api.models.rankings import BmUnitRank, BmUnitRanking, LeadPartyRank, LeadPartyRanking
from windhash_api.params import LimitParam, OffsetParam
from windhash_api.queries.rankings import count_bm_units, count_lead_parties, top_bm_units, top_lead_parties
from windhash_api.queries.references import check_filters
from windhash_api.route_inputs import PartyAsked, UnfilteredAsked
from windhash_api.routes import API_PREFIX, ERROR_AND_CSV_RESPONSES
from windhash_api.tabular import csv_table

router = APIRouter(prefix=API_PREFIX, tags=["rankings"])


class RankOrder(StrEnum):
    energy_mwh = "energy_mwh"
    cashflow_gbp = "cashflow_gbp"
    record_count = "record_count"


OrderParam = Annotated[RankOrder, Query(description="the column ranked on, largest first")]


def _with_per_mwh(row: asyncpg.Record) -> dict[str, object]:
    values = {key: value for key, value in row.items() if key != "total"}
    values["cashflow_gbp_per_mwh"] = per_mwh(row["cashflow_gbp"], row["energy_mwh"])
    return values


@router.get(
    "/top/bm-units/{timeframe}/{value}",
    response_model=BmUnitRanking,
    responses=ERROR_AND_CSV_RESPONSES,
    summary="BM units ranked by curtailed energy (or cashflow) in a timeframe",
)
async def get_top_bm_units(
    pool: Pool,
    asked: PartyAsked,
    order_by: OrderParam = RankOrder.energy_mwh,
    limit: LimitParam = 20,
    offset: OffsetParam = 0,
) -> BmUnitRanking | Response:
    span, filters = asked.span, asked.filters
    lead_party = filters.lead_party
    async with pool.acquire() as connection:
        await check_filters(connection, filters)
        rows = await top_bm_units(
            connection, span.first, span.last, lead_party, order_by.value, limit, offset
        )
        total = (
            rows[0]["total"] if rows else await count_bm_units(connection, span.first, span.last, lead_party)
        )
    items = [BmUnitRank.model_validate(_with_per_mwh(row)) for row in rows]
    info = TimeframeInfo.of(span)
    if asked.csv:
        return await csv_table(items, f"top-bm-units-{span.kind}-{span.label}")
    return BmUnitRanking(
        timeframe=info,
        filters=filters,
        order_by=order_by.value,
        page=PageInfo(total=total, limit=limit, offset=offset),
        items=items,
    )


@router.get(
    "/top/lead-parties/{timeframe}/{value}",
    response_model=LeadPartyRanking,
    responses=ERROR_AND_CSV_RESPONSES,
    summary="Lead parties ranked by curtailed energy (or cashflow) in a timeframe",
)
async def get_top_lead_parties(
    pool: Pool,
    asked: UnfilteredAsked,
    order_by: OrderParam = RankOrder.energy_mwh,
    limit: LimitParam = 20,
    offset: OffsetParam = 0,
) -> LeadPartyRanking | Response:
    span = asked.span
    async with pool.acquire() as connection:
        rows = await top_lead_parties(connection, span.first, span.last, order_by.value, limit, offset)
        total = rows[0]["total"] if rows else await count_lead_parties(connection, span.first, span.last)
    items = [LeadPartyRank.model_validate(_with_per_mwh(row)) for row in rows]
    if asked.csv:
        return await csv_table(items, f"top-lead-parties-{span.kind}-{span.label}")
    return LeadPartyRanking(
        timeframe=TimeframeInfo.of(span),
        order_by=order_by.value,
        page=PageInfo(total=total, limit=limit, offset=offset),
        items=items,
    )
