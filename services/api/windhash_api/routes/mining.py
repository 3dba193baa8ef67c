"""Mining potential per miner model, its comparison with the cashflow to farms, and chart series."""

import asyncpg
from fastapi import APIRouter
from fastapi.responses import Response

from windhash_api.database import Pool
from windhash_api.figures import per_mwh, ratio
from windhash_api.models.common import Filters, TimeframeInfo
from windhash_api.models.mining import Comparison, ComparisonRow, Mining, MiningPotential
from windhash_api.queries.mining import mining_potential
from windhash_api.queries.references import check_filters
from windhash_api.queries.summaries import curtailment_totals
from windhash_api.route_inputs import MiningAsked
from windhash_api.routes import API_PREFIX, ERROR_AND_CSV_RESPONSES
from windhash_api.tabular import csv_table
from windhash_api.timeframes import Timeframe

router = APIRouter(prefix=API_PREFIX, tags=["mining"])


async def _potential(
    connection: asyncpg.Connection, span: Timeframe, filters: Filters
) -> list[MiningPotential]:
    await check_filters(connection, filters)
    rows = await mining_potential(connection, span, filters.miner_model, filters.lead_party, filters.bm_unit)
    return [
        MiningPotential(value_gbp_per_mwh=per_mwh(row["value_gbp"], row["energy_mwh"]), **dict(row))
        for row in rows
    ]


@router.get(
    "/mining/{timeframe}/{value}",
    response_model=Mining,
    responses=ERROR_AND_CSV_RESPONSES,
    summary="BTC the curtailed energy could have mined, per miner model, with its fiat value and difficulty",
)
async def get_mining(pool: Pool, asked: MiningAsked) -> Mining | Response:
    span, filters = asked.span, asked.filters
    async with pool.acquire() as connection:
        models = await _potential(connection, span, filters)
    info = TimeframeInfo.of(span)
    if asked.csv:
        return await csv_table(models, f"mining-{span.kind}-{span.label}", info)
    return Mining(timeframe=info, filters=filters, models=models)


@router.get(
    "/comparison/{timeframe}/{value}",
    response_model=Comparison,
    responses=ERROR_AND_CSV_RESPONSES,
    summary="Cashflow paid to farms against the value of the BTC the same energy could have mined",
)
async def get_comparison(pool: Pool, asked: MiningAsked) -> Comparison | Response:
    span, filters = asked.span, asked.filters
    # One connection for both: acquiring twice would queue the request behind others for the pool twice.
    async with pool.acquire() as connection:
        models = await _potential(connection, span, filters)
        totals = await curtailment_totals(connection, span, filters.lead_party, filters.bm_unit)
    rows = [
        ComparisonRow(
            miner_model=model.miner_model,
            btc=model.btc,
            value_gbp=model.value_gbp,
            value_gbp_per_mwh=model.value_gbp_per_mwh,
            value_to_cashflow_ratio=ratio(model.value_gbp, totals.cashflow_gbp),
            days_without_price=model.days_without_price,
        )
        for model in models
    ]
    comparison = Comparison(
        timeframe=TimeframeInfo.of(span),
        filters=filters,
        energy_mwh=totals.energy_mwh,
        cashflow_gbp=totals.cashflow_gbp,
        cashflow_gbp_per_mwh=per_mwh(totals.cashflow_gbp, totals.energy_mwh),
        models=rows,
    )
    if asked.csv:
        context = comparison.model_dump(
            include={"timeframe", "energy_mwh", "cashflow_gbp", "cashflow_gbp_per_mwh"}
        )
        return await csv_table(rows, f"comparison-{span.kind}-{span.label}", context)
    return comparison
