"""Bulk import of miners from CSV (staff): bounded in size and rows, one result per row (`miner_import`)."""

from fastapi import APIRouter, Request
from windhash_common.access.enforcement import CurrentIdentity
from windhash_common.http_errors import ApiError

from windhash_fleet.http.context import PREFIX, actor_of, as_caller, settings_of
from windhash_fleet.http_models import ImportReport
from windhash_fleet.miner_import import ImportRefused, import_miners, parse_csv

router = APIRouter(tags=["miners"])
CSV_BODY = {"content": {"text/csv": {"schema": {"type": "string"}}}, "required": True}


async def bounded_body(request: Request, max_bytes: int) -> bytes:
    """The request body, refused (413) past `max_bytes` whatever Content-Length claims."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise ApiError(
            413, "too_large", f"the file is over {max_bytes} bytes", "split it into several imports"
        )
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise ApiError(
                413, "too_large", f"the file is over {max_bytes} bytes", "split it into several imports"
            )
    return bytes(body)


@router.post(
    f"{PREFIX}/miners/import",
    response_model=ImportReport,
    openapi_extra={"requestBody": CSV_BODY},
    summary="Create or update miners from a CSV file (idempotent by serial)",
)
async def import_csv(identity: CurrentIdentity, request: Request) -> ImportReport:
    settings = settings_of(request)
    body = await bounded_body(request, settings.fleet_import_max_bytes)
    try:
        rows = parse_csv(body, settings.fleet_import_max_rows)
    except ImportRefused as error:
        raise ApiError(422, "unreadable_file", str(error), "see docs/FLEET.md for the columns") from None
    async with as_caller(request, identity) as connection:
        return await import_miners(connection, settings.topics, actor_of(request, identity), rows)
