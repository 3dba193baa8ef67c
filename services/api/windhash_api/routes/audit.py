"""/api/v1/audit and /api/v1/login-records: the audit trail and every login attempt, for administrators."""

import json
from ipaddress import ip_address
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import AwareDatetime
from windhash_common.access.enforcement import CurrentIdentity
from windhash_common.access.request_identity import identity_transaction
from windhash_common.accounts.records import (
    MAX_ROWS,
    AuditFilter,
    LoginRecordFilter,
    audit_trail,
    login_records,
)

from windhash_api.database import Pool
from windhash_api.errors import ApiError
from windhash_api.models.accounts import AuditEntry, LoginRecordOut
from windhash_api.routes import API_PREFIX
from windhash_api.routes.users import RESPONSES
from windhash_api.tabular import CSV_RESPONSES, FormatParam, csv_table, wants_csv

router = APIRouter(prefix=API_PREFIX, tags=["audit"])
Text = Annotated[str | None, Query(max_length=320, pattern=r"^[^\x00-\x1f\x7f]*$")]
Limit = Annotated[int, Query(ge=1, le=MAX_ROWS)]


@router.get(
    "/audit",
    response_model=list[AuditEntry],
    responses={**RESPONSES, **CSV_RESPONSES},
    summary="The audit trail, newest first: who changed what, when, before and after",
)
async def get_audit(
    request: Request,
    identity: CurrentIdentity,
    pool: Pool,
    actor: Text = None,
    action: Text = None,
    target_type: Text = None,
    target_id: Text = None,
    since: AwareDatetime | None = None,
    limit: Limit = 100,
    output_format: FormatParam = None,
) -> list[AuditEntry] | Response:
    where = AuditFilter(actor, action, target_type, target_id, since, limit)
    async with identity_transaction(pool, identity) as connection:
        rows = await audit_trail(connection, where)
    items = [
        AuditEntry.model_validate(
            dict(row)
            | {key: None if row[key] is None else json.loads(row[key]) for key in ("before", "after")}
        )
        for row in rows
    ]
    if wants_csv(request, output_format):
        return await csv_table(items, "audit")
    return items


@router.get(
    "/login-records",
    response_model=list[LoginRecordOut],
    responses={**RESPONSES, **CSV_RESPONSES},
    summary="Every login attempt, newest first, with address and location",
)
async def get_login_records(
    request: Request,
    identity: CurrentIdentity,
    pool: Pool,
    email: Text = None,
    ip: Annotated[str | None, Query(max_length=45, pattern=r"^[0-9a-fA-F:.]+$")] = None,
    success: bool | None = None,
    since: AwareDatetime | None = None,
    limit: Limit = 100,
    output_format: FormatParam = None,
) -> list[LoginRecordOut] | Response:
    if ip is not None:
        try:
            ip = str(ip_address(ip))
        except ValueError:
            raise ApiError(422, "invalid_parameter", f"{ip!r} is not an IP address") from None
    where = LoginRecordFilter(email, ip, success, since, limit)
    async with identity_transaction(pool, identity) as connection:
        rows = await login_records(connection, where)
    items = [LoginRecordOut.model_validate(dict(row)) for row in rows]
    if wants_csv(request, output_format):
        return await csv_table(items, "login-records")
    return items
