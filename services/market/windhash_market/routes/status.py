"""GET /api/v1/market/status: is the market data current, and what was refused or missed, with the reasons.
As CSV, the table of recent refused and missed slots."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response
from windhash_common.tabular import CSV_RESPONSES, csv_response, flat_row

from windhash_market.api_models import IndicatorRow, MarketStatus, SlotOutcomes, SlotProblem, Snapshot
from windhash_market.queries.status import market_status
from windhash_market.routes import ERROR_RESPONSES, PREFIX, AsCsv, Pool, Settings, file_stamp, read_route
from windhash_market.settings import JOB_KEY

router = APIRouter(prefix=PREFIX, tags=["market"])
ProblemsParam = Annotated[int, Query(ge=1, le=500, description="How many recent refused or missed slots")]


@read_route(
    router,
    "/status",
    response_model=MarketStatus,
    responses={**ERROR_RESPONSES, **CSV_RESPONSES},
    summary="The newest snapshot and its age, the last day's slots by outcome, refusals and misses, why",
)
async def status(
    pool: Pool, settings: Settings, as_csv: AsCsv, problems: ProblemsParam = 20
) -> MarketStatus | Response:
    now = datetime.now(UTC)
    async with pool.acquire() as connection:
        found = await market_status(connection, now, JOB_KEY, problems)
    rows = [SlotProblem(**row) for row in found.problems]
    if as_csv:
        table = [flat_row(row) for row in rows]
        return csv_response(table, f"market-slot-problems-{file_stamp(now)}", list(SlotProblem.model_fields))
    holders = [holder for holder in found.holders if holder.live]
    return MarketStatus(
        now=now,
        interval_minutes=settings.market_interval_minutes,
        latest=Snapshot(**found.latest) if found.latest else None,
        age_seconds=found.age.total_seconds() if found.age is not None else None,
        last_day=SlotOutcomes(**found.outcomes),
        collecting=bool(holders),
        collecting_since=min((holder.acquired_at for holder in holders), default=None),
        indicators=IndicatorRow(**found.indicators) if found.indicators else None,
        problems=rows,
    )
