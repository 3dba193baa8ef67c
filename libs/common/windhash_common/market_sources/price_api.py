"""A CoinGecko-compatible price API: the spot price and 24 h volume now, and market charts over a range.

Endpoints (CoinGecko's v3 API, under `{base}`; the optional key goes in the `x-cg-demo-api-key` header):
- `GET /api/v3/simple/price?ids=bitcoin&vs_currencies=usd,gbp&include_24hr_vol=true
  &include_last_updated_at=true&precision=full` → `{"bitcoin": {"usd", "gbp", "usd_24h_vol", "gbp_24h_vol",
  "last_updated_at"}}`;
- `GET /api/v3/coins/bitcoin/market_chart/range?vs_currency=gbp&from=UNIX&to=UNIX` → `{"prices": [[unix_ms,
  price], ...], "market_caps": [...], "total_volumes": [[unix_ms, volume], ...]}` (5-minute points for a range
  within a day, hourly up to 90 days, daily at 00:00 UTC beyond).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from types import TracebackType
from typing import Any, Self

import httpx

from windhash_common.btc_prices import DailyPrice, combine_currencies, daily_prices_from_market_chart
from windhash_common.market_sources.http_fetch import SYNTHETIC_HEADER, FetchLimits, SourceError, get_json

SOURCE = "price_api"
DAILY_SOURCE = "coingecko"


@dataclass(frozen=True)
class PriceQuote:
    """BTC's price in both currencies and its 24 h trading volume (USD) as of `quoted_at`."""

    usd: Decimal
    gbp: Decimal
    volume_24h_usd: Decimal
    quoted_at: datetime


@dataclass(frozen=True)
class ChartPoints:
    prices: tuple[tuple[datetime, Decimal], ...]
    volumes: tuple[tuple[datetime, Decimal], ...]


def _number(value: Any, what: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise SourceError(f"price API: {what} is {value!r}, not a number"[:300])
    return Decimal(value)


def parse_quote(payload: Any) -> PriceQuote:
    """A missing field is a malformed answer (SourceError); implausible values are for reference_bounds."""
    coin = payload.get("bitcoin") if isinstance(payload, dict) else None
    if not isinstance(coin, dict):
        raise SourceError('price API: the answer has no "bitcoin" object')
    updated = _number(coin.get("last_updated_at"), "last_updated_at")
    try:
        quoted_at = datetime.fromtimestamp(int(updated), tz=UTC)
    except (ValueError, OverflowError, OSError) as error:
        raise SourceError(f"price API: last_updated_at {updated} is not a time") from error
    return PriceQuote(
        usd=_number(coin.get("usd"), "usd"),
        gbp=_number(coin.get("gbp"), "gbp"),
        volume_24h_usd=_number(coin.get("usd_24h_vol"), "usd_24h_vol"),
        quoted_at=quoted_at,
    )


def _points(payload: Mapping[str, Any], name: str) -> tuple[tuple[datetime, Decimal], ...]:
    raw = payload.get(name)
    if not isinstance(raw, list):
        raise SourceError(f'market chart: no "{name}" list')
    points = []
    for point in raw:
        if not isinstance(point, list) or len(point) != 2:
            raise SourceError(f"market chart: unreadable point {point!r}"[:300])
        milliseconds = _number(point[0], "a point's time")
        try:
            at = datetime.fromtimestamp(int(milliseconds) / 1000, tz=UTC)
        except (ValueError, OverflowError, OSError) as error:
            raise SourceError(f"market chart: {milliseconds} is not a time") from error
        points.append((at, _number(point[1], "a point's value")))
    return tuple(sorted(points))


def parse_chart(payload: Any) -> ChartPoints:
    if not isinstance(payload, dict):
        raise SourceError("market chart: expected a JSON object")
    return ChartPoints(prices=_points(payload, "prices"), volumes=_points(payload, "total_volumes"))


def nearest(points: tuple[tuple[datetime, Decimal], ...], at: datetime, within: timedelta) -> Decimal | None:
    """The value of the point nearest `at`, if one is within `within` of it; never one from further away."""
    best = min(points, key=lambda point: abs(point[0] - at), default=None)
    if best is None or abs(best[0] - at) > within:
        return None
    return best[1]


class PriceApiClient:
    """One connection pool to the price API; `async with PriceApiClient(url, limits, key) as prices: ...`."""

    def __init__(
        self,
        base_url: str,
        limits: FetchLimits,
        api_key: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._base = base_url.rstrip("/")
        self._limits = limits
        headers = {"Accept": "application/json", "User-Agent": "windhash"}
        if api_key:
            headers["x-cg-demo-api-key"] = api_key
        self.synthetic = False  # set once an answer carried windhash's synthetic label
        self._http = httpx.AsyncClient(
            timeout=limits.timeout(),
            headers=headers,
            transport=transport,
            event_hooks={"response": [self._note_label]},
        )

    async def _note_label(self, response: httpx.Response) -> None:
        self.synthetic = self.synthetic or response.headers.get(SYNTHETIC_HEADER, "").lower() == "true"

    async def _get(self, path: str, params: Mapping[str, str]) -> Any:
        return await get_json(self._http, self._base + path, params, limits=self._limits, source=SOURCE)

    async def quote(self) -> PriceQuote:
        params = {
            "ids": "bitcoin",
            "vs_currencies": "usd,gbp",
            "include_24hr_vol": "true",
            "include_last_updated_at": "true",
            "precision": "full",
        }
        return parse_quote(await self._get("/api/v3/simple/price", params))

    async def chart(self, currency: str, start: datetime, end: datetime) -> ChartPoints:
        params = {
            "vs_currency": currency,
            "from": str(int(start.timestamp())),
            "to": str(int(end.timestamp())),
        }
        return parse_chart(await self._get("/api/v3/coins/bitcoin/market_chart/range", params))

    async def quote_at(self, at: datetime, within: timedelta) -> PriceQuote | None:
        """The price and volume of the chart points nearest `at` (both currencies), if the source has points
        within `within` of it; None when it has not (a gap stays a gap)."""
        usd = await self.chart("usd", at - within, at + within)
        gbp = await self.chart("gbp", at - within, at + within)
        usd_price, gbp_price = nearest(usd.prices, at, within), nearest(gbp.prices, at, within)
        volume = nearest(usd.volumes, at, within)
        if usd_price is None or gbp_price is None or volume is None:
            return None
        return PriceQuote(usd=usd_price, gbp=gbp_price, volume_24h_usd=volume, quoted_at=at)

    async def daily_prices(self, first: date, last: date) -> list[DailyPrice]:
        """One GBP and USD price per UTC date (the 00:00 point); a date the source lacks is left out."""
        start = datetime.combine(first, time(0), tzinfo=UTC)
        # To 01:00 after the last day: its 00:00 point is then inside the range.
        end = datetime.combine(last + timedelta(days=1), time(1), tzinfo=UTC)
        by_currency = {}
        for currency in ("gbp", "usd"):
            params = {
                "vs_currency": currency,
                "from": str(int(start.timestamp())),
                "to": str(int(end.timestamp())),
            }
            payload = await self._get("/api/v3/coins/bitcoin/market_chart/range", params)
            try:
                daily = daily_prices_from_market_chart(payload)
            except (AttributeError, TypeError, ValueError, IndexError, ArithmeticError) as error:
                raise SourceError(f"market chart: unreadable ({error})"[:300]) from error
            by_currency[currency] = {day: price for day, price in daily.items() if first <= day <= last}
        return combine_currencies(by_currency["gbp"], by_currency["usd"], DAILY_SOURCE)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.aclose()
