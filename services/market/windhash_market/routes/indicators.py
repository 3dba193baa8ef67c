"""GET /api/v1/market/indicators: each snapshot's technical indicators and signal over a range (at most 31
days: indicators are per snapshot, never downsampled)."""

from fastapi import APIRouter
from fastapi.responses import Response
from windhash_common.tabular import CSV_RESPONSES, csv_response, flat_row

from windhash_market.api_models import IndicatorRow, IndicatorSeries
from windhash_market.indicators import SIGNAL_RULE
from windhash_market.queries import series as queries
from windhash_market.routes import (
    ERROR_RESPONSES,
    PREFIX,
    AsCsv,
    AskedSnapshots,
    Pool,
    file_stamp,
    read_route,
)

router = APIRouter(prefix=PREFIX, tags=["market"])


@read_route(
    router,
    "/indicators",
    response_model=IndicatorSeries,
    responses={**ERROR_RESPONSES, **CSV_RESPONSES},
    summary="RSI(14), MACD(12, 26, 9), Bollinger (20, 2σ), EMA 12/26 and the BUY/SELL/NEUTRAL signal",
)
async def indicators(pool: Pool, asked: AskedSnapshots, as_csv: AsCsv) -> IndicatorSeries | Response:
    async with pool.acquire() as connection:
        rows = await queries.indicators_between(connection, asked.start, asked.end)
    items = [IndicatorRow(**row) for row in rows]
    if as_csv:
        name = f"market-indicators-{file_stamp(asked.start)}-{file_stamp(asked.end)}"
        return csv_response([flat_row(item) for item in items], name, list(IndicatorRow.model_fields))
    return IndicatorSeries(start=asked.start, end=asked.end, rule=SIGNAL_RULE, items=items)
