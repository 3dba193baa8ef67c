"""A client of Elexon's Market Index Data (`GET /balancing/pricing/market-index`, Insights API): the
half-hourly power price of one settlement date.

Through `windhash_common.market_sources.http_fetch.get_json` (retries of 429, 5xx and transport errors with
backoff and Retry-After; a reply bounded in size and time; any other answer an error, never "no data").

The period's price is the volume-weighted mean of the providers' prices, over the providers that traded
(volume > 0): Elexon's "market price" (N2EX reports price 0 and volume 0 when it did not trade, which must not
pull the mean to 0). A period no provider traded in has no price, and says so. A row outside the schema
(a missing field, a price that is not a number, a period that does not exist) makes its period unusable, with
the reason; the other periods stand.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from types import TracebackType
from typing import Any, Self

import httpx
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError
from windhash_common.market_sources.http_fetch import FetchLimits, SourceError, get_json
from windhash_common.settlement_calendar import settlement_periods_in_day

PATH = "/balancing/pricing/market-index"
SOURCE = "elexon-mid"
MAX_PRICE = Decimal(10_000)


class MarketIndexRow(BaseModel):
    model_config = ConfigDict(extra="ignore")

    start_time: AwareDatetime = Field(alias="startTime")
    data_provider: str = Field(alias="dataProvider", min_length=1, max_length=40)
    settlement_date: date = Field(alias="settlementDate")
    settlement_period: int = Field(alias="settlementPeriod", ge=1, le=50)
    price: Decimal = Field(allow_inf_nan=False, ge=-MAX_PRICE, le=MAX_PRICE)
    volume: Decimal = Field(allow_inf_nan=False, ge=0)


@dataclass(frozen=True)
class PeriodPrice:
    settlement_date: date
    settlement_period: int
    start_time: datetime
    price_gbp_per_mwh: Decimal
    volume_mwh: Decimal


@dataclass(frozen=True)
class DayPrices:
    settlement_date: date
    prices: tuple[PeriodPrice, ...]
    missing: Mapping[int, str] = field(default_factory=dict)
    """Period → why it has no price (nobody traded, malformed rows, absent from the answer)."""
    synthetic: bool = False


def day_prices(settlement_date: date, body: Any) -> DayPrices:
    """The day's prices from the endpoint's JSON (pure)."""
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        raise SourceError("the market index answer has no data list")
    metadata = body.get("metadata")
    synthetic = isinstance(metadata, dict) and metadata.get("synthetic") is True
    periods = settlement_periods_in_day(settlement_date)
    rows: dict[int, list[MarketIndexRow]] = {}
    broken: dict[int, str] = {}
    for raw in body["data"]:
        period = raw.get("settlementPeriod") if isinstance(raw, dict) else None
        try:
            row = MarketIndexRow.model_validate(raw)
        except ValidationError as error:
            if isinstance(period, int):
                broken[period] = f"malformed row: {error.errors()[0]['msg']}"[:200]
            continue
        if row.settlement_date != settlement_date or row.settlement_period > periods:
            continue
        rows.setdefault(row.settlement_period, []).append(row)
    prices, missing = [], {}
    for period in range(1, periods + 1):
        if period in broken:
            missing[period] = broken[period]
            continue
        traded = [row for row in rows.get(period, []) if row.volume > 0]
        if not traded:
            missing[period] = "no provider traded" if period in rows else "not in the answer"
            continue
        volume = sum((row.volume for row in traded), Decimal(0))
        price = sum((row.price * row.volume for row in traded), Decimal(0)) / volume
        start = min(row.start_time for row in traded)
        prices.append(PeriodPrice(settlement_date, period, start, price.quantize(Decimal("0.01")), volume))
    return DayPrices(settlement_date, tuple(prices), missing, synthetic)


class MarketIndexClient:
    def __init__(self, base_url: str, limits: FetchLimits, http: httpx.AsyncClient | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.limits = limits
        self._http = http or httpx.AsyncClient(trust_env=False)
        self._own = http is None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._own:
            await self._http.aclose()

    async def day(self, settlement_date: date) -> DayPrices:
        """Every period of the settlement date; SourceError when Elexon could not be read."""
        text = settlement_date.isoformat()
        params = {"from": text, "to": text, "settlementPeriodFrom": "1", "settlementPeriodTo": "50"}
        body = await get_json(self._http, f"{self.base_url}{PATH}", params, self.limits, SOURCE)
        return day_prices(settlement_date, body)

    async def days(self, dates: Sequence[date]) -> list[DayPrices]:
        return [await self.day(day) for day in dates]
