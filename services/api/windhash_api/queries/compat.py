"""What only the predecessor's routes need: the latest BTC price held (their `currentPrice`)."""

from decimal import Decimal

import asyncpg

_LATEST_GBP = "SELECT gbp FROM btc_prices WHERE gbp IS NOT NULL ORDER BY price_date DESC LIMIT 1"


async def latest_gbp_price(connection: asyncpg.Connection) -> Decimal | None:
    price: Decimal | None = await connection.fetchval(_LATEST_GBP)
    return price
