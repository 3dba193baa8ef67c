"""GET /api/v1/exports/{what}: the fact or summary tables of a range as a CSV or Parquet download, for
administrators; streamed as it is read (windhash_common.exports, what `windhash export` writes too), so a
whole year costs the API a few pieces of memory, never the file."""

from collections.abc import AsyncIterator
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from windhash_common.exports.export_stream import MEDIA_TYPES, export_bytes
from windhash_common.exports.export_tables import ExportFormat, ExportKind, export_table

from windhash_api.database import Pool, Settings
from windhash_api.errors import InvalidParameter
from windhash_api.routes import API_PREFIX
from windhash_api.routes.users import RESPONSES
from windhash_api.timeframes import in_settlement_window

router = APIRouter(prefix=API_PREFIX, tags=["exports"])
DOWNLOAD: dict[int | str, dict[str, Any]] = {
    200: {"content": {media: {} for media in MEDIA_TYPES.values()}, "description": "the file"}
}


@router.get(
    "/exports/{what}",
    response_class=StreamingResponse,
    responses={**RESPONSES, **DOWNLOAD},
    summary="Records, calculations or daily summaries of a range as a CSV or Parquet file (administrators)",
)
async def get_export(
    pool: Pool,
    settings: Settings,
    what: ExportKind,
    first: Annotated[date, Query(alias="from", description="first settlement date")],
    last: Annotated[date, Query(alias="to", description="last settlement date")],
    output_format: Annotated[ExportFormat, Query(alias="format")] = ExportFormat.csv,
) -> StreamingResponse:
    if first > last:
        raise InvalidParameter(f"from ({first}) is after to ({last})", "send from <= to")
    in_settlement_window(first, last, max_days=settings.max_range_days)
    filename = f"windhash-{what.value}-{first}-{last}.{output_format.value}"

    async def pieces() -> AsyncIterator[bytes]:
        async with pool.acquire() as connection:
            table = await export_table(connection, what, first, last)
            async for piece in export_bytes(connection, table, first, last, output_format):
                yield piece

    return StreamingResponse(
        pieces(),
        media_type=MEDIA_TYPES[output_format],
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )
