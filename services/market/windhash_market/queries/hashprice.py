"""Hashprice per miner model: at the newest snapshot (its difficulty, block reward and prices through
`windhash_common.hashprice`), and over time for one model (the sums `hashprice_series` needs)."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import asyncpg
from windhash_common.hashprice import ModelHashprice, model_hashprice
from windhash_common.miner_models import MinerModel, active_miner_models, find_miner_model

from windhash_market.hashprice_series import HashpricePoint, hashprice_points
from windhash_market.queries.series import price_sums
from windhash_market.series_range import SeriesRange

LATEST_SNAPSHOT = """
SELECT slot_at, difficulty, block_reward_btc, price_usd, price_gbp, synthetic
  FROM market_analytics ORDER BY slot_at DESC LIMIT 1
"""


@dataclass(frozen=True)
class LatestHashprice:
    slot_at: datetime
    synthetic: bool
    difficulty: Decimal
    block_reward_btc: Decimal
    price_usd: Decimal
    price_gbp: Decimal
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
    return LatestHashprice(
        row["slot_at"],
        row["synthetic"],
        row["difficulty"],
        row["block_reward_btc"],
        row["price_usd"],
        row["price_gbp"],
        models,
    )


async def hashprice_over_time(
    connection: asyncpg.Connection, model_name: str, span: SeriesRange
) -> tuple[MinerModel, list[HashpricePoint]] | None:
    """The model and its hashprice per bucket of `span`; None when no model has that name."""
    model = await find_miner_model(connection, model_name)
    if model is None:
        return None
    return model, hashprice_points(model, await price_sums(connection, span))
