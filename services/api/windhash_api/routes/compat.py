"""The predecessor's five routes, a documented compatibility layer over /api/v1 (issue #21, item 6).

Clients of the platform windhash replaced still call them. Each answers in the predecessor's shape
(models/compat.py) from the same queries as its v1 route, so the two can never disagree, and says it is
deprecated: `Deprecation` (RFC 9745, the date this layer was introduced) and a `Link` to the v1 route that
answers the same question (`rel="successor-version"`). Parameters as the predecessor took them: the date,
month or year in the path (the daily mining potential's `date` in the query), `minerModel` (default
S19J_PRO, its default), `leadParty`, and `farmId` (a BM unit).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, TypedDict, TypeVar
from urllib.parse import urlencode

import asyncpg
from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel
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
from windhash_api.queries.summaries import curtailment_totals
from windhash_api.settings import ApiSettings
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
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])
DayQuery = Annotated[str, Query(description="YYYY-MM-DD", examples=["2024-03-31"], max_length=40)]


@dataclass(frozen=True)
class LegacyAsked:
    """What every compat route takes beside its date: the pool, the limits, the response it marks deprecated,
    and the place filters (`leadParty`, `farmId`)."""

    pool: asyncpg.Pool
    settings: ApiSettings
    response: Response
    lead_party: str | None
    bm_unit: str | None

    def filters(self, miner_model: str | None = None) -> Filters:
        return Filters(lead_party=self.lead_party, bm_unit=self.bm_unit, miner_model=miner_model)

    def span(self, kind: TimeframeKind, value: str) -> Timeframe:
        return parse_timeframe(kind, value, self.settings.max_range_days)

    def deprecate(self, successor: str, filters: Filters) -> None:
        """`Deprecation`, and a `Link` to the v1 route answering the same question (with the same filters)."""
        query = urlencode({key: value for key, value in filters.model_dump().items() if value is not None})
        self.response.headers["Deprecation"] = _DEPRECATION
        self.response.headers["Link"] = (
            f'<{successor}{"?" + query if query else ""}>; rel="successor-version"'
        )


def _legacy_asked(
    pool: Pool,
    settings: Settings,
    response: Response,
    lead_party: LegacyLeadParty = None,
    bm_unit: LegacyFarm = None,
) -> LegacyAsked:
    return LegacyAsked(pool, settings, response, lead_party, bm_unit)


Asked = Annotated[LegacyAsked, Depends(_legacy_asked)]


class _LegacyTotals(TypedDict):
    totalCurtailedEnergy: Decimal
    totalPayment: Decimal


async def _summary(asked: LegacyAsked, kind: TimeframeKind, value: str) -> tuple[str, _LegacyTotals]:
    """A day's, month's or year's totals as the v1 summary route has them, with the predecessor's sign
    (`totalPayment` = -cashflow), answered as deprecated."""
    span = asked.span(kind, value)
    filters = asked.filters()
    async with asked.pool.acquire() as connection:
        await check_filters(connection, filters)
        totals = await curtailment_totals(connection, span, filters.lead_party, filters.bm_unit)
    asked.deprecate(f"/api/v1/summaries/{kind.value}/{span.label}", filters)
    return span.label, {"totalCurtailedEnergy": totals.energy_mwh, "totalPayment": -totals.cashflow_gbp}


async def _mining_potential(
    asked: LegacyAsked, kind: TimeframeKind, value: str, miner_model: str | None
) -> LegacyMiningPotential:
    """A day's or month's BTC for one miner model as the v1 mining route has it, answered as deprecated."""
    span = asked.span(kind, value)
    filters = asked.filters(miner_model or DEFAULT_MINER_MODEL)
    async with asked.pool.acquire() as connection:
        await check_filters(connection, filters)
        rows = await mining_potential(
            connection, span, filters.miner_model, filters.lead_party, filters.bm_unit
        )
        price = await latest_gbp_price(connection)
    asked.deprecate(f"/api/v1/mining/{kind.value}/{span.label}", filters)
    # The one model asked (check_filters refused an unknown one); no row for an inactive model without BTC.
    btc = rows[0]["btc"] if rows else Decimal(0)
    return LegacyMiningPotential(
        bitcoinMined=btc,
        valueAtCurrentPrice=None if price is None else to_penny(btc * price),
        difficulty=rows[0]["difficulty_weighted"] if rows else None,
        currentPrice=price,
    )


def _legacy_get(path: str, model: type[BaseModel], summary: str) -> Callable[[Endpoint], Endpoint]:
    return router.get(path, response_model=model, responses=ERROR_RESPONSES, deprecated=True, summary=summary)


@_legacy_get(
    "/summary/daily/{settlement_date}",
    LegacyDailySummary,
    "Deprecated: a day's curtailment (use /api/v1/summaries/daily/{date})",
)
async def legacy_daily_summary(settlement_date: Day, asked: Asked) -> LegacyDailySummary:
    label, totals = await _summary(asked, TimeframeKind.daily, settlement_date)
    return LegacyDailySummary(date=label, **totals)


@_legacy_get(
    "/summary/monthly/{year_month}",
    LegacyMonthlySummary,
    "Deprecated: a month's curtailment (use /api/v1/summaries/monthly/{month})",
)
async def legacy_monthly_summary(year_month: YearMonth, asked: Asked) -> LegacyMonthlySummary:
    label, totals = await _summary(asked, TimeframeKind.monthly, year_month)
    return LegacyMonthlySummary(yearMonth=label, **totals)


@_legacy_get(
    "/summary/yearly/{year}",
    LegacyYearlySummary,
    "Deprecated: a year's curtailment (use /api/v1/summaries/yearly/{year})",
)
async def legacy_yearly_summary(year: Year, asked: Asked) -> LegacyYearlySummary:
    label, totals = await _summary(asked, TimeframeKind.yearly, year)
    return LegacyYearlySummary(year=label, **totals)


@_legacy_get(
    "/curtailment/mining-potential",
    LegacyMiningPotential,
    "Deprecated: a day's BTC for one miner model (use /api/v1/mining/daily/{date})",
)
async def legacy_mining_potential(
    settlement_date: Annotated[DayQuery, Query(alias="date")], asked: Asked, miner_model: LegacyModel = None
) -> LegacyMiningPotential:
    return await _mining_potential(asked, TimeframeKind.daily, settlement_date, miner_model)


@_legacy_get(
    "/curtailment/monthly-mining-potential/{year_month}",
    LegacyMiningPotential,
    "Deprecated: a month's BTC for one miner model (use /api/v1/mining/monthly/{month})",
)
async def legacy_monthly_mining_potential(
    year_month: YearMonth, asked: Asked, miner_model: LegacyModel = None
) -> LegacyMiningPotential:
    return await _mining_potential(asked, TimeframeKind.monthly, year_month, miner_model)
