"""GET /api/v1/bm-units, /bm-units/{code}, /lead-parties and /miner-models: the reference data."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from windhash_api.database import Pool
from windhash_api.errors import ERROR_RESPONSES, NotFound
from windhash_api.models.common import PageInfo
from windhash_api.models.registry import (
    BmUnit,
    BmUnitPage,
    LeadParty,
    LeadPartyPage,
    MinerModel,
    MinerModelList,
)
from windhash_api.params import LeadPartyParam, LimitParam, OffsetParam, SearchParam
from windhash_api.queries import registry
from windhash_api.routes import API_PREFIX, ERROR_AND_CSV_RESPONSES
from windhash_api.tabular import FormatParam, csv_table, wants_csv

router = APIRouter(prefix=API_PREFIX, tags=["registry"])


@router.get(
    "/bm-units",
    response_model=BmUnitPage,
    responses=ERROR_AND_CSV_RESPONSES,
    summary="The wind BM unit registry, a page at a time",
)
async def get_bm_units(
    request: Request,
    pool: Pool,
    lead_party: LeadPartyParam = None,
    search: SearchParam = None,
    limit: LimitParam = 50,
    offset: OffsetParam = 0,
    output_format: FormatParam = None,
) -> BmUnitPage | Response:
    async with pool.acquire() as connection:
        rows, total = await registry.bm_units(connection, lead_party, search, limit, offset)
    items = [BmUnit.model_validate(dict(row)) for row in rows]
    if wants_csv(request, output_format):
        return await csv_table(items, "bm-units")
    return BmUnitPage(page=PageInfo(total=total, limit=limit, offset=offset), items=items)


@router.get(
    "/bm-units/{elexon_bm_unit}",
    response_model=BmUnit,
    responses=ERROR_RESPONSES,
    summary="One wind BM unit by its Elexon code",
)
async def get_bm_unit(
    pool: Pool, elexon_bm_unit: Annotated[str, Path(max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")]
) -> BmUnit:
    async with pool.acquire() as connection:
        row = await registry.bm_unit(connection, elexon_bm_unit)
    if row is None:
        raise NotFound(
            f"no wind BM unit {elexon_bm_unit!r}", "send an Elexon BM unit code as /api/v1/bm-units lists it"
        )
    return BmUnit.model_validate(dict(row))


@router.get(
    "/lead-parties",
    response_model=LeadPartyPage,
    responses=ERROR_AND_CSV_RESPONSES,
    summary="Lead parties of the wind BM units, with their unit count and capacity",
)
async def get_lead_parties(
    request: Request,
    pool: Pool,
    limit: LimitParam = 50,
    offset: OffsetParam = 0,
    output_format: FormatParam = None,
) -> LeadPartyPage | Response:
    async with pool.acquire() as connection:
        rows, total = await registry.lead_parties(connection, limit, offset)
    items = [LeadParty.model_validate({k: v for k, v in row.items() if k != "total"}) for row in rows]
    if wants_csv(request, output_format):
        return await csv_table(items, "lead-parties")
    return LeadPartyPage(page=PageInfo(total=total, limit=limit, offset=offset), items=items)


@router.get(
    "/miner-models",
    response_model=MinerModelList,
    responses=ERROR_AND_CSV_RESPONSES,
    summary="ASIC miner models BTC is computed for",
)
async def get_miner_models(
    request: Request,
    pool: Pool,
    include_inactive: Annotated[bool, Query(description="also list retired models")] = False,
    output_format: FormatParam = None,
) -> MinerModelList | Response:
    async with pool.acquire() as connection:
        rows = await registry.miner_models(connection, active_only=not include_inactive)
    items = [MinerModel.model_validate(dict(row)) for row in rows]
    if wants_csv(request, output_format):
        return await csv_table(items, "miner-models")
    return MinerModelList(items=items)
