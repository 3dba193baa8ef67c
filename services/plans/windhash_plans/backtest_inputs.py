"""What a backtest replays, read from where windhash keeps it: every settlement period of the dates with its
power price (`power_prices`; absent: none), each UTC day's difficulty (DynamoDB, `difficulty_store`) and BTC
price in £ (`btc_prices`), the site's miners by model (not retired) and its automatic policy's rules."""

from dataclasses import dataclass
from datetime import date, timedelta

import asyncpg
from windhash_common.btc_prices import prices_between
from windhash_common.difficulty_store import DifficultyLookup
from windhash_common.settlement_calendar import (
    dates_between,
    day_start_utc,
    period_start_utc,
    settlement_periods,
)

from windhash_plans.automatic_policy import site_rules
from windhash_plans.domain.backtest import FleetModel, History, PricedPeriod
from windhash_plans.domain.economics import ModelSpec, PolicyRules
from windhash_plans.queries import policy as policy_queries
from windhash_plans.queries import prices as price_queries

SITE_FLEET = """
SELECT model.name, model.hashrate_ths, model.power_w, count(*) AS miners
  FROM hosting_miners AS miner JOIN miner_models AS model ON model.name = miner.miner_model
 WHERE miner.site_id = $1 AND miner.status <> 'retired'
 GROUP BY model.name, model.hashrate_ths, model.power_w
 ORDER BY model.name
"""


@dataclass(frozen=True)
class BacktestInputs:
    history: History
    fleet: tuple[FleetModel, ...]
    rules: PolicyRules
    synthetic_prices: bool


async def load_inputs(
    connection: asyncpg.Connection, difficulty: DifficultyLookup, site_id: int, first: date, last: date
) -> BacktestInputs:
    rows = await connection.fetch(
        price_queries.PRICES_BETWEEN, day_start_utc(first), day_start_utc(last + timedelta(days=1))
    )
    prices = {row["start_time"]: row["price_gbp_per_mwh"] for row in rows}
    periods = [
        PricedPeriod(start, prices.get(start))
        for day in dates_between(first, last)
        for start in (period_start_utc(day, period) for period in settlement_periods(day))
    ]
    utc_days = list(dates_between(first - timedelta(days=1), last + timedelta(days=1)))
    difficulties = await difficulty.difficulties(utc_days)
    btc = await prices_between(connection, utc_days[0], utc_days[-1])
    btc_gbp = {day: price.gbp for day, price in btc.items() if price.gbp is not None}
    fleet = tuple(
        FleetModel(ModelSpec(row["name"], row["hashrate_ths"], row["power_w"]), row["miners"])
        for row in await connection.fetch(SITE_FLEET, site_id)
    )
    policy = await connection.fetchrow(policy_queries.SITE_POLICY, site_id)
    rules = site_rules(policy) if policy is not None else PolicyRules()
    synthetic = any(row["synthetic"] for row in rows)
    return BacktestInputs(History(periods, difficulties, btc_gbp), fleet, rules, synthetic)
