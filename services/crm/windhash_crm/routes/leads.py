"""/api/v1/crm/leads: list (filters, search, CSV), create, read, change, duplicates, convert into a deal.
Whose leads: PostgreSQL's row-level security (staff their own, admins and owners all), not these queries."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from windhash_common.access.enforcement import CurrentIdentity
from windhash_common.http_errors import NotFound
from windhash_common.tabular import FormatParam

from windhash_crm.domain.scoring import LeadSource, LeadStatus
from windhash_crm.models.deals import DealOut
from windhash_crm.models.fields import Limit, Offset, Search
from windhash_crm.models.leads import DuplicateOut, LeadConvert, LeadCreate, LeadOut, LeadUpdate
from windhash_crm.operations import leads as operations
from windhash_crm.queries import deals as deal_queries
from windhash_crm.queries import leads as queries
from windhash_crm.routes.common import (
    LIST_RESPONSES,
    PREFIX,
    RESPONSES,
    changed,
    changing,
    listed,
    reading,
    visible_row,
)

router = APIRouter(prefix=f"{PREFIX}/leads", tags=["crm leads"])


@router.get("", response_model=list[LeadOut], responses=LIST_RESPONSES, summary="Leads, best score first")
async def list_leads(
    request: Request,
    identity: CurrentIdentity,
    output_format: FormatParam = None,
    status: LeadStatus | None = None,
    source: LeadSource | None = None,
    owner_id: UUID | None = None,
    min_score: Annotated[int | None, Query(ge=0, le=100)] = None,
    q: Search = None,
    limit: Limit = 200,
    offset: Offset = 0,
) -> list[LeadOut] | Response:
    where = queries.LeadFilter(status, source, owner_id, min_score, q, limit, offset)
    async with reading(request, identity) as connection:
        rows = await queries.list_leads(connection, where)
    items = [LeadOut.model_validate(dict(row)) for row in rows]
    return await listed(request, output_format, items, "crm-leads")


@router.post("", response_model=LeadOut, status_code=201, responses=RESPONSES, summary="A new lead")
async def create_lead(body: LeadCreate, request: Request, identity: CurrentIdentity) -> LeadOut:
    row = await changed(request, identity, operations.create_lead, body)
    return LeadOut.model_validate(dict(row))


@router.get("/{lead_id}", response_model=LeadOut, responses=RESPONSES, summary="One lead")
async def read_lead(lead_id: int, request: Request, identity: CurrentIdentity) -> LeadOut:
    row = await visible_row(request, identity, queries.find_lead, lead_id, "lead")
    return LeadOut.model_validate(dict(row))


@router.patch("/{lead_id}", response_model=LeadOut, responses=RESPONSES, summary="Change a lead")
async def update_lead(lead_id: int, body: LeadUpdate, request: Request, identity: CurrentIdentity) -> LeadOut:
    row = await changed(request, identity, operations.update_lead, lead_id, body)
    return LeadOut.model_validate(dict(row))


@router.get(
    "/{lead_id}/duplicates",
    response_model=list[DuplicateOut],
    responses=LIST_RESPONSES,
    summary="Leads of any owner with the same email or company (whose, and their status only)",
)
async def lead_duplicates(
    lead_id: int, request: Request, identity: CurrentIdentity, output_format: FormatParam = None
) -> list[DuplicateOut] | Response:
    async with reading(request, identity) as connection:
        lead = await queries.find_lead(connection, lead_id)
        if lead is None:
            raise NotFound(f"no lead {lead_id} that you may see")
        rows = await queries.duplicates(connection, lead["email_key"], lead["company_key"], lead_id)
    items = [DuplicateOut.model_validate(dict(row)) for row in rows]
    return await listed(request, output_format, items, f"crm-lead-{lead_id}-duplicates")


@router.post(
    "/{lead_id}/convert",
    response_model=DealOut,
    status_code=201,
    responses=RESPONSES,
    summary="Convert the lead into a deal (in discovery; the deal keeps the link)",
)
async def convert_lead(
    lead_id: int, body: LeadConvert, request: Request, identity: CurrentIdentity
) -> DealOut:
    async with changing(request, identity) as (connection, ctx):
        deal_id = await operations.convert_lead(connection, ctx, lead_id, body)
        deal = await deal_queries.find_deal(connection, deal_id)
    return DealOut.model_validate(dict(deal or {}))
