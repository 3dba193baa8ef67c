"""The predecessor's five routes, a documented compatibility layer over /api/v1 (issue #21, item 6).

Clients of the platform windhash replaced still call them. Each answers in the predecessor's shape
(models/compat.py) from the same queries as its v1 route, so the two can never disagree, and says it is
deprecated: `Deprecation` (RFC 9745, the date this layer was introduced) and a `Link` to the v1 route that
answers the same question (`rel="successor-version"`). Parameters as the predecessor took them: the date,
month or year in the path (the daily mining potential's `date` in the query), `minerModel` (default
S19J_PRO, its default), `leadParty`, and `farmId` (a BM unit).
"""

from datetime import date
from decimal import Decimal
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response
from windhash_common.money import to_penny

from windhash_api.database import Pool, Settings
from windhash_api.errors import ERROR_RESPONSES
from windhash_api.models.common import Filters
from windhash_api.models.compat import (
    LegacyDailySummary,
    LegacyMiningPotential,
    LegacyMonthlySummary,
    LegacyYearlySummary,
)
from windhash_api.params import BmUnitParam, LeadPartyParam, MinerModelParam
from windhash_api.queries.compat import latest_gbp_price
from windhash_api.queries.mining import mining_potential
from windhash_api.queries.references import check_filters
from windhash_api.queries.summaries import CurtailmentTotals, curtailment_totals
from windhash_api.timeframes import Timeframe, TimeframeKind, parse_timeframe

router = APIRouter(prefix="/api", tags=["compatibility (deprecated)"])

DEPRECATED_SINCE = date(2026, 12, 6)
"""When this layer was introduced; the `Deprecation` header's date."""
DEFAULT_MINER_MODEL = "S19J_PRO"
_DEPRECATION = f"@{(DEPRECATED_SINCE - date(1970, 1, 1)).days * 86400}"

LegacyLeadParty = Annotated[LeadPartyParam, Query(alias="leadParty")]
LegacyFarm = Annotated[BmUnitParam, Query(alias="farmId", description="only this Elexon BM unit")]
LegacyModel = Annotated[MinerModelParam, Query(alias="minerModel", description="default S19J_PRO")]
Day = Annotated[str, Path(description="YYYY-MM-DD", examples=["2024-03-31"], max_length=40)]
YearMonth = Annotated[str, Path(description="YYYY-MM", examples=["2024-03"], max_length=40)]
Year = Annotated[str, Path(description="YYYY", examples=["2024"], max_length=40)]
DayQuery = Annotated[str, Query(description="YYYY-MM-DD", examples=["2024-03-31"], max_length=40)]


def _deprecated(response: Response, successor: str, filters: Filters) -> None:
    query = urlencode({key: value for key, value in filters.model_dump().items() if value is not None})
    response.headers["Deprecation"] = _DEPRECATION
    response.headers["Link"] = f'<{successor}{"?" + query if query else ""}>; rel="successor-version"'


async def _totals(pool: Pool, span: Timeframe, filters: Filters) -> CurtailmentTotals:
    async with pool.acquire() as connection:
        await check_filters(connection, filters)
        return await curtailment_totals(connection, span, filters.lead_party, filters.bm_unit)


async def _potential(pool: Pool, span: Timeframe, filters: Filters) -> LegacyMiningPotential:
    async with pool.acquire() as connection:
        await check_filters(connection, filters)
        rows = await mining_potential(
            connection, span, filters.miner_model, filters.lead_party, filters.bm_unit
        )
        price = await latest_gbp_price(connection)
    # The one model asked (check_filters refused an unknown one); no row for an inactive model without BTC.
    btc = rows[0]["btc"] if rows else Decimal(0)
    return LegacyMiningPotential(
        bitcoinMined=btc,
        valueAtCurrentPrice=None if price is None else to_penny(btc * price),
        difficulty=rows[0]["difficulty_weighted"] if rows else None,
        currentPrice=price,
    )


async def _summary(
    pool: Pool,
    settings: Settings,
    response: Response,
    kind: TimeframeKind,
    value: str,
    lead_party: str | None,
    bm_unit: str | None,
) -> tuple[str, CurtailmentTotals]:
    """A day's, month's or year's totals as the v1 summary route has them, answered as deprecated."""
    span = parse_timeframe(kind, value, settings.max_range_days)
    filters = Filters(lead_party=lead_party, bm_unit=bm_unit)
    totals = await _totals(pool, span, filters)
    _deprecated(response, f"/api/v1/summaries/{kind.value}/{span.label}", filters)
    return span.label, totals


@router.get(
    "/summary/daily/{settlement_date}",
    response_model=LegacyDailySummary,
    responses=ERROR_RESPONSES,
    deprecated=True,
    summary="Deprecated: a day's curtailment (use /api/v1/summaries/daily/{date})",
)
async def legacy_daily_summary(
    pool: Pool,
    settings: Settings,
    response: Response,
    settlement_date: Day,
    lead_party: LegacyLeadParty = None,
    bm_unit: LegacyFarm = None,
) -> LegacyDailySummary:
    label, totals = await _summary(
        pool, settings, response, TimeframeKind.daily, settlement_date, lead_party, bm_unit
    )
    return LegacyDailySummary(
        date=label, totalCurtailedEnergy=totals.energy_mwh, totalPayment=-totals.cashflow_gbp
    )


@router.get(
    "/summary/monthly/{year_month}",
    response_model=LegacyMonthlySummary,
    responses=ERROR_RESPONSES,
    deprecated=True,
    summary="Deprecated: a month's curtailment (use /api/v1/summaries/monthly/{month})",
)
async def legacy_monthly_summary(
    pool: Pool,
    settings: Settings,
    response: Response,
    year_month: YearMonth,
    lead_party: LegacyLeadParty = None,
    bm_unit: LegacyFarm = None,
) -> LegacyMonthlySummary:
    label, totals = await _summary(
        pool, settings, response, TimeframeKind.monthly, year_month, lead_party, bm_unit
    )
    return LegacyMonthlySummary(
        yearMonth=label, totalCurtailedEnergy=totals.energy_mwh, totalPayment=-totals.cashflow_gbp
    )


@router.get(
    "/summary/yearly/{year}",
    response_model=LegacyYearlySummary,
    responses=ERROR_RESPONSES,
    deprecated=True,
    summary="Deprecated: a year's curtailment (use /api/v1/summaries/yearly/{year})",
)
async def legacy_yearly_summary(
    pool: Pool,
    settings: Settings,
    response: Response,
    year: Year,
    lead_party: LegacyLeadParty = None,
    bm_unit: LegacyFarm = None,
) -> LegacyYearlySummary:
    label, totals = await _summary(pool, settings, response, TimeframeKind.yearly, year, lead_party, bm_unit)
    return LegacyYearlySummary(
        year=label, totalCurtailedEnergy=totals.energy_mwh, totalPayment=-totals.cashflow_gbp
    )


@router.get(
    "/curtailment/mining-potential",
    response_model=LegacyMiningPotential,
    responses=ERROR_RESPONSES,
    deprecated=True,
    summary="Deprecated: a day's BTC for one miner model (use /api/v1/mining/daily/{date})",
)
async def legacy_mining_potential(
    pool: Pool,
    settings: Settings,
    response: Response,
    settlement_date: Annotated[DayQuery, Query(alias="date")],
    miner_model: LegacyModel = None,
    lead_party: LegacyLeadParty = None,
    bm_unit: LegacyFarm = None,
) -> LegacyMiningPotential:
    span = parse_timeframe(TimeframeKind.daily, settlement_date, settings.max_range_days)
    filters = Filters(lead_party=lead_party, bm_unit=bm_unit, miner_model=miner_model or DEFAULT_MINER_MODEL)
    potential = await _potential(pool, span, filters)
    _deprecated(response, f"/api/v1/mining/daily/{span.label}", filters)
    return potential


@router.get(
    "/curtailment/monthly-mining-potential/{year_month}",
    response_model=LegacyMiningPotential,
    responses=ERROR_RESPONSES,
    deprecated=True,
    summary="Deprecated: a month's BTC for one miner model (use /api/v1/mining/monthly/{month})",
)
async def legacy_monthly_mining_potential(
    pool: Pool,
    settings: Settings,
    response: Response,
    year_month: YearMonth,
    miner_model: LegacyModel = None,
    lead_party: LegacyLeadParty = None,
    bm_unit: LegacyFarm = None,
) -> LegacyMiningPotential:
    span = parse_timeframe(TimeframeKind.monthly, year_month, settings.max_range_days)
    filters = Filters(lead_party=lead_party, bm_unit=bm_unit, miner_model=miner_model or DEFAULT_MINER_MODEL)
    potential = await _potential(pool, span, filters)
    _deprecated(response, f"/api/v1/mining/monthly/{span.label}", filters)
    return potential
