"""Elexon's market index: the simulator answers in the real shape and path (SYNTHETIC), and the client turns
it into one price per settlement period, weighted by the providers that traded, never inventing one."""

from datetime import date
from decimal import Decimal

import httpx
import pytest
from windhash_common.market_sources.http_fetch import FetchLimits, SourceError
from windhash_elexon_sim.app import SimState, build_app
from windhash_elexon_sim.faults import FaultRule
from windhash_plans.market_index_client import MarketIndexClient, day_prices

BASE = "http://elexon.test/bmrs/api/v1"
LIMITS = FetchLimits(attempts=2, backoff_initial_s=0.0, backoff_max_s=0.0)


def client(state: SimState) -> MarketIndexClient:
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=build_app(state)))
    return MarketIndexClient(BASE, LIMITS, http)


async def test_a_day_from_the_simulator_has_a_price_per_period_labelled_synthetic() -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=build_app(SimState()))) as http:
        raw = await http.get(
            f"{BASE}/balancing/pricing/market-index",
            params={
                "from": "2024-03-31",
                "to": "2024-03-31",
                "settlementPeriodFrom": "1",
                "settlementPeriodTo": "50",
            },
        )
    assert raw.headers["x-windhash-synthetic"] == "true"
    body = raw.json()
    assert body["metadata"] == {"datasets": ["MID"], "synthetic": True}
    row = body["data"][0]
    assert set(row) == {"startTime", "dataProvider", "settlementDate", "settlementPeriod", "price", "volume"}
    assert {r["dataProvider"] for r in body["data"]} == {"APXMIDP", "N2EXMIDP"}
    async with client(SimState()) as elexon:
        day = await elexon.day(date(2024, 3, 31))  # the spring clock change: 46 periods
    assert day.synthetic and len(day.prices) == 46 and not day.missing
    assert [p.settlement_period for p in day.prices] == list(range(1, 47))
    assert day.prices[0].start_time.isoformat() == "2024-03-31T00:00:00+00:00"


async def test_the_same_question_gets_the_same_prices() -> None:
    async with client(SimState()) as first, client(SimState()) as second:
        assert (await first.day(date(2024, 1, 5))).prices == (await second.day(date(2024, 1, 5))).prices


def test_the_price_is_weighted_by_volume_and_a_period_nobody_traded_has_none() -> None:
    def row(period: int, provider: str, price: float, volume: float) -> dict[str, object]:
        return {"startTime": f"2024-01-05T{(period - 1) // 2:02d}:{30 * ((period - 1) % 2):02d}:00Z",
                "dataProvider": provider, "settlementDate": "2024-01-05", "settlementPeriod": period,
                "price": price, "volume": volume}  # fmt: skip

    body = {
        "data": [
            row(1, "APXMIDP", 60.0, 300.0),
            row(1, "N2EXMIDP", 80.0, 100.0),
            row(2, "APXMIDP", 0.0, 0.0),
            row(2, "N2EXMIDP", 0.0, 0.0),
            row(3, "APXMIDP", 70.0, 500.0),
            row(3, "N2EXMIDP", 0.0, 0.0),
            {"settlementPeriod": 4, "dataProvider": "APXMIDP", "price": "NaN"},
        ]
    }
    day = day_prices(date(2024, 1, 5), body)
    assert [(p.settlement_period, p.price_gbp_per_mwh) for p in day.prices] == [
        (1, Decimal("65.00")),
        (3, Decimal("70.00")),
    ]
    assert day.missing[2] == "no provider traded"
    assert day.missing[4].startswith("malformed row")
    assert day.missing[5] == "not in the answer" and not day.synthetic


async def test_an_error_is_an_error_never_an_empty_day() -> None:
    state = SimState()
    state.faults.add(FaultRule(kind="status", endpoint="market_index", status=503, times=None))
    async with client(state) as elexon:
        with pytest.raises(SourceError):
            await elexon.day(date(2024, 1, 5))
    with pytest.raises(SourceError):
        day_prices(date(2024, 1, 5), {"nothing": []})


async def test_a_wrong_question_is_a_400_in_elexons_problem_shape() -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=build_app(SimState()))) as http:
        answer = await http.get(f"{BASE}/balancing/pricing/market-index", params={"from": "2024-01-05"})
        assert answer.status_code == 400 and "to" in answer.json()["errors"]
        too_long = await http.get(
            f"{BASE}/balancing/pricing/market-index", params={"from": "2024-01-01", "to": "2024-03-01"}
        )
        assert too_long.status_code == 400
