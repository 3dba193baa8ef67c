"""GET /api/v1/reconciliation: per settlement date, expected vs actual at each stage, and the overall rate.

The report is windhash_reconciler's (the same one `windhash reconcile status` prints), so the API and the CLI
can never disagree about what "complete" means.
"""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from windhash_common.reconciliation.day_status import ReconciliationReport
from windhash_common.reconciliation.status_queries import data_dates, reconciliation_status

from windhash_api.database import Pool
from windhash_api.errors import ERROR_RESPONSES, InvalidParameter
from windhash_api.routes import API_PREFIX
from windhash_api.timeframes import in_settlement_window

router = APIRouter(prefix=API_PREFIX, tags=["reconciliation"])
MAX_DAYS = 3660


@router.get(
    "/reconciliation",
    response_model=ReconciliationReport,
    responses=ERROR_RESPONSES,
    summary="Per date: periods fetched, records, calculations and summaries, expected vs actual",
)
async def get_reconciliation(
    pool: Pool,
    first: Annotated[
        date | None, Query(alias="from", description="first settlement date (default: earliest with data)")
    ] = None,
    last: Annotated[
        date | None, Query(alias="to", description="last settlement date (default: latest with data)")
    ] = None,
) -> ReconciliationReport:
    for given in (first, last):
        if given is not None:
            in_settlement_window(given, given)
    async with pool.acquire() as connection:
        if first is None or last is None:
            bounds = await data_dates(connection)
            if bounds is None:
                return await reconciliation_status(connection, first, last)
            first, last = first or bounds[0], last or bounds[1]
        if first > last:
            raise InvalidParameter(f"from ({first}) is after to ({last})", "send from <= to")
        in_settlement_window(first, last, max_days=MAX_DAYS)
        return await reconciliation_status(connection, first, last)
