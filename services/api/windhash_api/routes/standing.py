"""GET /api/v1/standing/bm-units/… and /standing/lead-parties/…: one farm's or one lead party's rank."""

from fastapi import APIRouter
from fastapi.responses import Response

from windhash_api.database import Pool
from windhash_api.errors import ERROR_RESPONSES
from windhash_api.figures import per_mwh
from windhash_api.models.common import Filters, TimeframeInfo
from windhash_api.models.standing import BmUnitStanding, LeadPartyStanding
from windhash_api.params import BmUnitRequired, LeadPartyRequired
from windhash_api.queries.references import check_filters
from windhash_api.queries.standing import bm_unit_standing, lead_party_standing
from windhash_api.route_inputs import Csv, Span
from windhash_api.routes import API_PREFIX
from windhash_api.routes.rankings import OrderParam, RankOrder
from windhash_api.tabular import CSV_RESPONSES, csv_table

router = APIRouter(prefix=API_PREFIX, tags=["rankings"])


@router.get(
    "/standing/bm-units/{timeframe}/{value}",
    response_model=BmUnitStanding,
    responses={**ERROR_RESPONSES, **CSV_RESPONSES},
    summary="One BM unit's rank among all (and within its lead party) in a timeframe, with its totals",
)
async def get_bm_unit_standing(
    pool: Pool,
    span: Span,
    csv: Csv,
    bm_unit: BmUnitRequired,
    order_by: OrderParam = RankOrder.energy_mwh,
) -> BmUnitStanding | Response:
    async with pool.acquire() as connection:
        await check_filters(connection, Filters(bm_unit=bm_unit))
        row = await bm_unit_standing(connection, span.first, span.last, bm_unit, order_by.value)
    standing = BmUnitStanding(
        timeframe=TimeframeInfo.of(span),
        order_by=order_by.value,
        cashflow_gbp_per_mwh=per_mwh(row["cashflow_gbp"], row["energy_mwh"]),
        **dict(row),
    )
    if csv:
        return await csv_table([standing], f"standing-{bm_unit}-{span.kind}-{span.label}")
    return standing


@router.get(
    "/standing/lead-parties/{timeframe}/{value}",
    response_model=LeadPartyStanding,
    responses={**ERROR_RESPONSES, **CSV_RESPONSES},
    summary="One lead party's rank among all in a timeframe, with its totals",
)
async def get_lead_party_standing(
    pool: Pool,
    span: Span,
    csv: Csv,
    lead_party: LeadPartyRequired,
    order_by: OrderParam = RankOrder.energy_mwh,
) -> LeadPartyStanding | Response:
    async with pool.acquire() as connection:
        await check_filters(connection, Filters(lead_party=lead_party))
        row = await lead_party_standing(connection, span.first, span.last, lead_party, order_by.value)
    standing = LeadPartyStanding(
        timeframe=TimeframeInfo.of(span),
        order_by=order_by.value,
        cashflow_gbp_per_mwh=per_mwh(row["cashflow_gbp"], row["energy_mwh"]),
        **dict(row),
    )
    if csv:
        return await csv_table([standing], f"standing-lead-party-{span.kind}-{span.label}")
    return standing
