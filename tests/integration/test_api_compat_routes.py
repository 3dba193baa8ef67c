"""The predecessor's five routes (routes/compat.py) on a live uvicorn over PostgreSQL filled with the sample:
their shapes pinned field by field, their figures equal to the facts and to the v1 routes they stand for,
their parameters as the predecessor took them, and the Deprecation and Link headers."""

from collections.abc import AsyncIterator
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

import asyncpg
import httpx
import pytest
from test_api_support import (  # type: ignore[import-not-found]
    AUTUMN,
    FAILED,
    NO_PRICE_DAY,
    PENDING,
    SPRING,
    Facts,
    read_facts,
    same,
)
from windhash_api.app import create_app
from windhash_api.settings import ApiSettings
from windhash_common.db import create_pool
from windhash_testing.live_server import serving
from windhash_testing.sample_dataset import SampleDataset, load_sample

pytestmark = pytest.mark.integration

SUMMARY_FIELDS = {"totalCurtailedEnergy", "totalPayment"}
MINING_FIELDS = {"bitcoinMined", "valueAtCurrentPrice", "difficulty", "currentPrice"}
DEPRECATION = "@1796515200"  # 2026-12-06, when the layer was introduced


class Live:
    def __init__(self, client: httpx.AsyncClient, facts: Facts, sample: SampleDataset) -> None:
        self.client, self.facts, self.sample = client, facts, sample


@pytest.fixture(name="live")
async def live_fixture(pg_dsn: str) -> AsyncIterator[Live]:
    connection = await asyncpg.connect(pg_dsn)
    sample = await load_sample(
        connection,
        SPRING + AUTUMN,
        days_without_price=[NO_PRICE_DAY],
        pending_periods=PENDING,
        failed_periods=FAILED,
    )
    facts = await read_facts(connection)
    await connection.close()
    pool = await create_pool(pg_dsn, min_size=1, max_size=4)
    app = create_app(ApiSettings(database_url=pg_dsn, migrate_on_start=False), pool=pool)
    try:
        async with serving(app) as url, httpx.AsyncClient(base_url=url, timeout=30) as client:
            yield Live(client, facts, sample)
    finally:
        await pool.close()


def _latest_price(facts: Facts) -> Decimal:
    day = max(day for day, price in facts.prices.items() if price["gbp"] is not None)
    price = facts.prices[day]["gbp"]
    assert isinstance(price, Decimal)
    return price


async def test_daily_summary_has_the_predecessors_shape_sign_and_headers(live: Live) -> None:
    day = date(2024, 3, 31)
    answer = await live.client.get(f"/api/summary/daily/{day}")
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"date"} | SUMMARY_FIELDS
    rows = live.facts.records_in(day, day)
    assert body["date"] == "2024-03-31"
    assert same(body["totalCurtailedEnergy"], live.facts.energy(rows))
    assert same(body["totalPayment"], -live.facts.cashflow(rows))  # the predecessor's sign
    assert answer.headers["deprecation"] == DEPRECATION
    assert answer.headers["link"] == '</api/v1/summaries/daily/2024-03-31>; rel="successor-version"'
    v1 = (await live.client.get(answer.headers["link"][1:].split(">")[0])).json()
    assert body["totalCurtailedEnergy"] == v1["energy_mwh"]
    assert body["totalPayment"] == -v1["cashflow_gbp"]


@pytest.mark.parametrize(
    ("path", "key", "value", "first", "last"),
    [
        ("monthly/2024-10", "yearMonth", "2024-10", date(2024, 10, 1), date(2024, 10, 31)),
        ("yearly/2024", "year", "2024", date(2024, 1, 1), date(2024, 12, 31)),
    ],
)
async def test_monthly_and_yearly_summaries_have_the_predecessors_shape(
    live: Live, path: str, key: str, value: str, first: date, last: date
) -> None:
    answer = await live.client.get(f"/api/summary/{path}")
    body = answer.json()
    assert set(body) == {key} | SUMMARY_FIELDS
    assert body[key] == value
    rows = live.facts.records_in(first, last)
    assert same(body["totalCurtailedEnergy"], live.facts.energy(rows))
    assert same(body["totalPayment"], -live.facts.cashflow(rows))
    assert answer.headers["link"] == f'</api/v1/summaries/{path}>; rel="successor-version"'


async def test_a_farm_or_a_lead_party_filters_the_summary(live: Live) -> None:
    day, party, unit = date(2024, 10, 27), live.sample.lead_parties[1], live.sample.bm_units[0]
    by_party = await live.client.get(f"/api/summary/daily/{day}", params={"leadParty": party})
    assert same(
        by_party.json()["totalCurtailedEnergy"], live.facts.energy(live.facts.records_in(day, day, party))
    )
    assert "lead_party=" in by_party.headers["link"]
    by_farm = (await live.client.get(f"/api/summary/daily/{day}", params={"farmId": unit})).json()
    rows = live.facts.records_in(day, day, bm_unit=unit)
    assert same(by_farm["totalCurtailedEnergy"], live.facts.energy(rows))


async def test_daily_mining_potential_defaults_to_the_predecessors_model(live: Live) -> None:
    day = date(2024, 3, 30)
    answer = await live.client.get("/api/curtailment/mining-potential", params={"date": day.isoformat()})
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == MINING_FIELDS
    btc = sum(row["btc"] for row in live.facts.calculations_in(day, day, "S19J_PRO"))
    assert same(body["bitcoinMined"], btc)
    price = _latest_price(live.facts)
    assert same(body["currentPrice"], price)
    assert same(body["valueAtCurrentPrice"], (btc * price).quantize(Decimal("0.01"), ROUND_HALF_EVEN))
    assert body["difficulty"] > 0
    assert answer.headers["deprecation"] == DEPRECATION
    assert answer.headers["link"] == (
        '</api/v1/mining/daily/2024-03-30?miner_model=S19J_PRO>; rel="successor-version"'
    )


async def test_monthly_mining_potential_by_model_and_farm(live: Live) -> None:
    unit = live.sample.bm_units[2]
    answer = await live.client.get(
        "/api/curtailment/monthly-mining-potential/2024-03", params={"minerModel": "S9", "farmId": unit}
    )
    body = answer.json()
    assert set(body) == MINING_FIELDS
    btc = sum(
        row["btc"]
        for row in live.facts.calculations_in(date(2024, 3, 1), date(2024, 3, 31), "S9", None, unit)
    )
    assert same(body["bitcoinMined"], btc)
    assert answer.headers["link"].startswith("</api/v1/mining/monthly/2024-03?")


@pytest.mark.parametrize(
    "path",
    [
        "/api/summary/daily/2024-02-30",
        "/api/summary/monthly/2024-13",
        "/api/curtailment/mining-potential?date=2024-03-30&minerModel=NOSUCH",
        "/api/curtailment/monthly-mining-potential/2024-03?leadParty=Nobody%20Ltd",
    ],
)
async def test_bad_parameters_are_422_in_the_api_error_shape(live: Live, path: str) -> None:
    answer = await live.client.get(path)
    assert answer.status_code == 422
    assert set(answer.json()["error"]) >= {"code", "message", "hint"}


async def test_a_model_without_btc_mines_nothing_rather_than_failing(live: Live, pg_dsn: str) -> None:
    connection = await asyncpg.connect(pg_dsn)
    try:
        await connection.execute(
            "INSERT INTO miner_models (name, manufacturer, hashrate_ths, power_w, active)"
            " VALUES ('RETIRED_1', 'Test', 10, 1000, false)"
        )
    finally:
        await connection.close()
    answer = await live.client.get(
        "/api/curtailment/mining-potential", params={"date": "2024-03-30", "minerModel": "RETIRED_1"}
    )
    assert answer.status_code == 200
    body = answer.json()
    assert (body["bitcoinMined"], body["difficulty"]) == (0, None)
