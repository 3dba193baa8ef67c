"""/api/v1/crm/deals and /api/v1/crm/pipeline: deals (filters, search, CSV), their stages and history, the
pipeline by stage with the weighted forecast by month, and a won deal's client account."""

from datetime import date
from decimal import Decimal
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import Response
from windhash_common.access.enforcement import CurrentIdentity
from windhash_common.http_errors import NotFound
from windhash_common.tabular import FormatParam, csv_response, flat_row, wants_csv

from windhash_crm.domain import pipeline
from windhash_crm.domain.pipeline import DealFigures, DealStage
from windhash_crm.models.deals import (
    ClientAccountOut,
    ClientAccountRequest,
    DealOut,
    DealUpdate,
    MonthForecastOut,
    PipelineOut,
    StageChangeRequest,
    StageHistoryOut,
    StageTotalOut,
)
from windhash_crm.models.fields import Limit, Offset, Search
from windhash_crm.operations import client_accounts
from windhash_crm.operations import deals as operations
from windhash_crm.queries import deals as queries
from windhash_crm.routes.common import (
    LIST_RESPONSES,
    PREFIX,
    RESPONSES,
    changed,
    listed,
    reading,
    visible_row,
)

router = APIRouter(prefix=PREFIX, tags=["crm deals"])


@router.get(
    "/deals", response_model=list[DealOut], responses=LIST_RESPONSES, summary="Deals, by expected close"
)
async def list_deals(
    request: Request,
    identity: CurrentIdentity,
    output_format: FormatParam = None,
    stage: DealStage | None = None,
    owner_id: UUID | None = None,
    closing_from: date | None = None,
    closing_to: date | None = None,
    open: bool | None = None,
    q: Search = None,
    limit: Limit = 200,
    offset: Offset = 0,
) -> list[DealOut] | Response:
    where = queries.DealFilter(stage, owner_id, closing_from, closing_to, open, q, limit, offset)
    async with reading(request, identity) as connection:
        rows = await queries.list_deals(connection, where)
    return await listed(
        request, output_format, [DealOut.model_validate(dict(row)) for row in rows], "crm-deals"
    )


@router.get("/deals/{deal_id}", response_model=DealOut, responses=RESPONSES, summary="One deal")
async def read_deal(deal_id: int, request: Request, identity: CurrentIdentity) -> DealOut:
    row = await visible_row(request, identity, queries.find_deal, deal_id, "deal")
    return DealOut.model_validate(dict(row))


@router.patch("/deals/{deal_id}", response_model=DealOut, responses=RESPONSES, summary="Change a deal")
async def update_deal(deal_id: int, body: DealUpdate, request: Request, identity: CurrentIdentity) -> DealOut:
    row = await changed(request, identity, operations.update_deal, deal_id, body)
    return DealOut.model_validate(dict(row))


@router.post(
    "/deals/{deal_id}/stage",
    response_model=DealOut,
    responses=RESPONSES,
    summary="Move the deal to a stage (closed_won / closed_lost close it for good)",
)
async def change_stage(
    deal_id: int, body: StageChangeRequest, request: Request, identity: CurrentIdentity
) -> DealOut:
    row = await changed(request, identity, operations.change_stage, deal_id, body)
    return DealOut.model_validate(dict(row))


@router.get(
    "/deals/{deal_id}/stages",
    response_model=list[StageHistoryOut],
    responses=LIST_RESPONSES,
    summary="Every stage the deal entered, in order",
)
async def stage_history(
    deal_id: int, request: Request, identity: CurrentIdentity, output_format: FormatParam = None
) -> list[StageHistoryOut] | Response:
    async with reading(request, identity) as connection:
        if await queries.find_deal(connection, deal_id) is None:
            raise NotFound(f"no deal {deal_id} that you may see")
        rows = await queries.stage_history(connection, deal_id)
    items = [StageHistoryOut.model_validate(dict(row)) for row in rows]
    return await listed(request, output_format, items, f"crm-deal-{deal_id}-stages")


@router.post(
    "/deals/{deal_id}/client-account",
    response_model=ClientAccountOut,
    status_code=201,
    responses=RESPONSES,
    summary="The won deal's client: its organisation and first account, its invoices, its miners by serial",
)
async def create_client_account(
    deal_id: int, body: ClientAccountRequest, request: Request, identity: CurrentIdentity
) -> ClientAccountOut:
    created = await changed(request, identity, client_accounts.create_client_account, deal_id, body)
    return ClientAccountOut.model_validate(created)


@router.get(
    "/pipeline",
    response_model=PipelineOut,
    responses=LIST_RESPONSES,
    summary="Value by stage and the weighted forecast by month (CSV: the forecast)",
)
async def read_pipeline(
    request: Request,
    identity: CurrentIdentity,
    owner_id: UUID | None = None,
    output_format: FormatParam = None,
) -> PipelineOut | Response:
    async with reading(request, identity) as connection:
        rows = await queries.pipeline_figures(connection, owner_id)
    deals = [DealFigures(**dict(row)) for row in rows]
    by_stage = [
        StageTotalOut.model_validate(total, from_attributes=True)
        for total in pipeline.pipeline_by_stage(deals)
    ]
    forecast = [
        MonthForecastOut.model_validate(month, from_attributes=True)
        for month in pipeline.forecast_by_month(deals)
    ]
    if wants_csv(request, output_format):
        rows_out = [flat_row({"table": "stage"}, total) for total in by_stage]
        rows_out += [flat_row({"table": "forecast"}, month) for month in forecast]
        columns = ("table", "stage", "month", "deals", "value_usd", "weighted_usd")
        return csv_response(rows_out, "crm-pipeline", columns)
    open_stages = [total for total in by_stage if total.stage in pipeline.OPEN_STAGES]
    return PipelineOut(
        by_stage=by_stage,
        forecast_by_month=forecast,
        open_value_usd=sum((total.value_usd for total in open_stages), start=Decimal(0)),
        open_weighted_usd=sum((total.weighted_usd for total in open_stages), start=Decimal(0)),
    )
