"""Shared by the API's integration tests: a database filled with the sample dataset, an HTTP client on the
app, and the expected figures recomputed in Python from the fact tables (never from the summaries the API
reads).

Holds fixtures and helpers only; pytest collects no test from it. `Facts`, `read_facts` and `same` know
nothing of the sample, so tests/e2e/test_api_over_pipeline.py checks the pipeline-filled database with them.
"""

import math
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import asyncpg
import httpx
import pytest
from windhash_api.app import create_app
from windhash_api.settings import ApiSettings
from windhash_common.db import create_pool
from windhash_common.settlement_calendar import dates_between
from windhash_testing.sample_dataset import SampleDataset, load_sample

# The spring clock change (46 periods) and the halving, then the autumn clock change (50 periods).
SPRING = list(dates_between(date(2024, 3, 29), date(2024, 4, 2)))
AUTUMN = list(dates_between(date(2024, 10, 26), date(2024, 10, 28)))
NO_PRICE_DAY = date(2024, 4, 1)
PENDING = [(date(2024, 4, 2), 10), (date(2024, 4, 2), 11)]
FAILED = [(date(2024, 10, 28), 5)]
PENNY = Decimal("0.01")


@dataclass
class Facts:
    """The fact rows as Python values, and the figures a test expects, computed from them alone."""

    records: list[dict[str, Any]]
    calculations: list[dict[str, Any]]
    prices: dict[date, dict[str, Decimal | None]]

    def records_in(
        self, first: date, last: date, lead_party: str | None = None, bm_unit: str | None = None
    ) -> list[dict[str, Any]]:
        return [
            row
            for row in self.records
            if first <= row["settlement_date"] <= last
            and (lead_party is None or row["lead_party_name"] == lead_party)
            and (bm_unit is None or row["bm_unit"] == bm_unit)
        ]

    def calculations_in(
        self, first: date, last: date, model: str, lead_party: str | None = None, bm_unit: str | None = None
    ) -> list[dict[str, Any]]:
        keys = {_record_key(row) for row in self.records_in(first, last, lead_party, bm_unit)}
        return [row for row in self.calculations if row["miner_model"] == model and _record_key(row) in keys]

    def energy(self, rows: Iterable[dict[str, Any]]) -> Decimal:
        return sum((-row["volume_mwh"] for row in rows), Decimal(0))

    def cashflow(self, rows: Iterable[dict[str, Any]]) -> Decimal:
        return sum((row["cashflow_gbp"] for row in rows), Decimal(0))

    def btc_by_day(self, calculations: Iterable[dict[str, Any]]) -> dict[date, Decimal]:
        days: dict[date, Decimal] = defaultdict(Decimal)
        for row in calculations:
            days[row["settlement_date"]] += row["btc"]
        return dict(days)

    def value_gbp(self, calculations: Iterable[dict[str, Any]]) -> tuple[Decimal | None, int]:
        """Each day's BTC × that day's GBP price to the penny, summed; and the days without a price."""
        return self.value_in(calculations, "gbp")

    def value_in(self, calculations: Iterable[dict[str, Any]], currency: str) -> tuple[Decimal | None, int]:
        """As value_gbp, in `currency` ("gbp" or "usd")."""
        total: Decimal | None = None
        missing = 0
        for day, btc in self.btc_by_day(calculations).items():
            price = self.prices.get(day, {}).get(currency)
            if price is None:
                missing += 1
                continue
            total = (total or Decimal(0)) + (btc * price).quantize(PENNY, rounding=ROUND_HALF_EVEN)
        return total, missing


def _record_key(row: dict[str, Any]) -> tuple[Any, ...]:
    return (
        row["settlement_date"],
        row["settlement_period"],
        row["bm_unit"],
        row["acceptance_id"],
        row["bid_offer_pair_id"],
    )


def same(actual: float | int | None, expected: Decimal | int | None) -> bool:
    """A JSON number equals the exact figure (floats carry the 12-15 significant digits involved)."""
    if actual is None or expected is None:
        return actual is None and expected is None
    return math.isclose(float(actual), float(expected), rel_tol=1e-12, abs_tol=1e-9)


@dataclass
class ApiHarness:
    client: httpx.AsyncClient
    facts: Facts
    sample: SampleDataset
    connection: asyncpg.Connection


async def read_facts(connection: asyncpg.Connection) -> Facts:
    records = [dict(row) for row in await connection.fetch("SELECT * FROM curtailment_records")]
    calculations = [dict(row) for row in await connection.fetch("SELECT * FROM bitcoin_calculations")]
    prices = {
        row["price_date"]: {"gbp": row["gbp"], "usd": row["usd"]}
        for row in await connection.fetch("SELECT * FROM btc_prices")
    }
    return Facts(records, calculations, prices)


@pytest.fixture(name="api")
async def api_fixture(pg_dsn: str) -> AsyncIterator[ApiHarness]:
    connection = await asyncpg.connect(pg_dsn)
    sample = await load_sample(
        connection,
        SPRING + AUTUMN,
        days_without_price=[NO_PRICE_DAY],
        pending_periods=PENDING,
        failed_periods=FAILED,
    )
    facts = await read_facts(connection)
    pool = await create_pool(pg_dsn, min_size=1, max_size=4)
    app = create_app(ApiSettings(database_url=pg_dsn, migrate_on_start=False), pool=pool)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://windhash.test") as client:
            yield ApiHarness(client, facts, sample, connection)
    finally:
        await pool.close()
        await connection.close()
