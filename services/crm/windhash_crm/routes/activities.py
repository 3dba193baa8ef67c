"""/api/v1/crm/activities and /api/v1/crm/reminders: calls, emails, meetings and notes on leads and deals
(filters, search, CSV), and the caller's own reminders that have come due."""

from datetime import datetime
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import Response
from windhash_common.access.enforcement import CurrentIdentity
from windhash_common.tabular import FormatParam

from windhash_crm.models.activities import ActivityCreate, ActivityKind, ActivityOut, ActivityUpdate
from windhash_crm.models.fields import Limit, Offset, Search
from windhash_crm.operations import activities as operations
from windhash_crm.queries import activities as queries
from windhash_crm.routes.common import (
    LIST_RESPONSES,
    PREFIX,
    RESPONSES,
    changed,
    listed,
    reading,
    visible_row,
)

router = APIRouter(prefix=PREFIX, tags=["crm activities"])


@router.get(
    "/activities",
    response_model=list[ActivityOut],
    responses=LIST_RESPONSES,
    summary="Activities, by due time",
)
async def list_activities(
    request: Request,
    identity: CurrentIdentity,
    output_format: FormatParam = None,
    lead_id: int | None = None,
    deal_id: int | None = None,
    kind: ActivityKind | None = None,
    owner_id: UUID | None = None,
    open: bool | None = None,
    due_before: datetime | None = None,
    q: Search = None,
    limit: Limit = 200,
    offset: Offset = 0,
) -> list[ActivityOut] | Response:
    where = queries.ActivityFilter(lead_id, deal_id, kind, owner_id, open, due_before, None, q, limit, offset)
    async with reading(request, identity) as connection:
        rows = await queries.list_activities(connection, where)
    items = [ActivityOut.model_validate(dict(row)) for row in rows]
    return await listed(request, output_format, items, "crm-activities")


@router.post(
    "/activities", response_model=ActivityOut, status_code=201, responses=RESPONSES, summary="Add one"
)
async def create_activity(body: ActivityCreate, request: Request, identity: CurrentIdentity) -> ActivityOut:
    row = await changed(request, identity, operations.create_activity, body)
    return ActivityOut.model_validate(dict(row))


@router.get(
    "/activities/{activity_id}", response_model=ActivityOut, responses=RESPONSES, summary="One activity"
)
async def read_activity(activity_id: int, request: Request, identity: CurrentIdentity) -> ActivityOut:
    row = await visible_row(request, identity, queries.find_activity, activity_id, "activity")
    return ActivityOut.model_validate(dict(row))


@router.patch(
    "/activities/{activity_id}",
    response_model=ActivityOut,
    responses=RESPONSES,
    summary="Change an activity, complete it or open it again",
)
async def update_activity(
    activity_id: int, body: ActivityUpdate, request: Request, identity: CurrentIdentity
) -> ActivityOut:
    row = await changed(request, identity, operations.update_activity, activity_id, body)
    return ActivityOut.model_validate(dict(row))


@router.get(
    "/reminders",
    response_model=list[ActivityOut],
    responses=LIST_RESPONSES,
    summary="My open activities whose reminder has come (the reminder job fired it)",
)
async def my_reminders(
    request: Request, identity: CurrentIdentity, output_format: FormatParam = None
) -> list[ActivityOut] | Response:
    where = queries.ActivityFilter(owner_id=identity.user_id, reminded=True)
    async with reading(request, identity) as connection:
        rows = await queries.list_activities(connection, where)
    items = [ActivityOut.model_validate(dict(row)) for row in rows]
    return await listed(request, output_format, items, "crm-reminders")
