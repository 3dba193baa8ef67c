"""GET /api/v1/summaries/{timeframe}/{value}: curtailment totals for a day, month, year or range."""

from fastapi import APIRouter
from fastapi.responses import Response

from windhash_api.database import Pool
from windhash_api.figures import per_mwh
from windhash_api.models.common import Filters, TimeframeInfo
from windhash_api.models.summaries import Coverage, Summary
from windhash_api.periods_expected import periods_between
from windhash_api.queries.references import check_filters
from windhash_api.queries.summaries import coverage_counts, curtailment_totals
from windhash_api.route_inputs import CurtailmentAsked
from windhash_api.routes import API_PREFIX, ERROR_AND_CSV_RESPONSES
from windhash_api.tabular import csv_response, flat_row
from windhash_api.timeframes import Timeframe

router = APIRouter(prefix=API_PREFIX, tags=["summaries"])


async def build_summary(pool: Pool, span: Timeframe, filters: Filters) -> Summary:
    async with pool.acquire() as connection:
        await check_filters(connection, filters)
        totals = await curtailment_totals(connection, span, filters.lead_party, filters.bm_unit)
        counts = await coverage_counts(connection, span)
    expected = periods_between(span.first, span.last)
    coverage = Coverage(
        periods_expected=expected,
        periods_ingested=counts["ingested"],
        periods_pending_difficulty=counts["pending"],
        periods_failed=counts["failed"],
        complete=counts["ingested"] == expected and counts["pending"] == 0 and counts["failed"] == 0,
    )
    return Summary(
        timeframe=TimeframeInfo.of(span),
        filters=filters,
        energy_mwh=totals.energy_mwh,
        cashflow_gbp=totals.cashflow_gbp,
        cashflow_gbp_per_mwh=per_mwh(totals.cashflow_gbp, totals.energy_mwh),
        record_count=totals.record_count,
        periods_curtailed=totals.periods_curtailed,
        bm_units_curtailed=totals.bm_units_curtailed,
        coverage=coverage,
    )


@router.get(
    "/summaries/{timeframe}/{value}",
    response_model=Summary,
    responses=ERROR_AND_CSV_RESPONSES,
    summary="Curtailed energy and cashflow to farms for a day, month, year or range",
)
async def get_summary(pool: Pool, asked: CurtailmentAsked) -> Summary | Response:
    span = asked.span
    summary = await build_summary(pool, span, asked.filters)
    if asked.csv:
        return csv_response([flat_row(summary)], f"summary-{span.kind}-{span.label}")
    return summary
