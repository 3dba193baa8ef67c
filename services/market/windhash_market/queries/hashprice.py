"""The latest hashprice per active miner model: the newest snapshot's difficulty, block reward and prices
through `windhash_common.hashprice` (the API route that serves it comes with the market's HTTP routes)."""

from dataclasses import dataclass
from datetime import datetime

import asyncpg
from windhash_common.hashprice import ModelHashprice, model_hashprice
from windhash_common.miner_models import active_miner_models

LATEST_SNAPSHOT = """
SELECT slot_at, difficulty, block_reward_btc, price_usd, price_gbp, synthetic
  FROM market_analytics ORDER BY slot_at DESC LIMIT 1
"""


@dataclass(frozen=True)
class LatestHashprice:
    slot_at: datetime
    synthetic: bool
    models: list[ModelHashprice]


async def latest_hashprice(connection: asyncpg.Connection) -> LatestHashprice | None:
    """None when there is no snapshot yet (never a hashprice from a default difficulty or price)."""
    row = await connection.fetchrow(LATEST_SNAPSHOT)
    if row is None:
        return None
    models = [
        model_hashprice(
            model.name,
            model.hashrate_ths,
            model.power_w,
            row["difficulty"],
            row["block_reward_btc"],
            row["price_usd"],
            row["price_gbp"],
        )
        for model in await active_miner_models(connection)
    ]
    return LatestHashprice(row["slot_at"], row["synthetic"], models)
