"""Daily BTC prices from a CoinGecko-compatible API.

`GET {base}/api/v3/coins/bitcoin/market_chart/range?vs_currency=gbp&from=UNIX&to=UNIX` answers
`{"prices": [[unix_ms, price], ...], ...}`; one request per currency, combined into one row per UTC date.
"""

from datetime import UTC, date, datetime, time, timedelta

import httpx
from windhash_common.btc_prices import DailyPrice, combine_currencies, daily_prices_from_market_chart

from windhash_calculator.source_fetch import get_json

SOURCE = "coingecko"


async def fetch_daily_prices(
    base_url: str,
    first: date,
    last: date,
    timeout_seconds: float,
    attempts: int,
    api_key: str | None = None,
) -> list[DailyPrice]:
    url = f"{base_url.rstrip('/')}/api/v3/coins/bitcoin/market_chart/range"
    start = int(datetime.combine(first, time(0), tzinfo=UTC).timestamp())
    # To 01:00 after the last day: its 00:00 point is then inside the range.
    end = int(datetime.combine(last + timedelta(days=1), time(1), tzinfo=UTC).timestamp())
    headers = {"x-cg-demo-api-key": api_key} if api_key else {}
    by_currency = {}
    async with httpx.AsyncClient(timeout=timeout_seconds, headers=headers) as client:
        for currency in ("gbp", "usd"):
            params = {"vs_currency": currency, "from": str(start), "to": str(end)}
            payload = await get_json(client, url, params=params, attempts=attempts)
            daily = daily_prices_from_market_chart(payload)
            by_currency[currency] = {day: price for day, price in daily.items() if first <= day <= last}
    return combine_currencies(by_currency["gbp"], by_currency["usd"], SOURCE)
